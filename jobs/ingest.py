"""The feed poll job: one ingestion pass (bot.ingest.poller); admins hear of feeds turned off."""

from __future__ import annotations

import logging

from bot.ingest.poller import POLL_PASS_SECONDS, IngestReport
from bot.ops.admin import deactivation_notice, tell_admins
from bot.services import NewsContext

log = logging.getLogger(__name__)

# Each tick only starts what came due, so ticking often costs little: feeds are fetched
# within seconds of their time, and new ones added with /addsource at once.
POLL_INTERVAL = POLL_PASS_SECONDS


async def poll_feeds(context: NewsContext) -> None:
    """The repeating job: start the feeds that came due; never raise into the scheduler."""
    services = context.services
    if services.feed_poller is None:
        log.warning("Feed poll skipped: the poller is not running yet")
        return
    try:
        report = await services.feed_poller.tick(now=services.clock.now())
    except Exception:  # noqa: BLE001 - the next tick tries again
        log.exception("Feed poll failed")
        return
    if report.finished:
        log.info("Feed poll: %s", IngestReport(report.finished).summary())
    for source in report.deactivated:
        await tell_admins(
            context.application.bot, services.settings.admin_ids, deactivation_notice(source)
        )
