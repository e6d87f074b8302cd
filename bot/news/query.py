"""What a topic search asks for, and how well an item answers it.

A query is parsed once into stemmed terms; the store turns those into its backend's
full-text syntax, so nothing a user types ever reaches FTS5 or tsquery as syntax.
Ranking happens here, in Python, so SQLite and PostgreSQL order results identically.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.news.text import terms

MAX_QUERY_CHARS = 300
MAX_TERMS = 8
# A match that is a day old counts half as much as one from this moment.
RECENCY_HALF_LIFE_HOURS = 36.0

_QUOTED = re.compile(r"[\"“”«»„]([^\"“”«»„]+)[\"“”«»„]")


@dataclass(frozen=True)
class SearchQuery:
    """Terms to find: each is a phrase of one or more stems that must appear in order."""

    text: str
    phrases: tuple[tuple[str, ...], ...]

    @property
    def is_empty(self) -> bool:
        """Whether nothing searchable was given (only punctuation or emoji, say)."""
        return not self.phrases


def parse_query(text: str) -> SearchQuery:
    """Read words and "quoted phrases" out of free text typed by a user."""
    text = " ".join(text.split())[:MAX_QUERY_CHARS]
    phrases: list[tuple[str, ...]] = []
    for quoted in _QUOTED.findall(text):
        phrase = tuple(terms(quoted))
        if phrase:
            phrases.append(phrase)
    for word_stem in terms(_QUOTED.sub(" ", text)):
        phrases.append((word_stem,))
    unique = tuple(dict.fromkeys(phrases))[:MAX_TERMS]
    return SearchQuery(text=text, phrases=unique)


def _contains(haystack: Sequence[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    if n == 1:
        return phrase[0] in haystack
    return any(tuple(haystack[i : i + n]) == phrase for i in range(len(haystack) - n + 1))


def terms_relevance(
    query: SearchQuery, title_terms: Sequence[str], description_terms: Callable[[], str]
) -> float:
    """How well an item answers the query, from 0.2 (matched only its body) up.

    It reads the item's title terms and its description's terms joined by spaces (as
    search_document writes them). The description's terms are asked for only when a
    phrase is not in the title: they are the bulk of the work, and a search ranks
    hundreds of candidates per query. A phrase is in them when its terms, space-joined,
    appear between spaces.
    """
    if not query.phrases:
        return 0.0
    score = 0.0
    padded_description: str | None = None
    for phrase in query.phrases:
        if _contains(title_terms, phrase):
            score += 3.0
            continue
        if padded_description is None:
            padded_description = f" {description_terms()} "
        if f" {' '.join(phrase)} " in padded_description:
            score += 1.0
    # Shorter titles that match are more about the topic than long ones that mention it.
    focus = 1.0 + 2.0 / (1.0 + len(title_terms) / 4.0)
    return max(0.2, score / len(query.phrases) * focus)


def recency_weight(published_at: datetime, now: datetime) -> float:
    """Decay with age, so last week's best match does not bury this morning's."""
    age_hours = max(0.0, (now - published_at).total_seconds() / 3600.0)
    return math.pow(0.5, age_hours / RECENCY_HALF_LIFE_HOURS)


def blend(relevance_value: float, published_at: datetime, now: datetime) -> float:
    """A relevance blended with the item's recency (the order /topic shows results in)."""
    return relevance_value * (0.25 + 0.75 * recency_weight(published_at, now))


def matches(query: SearchQuery, title: str, description: str) -> bool:
    """Whether every word and phrase of the query is in the item's title or description."""
    if query.is_empty:
        return False
    title_terms, description_terms = terms(title), terms(description)
    return all(_contains(title_terms, p) or _contains(description_terms, p) for p in query.phrases)
