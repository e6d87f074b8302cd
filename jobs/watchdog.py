"""Liveness: a job that has not completed a pass for three of its intervals is an error."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import ContextTypes

from bot.services import SERVICES_KEY, Services
from bot.store.meta import heartbeats
from jobs.dispatch import DISPATCH_INTERVAL
from jobs.ingest import POLL_INTERVAL
from jobs.retention import PRUNE_INTERVAL

log = logging.getLogger(__name__)

WATCH_INTERVAL = 60
MISSED_PASSES = 3


INTERVALS = {"poll": POLL_INTERVAL, "dispatch": DISPATCH_INTERVAL, "prune": PRUNE_INTERVAL}


async def stalled_jobs(services: Services) -> list[str]:
    """Jobs whose last completed pass is older than three of their intervals."""
    now = services.clock.now()
    async with services.database.session() as session:
        beats = await heartbeats(session)
    stalled = []
    for name, interval in INTERVALS.items():
        last = beats.get(name)
        if last is not None and now - last > timedelta(seconds=interval * MISSED_PASSES):
            stalled.append(f"{name} (last pass {int((now - last).total_seconds())} s ago)")
    return stalled


async def watch_heartbeats(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log an error for every stalled job, so a silently stuck bot gets noticed."""
    services: Services = context.application.bot_data[SERVICES_KEY]
    try:
        for job in await stalled_jobs(services):
            log.error("Job stalled: %s", job)
    except Exception:  # noqa: BLE001 - the watchdog must outlive what it watches
        log.exception("Heartbeat check failed")
