"""The retention job: drop articles older than RETENTION_DAYS, keeping their identity."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram.ext import ContextTypes

from bot.services import SERVICES_KEY, Services
from bot.store.articles import prune_articles
from bot.store.db import Database
from bot.store.meta import record_heartbeat

log = logging.getLogger(__name__)

PRUNE_INTERVAL = 6 * 3600


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


async def prune_old_articles(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The repeating job: one retention pass; never raise into the scheduler."""
    services: Services = context.application.bot_data[SERVICES_KEY]
    now = services.clock.now()
    try:
        removed = await prune(
            services.database,
            older_than=now - timedelta(days=services.settings.retention_days),
            now=now,
        )
    except Exception:  # noqa: BLE001 - the next pass tries again
        log.exception("Pruning old articles failed")
        return
    if removed:
        log.info("Pruned %d articles older than %d days", removed, services.settings.retention_days)
