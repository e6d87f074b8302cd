"""Digest dispatch: claim what is due, build each digest, send it, record the outcome.

Order matters for "never missed, never repeated": the claim is committed before
anything is sent, the deliveries are recorded right after Telegram accepted the
message, and a digest that could not be sent stays claimable for a later pass.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from prometheus_client import Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup, LinkPreviewOptions
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError
from telegram.ext import ExtBot

from bot.digests.content import BatchItems, DigestContent, Unseen, read_batch_items, unseen_alone
from bot.digests.render import NOTHING_NEW, DigestComposer, RenderedDigest
from bot.i18n import _, using_language
from bot.schedule.times import zone_info
from bot.sending.digest_sender import SendMessage
from bot.sending.pictures import without_refused_pictures
from bot.sending.ratelimit import ChatFairRateLimiter
from bot.sending.retry_policy import DIGESTS
from bot.services import Services
from bot.store.batching import BatchWriter
from bot.store.chats import migrate_chat
from bot.store.db import is_unavailable
from bot.store.digests import (
    ClaimedDigest,
    Delivered,
    claim_due_digests,
    record_deliveries,
    record_retry,
    record_undeliverable,
)
from bot.store.meta import record_heartbeat, record_maybe_sent
from bot.ui.render import split_message

log = logging.getLogger(__name__)
DIGESTS_DUE = Counter(
    "newsbot_digests_due_total",
    "Digests this instance claimed as due (a digest claimed again after a failure counts again)",
)
DIGESTS_SENT = Counter(
    "newsbot_digests_sent_total",
    'Digests Telegram accepted, a "nothing new" note included',
)
DIGEST_LATENESS = Histogram(
    "newsbot_digest_lateness_seconds",
    "Seconds from a digest's due time to Telegram accepting it",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
)

CLAIM_BATCH = 200
SEND_CONCURRENCY = 16
# A claim older than this is taken to be abandoned by a crashed instance.
CLAIM_LEASE = timedelta(minutes=5)
# A digest that could not be sent waits this long (about one pass) before it is tried again.
RETRY_DELAY = timedelta(seconds=30)
# Telegram's words for a chat the bot can no longer write to.
_GONE = (
    "chat not found",
    "bot was kicked",
    "user is deactivated",
    "group chat was deleted",
    "have no rights to send",
    "not enough rights",
    "chat_write_forbidden",
)


@dataclass
class DispatchReport:
    """What one pass did, for logs, /stats and tests."""

    sent: int = 0
    empty: int = 0
    skipped: int = 0
    undeliverable: int = 0
    retry: int = 0
    released: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def did_anything(self) -> bool:
        """Whether the pass sent, skipped or gave up on any digest (an empty pass is quiet)."""
        return bool(self.sent or self.skipped or self.undeliverable or self.retry)

    def summary(self) -> str:
        """One line for the log."""
        return (
            f"{self.sent} sent, {self.empty} empty, {self.skipped} skipped as too late, "
            f"{self.undeliverable} undeliverable, {self.retry} to retry, "
            f"{self.released} released at stop"
        )


# An outcome to record: a delivery (recorded with the others of its batch), or a write to
# make in the given session.
_Outcome = Delivered | Callable[[AsyncSession], Awaitable[None]]
_Recorder = BatchWriter[_Outcome, None]


async def dispatch_digests(services: Services, bot: ExtBot[Any]) -> DispatchReport:
    """Claim and send due digests in batches until none is due.

    Claiming runs ahead of sending: the next batch is claimed while the current one is
    still going out (at most about two batches wait), so the sends never pause for a
    claim and a rate-limited fan-out keeps to the limit from the first digest to the last.
    A delivery that fails unexpectedly does not stop the others; the pass then raises it.
    Once `services.stopping` is set (SIGTERM) nothing more is claimed, and what was
    claimed but not started is released, due again at once for another instance.
    """
    report = DispatchReport()
    composer = DigestComposer(services.stories)
    # Digests go out over the lean client once the application opened it, else through PTB.
    send = without_refused_pictures(
        services.digest_sender.send_message if services.digest_sender else bot.send_message
    )
    # Claims and recorded outcomes are this pass's writes; taking turns here instead of in
    # SQLite's busy handler keeps a claim that runs long on a busy event loop from timing
    # out the recorder's transaction ("database is locked"), and the other way round.
    writing = asyncio.Lock()
    recorder: _Recorder = BatchWriter(
        services.database,
        _record,
        what="deliveries",
        max_items=CLAIM_BATCH,
        lock=writing,
        write_many=_record_many,
    )
    async with recorder:
        delivery = _Delivery(services, composer, send, report, recorder)
        failures = await _claim_and_send(delivery, writing)
    if failures:
        raise failures[0]
    await _record_pass(services, bot)
    return report


_Due = asyncio.Queue[tuple[ClaimedDigest, BatchItems] | None]


async def _claim_and_send(delivery: _Delivery, writing: asyncio.Lock) -> list[BaseException]:
    """Claim batches while the send workers deliver them; what failed unexpectedly."""
    due: _Due = asyncio.Queue(maxsize=CLAIM_BATCH)
    failures: list[BaseException] = []
    workers = [
        asyncio.create_task(_send_worker(delivery, due, failures)) for _ in range(SEND_CONCURRENCY)
    ]
    try:
        await _claim_until_none_due(delivery, due, writing)
    except asyncio.CancelledError:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    finally:
        # Whatever stopped the claims, what was claimed is still sent (or left due),
        # and every outcome is committed before the pass ends.
        if not all(worker.done() for worker in workers):
            for _ in workers:
                await due.put(None)
            await asyncio.gather(*workers, return_exceptions=True)
            try:
                await delivery.recorder.flush()
            except Exception as exc:  # noqa: BLE001 - the pass fails, as a delivery would
                failures.append(exc)
    return failures


async def _claim_until_none_due(delivery: _Delivery, due: _Due, writing: asyncio.Lock) -> None:
    """Claim due digests a batch at a time and queue them with their items, until none is
    due or the instance is stopping."""
    services, report = delivery.services, delivery.report
    while not services.stopping.is_set():
        now = services.clock.now()
        async with writing, services.database.session() as session:
            claim = await claim_due_digests(
                session,
                now=now,
                grace=timedelta(hours=services.settings.digest_grace_hours),
                lease=CLAIM_LEASE,
                instance=services.instance_id,
                limit=CLAIM_BATCH,
            )
        report.skipped += claim.skipped
        if not claim.digests:
            break
        DIGESTS_DUE.inc(len(claim.digests))
        items = await _read_items(services, claim.digests, report, delivery.recorder)
        for digest in claim.digests:
            if items is None:
                break
            if services.stopping.is_set():
                delivery.release(digest)
            else:
                await due.put((digest, items))


async def _send_worker(delivery: _Delivery, due: _Due, failures: list[BaseException]) -> None:
    """Deliver queued digests until told to stop (None); an unexpected failure is kept for
    the pass to raise once every delivery is done."""
    stopping = delivery.services.stopping
    while (work := await due.get()) is not None:
        digest, items = work
        if stopping.is_set():
            delivery.release(digest)
            continue
        try:
            await delivery.deliver(digest, items)
        except Exception as exc:  # noqa: BLE001 - raised once every delivery is done
            log.exception("Delivering the digest of chat %s failed", digest.chat_id)
            failures.append(exc)


async def _record_pass(services: Services, bot: ExtBot[Any]) -> None:
    """The pass's heartbeat, and how many requests this instance may have sent twice."""
    async with services.database.session() as session:
        now = services.clock.now()
        await record_heartbeat(session, "dispatch", "ok", now=now)
        if isinstance(bot.rate_limiter, ChatFairRateLimiter):
            count = bot.rate_limiter.maybe_sent_twice
            await record_maybe_sent(session, services.instance_id, count, now=now)


async def _read_items(
    services: Services,
    digests: list[ClaimedDigest],
    report: DispatchReport,
    recorder: _Recorder,
) -> BatchItems | None:
    """The items a claim batch's digests are made of; None (each left due) if the database
    cannot be read."""
    now = services.clock.now()
    try:
        async with services.database.session() as session:
            return await read_batch_items(session, digests, now=now, stories=services.stories)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        # Nothing was sent: due again as soon as the recorder reaches the database, instead
        # of waiting out the claims' lease.
        for digest in digests:
            recorder.submit(
                partial(record_retry, digest=digest, error=str(exc)[:200], not_before=now)
            )
        report.retry += len(digests)
        log.warning("%d digests not built, the database is unavailable", len(digests))
        return None


async def _record(session: AsyncSession, outcome: _Outcome) -> None:
    if isinstance(outcome, Delivered):
        await record_deliveries(session, [outcome])
    else:
        await outcome(session)


async def _record_many(session: AsyncSession, outcomes: list[_Outcome]) -> list[None]:
    delivered = [o for o in outcomes if isinstance(o, Delivered)]
    if delivered:
        await record_deliveries(session, delivered)
    for outcome in outcomes:
        if not isinstance(outcome, Delivered):
            await outcome(session)
    return [None] * len(outcomes)


@dataclass
class _Delivery:
    """What delivering one digest needs from its pass."""

    services: Services
    composer: DigestComposer
    send: SendMessage
    report: DispatchReport
    recorder: _Recorder

    async def deliver(self, digest: ClaimedDigest, items: BatchItems) -> None:
        """Build and send one digest, and hand its outcome to the recorder."""
        now = self.services.clock.now()
        unseen = items.unseen(digest)
        if unseen is None:
            unseen = await self._unseen_alone(digest, now=now)
            if unseen is None:
                return
        content = await self.composer.compose(digest, unseen)
        if not content.stories and not digest.notify_empty:
            self.recorder.submit(Delivered(digest, [], now, items.read_at))
            self.report.empty += 1
            return
        rendered = self._render(digest, content, now=now)
        preview = self.composer.preview(
            rendered.top_url, rendered.top_image, enabled=digest.link_preview
        )
        sent = await self._send_or_record_why_not(digest, rendered, preview)
        if sent is None:
            return
        now = self.services.clock.now()
        self.recorder.submit(Delivered(sent, content.article_ids, now, items.read_at))
        DIGESTS_SENT.inc()
        DIGEST_LATENESS.observe((now - digest.due_at).total_seconds())
        if content.stories:
            self.report.sent += 1
        else:
            self.report.empty += 1

    def release(self, digest: ClaimedDigest) -> None:
        """Leave a claimed digest due at once, for another instance: this one is stopping."""
        self.recorder.submit(
            partial(
                record_retry,
                digest=digest,
                error="released: the instance was stopping",
                not_before=self.services.clock.now(),
            )
        )
        self.report.released += 1

    async def _unseen_alone(self, digest: ClaimedDigest, *, now: datetime) -> Unseen | None:
        """What the chat has not seen, read for it alone; None (left due) if the database
        cannot be read."""
        try:
            async with self.services.database.session() as session:
                return await unseen_alone(session, digest)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            self.recorder.submit(
                partial(record_retry, digest=digest, error=str(exc)[:200], not_before=now)
            )
            self.report.retry += 1
            log.warning("Digest for chat %s not built, the database is unavailable", digest.chat_id)
            return None

    def _render(
        self, digest: ClaimedDigest, content: DigestContent, *, now: datetime
    ) -> RenderedDigest:
        """The digest's text and buttons, or the "nothing new" note in the chat's language."""
        if not content.stories:
            with using_language(digest.language):
                return RenderedDigest(_(NOTHING_NEW), None, None)
        return self.composer.render(
            content,
            due_at=digest.due_at,
            now=now,
            zone=zone_info(digest.timezone),
            channel=digest.kind == "channel",
            language=digest.language,
        )

    async def _send_or_record_why_not(
        self, digest: ClaimedDigest, rendered: RenderedDigest, preview: LinkPreviewOptions
    ) -> ClaimedDigest | None:
        """Send the digest: the digest as sent (its chat may have moved), or None when it was
        not sent, why handed to the recorder."""
        services = self.services
        text, keyboard = rendered.text, rendered.keyboard
        paid = services.settings.telegram_paid_broadcast
        try:
            try:
                await _send(self.send, digest, text, keyboard, preview, paid=paid)
            except ChatMigrated as exc:
                # The group became a supergroup: its row (settings, history, this claim) moves
                # to the new id, and the digest goes there; the old id is never called again.
                async with services.database.session() as session:
                    await migrate_chat(
                        session, digest.chat_id, exc.new_chat_id, now=services.clock.now()
                    )
                digest = replace(digest, chat_id=exc.new_chat_id, thread_id=None)
                await _send(self.send, digest, text, keyboard, preview, paid=paid)
        except (Forbidden, BadRequest) as exc:
            self._record_undeliverable(digest, exc)
            return None
        except TelegramError as exc:
            # The retry policy gave up (a long outage, a flood that would not end).
            not_before = services.clock.now() + RETRY_DELAY
            self.recorder.submit(
                partial(record_retry, digest=digest, error=str(exc), not_before=not_before)
            )
            self.report.retry += 1
            log.warning("Digest for chat %s not sent yet (%s); it stays due", digest.chat_id, exc)
            return None
        return digest

    def _record_undeliverable(self, digest: ClaimedDigest, exc: Forbidden | BadRequest) -> None:
        """The chat cannot be written to: stop sending to it, and say so when Telegram's
        reason is not one of a chat that is gone."""
        if isinstance(exc, BadRequest) and not any(g in exc.message.lower() for g in _GONE):
            self.report.errors.append(f"chat {digest.chat_id}: {exc.message}")
            log.error("Digest for chat %s rejected: %s", digest.chat_id, exc.message)
        self.recorder.submit(
            partial(
                record_undeliverable,
                digest=digest,
                error=exc.message,
                now=self.services.clock.now(),
            )
        )
        self.report.undeliverable += 1


async def _send(
    send: SendMessage,
    digest: ClaimedDigest,
    text: str,
    keyboard: InlineKeyboardMarkup | None,
    preview: LinkPreviewOptions,
    *,
    paid: bool,
) -> None:
    """Send the digest's parts, the top story's preview under the first and the keyboard under
    the last; retries as DIGESTS says. `paid` lets Telegram take them past the free 30/s
    and charge the bot's Stars."""
    parts = split_message(text)
    for index, part in enumerate(parts):
        await send(
            digest.chat_id,
            part,
            message_thread_id=digest.thread_id,
            reply_markup=keyboard if index == len(parts) - 1 else None,
            link_preview_options=preview if index == 0 else None,
            rate_limit_args=DIGESTS,
            allow_paid_broadcast=paid or None,
            disable_notification=digest.silent or None,
        )
