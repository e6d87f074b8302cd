"""Instant alerts: made from what ingest stored, then sent from their outbox exactly once.

The pass first makes the alerts of the items stored since the last pass
(bot.stories.alerts), then claims the due ones a chat at a time with a lease and sends
them through the bot with the digests' retry policy and rate limits: each alert of its own
as one message, the chat's gathered ones (over the hour's cap, or held through quiet hours)
together as one. A chat in quiet hours at sending time has its alerts moved to their end.
Alerts are marked sent once Telegram accepted the message; one claimed by an instance that
died is claimed again when the lease ends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from itertools import groupby
from typing import Any

from prometheus_client import Counter
from telegram import InlineKeyboardMarkup, LinkPreviewOptions
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ExtBot

from bot.i18n import using_language
from bot.schedule.times import quiet_until, zone_info
from bot.sending.retry_policy import DIGESTS
from bot.services import Services
from bot.store.alerts import (
    ClaimedAlert,
    claim_due_alerts,
    drop_alerts,
    record_alerts_later,
    record_alerts_sent,
)
from bot.store.articles import headlines_by_id
from bot.store.batching import BatchWriter, Write, run_write
from bot.store.meta import record_heartbeat
from bot.stories.alerts import AlertsFound, find_alerts
from bot.ui.render import (
    MAX_GATHERED_ALERTS,
    alert_keyboard,
    alert_message,
    gathered_alerts_message,
    headline_keyboard,
)

log = logging.getLogger(__name__)
ALERTS_SENT = Counter(
    "newsbot_alerts_sent_total",
    "Alert messages Telegram accepted: one alert alone, or several gathered",
    ["kind"],
)
CLAIM_CHATS = 20
# A chat's gathered alerts claimed at most at once (more go in the next message).
CLAIM_PER_CHAT = 200
CLAIM_LEASE = timedelta(minutes=5)
RETRY_DELAY = timedelta(seconds=30)
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass
class AlertsReport:
    """What one pass made and sent, for the log and tests."""

    found: AlertsFound = field(default_factory=AlertsFound)
    sent: int = 0
    """Messages Telegram accepted."""
    gathered_sent: int = 0
    """Of them, messages gathering several alerts."""
    quiet: int = 0
    """Alerts moved to the end of their chat's quiet hours."""
    retry: int = 0
    undeliverable: int = 0

    @property
    def did_anything(self) -> bool:
        """Whether the pass made, sent or put off anything (an idle pass is quiet)."""
        found = self.found
        return bool(
            found.alone + found.gathered + found.held
            or self.sent
            or self.quiet
            or self.retry
            or self.undeliverable
        )

    def summary(self) -> str:
        """One line for the log."""
        return (
            f"{self.found.summary()}; {self.sent} messages sent ({self.gathered_sent} "
            f"gathered), {self.quiet} put off for quiet hours, {self.retry} to retry, "
            f"{self.undeliverable} undeliverable"
        )


async def alert_pass(services: Services, bot: ExtBot[Any]) -> AlertsReport:
    """Make the alerts of what was stored since the last pass, then send every due one."""
    report = AlertsReport()
    report.found = await find_alerts(
        services.database,
        now=services.clock.now(),
        per_hour=services.settings.alerts_per_hour,
        rules=services.alert_rules,
    )
    recorder: BatchWriter[Write, None] = BatchWriter(
        services.database, run_write, what="alerts", max_items=CLAIM_CHATS * 2
    )
    async with recorder:
        while not services.stopping.is_set():
            async with services.database.session() as session:
                claimed = await claim_due_alerts(
                    session,
                    now=services.clock.now(),
                    lease=CLAIM_LEASE,
                    instance=services.instance_id,
                    chats=CLAIM_CHATS,
                    per_chat=CLAIM_PER_CHAT,
                )
            if not claimed:
                break
            for _chat_id, alerts in groupby(claimed, key=lambda a: a.chat_id):
                for outcome in await _deliver_chat(services, bot, list(alerts), report):
                    recorder.submit(outcome)
            await recorder.flush()
            # A burst at 30 messages a second outlasts the watchdog's three intervals:
            # the pass says it is alive as it goes, not only when it ends.
            await _heartbeat(services)
    await _heartbeat(services)
    return report


async def _heartbeat(services: Services) -> None:
    async with services.database.session() as session:
        await record_heartbeat(session, "alerts", "ok", now=services.clock.now())


async def _deliver_chat(
    services: Services, bot: ExtBot[Any], alerts: list[ClaimedAlert], report: AlertsReport
) -> list[Write]:
    """Send one chat's claimed alerts: each alone one, then the gathered ones together."""
    now = services.clock.now()
    first = alerts[0]
    quiet_end = quiet_until(first.quiet_hours, first.timezone, now)
    ids = [a.alert_id for a in alerts]
    if quiet_end is not None:
        report.quiet += len(alerts)
        return [partial(record_alerts_later, alert_ids=ids, not_before=quiet_end, error=None)]
    async with services.database.session() as session:
        found = await headlines_by_id(session, {a.article_id for a in alerts})
    # An item pruned since it was caught has nothing left to tell.
    outcomes: list[Write] = [
        partial(record_alerts_sent, alert_ids=gone, now=now)
        for gone in [[a.alert_id for a in alerts if a.article_id not in found]]
        if gone
    ]
    told = [a for a in alerts if a.article_id in found]
    gathered = [a for a in told if not a.alone]
    # One held alert is told as an alert of its own, with its buttons.
    alone = told if len(gathered) < 2 else [a for a in told if a.alone]
    messages: list[tuple[list[ClaimedAlert], str, InlineKeyboardMarkup | None]] = []
    with using_language(first.language):
        zone = zone_info(first.timezone)
        for alert in alone:
            headline = found[alert.article_id]
            text = alert_message(headline, alert.pattern, zone=zone, now=now)
            messages.append(([alert], text, alert_keyboard(headline, alert.rule_id)))
        if len(gathered) > 1:
            caught = [(a.pattern, found[a.article_id]) for a in gathered]
            text = gathered_alerts_message(caught, zone=zone, now=now)
            listed = [headline for _p, headline in caught[:MAX_GATHERED_ALERTS]]
            messages.append((gathered, text, headline_keyboard(listed)))
    for number, (sent_alerts, text, keyboard) in enumerate(messages):
        outcome, deliverable = await _send(
            services, bot, first, sent_alerts, text, keyboard, report
        )
        outcomes.append(outcome)
        if not deliverable:
            # The chat cannot be written to: the rest go the same way, unsent.
            rest = [a.alert_id for m in messages[number + 1 :] for a in m[0]]
            outcomes.append(partial(drop_alerts, alert_ids=rest))
            break
    return outcomes


async def _send(
    services: Services,
    bot: ExtBot[Any],
    chat: ClaimedAlert,
    alerts: list[ClaimedAlert],
    text: str,
    keyboard: InlineKeyboardMarkup | None,
    report: AlertsReport,
) -> tuple[Write, bool]:
    """Send one alert message: what to record of how it went, and whether the chat can
    still be written to."""
    ids = [a.alert_id for a in alerts]
    try:
        await bot.send_message(
            chat.chat_id,
            text,
            message_thread_id=chat.thread_id,
            reply_markup=keyboard,
            link_preview_options=_NO_PREVIEW,
            rate_limit_args=DIGESTS,
        )
    except (Forbidden, BadRequest) as exc:
        log.warning("Alert for chat %s refused: %s", chat.chat_id, exc.message)
        report.undeliverable += 1
        return partial(drop_alerts, alert_ids=ids), False
    except TelegramError as exc:
        # The retry policy gave up (an outage, a flood that would not end): due again soon.
        report.retry += 1
        log.warning("Alert for chat %s not sent yet (%s)", chat.chat_id, exc)
        later = services.clock.now() + RETRY_DELAY
        return partial(record_alerts_later, alert_ids=ids, not_before=later, error=str(exc)), True
    kind = "alone" if len(alerts) == 1 else "gathered"
    ALERTS_SENT.labels(kind=kind).inc()
    report.sent += 1
    report.gathered_sent += kind == "gathered"
    return partial(record_alerts_sent, alert_ids=ids, now=services.clock.now()), True
