"""The feed poll job: ingest the feeds that are due, and tell admins about feeds turned off."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.ingest import POLL_PASS_SECONDS, SourceReport, ingest_due
from bot.render import html_escape
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
        await _tell_admins(context.application.bot, services.settings.admin_ids, source)


def deactivation_notice(source: SourceReport) -> str:
    """The admin message for a feed that failed too often in a row and is no longer read."""
    return (
        f"⛔ Stopped reading <b>{html_escape(source.name)}</b> after repeated failures.\n"
        f"{html_escape(source.url)}\n"
        f"Last error: {html_escape(source.error or 'unknown')}\n"
        f"To try it again: /removesource {source.id}, then /addsource with its URL."
    )


async def _tell_admins(bot: Bot, admin_ids: list[int], source: SourceReport) -> None:
    text = deactivation_notice(source)
    for admin_id in admin_ids:
        try:
            await bot.send_message(chat_id=admin_id, text=text)
        except TelegramError as exc:  # an admin who never started the bot, say
            log.warning(
                "Could not tell admin %d that source %d was turned off: %s",
                admin_id,
                source.id,
                exc,
            )
