"""Helpers and data paths the tests share; conftest.py holds only fixtures.

Everything a test reads lives in the repository (`tests/data/`, `seeds/`), so the suite
runs from a clone alone. tests/data/README.md says where each file comes from.
"""

from __future__ import annotations

import gzip
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.store.db import Database
from bot.store.models import Base

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
