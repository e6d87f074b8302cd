"""Updates of followed stories: found after ingest, then sent from their outbox exactly once.

The pass first writes what is new (bot.stories.follows: each update made in the transaction
that marks its reports known), then claims unsent updates with a lease, sends each through
the bot with the digests' retry policy and rate limits, and marks it sent once Telegram
accepted it. An update whose send failed stays due; one claimed by an instance that died
is claimed again when the lease ends, so a restart between finding and sending sends it
once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from prometheus_client import Counter
from telegram import LinkPreviewOptions
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ExtBot

from bot.i18n import using_language
from bot.schedule.times import quiet_until, zone_info
from bot.sending.retry_policy import DIGESTS
from bot.services import Services
from bot.store.articles import headlines_by_id
from bot.store.batching import BatchWriter, Write, run_write
from bot.store.meta import record_heartbeat
from bot.store.story_follows import (
    ClaimedUpdate,
    claim_due_updates,
    end_follow_of,
    record_update_retry,
    record_update_sent,
)
from bot.stories.follows import NewsReport, find_story_news
from bot.ui.render import story_update_keyboard, story_update_message

log = logging.getLogger(__name__)
STORY_UPDATES_SENT = Counter(
    "newsbot_story_updates_sent_total", "Updates of followed stories Telegram accepted"
)
CLAIM_BATCH = 50
# An update claimed by an instance that died is sent by another after this long.
CLAIM_LEASE = timedelta(minutes=5)
# An update whose send failed is tried again after this long (about one pass).
RETRY_DELAY = timedelta(seconds=30)
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass
class UpdatesReport:
    """What one pass found and sent, for the log and tests."""

    found: NewsReport = field(default_factory=NewsReport)
    sent: int = 0
    quiet: int = 0
    """Updates put off until their chat's quiet hours end."""
    retry: int = 0
    undeliverable: int = 0

    @property
    def did_anything(self) -> bool:
        """Whether the pass made, sent or gave up on anything (an idle pass is quiet)."""
        return bool(
            self.found.updates or self.found.ended or self.sent or self.retry or self.undeliverable
        )

    def summary(self) -> str:
        """One line for the log."""
        return (
            f"{self.found.summary()}; {self.sent} sent, {self.quiet} put off for quiet hours, "
            f"{self.retry} to retry, "
            f"{self.undeliverable} undeliverable"
        )


async def story_update_pass(services: Services, bot: ExtBot[Any]) -> UpdatesReport:
    """Find followed stories' news, then send every due update until none is left."""
    settings = services.settings
    report = UpdatesReport()
    report.found = await find_story_news(
        services.database,
        now=services.clock.now(),
        per_day=settings.story_updates_per_day,
        quiet_for=timedelta(days=settings.story_follow_days),
    )
    recorder: BatchWriter[Write, None] = BatchWriter(
        services.database, run_write, what="story updates", max_items=CLAIM_BATCH
    )
    async with recorder:
        while not services.stopping.is_set():
            async with services.database.session() as session:
                claimed = await claim_due_updates(
                    session,
                    now=services.clock.now(),
                    lease=CLAIM_LEASE,
                    instance=services.instance_id,
                    limit=CLAIM_BATCH,
                )
            if not claimed:
                break
            for update in claimed:
                recorder.submit(await _deliver(services, bot, update, report))
            await recorder.flush()
    async with services.database.session() as session:
        await record_heartbeat(session, "follow", "ok", now=services.clock.now())
    return report


async def _deliver(
    services: Services, bot: ExtBot[Any], update: ClaimedUpdate, report: UpdatesReport
) -> Write:
    """Send one claimed update; what to record of how it went."""
    quiet_end = quiet_until(update.quiet_hours, update.timezone, services.clock.now())
    if quiet_end is not None:
        report.quiet += 1
        return partial(
            record_update_retry,
            update_id=update.update_id,
            error="held for the chat's quiet hours",
            not_before=quiet_end,
        )
    async with services.database.session() as session:
        found = await headlines_by_id(session, update.article_ids)
    reports = [found[i] for i in update.article_ids if i in found]
    if not reports:  # every new report was pruned since: nothing left to tell
        return partial(record_update_sent, update_id=update.update_id, now=services.clock.now())
    with using_language(update.language):
        text = story_update_message(
            update.title,
            reports,
            outlets=update.outlets,
            zone=zone_info(update.timezone),
            now=services.clock.now(),
        )
        keyboard = story_update_keyboard(update.article_id, reports[-1].id)
    try:
        await bot.send_message(
            update.chat_id,
            text,
            message_thread_id=update.thread_id,
            reply_markup=keyboard,
            link_preview_options=_NO_PREVIEW,
            rate_limit_args=DIGESTS,
        )
    except (Forbidden, BadRequest) as exc:
        log.warning("Story update for chat %s refused: %s", update.chat_id, exc.message)
        report.undeliverable += 1
        return partial(end_follow_of, update_id=update.update_id)
    except TelegramError as exc:
        # The retry policy gave up (an outage, a flood that would not end): due again soon.
        report.retry += 1
        log.warning("Story update for chat %s not sent yet (%s)", update.chat_id, exc)
        return partial(
            record_update_retry,
            update_id=update.update_id,
            error=str(exc),
            not_before=services.clock.now() + RETRY_DELAY,
        )
    STORY_UPDATES_SENT.inc()
    report.sent += 1
    return partial(record_update_sent, update_id=update.update_id, now=services.clock.now())
