"""The alerts job: one pass (bot.digests.alerts) every ALERT_INTERVAL seconds."""

from __future__ import annotations

import logging

from bot.digests.alerts import alert_pass
from bot.services import NewsContext

log = logging.getLogger(__name__)

# An alert is the point of being told at once: it follows its item's ingest within seconds.
# An idle pass is two small reads.
ALERT_INTERVAL = 15


async def send_alerts(context: NewsContext) -> None:
    """The repeating job: make alerts of what came in and send the due ones; never raise
    into the scheduler."""
    try:
        report = await alert_pass(context.services, context.application.bot)
    except Exception:  # noqa: BLE001 - the next pass tries again; the job must keep running
        log.exception("Alert pass failed")
        return
    if report.did_anything:
        log.info("Alerts: %s", report.summary())
