"""What a topic search asks for, and how well an item answers it.

A query is parsed once into stemmed terms; the store turns those into its backend's
full-text syntax, so nothing a user types ever reaches FTS5 or tsquery as syntax.
Ranking happens here, in Python, so SQLite and PostgreSQL order results identically.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.news.language import ENGLISH
from bot.news.text import rules_language, terms

MAX_QUERY_CHARS = 300
MAX_TERMS = 8
# A match that is a day old counts half as much as one from this moment.
RECENCY_HALF_LIFE_HOURS = 36.0

_QUOTED = re.compile(r"[\"“”«»„]([^\"“”«»„]+)[\"“”«»„]")


Phrase = tuple[str, ...]


@dataclass(frozen=True)
class QueryTerm:
    """A word or "phrase" to find, as stems that must appear in order.

    It has one spelling per query language that stems it differently ("Verhandlung":
    "verhandlung" in English, "verhandl" in German); an item matches with any of them.
    """

    spellings: tuple[Phrase, ...]

    def is_in(self, haystack: Sequence[str]) -> bool:
        """Whether one of the spellings appears, in order, in these terms."""
        return any(phrase_in(haystack, phrase) for phrase in self.spellings)


@dataclass(frozen=True)
class SearchQuery:
    """Terms to find, stemmed in each of the languages the query may be written in."""

    text: str
    terms: tuple[QueryTerm, ...]
    languages: tuple[str, ...] = (ENGLISH,)

    @property
    def is_empty(self) -> bool:
        """Whether nothing searchable was given (only punctuation or emoji, say)."""
        return not self.terms


def parse_query(text: str, languages: Sequence[str] = (ENGLISH,)) -> SearchQuery:
    """Read words and "quoted phrases" out of free text typed by a user.

    Each is stemmed in every one of `languages` (the user's, and English), so a German
    "Verhandlung" finds German "Verhandlungen" and an English word still finds English.
    """
    text = " ".join(text.split())[:MAX_QUERY_CHARS]
    languages = tuple(dict.fromkeys(languages)) or (ENGLISH,)
    pieces = [(quoted, True) for quoted in _QUOTED.findall(text)]
    pieces += [(word, False) for word in _QUOTED.sub(" ", text).split()]
    found: list[QueryTerm] = []
    for piece, is_phrase in pieces:
        by_language = [terms(piece, language) for language in languages]
        if is_phrase:
            found.append(_term(tuple(stems) for stems in by_language))
        else:
            # One typed word may split into several ("Iran-Krieg"): each is a term of its own.
            for position in range(min(len(stems) for stems in by_language)):
                found.append(_term((stems[position],) for stems in by_language))
    unique = tuple(term for term in dict.fromkeys(found) if term.spellings)[:MAX_TERMS]
    return SearchQuery(text=text, terms=unique, languages=languages)


def _term(spellings: Iterable[Phrase]) -> QueryTerm:
    return QueryTerm(tuple(dict.fromkeys(phrase for phrase in spellings if phrase)))


def phrase_in(haystack: Sequence[str], phrase: Phrase) -> bool:
    """Whether these terms hold the phrase's terms in its order, one after another."""
    n = len(phrase)
    if n == 1:
        return phrase[0] in haystack
    return any(tuple(haystack[i : i + n]) == phrase for i in range(len(haystack) - n + 1))


class Scorer:
    """How well items answer one query, with what every item is checked against (its
    words as a set, its phrases padded with spaces) worked out once: a search ranks
    hundreds of candidates per query."""

    def __init__(self, query: SearchQuery) -> None:
        self._terms = [
            (
                frozenset(phrase[0] for phrase in term.spellings if len(phrase) == 1),
                tuple(phrase for phrase in term.spellings if len(phrase) > 1),
                tuple(f" {' '.join(phrase)} " for phrase in term.spellings),
            )
            for term in query.terms
        ]
        # Each term's spellings as relevance_in looks for them: padded, with their length.
        self._spellings = [
            tuple((f" {' '.join(phrase)} ", len(phrase)) for phrase in term.spellings)
            for term in query.terms
        ]

    def relevance(self, title_terms: Sequence[str], description_terms: Callable[[], str]) -> float:
        """How well an item answers the query, from 0.2 (matched only its body) up.

        It reads the item's title terms and its description's terms joined by spaces (as
        search_document writes them). The description's terms are asked for only when a
        phrase is not in the title: they are the bulk of the work. A phrase is in them
        when its terms, space-joined, appear between spaces.
        """
        if not self._terms:
            return 0.0
        score = 0.0
        padded_description: str | None = None
        for words, phrases, padded in self._terms:
            if not words.isdisjoint(title_terms) or (
                phrases and any(phrase_in(title_terms, phrase) for phrase in phrases)
            ):
                score += 3.0
                continue
            if padded_description is None:
                padded_description = f" {description_terms()} "
            for phrase in padded:
                if phrase in padded_description:
                    score += 1.0
                    break
        return self._focused(score, len(title_terms))

    def relevance_in(self, stored: str, title_count: int) -> float:
        """relevance() of an item from its stored terms (its title's `title_count` terms,
        then its description's, space-joined), found in place: making the title's term
        list and the description's string for each of hundreds of candidates cost more
        than the rest of ranking them.

        A spelling's first appearance tells where it is: its terms before the title's end
        are in the title, at or after it in the description (it is not in the title, else
        it would appear there first). Only a phrase first seen across the title's end says
        nothing of the description: that item is read as relevance() reads it.
        """
        if not self._terms:
            return 0.0
        padded = f" {stored} "
        score = 0.0
        for spellings in self._spellings:
            found = 0.0
            for phrase, length in spellings:
                at = padded.find(phrase)
                if at < 0:
                    continue
                # The terms before this one: the spaces before its own, less the padding's.
                start = padded.count(" ", 0, at)
                if start + length <= title_count:
                    found = 3.0
                    break
                if start < title_count:
                    return self._relevance_of_split(stored, title_count)
                found = 1.0
            score += found
        return self._focused(score, title_count)

    def _relevance_of_split(self, stored: str, title_count: int) -> float:
        parts = stored.split(" ", title_count)
        description = parts[title_count] if len(parts) > title_count else ""
        return self.relevance(parts[:title_count], lambda: description)

    def _focused(self, score: float, title_length: int) -> float:
        # Shorter titles that match are more about the topic than long ones that mention it.
        focus = 1.0 + 2.0 / (1.0 + title_length / 4.0)
        return max(0.2, score / len(self._terms) * focus)


def blended(relevance: float, age_hours: float) -> float:
    """A relevance blended with the item's recency (the order /topic shows results in)."""
    return relevance * (0.25 + 0.75 * recency_weight(age_hours))


def recency_weight(age_hours: float) -> float:
    """Decay with age, so last week's best match does not bury this morning's."""
    return math.pow(0.5, max(0.0, age_hours) / RECENCY_HALF_LIFE_HOURS)


def matches(query: SearchQuery, title: str, description: str, language: str | None = None) -> bool:
    """Whether every word and phrase of the query is in the item's title or description.

    The item is read in its language, and the query in that language too: a muted
    "Fußball" keeps German football out whatever language the chat reads in.
    """
    if query.is_empty:
        return False
    item_language = rules_language(language)
    if item_language not in query.languages:
        query = parse_query(query.text, (*query.languages, item_language))
    title_terms, description_terms = terms(title, language), terms(description, language)
    return all(term.is_in(title_terms) or term.is_in(description_terms) for term in query.terms)
