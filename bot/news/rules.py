"""A chat's rules: what each looks for in an item, and which items a chat's rules let through.

A pattern is words and "quoted phrases", stemmed in the item's language as a search is
(`query.matches`), or a regular expression written `/.../` (`/.../i` ignores case). Regular
expressions run on RE2, whose matching time is linear in the text: no pattern a user
types can stall the bot however it backtracks in other engines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import re2

from bot.news.query import matches, parse_query

FOLLOW = "follow"
MUTE = "mute"  # an exclude rule: /mute's words, or /filter exclude
INCLUDE = "include"
WORDS = "words"
REGEX = "regex"
TITLE = "title"
TEXT = "text"
BOTH = "both"
MAX_PATTERN_CHARS = 200
# The word for each action in /filter and the CLI: an exclude is what /mute keeps.
ACTION_WORDS = {"include": INCLUDE, "exclude": MUTE, "follow": FOLLOW}

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
    """One of a chat's rules: follow (leads its digests), include or mute (exclude)."""

    action: str
    pattern: Pattern


def sifting(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    """The rules that leave items out of a list (includes and mutes): follows only put
    items first in digests."""
    return tuple(rule for rule in rules if rule.action != FOLLOW)


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
