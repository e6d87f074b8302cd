"""Queries on sources: the feeds the bot reads and the seed documents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Article, Source


class SourceExists(Exception):
    """The feed is already in the list."""

    def __init__(self, source: Source) -> None:
        super().__init__(f"already reading {source.url} (source {source.id})")
        self.source = source


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
        select(Article.source_id, func.count().label("n"))
        .group_by(Article.source_id)
        .subquery()
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
