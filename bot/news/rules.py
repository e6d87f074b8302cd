"""A chat's rules: what each looks for in an item, and which items a chat's rules let through.

A pattern is words and "quoted phrases", stemmed in the item's language as a search is
(`query.matches`), or a regular expression written `/.../` (`/.../i` ignores case). Regular
expressions run on RE2, whose matching time is linear in the text: no pattern a user
types can stall the bot however it backtracks in other engines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import re2

from bot.news.query import SearchQuery, matches, parse_query, phrase_in
from bot.news.text import rules_language, terms

FOLLOW = "follow"
MUTE = "mute"  # an exclude rule: /mute's words, or /filter exclude
INCLUDE = "include"
ALERT = "alert"  # told at once when an item matches (/alert)
WORDS = "words"
REGEX = "regex"
TITLE = "title"
TEXT = "text"
BOTH = "both"
MAX_PATTERN_CHARS = 200
# The word for each action in /filter and the CLI: an exclude is what /mute keeps.
ACTION_WORDS = {"include": INCLUDE, "exclude": MUTE, "follow": FOLLOW, "alert": ALERT}
# The word users type for each action (an exclude is kept as a mute).
WORD_OF_ACTION = {action: word for word, action in ACTION_WORDS.items()}
# The rules that leave items out of lists; follows put items first, alerts tell of them.
SIFTING = (INCLUDE, MUTE)

_WRITTEN_REGEX = re.compile(r"/(.*)/(i?)", re.DOTALL)


class InvalidPattern(ValueError):
    """A pattern that cannot be used; the message says why, in plain words (English)."""


class PatternTooLong(InvalidPattern):
    """A pattern over MAX_PATTERN_CHARS characters."""


class NothingToFind(InvalidPattern):
    """Words with nothing searchable in them (only punctuation or emoji, say)."""


@dataclass(frozen=True)
class Pattern:
    """What a rule looks for, and where: words, or a regular expression as written
    (`/.../` or `/.../i`), in the title, the text or both, of one source's items or all."""

    text: str
    kind: str = WORDS
    source_id: int | None = None
    field: str = BOTH


@dataclass(frozen=True)
class Rule:
    """One of a chat's rules: follow (leads its digests), include, mute (exclude) or alert."""

    action: str
    pattern: Pattern


def sifting(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    """The rules that leave items out of a list (includes and mutes): follows only put
    items first in digests, and alerts only tell of items."""
    return tuple(rule for rule in rules if rule.action in SIFTING)


def read_pattern(text: str) -> tuple[str, str]:
    """The pattern as kept and its kind (WORDS or REGEX), from what a user typed.

    Raises InvalidPattern (PatternTooLong, NothingToFind) when it cannot be used.
    """
    text = text.strip()
    if len(text) > MAX_PATTERN_CHARS:
        raise PatternTooLong(f"longer than {MAX_PATTERN_CHARS} characters")
    if _WRITTEN_REGEX.fullmatch(text):
        compiled_regex(text)
        return text, REGEX
    words = text.lower()
    if parse_query(words).is_empty:
        raise NothingToFind("no words to look for")
    return words, WORDS


@lru_cache(maxsize=1024)
def compiled_regex(written: str) -> re2._Regexp:
    """A regular expression written `/.../` or `/.../i`, compiled by RE2 (and kept, as every
    digest pass tests the same rules)."""
    found = _WRITTEN_REGEX.fullmatch(written)
    if found is None or not found.group(1):
        raise InvalidPattern("a regular expression is written /PATTERN/ or /PATTERN/i")
    options = re2.Options()
    options.log_errors = False  # a user's typo is their reply, not a line in the bot's log
    options.case_sensitive = not found.group(2)
    try:
        return re2.compile(found.group(1), options)
    except re2.error as exc:
        raise InvalidPattern(_readable(exc)) from exc


def _readable(exc: re2.error) -> str:
    """RE2's complaint ("missing ): (a", as bytes) as a sentence."""
    reason = exc.args[0] if exc.args else b""
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    return str(reason) or "not a regular expression RE2 can run"


def item_test(pattern: Pattern) -> Callable[[str, str, str | None], bool]:
    """Whether an item's title, text (its description) and language match the pattern,
    in the fields it looks at; raises InvalidPattern for a regular expression RE2 refuses."""
    in_title = pattern.field in (TITLE, BOTH)
    in_text = pattern.field in (TEXT, BOTH)
    if pattern.kind == REGEX:
        regex = compiled_regex(pattern.text)

        def found(title: str, text: str, _language: str | None) -> bool:
            return bool((in_title and regex.search(title)) or (in_text and regex.search(text)))

        return found
    query = parse_query(pattern.text)
    if query.is_empty:
        return lambda _title, _text, _language: False

    def has_words(title: str, text: str, language: str | None) -> bool:
        return matches(query, title if in_title else "", text if in_text else "", language)

    return has_words


class RuleItem(Protocol):
    """What matching reads of an item (a stored Headline has it)."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def language(self) -> str | None: ...
    @property
    def source_id(self) -> int | None: ...


class _Terms:
    """One language's items: each item's title and text terms, and which items hold a term."""

    def __init__(self) -> None:
        self.listed: dict[str, dict[int, list[str]]] = {TITLE: {}, TEXT: {}}
        self.holding: dict[str, dict[str, set[int]]] = {TITLE: {}, TEXT: {}}

    def add(self, item_id: int, field: str, found: list[str]) -> None:
        self.listed[field][item_id] = found
        holding = self.holding[field]
        for term in found:
            holding.setdefault(term, set()).add(item_id)

    def with_phrase(self, phrase: tuple[str, ...], fields: tuple[str, ...]) -> set[int]:
        """The items with these terms in this order in one of the fields."""
        found: set[int] = set()
        if not phrase:
            return found
        for field in fields:
            holding = self.holding[field]
            ids = set.intersection(*(holding.get(term, set()) for term in phrase))
            if len(phrase) > 1:
                listed = self.listed[field]
                ids = {i for i in ids if phrase_in(listed[i], phrase)}
            found |= ids
        return found

    def matching(self, query: SearchQuery, fields: tuple[str, ...]) -> set[int]:
        """The items with every term of the query (any of its spellings) in those fields."""
        found: set[int] | None = None
        for term in query.terms:
            ids = set().union(*(self.with_phrase(p, fields) for p in term.spellings))
            found = ids if found is None else found & ids
            if not found:
                return set()
        return found or set()


class ItemsIndex:
    """Many patterns matched against one set of items, each item read once: its title and
    text stemmed once in its language and indexed by term, so a words pattern costs a few
    set operations (the same answers as `item_test`, for a pass over thousands of rules)."""

    def __init__(self, items: Sequence[RuleItem]) -> None:
        self._items = list(items)
        self._languages: dict[str, _Terms] = {}
        for item in self._items:
            group = self._languages.setdefault(rules_language(item.language), _Terms())
            group.add(item.id, TITLE, terms(item.title, item.language))
            group.add(item.id, TEXT, terms(item.description, item.language))

    def matching(self, pattern: Pattern) -> frozenset[int]:
        """Ids of the items the pattern matches (in its source, if it names one); raises
        InvalidPattern for a regular expression RE2 refuses."""
        if pattern.kind == REGEX:
            test = item_test(pattern)
            found = {
                item.id for item in self._items if test(item.title, item.description, item.language)
            }
        else:
            found = self._with_words(pattern)
        if pattern.source_id is not None:
            sources = {item.id: item.source_id for item in self._items}
            found = {i for i in found if sources[i] == pattern.source_id}
        return frozenset(found)

    def _with_words(self, pattern: Pattern) -> set[int]:
        query = parse_query(pattern.text)
        if query.is_empty:
            return set()
        fields = {TITLE: (TITLE,), TEXT: (TEXT,)}.get(pattern.field, (TITLE, TEXT))
        found: set[int] = set()
        for language, group in self._languages.items():
            # Read in the item's language too, as `matches` does.
            if language not in query.languages:
                in_language = parse_query(query.text, (*query.languages, language))
            else:
                in_language = query
            found |= group.matching(in_language, fields)
        return found
