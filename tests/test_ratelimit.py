"""Send pacing against Telegram's sliding one-second window, and how requests are retried."""

from __future__ import annotations

import asyncio
import re
import socket
import warnings
from datetime import timedelta
from itertools import pairwise

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import ExtBot
from telegram.warnings import PTBDeprecationWarning

from bot.sending.pacer import Pacer
from bot.sending.ratelimit import ChatFairRateLimiter
from bot.sending.retry_policy import (
    DIGESTS,
    REPLIES,
    RetryPolicy,
    maybe_delivered,
    retry_after_seconds,
)
from bot.sending.shared_budget import DatabaseClock


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


def test_slots_follow_the_database_clock_through_late_reads_and_a_clock_change() -> None:
    """Slots land where the database placed them however late its answers are read, and
    follow its clock when it is set to another time."""
    clock = DatabaseClock(keep=10.0)
    # The database runs 5,000 s ahead of the event loop; asks take 1 ms to arrive.
    clock.observe(sent=100.0, read=100.4, database_time=5100.001)  # read 400 ms late
    assert clock.local(5101.0) == pytest.approx(101.0, abs=0.002)
    clock.observe(sent=101.0, read=101.002, database_time=5101.001)
    assert clock.local(5102.0) == pytest.approx(102.0, abs=0.002)
    # The database's clock is set 3 s forward: an answer from before the ask was sent.
    clock.observe(sent=102.0, read=102.002, database_time=5105.001)
    assert clock.local(5106.0) == pytest.approx(103.0, abs=0.002)
    # ... and 3 s back again.
    clock.observe(sent=103.0, read=103.002, database_time=5103.001)
    assert clock.local(5104.0) == pytest.approx(104.0, abs=0.002)


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


class AnswerLost:
    """A Bot API that reads each request whole, then hangs up without answering: Telegram
    took the message, its answer never came back."""

    def __init__(self) -> None:
        self.requests = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/bot"

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"content-length:\s*(\d+)", head, re.I)
        await reader.readexactly(int(length.group(1)) if length else 0)
        self.requests += 1
        writer.close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/bot"


def bot_at(base_url: str, limiter: ChatFairRateLimiter) -> ExtBot[RetryPolicy]:
    return ExtBot("123:TEST", base_url=base_url, rate_limiter=limiter)


async def test_a_message_whose_answer_was_lost_is_sent_again_only_by_policy_and_counted():
    quick = RetryPolicy(network_retries=2, backoff=0.01)
    answer_lost = AnswerLost()
    async with answer_lost as url:
        limiter = ChatFairRateLimiter()
        with pytest.raises(NetworkError):
            await bot_at(url, limiter).send_message(1, "reply", rate_limit_args=REPLIES)
        assert (answer_lost.requests, limiter.maybe_sent_twice) == (1, 0)  # never resent
        with pytest.raises(NetworkError):
            await bot_at(url, limiter).send_message(1, "digest", rate_limit_args=quick)
        # At least once: a digest is sent again, and each resend is counted for /stats.
        assert (answer_lost.requests, limiter.maybe_sent_twice) == (1 + 3, 2)


async def test_a_message_that_never_left_is_always_tried_again():
    limiter = ChatFairRateLimiter()
    bot = bot_at(closed_port_url(), limiter)
    refused: NetworkError | None = None
    try:
        await bot.send_message(1, "reply", rate_limit_args=RetryPolicy(unsent_retries=0))
    except NetworkError as exc:
        refused = exc
    assert refused is not None and not maybe_delivered(refused)
    # Replies do not resend what may have arrived, but do resend what never left.
    assert REPLIES.delay(refused, retries_so_far=0) is not None
    assert REPLIES.delay(refused, retries_so_far=REPLIES.unsent_retries) is None
    assert limiter.maybe_sent_twice == 0
