"""The store as the commands read it: opened, migrated and prepared as the bot finds it."""

from __future__ import annotations

from bot.bootstrap import open_database, prepare_store
from bot.clock import SystemClock
from bot.config import Settings
from bot.store.db import Database


async def ready_store(settings: Settings) -> Database:
    """The store migrated, seeded and given its default sources on first use."""
    database = await open_database(settings)
    await prepare_store(database, settings, now=SystemClock().now())
    return database
