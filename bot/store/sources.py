"""Queries on sources: the feeds the bot reads and the seed documents."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import (
    ColumnElement,
    Update,
    and_,
    bindparam,
    func,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.news.feeds.fetch import FeedResult
from bot.news.feeds.poll_schedule import (
    next_fetch_after_success,
    next_fetch_delay,
    stable_jitter,
)
from bot.store.models import Article, Source

log = logging.getLogger(__name__)


class SourceExists(Exception):
    """The feed is already in the list."""

    def __init__(self, source: Source) -> None:
        super().__init__(f"already reading {source.url} (source {source.id})")
        # Plain values too: the row is expired once the session that read it rolls back.
        self.source = source
        self.source_id = source.id


@dataclass(frozen=True)
class SourceStatus:
    """A source as the /sources list shows it: its state and how many items it gave."""

    id: int
    url: str
    title: str
    kind: str
    active: bool
    error_count: int
    last_error: str | None
    last_ok_at: datetime | None
    next_fetch_at: datetime | None
    articles: int


async def add_source(
    session: AsyncSession,
    url: str,
    *,
    now: datetime,
    title: str = "",
    kind: str = "feed",
    added_by: int | None = None,
    allow_private: bool = False,
    interval_seconds: int = 900,
) -> Source:
    """Add a feed, due for its first fetch at once; raise SourceExists if it is known."""
    existing = await session.scalar(select(Source).where(Source.url == url))
    if existing is not None:
        raise SourceExists(existing)
    source = Source(
        url=url,
        title=title,
        kind=kind,
        active=True,
        allow_private=allow_private,
        interval_seconds=interval_seconds,
        next_fetch_at=now if kind == "feed" else None,
        error_count=0,
        added_by=added_by,
        created_at=now,
    )
    session.add(source)
    await session.flush()
    return source


def reactivate(source: Source, *, now: datetime) -> None:
    """Switch a feed that failed too often back on, due at once with a clean record."""
    source.active = True
    source.error_count = 0
    source.next_fetch_at = now
    source.claimed_until = None


async def seed_source(session: AsyncSession, name: str, *, now: datetime) -> Source:
    """The source row that stands for one seed document, created on first use."""
    url = f"seed:{name}"
    source = await session.scalar(select(Source).where(Source.url == url))
    if source is None:
        source = await add_source(session, url, now=now, title="newsbot seeds", kind="seed")
    return source


async def get_source(session: AsyncSession, source_id: int) -> Source | None:
    """One source, or None."""
    return await session.get(Source, source_id)


async def remove_source(session: AsyncSession, source_id: int) -> Source | None:
    """Delete a source and its articles; return what was removed, or None if unknown."""
    source = await session.get(Source, source_id)
    if source is not None:
        await session.delete(source)
        await session.flush()
    return source


async def source_statuses(session: AsyncSession) -> list[SourceStatus]:
    """Every source with its health and article count, feeds first then seeds, by id."""
    counts = (
        select(Article.source_id, func.count().label("n")).group_by(Article.source_id).subquery()
    )
    statement = (
        select(
            Source.id,
            Source.url,
            Source.title,
            Source.kind,
            Source.active,
            Source.error_count,
            Source.last_error,
            Source.last_ok_at,
            Source.next_fetch_at,
            func.coalesce(counts.c.n, 0),
        )
        .outerjoin(counts, counts.c.source_id == Source.id)
        .order_by(Source.kind, Source.id)
    )
    return [SourceStatus(*row) for row in (await session.execute(statement)).all()]


# ------------------------------------------------------------------ fetch state

# How long a claimed feed stays out of other passes: longer than a fetch can take (its
# total deadline, parsing and storing), short enough that a process killed mid-fetch
# delays the feed by a minute or two, not by its interval.
CLAIM_LEASE_SECONDS = 120


@dataclass(frozen=True)
class ClaimedSource:
    """What fetching one feed needs, detached from the session that claimed it."""

    id: int
    url: str
    title: str
    etag: str | None
    last_modified: str | None
    allow_private: bool
    interval_seconds: int
    error_count: int
    due_at: datetime | None
    """When the feed was due (None: never scheduled), so its cadence does not drift."""


@dataclass(frozen=True)
class FetchRecord:
    """How a source's state changed after one fetch, for reports and admin notices."""

    error_count: int
    next_fetch_at: datetime
    moved_to: str | None = None
    newly_deactivated: bool = False


async def claim_due_sources(
    session: AsyncSession, *, now: datetime, limit: int, lease_seconds: int = CLAIM_LEASE_SECONDS
) -> list[ClaimedSource]:
    """Take the active feeds due by `now`, most overdue first, so no other pass fetches them."""
    due = and_(
        or_(Source.next_fetch_at.is_(None), Source.next_fetch_at <= now),
        or_(Source.claimed_until.is_(None), Source.claimed_until <= now),
    )
    return await _claim(session, due, now=now, limit=limit, lease_seconds=lease_seconds)


async def claim_all_feeds(
    session: AsyncSession, *, now: datetime, lease_seconds: int = CLAIM_LEASE_SECONDS
) -> list[ClaimedSource]:
    """Take every active feed whether due or not, for a pass run by hand."""
    return await _claim(session, true(), now=now, limit=None, lease_seconds=lease_seconds)


async def _claim(
    session: AsyncSession,
    condition: ColumnElement[bool],
    *,
    now: datetime,
    limit: int | None,
    lease_seconds: int,
) -> list[ClaimedSource]:
    # One UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING: PostgreSQL
    # instances skip each other's rows, and SQLite takes its write lock before reading,
    # so two processes can never both read a feed as due and both fetch it.
    chosen = (
        select(Source.id)
        .where(Source.kind == "feed", Source.active.is_(True), condition)
        .order_by(Source.next_fetch_at.asc().nulls_first(), Source.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(Source)
        .where(Source.id.in_(chosen.scalar_subquery()))
        .values(claimed_until=now + timedelta(seconds=lease_seconds))
        .returning(
            Source.id,
            Source.url,
            Source.title,
            Source.etag,
            Source.last_modified,
            Source.allow_private,
            Source.interval_seconds,
            Source.error_count,
            Source.next_fetch_at,
        )
        .execution_options(synchronize_session=False)
    )
    # The RETURNING columns are ClaimedSource's fields, in order.
    claimed = [ClaimedSource(*row) for row in (await session.execute(statement)).all()]
    return sorted(claimed, key=lambda source: source.id)


@dataclass
class _FetchState:
    """The columns one fetch rewrites, read under lock; those it changed are written back."""

    id: int
    url: str
    title: str
    active: bool
    interval_seconds: int
    etag: str | None
    last_modified: str | None
    error_count: int
    last_error: str | None
    last_error_at: datetime | None
    last_ok_at: datetime | None
    next_fetch_at: datetime | None


_STATE_COLUMNS = (
    Source.id,
    Source.url,
    Source.title,
    Source.active,
    Source.interval_seconds,
    Source.etag,
    Source.last_modified,
    Source.error_count,
    Source.last_error,
    Source.last_error_at,
    Source.last_ok_at,
    Source.next_fetch_at,
)


@dataclass(frozen=True)
class Fetch:
    """One fetch of a claimed feed: what it gave, and when it started."""

    source: ClaimedSource
    result: FeedResult
    at: datetime


def _changes(before: _FetchState, after: _FetchState, fetched_at: datetime) -> dict[str, object]:
    """The columns one fetch changed, as _record_statement's parameters (named apart from
    the columns, as SQLAlchemy asks): a 304 rewrites four of the thirteen, and a column
    left out of the SET is one SQLite need not compare or reindex (the URL is unique)."""
    old = vars(before)
    values = {
        f"b_{name}": value
        for name, value in vars(after).items()
        if name == "id" or value != old[name]
    }
    values["b_last_fetched_at"] = fetched_at
    return values


@lru_cache(maxsize=64)
def _record_statement(names: tuple[str, ...]) -> Update:
    """The UPDATE that writes these columns by id, and always clears the claim: built once
    per set of columns (Core: the ORM's bulk update by primary key cost more than the
    statement itself), so a batch is one executemany per set."""
    table = Source.__table__
    return (
        update(table)  # type: ignore[arg-type]
        .where(table.c.id == bindparam("b_id"))
        .values({**{name[2:]: bindparam(name) for name in names}, "claimed_until": null()})
    )


async def record_fetches(
    session: AsyncSession, fetches: Sequence[Fetch], *, max_failures: int, pass_seconds: float
) -> list[FetchRecord | None]:
    """Save what each fetch taught about its feed and when to fetch it next, one read and
    one update for the lot; None for a feed that is gone.

    `pass_seconds` is how often poll passes run: a healthy feed's next fetch is counted
    from when it was due and kept clear of the pass after that.
    """
    # Locked in id order, so two writers never wait on each other's rows in a cycle.
    rows = await session.execute(
        select(*_STATE_COLUMNS)
        .where(Source.id.in_([fetch.source.id for fetch in fetches]))
        .order_by(Source.id)
        .with_for_update()
    )
    states = {row.id: _FetchState(**row._mapping) for row in rows}
    read = {id_: copy(state) for id_, state in states.items()}
    fetched_at: dict[int, datetime] = {}
    records: list[FetchRecord | None] = []
    for fetch in fetches:
        state = states.get(fetch.source.id)
        if state is None:
            records.append(None)
            continue
        fetched_at[state.id] = fetch.at
        if fetch.result.ok:
            outcome = _record_success(
                state,
                fetch.result,
                due_at=fetch.source.due_at,
                now=fetch.at,
                pass_seconds=pass_seconds,
            )
            moved_to = await _follow_move(session, state, fetch.result.permanent_url, states)
            records.append(replace(outcome, moved_to=moved_to))
        else:
            records.append(
                _record_failure(state, fetch.result, now=fetch.at, max_failures=max_failures)
            )
    by_columns: dict[tuple[str, ...], list[dict[str, object]]] = {}
    for id_, at in fetched_at.items():
        changes = _changes(read[id_], states[id_], at)
        by_columns.setdefault(tuple(changes), []).append(changes)
    for names, rows_of_names in by_columns.items():
        await session.execute(_record_statement(names[1:]), rows_of_names)
    return records


def _record_success(
    source: _FetchState,
    result: FeedResult,
    *,
    due_at: datetime | None,
    now: datetime,
    pass_seconds: float,
) -> FetchRecord:
    source.error_count = 0
    source.last_error = None  # last_error_at stays as history
    source.last_ok_at = now
    source.etag = result.etag
    source.last_modified = result.last_modified
    if not source.title and result.title:
        source.title = result.title[:300]
    delay = next_fetch_delay(source.interval_seconds, result.refresh_hint_seconds, error_count=0)
    source.next_fetch_at = next_fetch_after_success(
        due_at, now, delay, jitter=_jitter(source), pass_seconds=pass_seconds
    )
    return FetchRecord(error_count=0, next_fetch_at=source.next_fetch_at)


def _record_failure(
    source: _FetchState, result: FeedResult, *, now: datetime, max_failures: int
) -> FetchRecord:
    source.error_count += 1
    source.last_error = (result.error or "unknown error")[:500]
    source.last_error_at = now
    source.next_fetch_at = now + _delay(source, result.refresh_hint_seconds)
    newly_deactivated = source.active and source.error_count >= max_failures
    if newly_deactivated:
        source.active = False
    return FetchRecord(
        error_count=source.error_count,
        next_fetch_at=source.next_fetch_at,
        newly_deactivated=newly_deactivated,
    )


def _delay(source: _FetchState, hint_seconds: float | None) -> timedelta:
    seconds = next_fetch_delay(
        source.interval_seconds,
        hint_seconds,
        error_count=source.error_count,
        jitter=_jitter(source),
    )
    return timedelta(seconds=seconds)


def _jitter(source: _FetchState) -> float:
    # Keyed on the source, so feeds imported together spread out and stay spread.
    return stable_jitter(f"source:{source.id}")


async def _follow_move(
    session: AsyncSession,
    source: _FetchState,
    new_url: str | None,
    batch: dict[int, _FetchState],
) -> str | None:
    if not new_url or new_url == source.url:
        return None
    # The batch's own rows are not written yet: a feed earlier in it may have moved there.
    owner = next((other.id for other in batch.values() if other.url == new_url), None)
    if owner is None:
        owner = await session.scalar(select(Source.id).where(Source.url == new_url))
    if owner is not None:
        # Two entries for one feed would store every item twice; the admin decides.
        log.warning(
            "Source %d moved to %s, which source %d already reads; URL kept",
            source.id,
            new_url,
            owner,
        )
        return None
    log.info("Source %d moved permanently: %s -> %s", source.id, source.url, new_url)
    source.url = new_url
    return new_url
