"""Retention: articles older than RETENTION_DAYS go, their identity stays."""

from __future__ import annotations

from datetime import datetime

from bot.store.articles import prune_articles
from bot.store.db import Database
from bot.store.meta import record_heartbeat


async def prune(database: Database, *, older_than: datetime, now: datetime) -> int:
    """Delete old articles a batch per transaction, so readers and the poller never wait long."""
    total = 0
    while True:
        async with database.session() as session:
            removed = await prune_articles(session, older_than=older_than, now=now)
        if not removed:
            break
        total += removed
    async with database.session() as session:
        await record_heartbeat(session, "prune", f"{total} articles pruned", now=now)
    return total
