"""Full-text search of articles: candidates from FTS5 or a tsvector, ranked, one page read."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    Select,
    any_,
    bindparam,
    case,
    cast,
    column,
    extract,
    func,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from bot.news.query import Scorer, SearchQuery, blended
from bot.news.text import terms
from bot.store.articles import Headline, headline_columns, headline_of
from bot.store.chat_sources import shared_only, visible_to
from bot.store.models import Article, Source

# How many of the newest matches are ranked; keeps /topic fast on a store of millions.
SEARCH_CANDIDATES = 300

# The Julian day of 1970-01-01T00:00Z: SQLite's julianday() less this is days since the epoch.
_UNIX_EPOCH_JULIAN_DAY = 2440587.5


@dataclass
class SearchResult:
    """Matches for a query; `mode` says whether all the words matched or any of them."""

    headlines: list[Headline]
    mode: Literal["all", "any", "none"]
    has_more: bool = False
    total_candidates: int = 0


def _fts5_match(query: SearchQuery, joiner: str) -> str:
    return f" {joiner} ".join(
        "(" + " OR ".join('"' + " ".join(phrase) + '"' for phrase in term.spellings) + ")"
        for term in query.terms
    )


def _tsquery(query: SearchQuery, joiner: str) -> str:
    def spelt(phrase: tuple[str, ...]) -> str:
        return "(" + " <-> ".join(f"'{t}'" for t in phrase) + ")"

    return f" {joiner} ".join(
        "(" + " | ".join(spelt(phrase) for phrase in term.spellings) + ")" for term in query.terms
    )


# PostgreSQL's GIN index finds a word's matches in no useful order, and reading them all
# (or walking the table newest first until enough match) costs a row per match: a common
# word's newest matches are looked for among the newest rows first, this many of them...
_RECENT_ROWS = SEARCH_CANDIDATES * 64

# ...then, if too few matched there, among as many more as that rate says are needed, with
# a margin of this many standard errors of a rate read off that many matches (a span's
# index entries cost it more than anything, so guessing high by 2x cost a third of a
# common word's search), unless that is this many times the first span: then every row.
_RECENT_MARGIN_ERRORS = 3.0

_RECENT_MAX_GROWTH = 16


async def _postgres_newest_ids(session: AsyncSession, query: SearchQuery, mode: str) -> list[int]:
    """The ids of the newest tsvector matches, newest first, found among the newest rows
    when there are enough there (the same ids as a search of every row)."""
    params: dict[str, object] = {"match": _tsquery(query, "&" if mode == "all" else "|")}
    span: int | None = _RECENT_ROWS
    # The LIMITs are written into the statements: PostgreSQL costs a LIMIT it cannot see
    # as a tenth of the table, so it would plan each run afresh rather than reuse one plan.
    while span is not None:
        # OFFSET 0 keeps the planner from walking the primary key newest first, filtering
        # every row on the way; it intersects the word's index entries with the span's.
        recent = text(
            "SELECT id FROM (SELECT id FROM articles "
            "WHERE search_vector @@ to_tsquery('simple', :match) "
            "AND id > (SELECT max(id) FROM articles) - :span OFFSET 0) AS recent "
            f"ORDER BY id DESC LIMIT {SEARCH_CANDIDATES}"
        )
        ids = list((await session.scalars(recent, {**params, "span": span})).all())
        if len(ids) == SEARCH_CANDIDATES:
            return ids
        wider = _wider_span(span, len(ids)) if ids else None
        span = wider if wider is not None and wider <= _RECENT_ROWS * _RECENT_MAX_GROWTH else None
    everywhere = text(
        "SELECT id FROM articles WHERE search_vector @@ to_tsquery('simple', :match) "
        f"ORDER BY id DESC LIMIT {SEARCH_CANDIDATES}"
    )
    return list((await session.scalars(everywhere, params)).all())


def _wider_span(span: int, matched: int) -> int:
    """The span that should hold SEARCH_CANDIDATES matches where this one held `matched`:
    a count of matches varies by about its square root (Poisson), hence the margin."""
    margin = 1.0 + _RECENT_MARGIN_ERRORS / math.sqrt(matched)
    return math.ceil(span * SEARCH_CANDIDATES / matched * margin)


@dataclass(slots=True)
class _Candidate:
    """A match as ranking reads it: its id, when it was published and how well it answers."""

    id: int
    published: float
    """Seconds since the epoch, as the database works it out: no datetime is made per row."""
    relevance: float


def _stored_description_terms(stored: str, title_terms: list[str]) -> str | None:
    """The description's terms in an item's stored search text (the title's terms, then
    the description's, as search_document wrote them); None when that text does not start
    with the title's terms as they are computed now."""
    if not title_terms:
        return None
    prefix = " ".join(title_terms)
    if stored == prefix:
        return ""
    if stored.startswith(prefix + " "):
        return stored[len(prefix) + 1 :]
    return None


async def _candidates(
    session: AsyncSession, query: SearchQuery, scorer: Scorer, mode: str, chat_id: int | None
) -> list[_Candidate]:
    """The newest matches and how well each answers, from what ranking reads of them and
    no more: a description travels only where the stored search terms cannot stand for it
    (a body was indexed with them, or they were made by other rules than today's)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    statement = _candidate_rows(sqlite=sqlite, for_chat=chat_id is not None)
    params: dict[str, object] = {} if chat_id is None else {"chat_id": chat_id}
    if sqlite:
        # One round trip: the FTS5 index gives the newest matches first.
        params |= {"match": _fts5_match(query, "AND" if mode == "all" else "OR")}
    else:
        ids = await _postgres_newest_ids(session, query, mode)
        if not ids:
            return []
        params |= {"ids": ids}
    found: list[_Candidate] = []
    # Items whose stored terms were made by other rules: their titles' terms, their place.
    stale: dict[int, tuple[list[str], int]] = {}
    # Core reads on the session's connection, as latest_articles does: no ORM layer.
    connection = await session.connection()
    # All rows at once: iterating the result fetches them one by one through four layers.
    rows = (await connection.execute(statement, params)).all()
    for article_id, title, language, published, text_, stored, title_count in rows:
        if stored and title_count is not None:
            # The stored terms, the title's first: no title is read again.
            relevance = scorer.relevance_in(text_, title_count)
        else:
            title_terms = terms(title, language)
            description = _stored_description_terms(text_, title_terms) if stored else None
            if stored and description is None:
                stale[article_id] = (title_terms, len(found))
                relevance = 0.0
            else:
                relevance = scorer.relevance(
                    title_terms, partial(_description_terms, description, text_, language)
                )
        found.append(_Candidate(article_id, published, relevance))
    if stale:
        rows = await session.execute(
            select(Article.id, Article.description, Article.language).where(Article.id.in_(stale))
        )
        for article_id, text_, language in rows:
            title_terms, place = stale[article_id]
            found[place].relevance = scorer.relevance(
                title_terms, partial(_description_terms, None, text_, language)
            )
    return found


def _description_terms(known: str | None, description: str, language: str | None) -> str:
    """An item's description terms, as search_document joins them: those known, else those
    of its description, worked out only when ranking asks for them."""
    return " ".join(terms(description, language)) if known is None else known


@cache
def _candidate_rows(*, sqlite: bool, for_chat: bool) -> Select[Any]:
    """_candidates' query, built once (building and keying it cost more than a millisecond
    a search) with the chat, the match and the ids as parameters."""
    bodiless = func.coalesce(Article.body, "") == ""
    readable = visible_to(bindparam("chat_id", type_=BigInteger)) if for_chat else shared_only()
    # Epoch seconds, worked out by the database: ranking reads only an age, and a datetime
    # made from each of hundreds of rows cost more than the rest of reading them.
    published = (
        (func.julianday(Article.published_at) - _UNIX_EPOCH_JULIAN_DAY) * 86400.0
        if sqlite
        else cast(extract("epoch", Article.published_at), Float)
    )
    statement = (
        select(
            Article.id,
            Article.title,
            Article.language,
            type_coerce(published, Float).label("published"),
            case((bodiless, Article.search_text), else_=Article.description).label("text"),
            bodiless.label("stored"),
            Article.title_terms,
        )
        .join(Source, Source.id == Article.source_id)
        .where(readable)
    )
    if sqlite:
        newest = text(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH :match "
            f"ORDER BY rowid DESC LIMIT {SEARCH_CANDIDATES}"
        ).columns(column("id", Integer))
        return statement.where(Article.id.in_(newest))
    # One array parameter, not one per id: the statement is the same for every search.
    return statement.where(Article.id == any_(bindparam("ids", type_=ARRAY(Integer))))


def _rank(candidates: Sequence[_Candidate], now: datetime) -> list[int]:
    """The candidates' ids, best first by their relevance blended with their recency,
    newest first among equals."""
    now_seconds = now.timestamp()
    keyed = [
        (-blended(c.relevance, (now_seconds - c.published) / 3600.0), -c.id) for c in candidates
    ]
    keyed.sort()
    return [-negated_id for _, negated_id in keyed]


@cache
def _page_rows() -> Select[Any]:
    """_headlines' query, built once, its ids one expanding parameter."""
    return (
        select(*headline_columns(grouped=False))
        .join(Source, Source.id == Article.source_id)
        .where(Article.id.in_(bindparam("ids", expanding=True)))
    )


async def _headlines(session: AsyncSession, ids: Sequence[int]) -> list[Headline]:
    """These items as headlines, in the order given."""
    if not ids:
        return []
    connection = await session.connection()
    rows = await connection.execute(_page_rows(), {"ids": list(ids)})
    by_id = {row.id: headline_of(row) for row in rows}
    return [by_id[article_id] for article_id in ids if article_id in by_id]


async def search_articles(
    session: AsyncSession,
    query: SearchQuery,
    *,
    limit: int,
    offset: int = 0,
    now: datetime,
    any_term: bool = False,
    chat_id: int | None = None,
) -> SearchResult:
    """Items from the chat's sources matching all the query's terms (else, or with
    `any_term`, any of them), best first."""
    if query.is_empty:
        return SearchResult([], "none")
    modes = ["all", "any"] if len(query.terms) > 1 else ["all"]
    if any_term:
        modes = ["any"]
    scorer = Scorer(query)
    for mode in modes:
        candidates = await _candidates(session, query, scorer, mode, chat_id)
        if candidates:
            ranked = _rank(candidates, now)
            # Only the page shown is read in full: its link, source and description.
            page = await _headlines(session, ranked[offset : offset + limit])
            return SearchResult(
                page,
                "all" if mode == "all" else "any",
                has_more=len(ranked) > offset + limit,
                total_candidates=len(ranked),
            )
    return SearchResult([], "none")
