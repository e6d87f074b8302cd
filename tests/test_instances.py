"""Several instances on one PostgreSQL database, in the shape Telegram allows: one receives
updates, the others run with RECEIVE_UPDATES=false and only run the jobs; together they
keep to the one bot token's send budget."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any, cast

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Settings
from bot.sending.shared_budget import SharedBudget
from bot.store.db import Database
from bot.store.meta import heartbeats
from bot.store.models import SendPause
from bot.store.send_budget import OverallRate, take_group_turn, take_send_turns
from tests.botharness import USER_ID, running_bot
from tests.fakebot import FakeBotAPI
from tests.support import BACKENDS, ROOT, FakeClock
from tests.test_digests import dispatch, subscribe_chats

UPDATE_METHODS = ("getUpdates", "setWebhook", "deleteWebhook")


def start_job_only_instance(settings: Settings, fake: FakeBotAPI) -> subprocess.Popen[str]:
    """`newsbot run` with RECEIVE_UPDATES=false, as a second instance would be started."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))},
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATABASE_URL": settings.database_url,
        "SEEDS_DIR": settings.seeds_dir,
        "SOURCES_OPML": settings.sources_opml,
        "RECEIVE_UPDATES": "false",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=environment,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def wait_for_heartbeat(database: Database, job: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with database.session() as session:
            if job in await heartbeats(session):
                return
        await asyncio.sleep(0.2)
    raise AssertionError(f"no {job} heartbeat within {timeout} s")


@pytest.fixture
def backend() -> str:
    """Instances share a PostgreSQL database; this module runs on no other backend."""
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL disabled by NEWSBOT_TEST_BACKENDS")
    return "postgresql"


async def test_a_job_only_instance_runs_jobs_and_never_asks_for_updates(
    settings: Settings, clock: FakeClock, database: Database
) -> None:
    with FakeBotAPI() as fake:
        jobs_only = start_job_only_instance(settings, fake)
        try:
            await fake.wait_for("setMyCommands", timeout=30)
            await wait_for_heartbeat(database, "poll", timeout=30)  # its first feed pass
            assert [c.method for c in fake.all_calls() if c.method in UPDATE_METHODS] == []

            # The receiving instance answers commands while the other keeps running.
            async with running_bot(settings, clock, fake=fake) as user:
                assert "/subscribe" in await user.reply_to("/help", chat_id=USER_ID)
            assert jobs_only.poll() is None
        finally:
            jobs_only.send_signal(signal.SIGTERM)
            output, _ = jobs_only.communicate(timeout=20)
        assert jobs_only.returncode == 0, output
        assert "running jobs only" in output


def most_in_one_second(times: list[float]) -> int:
    """The most arrivals in any window of one second, wherever it starts."""
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


# The free rate, taken a turn at a time, and a paid-broadcast rate, where each instance
# reserves its turns in batches.
@pytest.mark.parametrize(("limit", "chat_count"), [(25, 200), (250, 1000)])
async def test_two_instances_together_keep_to_one_send_budget(
    settings: Settings,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    limit: int,
    chat_count: int,
) -> None:
    # Small claims, so both instances have digests to send for the whole fan-out.
    monkeypatch.setattr("bot.digests.dispatch.CLAIM_BATCH", 20)
    paced = settings.model_copy(update={"telegram_rate_limit": float(limit)})
    chats = list(range(5000, 5000 + chat_count))
    with FakeBotAPI() as fake:
        async with (
            running_bot(paced, clock, fake=fake, polling=False) as first,
            running_bot(paced, clock, fake=fake, polling=False) as second,
        ):
            await subscribe_chats(first, chats, times=["12:00"], zone="UTC")
            clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
            reports = await asyncio.gather(dispatch(first), dispatch(second))
        sent = fake.sent_messages()
    assert most_in_one_second([call.at for call in sent]) <= limit
    per_chat = Counter(call.chat_id for call in sent)
    assert set(per_chat) == set(chats) and max(per_chat.values()) == 1
    # Neither instance waits while the other takes the whole budget.
    assert min(report.sent for report in reports) >= len(chats) // 4


class SlowReader(Database):
    """A store whose answers this instance reads `lag` seconds after they came, as an event
    loop busy with other work reads them."""

    def __init__(self, url: str, lag: float) -> None:
        super().__init__(url)
        self.lag = lag

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        async with super().autocommit() as connection:
            yield cast(AsyncConnection, _ReadLate(connection, self.lag))


class _ReadLate:
    def __init__(self, connection: AsyncConnection, lag: float) -> None:
        self._connection = connection
        self._lag = lag

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        result = await self._connection.execute(*args, **kwargs)
        await asyncio.sleep(self._lag)
        return result


async def test_an_instance_that_reads_its_turns_late_still_sends_within_the_budget(
    database_url: str,
) -> None:
    """Its slots fall where the database placed them, not later by its lag into seconds
    the other instance has filled, and it still gets some of them."""
    limit, each = 20, 30
    prompt_store, slow_store = Database(database_url), SlowReader(database_url, lag=0.2)
    prompt = SharedBudget(prompt_store, per_second=limit)
    slow = SharedBudget(slow_store, per_second=limit)
    loop = asyncio.get_running_loop()
    sent: list[tuple[float, str]] = []

    async def send(budget: SharedBudget, name: str) -> None:
        await budget.take_turn(None)
        sent.append((loop.time(), name))

    try:
        await asyncio.gather(
            *(
                send(budget, name)
                for budget, name in ((prompt, "prompt"), (slow, "slow"))
                for _ in range(each)
            )
        )
    finally:
        await prompt_store.dispose()
        await slow_store.dispose()
    assert most_in_one_second([at for at, _ in sent]) <= limit
    first_half = [name for _, name in sorted(sent)[:each]]
    assert first_half.count("slow") >= each // 6


async def test_a_flood_wait_met_by_one_instance_holds_the_others(
    settings: Settings, clock: FakeClock
) -> None:
    with FakeBotAPI() as fake:
        async with (
            running_bot(settings, clock, fake=fake, polling=False) as first,
            running_bot(settings, clock, fake=fake, polling=False) as second,
        ):
            fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2)
            flooded = asyncio.create_task(first.application.bot.send_message(7001, "first"))
            # The 429 reaches the other instance through the store, once the first has read it.
            async with asyncio.timeout(10):
                while not await _pause_recorded(settings):
                    await asyncio.sleep(0.01)
            await second.application.bot.send_message(7002, "second")
            await flooded
        flood_at = fake.failed_calls("sendMessage")[0].at
        [other] = fake.sent_messages(7002)
    assert other.at - flood_at >= 1.9


async def _pause_recorded(settings: Settings) -> bool:
    database = Database(settings.database_url)
    try:
        async with database.session() as session:
            return await session.scalar(select(SendPause)) is not None
    finally:
        await database.dispose()


async def test_a_groups_twenty_a_minute_is_counted_across_instances(database_url: str) -> None:
    first, second = Database(database_url), Database(database_url)
    try:
        for database in (first, second):
            async with database.session() as session:
                assert await take_group_turn(session, "-100123", per_minute=2) == 0
        async with first.session() as session:
            wait = await take_group_turn(session, "-100123", per_minute=2)
        async with second.session() as session:
            other_group = await take_group_turn(session, "-100999", per_minute=2)
    finally:
        await first.dispose()
        await second.dispose()
    assert 55 < wait <= 60 and other_group == 0


async def test_one_ask_reserves_several_spaced_turns_and_never_overfills_a_window(
    database: Database,
) -> None:
    """At paid-broadcast rates an instance reserves its waiting sends' turns in one round
    trip; the slots keep the spacing and the window's limit across asks."""
    rate = OverallRate(limit=10, window=1.0, gap=0.05)
    async with database.autocommit() as connection:
        started = time.monotonic()
        first = await take_send_turns(connection, rate, wanted=4, horizon=0.8)
        second = await take_send_turns(connection, rate, wanted=10, horizon=0.8)
        apart = time.monotonic() - started
        full = await take_send_turns(connection, rate, wanted=1, horizon=0.1)
    assert len(first.delays) == 4
    # The window holds 10: the second ask gets the other 6, however many it wanted.
    assert len(second.delays) == 6
    assert first.delays[0] < 0.05
    for ask in (first, second):
        assert all(later - earlier >= 0.05 - 1e-6 for earlier, later in pairwise(ask.delays))
    # Each ask's delays count from its own moment, at most `apart` after the first's.
    assert second.delays[0] + apart >= first.delays[-1] + 0.05 - 1e-6
    # The 11th slot opens a window after the first: nothing is reserved, and the wait says when.
    assert full.delays == () and 0.2 < full.wait < 1.0
