"""The watchdog job: log an error for every stalled job, so a stuck bot gets noticed."""

from __future__ import annotations

import logging

from bot.ops.watchdog import stalled_jobs
from bot.services import NewsContext
from jobs.alerts import ALERT_INTERVAL
from jobs.dispatch import DISPATCH_INTERVAL
from jobs.ingest import POLL_INTERVAL
from jobs.retention import PRUNE_INTERVAL
from jobs.story_updates import FOLLOW_INTERVAL

log = logging.getLogger(__name__)

WATCH_INTERVAL = 60
INTERVALS = {
    "poll": POLL_INTERVAL,
    "dispatch": DISPATCH_INTERVAL,
    "follow": FOLLOW_INTERVAL,
    "alerts": ALERT_INTERVAL,
    "prune": PRUNE_INTERVAL,
}


async def watch_heartbeats(context: NewsContext) -> None:
    """The repeating job: one liveness check; never raise into the scheduler."""
    services = context.services
    try:
        for job in await stalled_jobs(services.database, INTERVALS, now=services.clock.now()):
            log.error("Job stalled: %s", job)
    except Exception:  # noqa: BLE001 - the watchdog must outlive what it watches
        log.exception("Heartbeat check failed")
