"""Send pacing against Telegram's sliding one-second window, and how requests are retried."""

from __future__ import annotations

import asyncio
import warnings
from datetime import timedelta
from itertools import pairwise

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.warnings import PTBDeprecationWarning

from bot.ratelimit import ChatFairRateLimiter, Pacer
from bot.retry_policy import DIGESTS, REPLIES, retry_after_seconds


class Clock:
    """Time that only moves when someone sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def admissions(
    pacer: Pacer, clock: Clock, count: int, *, stall_after: int | None = None, stall: float = 0.0
) -> list[float]:
    times: list[float] = []
    for n in range(count):
        if n == stall_after:
            clock.now += stall  # the event loop was busy elsewhere
        async with pacer:
            times.append(clock())
    return times


def most_in_one_second(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


async def test_never_more_than_the_limit_in_any_second_and_no_burst() -> None:
    clock = Clock()
    pacer = Pacer(30, clock=clock, sleep=clock.sleep)
    times = await admissions(pacer, clock, 300)
    assert most_in_one_second(times) <= 30
    assert min(b - a for a, b in pairwise(times)) >= 0.9 / 30 - 1e-9
    # Close to the limit over the long run: 30 per (1 s + the 15 ms margin).
    assert (len(times) - 1) / (times[-1] - times[0]) >= 0.98 * 30


async def test_a_stall_is_caught_up_without_breaking_the_window() -> None:
    clock = Clock()
    pacer = Pacer(30, clock=clock, sleep=clock.sleep)
    times = await admissions(pacer, clock, 300, stall_after=100, stall=0.5)
    assert most_in_one_second(times) <= 30
    assert min(b - a for a, b in pairwise(times)) >= 0.9 / 30 - 1e-9
    # The stall costs no more than itself: the sends behind it are not spread out further.
    assert times[-1] - times[0] <= 299 / 30 / 0.98 + 0.5


async def test_callers_go_in_the_order_they_came() -> None:
    clock = Clock()
    pacer = Pacer(30, clock=clock, sleep=clock.sleep)
    order: list[int] = []

    async def send(n: int) -> None:
        async with pacer:
            order.append(n)

    await asyncio.gather(*(send(n) for n in range(50)))
    assert order == list(range(50))


def flood(seconds: int | timedelta) -> RetryAfter:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)  # PTB's own, on construction
        return RetryAfter(seconds)


def test_telegrams_wait_is_read_in_either_type_without_a_deprecation_warning() -> None:
    whole, span = flood(3), flood(timedelta(seconds=2.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert retry_after_seconds(whole) == 3.0
        assert retry_after_seconds(span) == 2.5


def test_digests_ride_out_brief_outages_and_replies_report_them_at_once() -> None:
    outage = NetworkError("Bad Gateway")
    assert [DIGESTS.delay(outage, retries_so_far=n) for n in range(4)] == [0.5, 1.0, 2.0, None]
    assert REPLIES.delay(outage, retries_so_far=0) is None
    assert DIGESTS.delay(BadRequest("Chat not found"), retries_so_far=0) is None
    assert DIGESTS.delay(flood(7), retries_so_far=0) == pytest.approx(7.1)
    assert REPLIES.delay(flood(7), retries_so_far=REPLIES.flood_retries) is None


async def test_a_flood_wait_delays_only_its_own_request() -> None:
    limiter = ChatFairRateLimiter(overall_per_second=0)
    done: list[str] = []
    floods = [flood(1)]

    async def request(name: str) -> bool:
        if name == "flooded" and floods:
            raise floods.pop()
        done.append(name)
        return True

    async def send(name: str, chat_id: int) -> None:
        await limiter.process_request(
            request, (name,), {}, "sendMessage", {"chat_id": chat_id}, None
        )

    flooded = asyncio.create_task(send("flooded", 1))
    await asyncio.sleep(0.05)
    await asyncio.wait_for(send("other", 2), timeout=0.5)  # not held up by chat 1's wait
    assert done == ["other"]
    await asyncio.wait_for(flooded, timeout=3)
    assert done == ["other", "flooded"]
