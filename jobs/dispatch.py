"""The digest dispatch job: claim what is due, build each digest, send it, record it.

Order matters for "never missed, never repeated": the claim is committed before
anything is sent, the deliveries are recorded right after Telegram accepted the
message, and a digest that could not be sent stays claimable for a later pass.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot.digest_content import NOTHING_NEW, build_digest, digest_message
from bot.render import headline_keyboard, split_message
from bot.schedule import zone_info
from bot.services import SERVICES_KEY, Services
from bot.store.db import Database
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
SEND_CONCURRENCY = 16
# A claim older than this is taken to be abandoned by a crashed instance.
CLAIM_LEASE = timedelta(minutes=5)
NETWORK_RETRIES = 3
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
    errors: list[str] = field(default_factory=list)


async def send_due_digests(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The repeating job: dispatch every due digest; never raise into the scheduler."""
    try:
        report = await dispatch_digests(context.application)
    except Exception:  # noqa: BLE001 - the next pass retries; the job must keep running
        log.exception("Digest dispatch pass failed")
        return
    if report.sent or report.skipped or report.undeliverable or report.retry:
        log.info(
            "Digests: %d sent, %d empty, %d skipped as too late, %d undeliverable, %d to retry",
            report.sent,
            report.empty,
            report.skipped,
            report.undeliverable,
            report.retry,
        )


async def dispatch_digests(application: Application) -> DispatchReport:  # type: ignore[type-arg]
    """Claim and send due digests in batches until none is due.

    Claiming runs ahead of sending: the next batch is claimed while the current one is
    still going out (at most about two batches wait), so the sends never pause for a
    claim and a rate-limited fan-out keeps to the limit from the first digest to the last.
    A delivery that fails unexpectedly does not stop the others; the pass then raises it.
    """
    services: Services = application.bot_data[SERVICES_KEY]
    report = DispatchReport()
    due: asyncio.Queue[ClaimedDigest | None] = asyncio.Queue(maxsize=CLAIM_BATCH)
    failures: list[BaseException] = []

    async def send_worker(recorder: _Recorder) -> None:
        while (digest := await due.get()) is not None:
            try:
                await _deliver(application.bot, services, digest, report, recorder)
            except Exception as exc:  # noqa: BLE001 - raised once every delivery is done
                log.exception("Delivering the digest of chat %s failed", digest.chat_id)
                failures.append(exc)

    # Claims and recorded outcomes are this pass's writes; taking turns here instead of in
    # SQLite's busy handler keeps a claim that runs long on a busy event loop from timing
    # out the recorder's transaction ("database is locked"), and the other way round.
    writing = asyncio.Lock()
    async with _Recorder(services.database, writing) as recorder:
        workers = [asyncio.create_task(send_worker(recorder)) for _ in range(SEND_CONCURRENCY)]
        try:
            while True:
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
                for digest in claim.digests:
                    await due.put(digest)
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
                    await recorder.flush()
                except Exception as exc:  # noqa: BLE001 - the pass fails, as a delivery would
                    failures.append(exc)
    if failures:
        raise failures[0]
    async with services.database.session() as session:
        await record_heartbeat(session, "dispatch", "ok", now=services.clock.now())
    return report


async def _deliver(
    bot: Bot, services: Services, digest: ClaimedDigest, report: DispatchReport, recorder: _Recorder
) -> None:
    now = services.clock.now()
    async with services.database.session() as session:
        content = await build_digest(session, digest)
    if not content.stories and not digest.notify_empty:
        recorder.write(partial(record_sent, digest=digest, article_ids=[], now=now))
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
        recorder.write(
            partial(
                record_undeliverable, digest=digest, error=exc.message, now=services.clock.now()
            )
        )
        report.undeliverable += 1
        return
    except (NetworkError, RetryAfter, TelegramError) as exc:
        not_before = services.clock.now() + timedelta(seconds=DISPATCH_INTERVAL)
        recorder.write(partial(record_retry, digest=digest, error=str(exc), not_before=not_before))
        report.retry += 1
        log.warning("Digest for chat %s not sent yet (%s); it stays due", digest.chat_id, exc)
        return
    recorder.write(
        partial(
            record_sent, digest=digest, article_ids=content.article_ids, now=services.clock.now()
        )
    )
    if content.stories:
        report.sent += 1
    else:
        report.empty += 1


# What a delivery writes after sending, given the session to write it in.
_Write = Callable[[AsyncSession], Awaitable[None]]


class _Recorder:
    """Records the outcome of deliveries, many to a transaction, as they come in.

    With dozens of deliveries running at once, one short write transaction each meant
    dozens of connections queueing for SQLite's single write lock (in its busy handler,
    which sleeps in steps of up to 100 ms) and a commit per digest on PostgreSQL. One task
    now writes whatever outcomes are waiting in one transaction; each delivery still
    returns only once its own outcome is committed. A batch that fails is written again
    one outcome per transaction, so one bad record only fails its own delivery.
    """

    BATCH = 200

    def __init__(self, database: Database, writing: asyncio.Lock) -> None:
        self._database = database
        self._writing = writing
        self._queue: asyncio.Queue[tuple[_Write, asyncio.Future[None]]] = asyncio.Queue()
        self._written: list[asyncio.Future[None]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _Recorder:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        while not self._queue.empty():  # only when the pass itself was cancelled
            self._queue.get_nowait()[1].cancel()

    def write(self, write: _Write) -> asyncio.Future[None]:
        """Run `write` in a transaction shared with other deliveries; done once committed.

        The sender does not wait for the commit: it goes on to its next digest, and the
        pass waits for every outcome at its end (`flush`).
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((write, future))
        self._written.append(future)
        return future

    async def flush(self) -> None:
        """Wait until every outcome handed in so far is committed; raise the first failure."""
        written, self._written = self._written, []
        results = await asyncio.gather(*written, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < self.BATCH:
                batch.append(self._queue.get_nowait())
            try:
                async with self._writing, self._database.session() as session:
                    for write, _ in batch:
                        await write(session)
            except Exception:  # noqa: BLE001 - each outcome is tried again on its own
                if len(batch) > 1:
                    log.warning(
                        "Recording %d deliveries together failed; recording them one by one",
                        len(batch),
                        exc_info=True,
                    )
                for write, future in batch:
                    try:
                        async with self._writing, self._database.session() as session:
                            await write(session)
                    except Exception as exc:  # noqa: BLE001 - handed to that delivery
                        if not future.done():
                            future.set_exception(exc)
                    else:
                        if not future.done():
                            future.set_result(None)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)


async def _send(bot: Bot, digest: ClaimedDigest, text: str, keyboard) -> None:  # type: ignore[no-untyped-def]
    """Send the digest's parts, riding out flood waits and brief network trouble."""
    parts = split_message(text)
    for index, part in enumerate(parts):
        markup = keyboard if index == len(parts) - 1 else None
        for attempt in range(NETWORK_RETRIES + 1):
            try:
                await bot.send_message(
                    digest.chat_id, part, message_thread_id=digest.thread_id, reply_markup=markup
                )
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
