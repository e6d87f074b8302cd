"""Retention: articles older than RETENTION_DAYS go, their identity stays while it matters;
sent alerts go once they no longer decide what is told."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.store.alerts import prune_sent_alerts
from bot.store.db import Database
from bot.store.meta import record_heartbeat
from bot.store.tombstones import prune_articles, prune_tombstones

# How long a feed must have stopped listing a pruned item before its tombstone goes: feeds
# served from several caches can list an item again for a while after dropping it.
TOMBSTONE_MARGIN = timedelta(days=14)
# Sent alerts tell the hour's cap and one alert a story (two days) which stories were told.
SENT_ALERTS_KEPT = timedelta(days=3)


async def prune(database: Database, *, older_than: datetime, now: datetime) -> int:
    """Delete old articles a batch per transaction, so readers and the poller never wait long,
    then the tombstones no feed can bring back any more."""
    total = 0
    while True:
        async with database.session() as session:
            removed = await prune_articles(session, older_than=older_than, now=now)
        if not removed:
            break
        total += removed
    async with database.session() as session:
        tombstones = await prune_tombstones(session, unlisted_before=now - TOMBSTONE_MARGIN)
        await prune_sent_alerts(session, before=now - SENT_ALERTS_KEPT)
        await record_heartbeat(
            session, "prune", f"{total} articles and {tombstones} tombstones pruned", now=now
        )
    return total
