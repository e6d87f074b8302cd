"""The store's schema: brought to the head on start, and told apart when it is not there."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from bot.store.db import SCHEMA_HEAD, Database, alembic_config


def test_the_head_the_bot_checks_for_is_alembics() -> None:
    # A new migration moves Alembic's head: SCHEMA_HEAD in bot/store/db.py must follow it.
    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [SCHEMA_HEAD]


def _downgrade_one(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "-1")


async def test_a_store_behind_the_head_is_upgraded_and_one_at_it_left_as_it_is(
    database: Database,
) -> None:
    assert not await database.migrations_pending()
    await database.upgrade()
    assert not await database.migrations_pending()
    async with database.engine.begin() as connection:
        await connection.run_sync(_downgrade_one)
    assert await database.migrations_pending()
    await database.upgrade()
    assert not await database.migrations_pending()
