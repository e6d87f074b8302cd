"""The digest dispatch job: claim what is due, build each digest, send it, record it.

Order matters for "never missed, never repeated": the claim is committed before
anything is sent, the deliveries are recorded right after Telegram accepted the
message, and a digest that could not be sent stays claimable for a later pass.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot.digest import NOTHING_NEW, build_digest, digest_message
from bot.render import headline_keyboard, split_message
from bot.schedule import zone_info
from bot.services import SERVICES_KEY, Services
from bot.store.digests import (
    ClaimedDigest,
    claim_due_digests,
    record_retry,
    record_sent,
    record_undeliverable,
)
from bot.store.meta import record_heartbeat

log = logging.getLogger(__name__)

DISPATCH_INTERVAL = 30
CLAIM_BATCH = 200
SEND_CONCURRENCY = 64
# A claim older than this is taken to be abandoned by a crashed instance.
CLAIM_LEASE = timedelta(minutes=5)
NETWORK_RETRIES = 3
_GONE = ("chat not found", "bot was kicked", "user is deactivated", "group chat was deleted",
         "have no rights to send", "not enough rights", "chat_write_forbidden")


@dataclass
class DispatchReport:
    """What one pass did, for logs, /stats and tests."""

    sent: int = 0
    empty: int = 0
    skipped: int = 0
    undeliverable: int = 0
    retry: int = 0
    errors: list[str] = field(default_factory=list)


async def send_due_digests(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The repeating job: dispatch every due digest; never raise into the scheduler."""
    try:
        report = await dispatch_digests(context.application)
    except Exception:  # noqa: BLE001 - the next pass retries; the job must keep running
        log.exception("Digest dispatch pass failed")
        return
    if report.sent or report.skipped or report.undeliverable or report.retry:
        log.info("Digests: %d sent, %d empty, %d skipped as too late, %d undeliverable, %d to retry",
                 report.sent, report.empty, report.skipped, report.undeliverable, report.retry)


async def dispatch_digests(application: Application) -> DispatchReport:  # type: ignore[type-arg]
    """Claim and send due digests in batches until none is due."""
    services: Services = application.bot_data[SERVICES_KEY]
    report = DispatchReport()
    gate = asyncio.Semaphore(SEND_CONCURRENCY)
    while True:
        now = services.clock.now()
        async with services.database.session() as session:
            claim = await claim_due_digests(
                session, now=now, grace=timedelta(hours=services.settings.digest_grace_hours),
                lease=CLAIM_LEASE, instance=services.instance_id, limit=CLAIM_BATCH,
            )
        report.skipped += claim.skipped
        if not claim.digests:
            break

        async def deliver(digest: ClaimedDigest) -> None:
            async with gate:
                await _deliver(application.bot, services, digest, report)

        await asyncio.gather(*(deliver(d) for d in claim.digests))
    async with services.database.session() as session:
        await record_heartbeat(session, "dispatch", "ok", now=services.clock.now())
    return report


async def _deliver(bot: Bot, services: Services, digest: ClaimedDigest, report: DispatchReport) -> None:
    now = services.clock.now()
    async with services.database.session() as session:
        content = await build_digest(session, digest)
    if not content.stories and not digest.notify_empty:
        async with services.database.session() as session:
            await record_sent(session, digest, [], now=now)
        report.empty += 1
        return
    zone = zone_info(digest.timezone)
    if content.stories:
        text = digest_message(content, due_at=digest.due_at, now=now, zone=zone)
        keyboard = headline_keyboard([s.lead for s in content.stories])
    else:
        text, keyboard = NOTHING_NEW, None
    try:
        await _send(bot, digest, text, keyboard)
    except (Forbidden, BadRequest) as exc:
        if isinstance(exc, BadRequest) and not any(g in exc.message.lower() for g in _GONE):
            report.errors.append(f"chat {digest.chat_id}: {exc.message}")
            log.error("Digest for chat %s rejected: %s", digest.chat_id, exc.message)
        async with services.database.session() as session:
            await record_undeliverable(session, digest, error=exc.message, now=services.clock.now())
        report.undeliverable += 1
        return
    except (NetworkError, RetryAfter, TelegramError) as exc:
        async with services.database.session() as session:
            await record_retry(session, digest, error=str(exc),
                               not_before=services.clock.now() + timedelta(seconds=DISPATCH_INTERVAL))
        report.retry += 1
        log.warning("Digest for chat %s not sent yet (%s); it stays due", digest.chat_id, exc)
        return
    async with services.database.session() as session:
        await record_sent(session, digest, content.article_ids, now=services.clock.now())
    if content.stories:
        report.sent += 1
    else:
        report.empty += 1


async def _send(bot: Bot, digest: ClaimedDigest, text: str, keyboard) -> None:  # type: ignore[no-untyped-def]
    """Send the digest's parts, riding out flood waits and brief network trouble."""
    parts = split_message(text)
    for index, part in enumerate(parts):
        markup = keyboard if index == len(parts) - 1 else None
        for attempt in range(NETWORK_RETRIES + 1):
            try:
                await bot.send_message(digest.chat_id, part, message_thread_id=digest.thread_id,
                                       reply_markup=markup)
                break
            except RetryAfter as exc:
                # The limiter already retried; wait this chat's turn again without blocking others.
                if attempt == NETWORK_RETRIES:
                    raise
                await asyncio.sleep(exc._retry_after.total_seconds() + 0.1)  # noqa: SLF001
            except (Forbidden, BadRequest):
                raise
            except NetworkError:
                if attempt == NETWORK_RETRIES:
                    raise
                await asyncio.sleep(0.5 * 2**attempt)
