"""The overall send pacing against Telegram's sliding one-second window, on a fake clock."""

from __future__ import annotations

import asyncio
from itertools import pairwise

from bot.ratelimit import Pacer


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
