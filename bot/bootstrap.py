"""Making the store ready: migrations, the first seeding and the default source list."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.news.opml import OPMLError, OutlineFeed, parse_opml
from bot.news.seeds import SeedDocument, SeedError, load_seed_file, seed_files
from bot.store.articles import NewArticle, add_articles, count_articles
from bot.store.db import Database
from bot.store.meta import get_meta, set_meta
from bot.store.sources import SourceExists, add_source, seed_source

log = logging.getLogger(__name__)
OPML_IMPORTED = "opml_imported"


@dataclass(frozen=True)
class SeedReport:
    """What one seeding run did, per file."""

    files: list[tuple[str, int, int]]  # (file name, items in it, items new)

    @property
    def new(self) -> int:
        """Items that were not in the store before."""
        return sum(new for _, _, new in self.files)


async def open_database(settings: Settings) -> Database:
    """Connect to the configured store and bring its schema up to date."""
    database = Database(settings.database_url)
    await database.upgrade()
    return database


def seed_items(document: SeedDocument, *, now: datetime) -> list[NewArticle]:
    """The store items of one seed document, timed a second apart to keep file order."""
    items: list[NewArticle] = []
    if document.article is not None:
        article = document.article
        items.append(
            NewArticle(
                title=article.title, description=article.lead, body=article.body, published_at=now
            )
        )
    for headline in document.headlines:
        items.append(NewArticle(title=headline, published_at=now))
    return [replace(item, published_at=now - timedelta(seconds=i)) for i, item in enumerate(items)]


async def load_seeds(database: Database, paths: Sequence[Path], *, now: datetime) -> SeedReport:
    """Load seed files all or nothing: every file is read before anything is written."""
    documents = [load_seed_file(path) for path in paths]
    report: list[tuple[str, int, int]] = []
    async with database.session() as session:
        for document in documents:
            source = await seed_source(session, document.name, now=now)
            items = seed_items(document, now=now)
            new_ids = await add_articles(session, source.id, items, now=now)
            report.append((document.name, len(items), len(new_ids)))
    return SeedReport(report)


async def import_feeds(
    session: AsyncSession,
    feeds: Sequence[OutlineFeed],
    *,
    now: datetime,
    interval_seconds: int,
    added_by: int | None = None,
) -> tuple[int, int]:
    """Add feeds not yet known; return (added, already known)."""
    added = known = 0
    for feed in feeds:
        try:
            await add_source(
                session,
                feed.url,
                now=now,
                title=feed.title,
                interval_seconds=interval_seconds,
                added_by=added_by,
            )
            added += 1
        except SourceExists:
            known += 1
    return added, known


async def prepare_store(database: Database, settings: Settings, *, now: datetime) -> None:
    """First start: load the shipped seeds into an empty store and the default sources once."""
    async with database.session() as session:
        empty = await count_articles(session) == 0
    if empty:
        try:
            report = await load_seeds(database, seed_files(settings.seeds_path), now=now)
            log.info("Seeded the empty store with %d items", report.new)
        except SeedError as exc:
            log.error("Could not seed the store: %s", exc)
    async with database.session() as session:
        if await get_meta(session, OPML_IMPORTED) is not None:
            return
        path = settings.sources_opml_path
        try:
            feeds = parse_opml(path.read_bytes())
        except (OSError, OPMLError) as exc:
            log.error("Default source list %s not imported: %s", path, exc)
            return
        added, _ = await import_feeds(
            session, feeds, now=now, interval_seconds=settings.feed_poll_interval
        )
        await set_meta(session, OPML_IMPORTED, str(path), now=now)
        log.info("Imported %d default sources from %s", added, path)
