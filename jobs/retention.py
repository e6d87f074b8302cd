"""The retention job: one pruning pass (bot.ingest.retention) every PRUNE_INTERVAL seconds."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.ingest.retention import prune
from bot.services import NewsContext

log = logging.getLogger(__name__)

PRUNE_INTERVAL = 6 * 3600


async def prune_old_articles(context: NewsContext) -> None:
    """The repeating job: one retention pass; never raise into the scheduler."""
    services = context.services
    now = services.clock.now()
    days = services.settings.retention_days
    try:
        removed = await prune(services.database, older_than=now - timedelta(days=days), now=now)
    except Exception:  # noqa: BLE001 - the next pass tries again
        log.exception("Pruning old articles failed")
        return
    if removed:
        log.info("Pruned %d articles older than %d days", removed, days)
