"""Helpers and data paths the tests share; conftest.py holds only fixtures.

Everything a test reads lives in the repository (`tests/data/`, `seeds/`), so the suite
runs from a clone alone. tests/data/README.md says where each file comes from.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Settings
from bot.ingest.poller import ingest_all
from bot.news.http.fetcher import SafeFetcher
from bot.store.db import Database, alembic_config
from bot.store.models import Base
from bot.store.sources import add_source
from tests.feedserver import FeedServer

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SEEDS = ROOT / "seeds"
# The seed document the product was created from: one article, then 16 headlines.
SEED_DOCUMENT = SEEDS / "000_efc814114c7f461d.txt"
NEWS_FEEDS = DATA / "feeds" / "news"
# Feeds of other languages for language-aware search (README: origins, the encoding repaired).
LANGUAGE_FEEDS = DATA / "feeds" / "languages"
ILLFORMED_FEEDS = DATA / "feeds" / "illformed"
PAGES = DATA / "pages"
CNNDM = DATA / "summaries" / "cnndm-summeval-first8.jsonl"
GROUPING = DATA / "grouping"

POSTGRES_URL = os.environ.get(
    "NEWSBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
BACKENDS = [b for b in os.environ.get("NEWSBOT_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """The time the test has set."""
        return self.current

    def advance(self, **delta: float) -> datetime:
        """Move forward by a timedelta's keyword arguments."""
        self.current += timedelta(**delta)
        return self.current

    def set(self, when: datetime) -> None:
        """Jump to an instant."""
        self.current = when


def page_html(name: str) -> bytes:
    """A real article page as served; stored gzipped because pages are mostly markup."""
    return gzip.decompress((PAGES / "html" / f"{name}.gz").read_bytes())


async def truncate_tables(database: Database) -> None:
    """Empty every table of a PostgreSQL store, faster than migrating a new database."""
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with database.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


async def truncate_tables_at(url: str) -> None:
    """Empty every table of the PostgreSQL store at a URL."""
    database = Database(url)
    try:
        await truncate_tables(database)
    finally:
        await database.dispose()


async def postgres_admin(url: str, statement: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) outside a transaction, as asyncpg allows."""
    import asyncpg

    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database or "postgres",
        timeout=5,
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _migrate(connection: Connection, revision: str, *, down: bool) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


@asynccontextmanager
async def schema_before(database: Database, revision: str) -> AsyncIterator[AsyncConnection]:
    """The store as it stood just before migration `revision`, to write rows as an older
    release did; upgraded back to head afterwards, as a real upgrade would."""
    before = ScriptDirectory.from_config(alembic_config()).get_revision(revision).down_revision
    assert isinstance(before, str)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_migrate, before, down=True)
            yield connection
    finally:
        async with database.engine.begin() as connection:
            await connection.run_sync(_migrate, "head", down=False)


@contextmanager
def serving_feeds(paths: Iterable[Path]) -> Iterator[FeedServer]:
    """A loopback feed server with each file at /<its name>; no charset in the header, so
    the XML declaration decides (as a real server often leaves it)."""
    with FeedServer() as server:
        for path in paths:
            server.add(f"/{path.name}", path.read_bytes(), content_type="application/rss+xml")
        yield server


async def ingest_feeds(
    database: Database,
    fetcher: SafeFetcher,
    settings: Settings,
    server: FeedServer,
    clock: FakeClock,
    paths: Iterable[Path],
) -> None:
    """Add each served file as a source and read them all through the real fetch, parse
    and store path."""
    async with database.session() as session:
        for path in paths:
            await add_source(
                session, server.url(f"/{path.name}"), now=clock.now(), allow_private=True
            )
    report = await ingest_all(database, fetcher, settings, now=clock.now())
    assert not report.failed, report.summary()
