"""Writes from many tasks, committed many to a transaction as they come in.

With dozens of tasks each committing its own small write, SQLite's single write lock
queues them (its busy handler sleeps in steps of up to 100 ms) and PostgreSQL commits
once per write. A BatchWriter's workers take whatever writes are waiting and run them in
one transaction; each caller's future resolves once its own write is committed. A batch
that fails is written again one item per transaction, so a bad item fails only itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.db import Database, is_unavailable

log = logging.getLogger(__name__)

Item = TypeVar("Item")
T = TypeVar("T")
Result = TypeVar("Result")
# One write of its own, made when it was known (an outcome to record): a BatchWriter of
# them runs each with `run_write`, and keeps it while the store is away.
Write = Callable[[AsyncSession], Awaitable[None]]


async def run_write(session: AsyncSession, write: Write) -> None:
    """Run one Write in a BatchWriter's transaction."""
    await write(session)


class BatchWriter(Generic[Item, Result]):
    """Runs `write(session, item)` for submitted items, batched into shared transactions.

    A batch takes up to `max_items` items, and stops growing once the items' `weight`
    reaches `max_weight`: one commit per item makes many small writes wait on the store,
    while a huge transaction keeps SQLite's write lock from every other writer too long.
    `lock`, when given, is held for each transaction, so the caller's own writes can take
    turns with the batches instead of timing out in SQLite's busy handler. `write_many`,
    when given, writes a whole batch at once (fewer statements); `write` still writes an
    item alone when its batch failed.
    """

    def __init__(
        self,
        database: Database,
        write: Callable[[AsyncSession, Item], Awaitable[Result]],
        *,
        what: str,
        max_items: int = 200,
        weight: Callable[[Item], int] | None = None,
        max_weight: int | None = None,
        workers: int = 1,
        lock: asyncio.Lock | None = None,
        write_many: Callable[[AsyncSession, list[Item]], Awaitable[list[Result]]] | None = None,
    ) -> None:
        self._database = database
        self._write = write
        self._what = what
        self._max_items = max_items
        self._weight = weight
        self._max_weight = max_weight
        self._workers = workers
        self._lock = lock
        self._write_many = write_many
        self._queue: asyncio.Queue[tuple[Item, asyncio.Future[Result]]] = asyncio.Queue()
        self._unfinished: set[asyncio.Future[Result]] = set()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> BatchWriter[Item, Result]:
        self._tasks = [asyncio.create_task(self._run()) for _ in range(self._workers)]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # Left only when the caller stopped early: nobody will write these any more.
        while not self._queue.empty():
            self._queue.get_nowait()[1].cancel()

    def submit(self, item: Item) -> asyncio.Future[Result]:
        """Queue `item`; the future holds its write's result once committed, or its error."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        self._unfinished.add(future)
        future.add_done_callback(self._unfinished.discard)
        return future

    async def flush(self) -> None:
        """Wait until every item submitted so far is written; raise the first failure."""
        results = await asyncio.gather(*list(self._unfinished), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            weight = self._weight_of(batch[0][0])
            while not self._queue.empty() and len(batch) < self._max_items:
                if self._max_weight is not None and weight >= self._max_weight:
                    break
                batch.append(self._queue.get_nowait())
                weight += self._weight_of(batch[-1][0])
            try:
                await self._write_batch(batch)
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                raise

    def _weight_of(self, item: Item) -> int:
        return self._weight(item) if self._weight is not None else 1

    async def _write_batch(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._commit(
                lambda session: self._write_all(session, batch), len(batch)
            )
        except Exception:  # noqa: BLE001 - each item is tried again on its own
            if len(batch) > 1:
                log.warning(
                    "Writing %d %s together failed; writing them one by one",
                    len(batch),
                    self._what,
                    exc_info=True,
                )
            for item, future in batch:
                await self._write_alone(item, future)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _write_alone(self, item: Item, future: asyncio.Future[Result]) -> None:
        try:
            result = await self._commit(lambda session: self._write(session, item), 1)
        except Exception as exc:  # noqa: BLE001 - handed to the one who submitted it
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(result)

    async def _write_all(
        self, session: AsyncSession, batch: list[tuple[Item, asyncio.Future[Result]]]
    ) -> list[Result]:
        if self._write_many is not None:
            return await self._write_many(session, [item for item, _ in batch])
        return [await self._write(session, item) for item, _ in batch]

    async def _commit(self, work: Callable[[AsyncSession], Awaitable[T]], count: int) -> T:
        """Run `work` in a transaction, again and again while the database is unreachable.

        The writes are outcomes that exist nowhere else (a digest Telegram accepted, a feed
        fetched): dropping them would send or fetch the thing again, so they are kept and
        tried again with backoff until the database answers or the writer is closed.
        """
        outage = _Outage(self._what, count)
        try:
            while True:
                try:
                    async with self._transaction() as session:
                        result = await work(session)
                except Exception as exc:
                    if not is_unavailable(exc):
                        raise
                    await outage.wait(exc)
                    continue
                outage.over()
                return result
        except asyncio.CancelledError:
            outage.abandoned()
            raise

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        async with AsyncExitStack() as stack:
            if self._lock is not None:
                await stack.enter_async_context(self._lock)
            yield await stack.enter_async_context(self._database.session())


# Backoff while the database is unreachable: soon after a restart, never a busy loop.
RETRY_FIRST_SECONDS = 0.2
RETRY_MAX_SECONDS = 5.0


class _Outage:
    """Backoff and log lines for one write while the database does not answer."""

    def __init__(self, what: str, count: int) -> None:
        self._what = what
        self._count = count
        self._delay = RETRY_FIRST_SECONDS
        self._since: float | None = None

    async def wait(self, error: BaseException) -> None:
        loop = asyncio.get_running_loop()
        if self._since is None:
            self._since = loop.time()
            log.warning(
                "Database unavailable; keeping %d %s and retrying: %s",
                self._count,
                self._what,
                _first_line(error),
            )
        await asyncio.sleep(self._delay)
        self._delay = min(self._delay * 2, RETRY_MAX_SECONDS)

    def over(self) -> None:
        if self._since is not None:
            took = asyncio.get_running_loop().time() - self._since
            log.warning("Database back: %d %s written after %.1f s", self._count, self._what, took)

    def abandoned(self) -> None:
        if self._since is not None:
            log.error(
                "Stopped with the database unavailable: %d %s were not written",
                self._count,
                self._what,
            )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__
