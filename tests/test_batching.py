"""BatchWriter: many writes to a transaction, a bad one isolated, every caller answered."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.batching import BatchWriter
from bot.store.db import Database
from bot.store.meta import get_meta, meta_with_prefix
from bot.store.models import Meta

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class Recorder:
    """Writes one meta row per key and notes which transaction each write ran in."""

    @property
    def transactions(self) -> int:
        return len({id(session) for session in self.sessions})

    def __init__(self) -> None:
        self.sessions: list[AsyncSession] = []  # held, so no two share an id()
        self.release = asyncio.Event()
        self.release.set()

    async def write(self, session: AsyncSession, key: str) -> str:
        await self.release.wait()
        session.add(Meta(key=f"item:{key}", value=key.upper(), updated_at=NOW))
        await session.flush()  # a duplicate key fails here, as a broken row would
        self.sessions.append(session)
        return key.upper()


async def stored_keys(database: Database) -> list[str]:
    async with database.session() as session:
        return [m.key.removeprefix("item:") for m in await meta_with_prefix(session, "item:")]


async def test_waiting_items_share_transactions_and_each_gets_its_result(
    database: Database,
) -> None:
    recorder = Recorder()
    keys = [f"k{n:02d}" for n in range(45)]
    async with BatchWriter(database, recorder.write, what="items", max_items=20) as writer:
        futures = [writer.submit(key) for key in keys]  # all queued before a batch starts
        results = await asyncio.gather(*futures)
    assert results == [key.upper() for key in keys]
    assert recorder.transactions == 3  # 20 + 20 + 5
    assert await stored_keys(database) == keys


async def test_weight_caps_a_batch(database: Database) -> None:
    recorder = Recorder()
    async with BatchWriter(
        database, recorder.write, what="items", weight=len, max_weight=6
    ) as writer:
        await asyncio.gather(*(writer.submit(key) for key in ["aaa", "bbb", "ccc", "ddd"]))
    assert recorder.transactions == 2  # three letters each: two items fill a batch


async def test_a_bad_item_fails_alone_and_the_rest_of_its_batch_is_written(
    database: Database,
) -> None:
    async with database.session() as session:
        session.add(Meta(key="item:taken", value="", updated_at=NOW))
    recorder = Recorder()
    async with BatchWriter(database, recorder.write, what="items") as writer:
        futures = [writer.submit(key) for key in ["a", "b", "taken", "c", "d"]]
        results = await asyncio.gather(*futures, return_exceptions=True)
    assert results[:2] == ["A", "B"] and results[3:] == ["C", "D"]
    assert isinstance(results[2], IntegrityError)
    # The failed batch was rolled back and written again item by item: no row twice, none lost.
    assert await stored_keys(database) == ["a", "b", "c", "d", "taken"]


async def test_flush_waits_for_every_write_and_raises_the_first_failure(
    database: Database,
) -> None:
    async with database.session() as session:
        session.add(Meta(key="item:taken", value="", updated_at=NOW))
    recorder = Recorder()
    async with BatchWriter(database, recorder.write, what="items") as writer:
        writer.submit("x")
        writer.submit("taken")
        writer.submit("y")
        with pytest.raises(IntegrityError):
            await writer.flush()
        await writer.flush()  # what failed was reported once; nothing is left to wait for
    async with database.session() as session:
        assert (await get_meta(session, "item:y")) is not None


async def test_leaving_early_cancels_what_was_not_written(database: Database) -> None:
    recorder = Recorder()
    recorder.release.clear()  # the first batch hangs mid-transaction
    async with BatchWriter(database, recorder.write, what="items", max_items=1) as writer:
        in_flight = writer.submit("first")
        await asyncio.sleep(0.05)
        queued = writer.submit("second")
    for future in (in_flight, queued):
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(future, timeout=1)
    assert await stored_keys(database) == []
