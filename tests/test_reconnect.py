"""A PostgreSQL restart costs no reply: pooled connections the server closed are replaced
before they are used (once they have been idle for the moment a restart takes)."""

from __future__ import annotations

import asyncio

import pytest

from bot.store.articles import count_articles
from bot.store.db import PING_AFTER_IDLE_SECONDS, Database
from tests.support import BACKENDS, POSTGRES_URL, postgres_admin


# The server ends the connections itself: a PostgreSQL-only case.
@pytest.mark.parametrize("backend", [b for b in BACKENDS if b == "postgresql"])
async def test_connections_the_server_closed_are_replaced_before_use(database: Database) -> None:
    for _ in range(3):
        async with database.session() as session:
            assert await count_articles(session) == 0
        await postgres_admin(
            POSTGRES_URL,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{database.url.database}' AND pid <> pg_backend_pid()",
        )
        await asyncio.sleep(PING_AFTER_IDLE_SECONDS)
    async with database.session() as session:
        assert await count_articles(session) == 0
