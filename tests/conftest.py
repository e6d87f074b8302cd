"""Fixtures shared by the suite: a fresh store on SQLite and on PostgreSQL for each test.

PostgreSQL: `NEWSBOT_TEST_POSTGRES_URL` (default the local `test` database). Each run
creates a database of its own beside it and drops it at the end, so parallel runs and a
developer's own data are never touched. Where no server answers the PostgreSQL half
skips with the reason, except under CI (`CI=true`), where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.news.http.fetcher import SafeFetcher
from bot.store.db import Database
from tests.feedserver import FeedServer
from tests.support import (
    BACKENDS,
    POSTGRES_URL,
    SEEDS,
    FakeClock,
    postgres_admin,
    truncate_tables_at,
)


@pytest.fixture
def clock() -> FakeClock:
    """A controllable clock starting 2026-11-26 09:00 UTC."""
    return FakeClock()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite file that each test copies (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "newsbot.db"

    async def build() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        await database.upgrade()
        await database.dispose()

    asyncio.run(build())
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database of this run's own, or a skip saying why there is none."""
    name = f"newsbot_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(postgres_admin(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        reason = f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    url = str(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))

    async def migrate() -> None:
        database = Database(url)
        await database.upgrade()
        await database.dispose()

    asyncio.run(migrate())
    yield url
    asyncio.run(postgres_admin(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The store backend a test runs on."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty, migrated store on the test's backend."""
    if backend == "sqlite":
        path = tmp_path / "newsbot.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    asyncio.run(truncate_tables_at(url))
    return url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """An empty, migrated store, on SQLite and on PostgreSQL."""
    db = Database(database_url)
    yield db
    await db.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for a test: its own store, the shipped seeds, no default sources."""
    empty_opml = tmp_path / "no-sources.opml"
    empty_opml.write_text('<opml version="2.0"><head/><body/></opml>', encoding="utf-8")
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        telegram_bot_token="123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz",
        seeds_dir=str(SEEDS),
        sources_opml=str(empty_opml),
    )


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    """One loopback feed server per test module, with every fault route."""
    with FeedServer() as feed_server:
        yield feed_server


@pytest.fixture
async def fetcher() -> AsyncIterator[SafeFetcher]:
    """A SafeFetcher that may reach the loopback server, with short timeouts."""
    async with SafeFetcher(
        allow_private=True, timeout=5, connect_timeout=2, read_timeout=2
    ) as client:
        yield client
