"""The feed poll job: one ingestion pass (bot.ingest); admins hear of feeds turned off."""

from __future__ import annotations

import logging

from telegram.ext import ContextTypes

from bot.admin import deactivation_notice, tell_admins
from bot.ingest import POLL_PASS_SECONDS, ingest_due
from bot.services import SERVICES_KEY, Services

log = logging.getLogger(__name__)

# Each pass only takes what is due, so a short interval costs little and new feeds
# added with /addsource are read within a minute.
POLL_INTERVAL = POLL_PASS_SECONDS


async def poll_feeds(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The repeating job: one ingestion pass; never raise into the scheduler."""
    services: Services = context.application.bot_data[SERVICES_KEY]
    if services.fetcher is None:
        log.warning("Feed poll skipped: the fetcher is not open yet")
        return
    try:
        report = await ingest_due(
            services.database,
            services.fetcher,
            services.settings,
            now=services.clock.now(),
            executor=services.parse_executor,
        )
    except Exception:  # noqa: BLE001 - the next pass tries again
        log.exception("Feed poll failed")
        return
    if report.sources:
        log.info("Feed poll: %s", report.summary())
    for source in report.deactivated:
        await tell_admins(
            context.application.bot, services.settings.admin_ids, deactivation_notice(source)
        )
