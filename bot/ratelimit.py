"""Telegram's flood limits, kept per chat: a 429 for one chat never stalls the others.

python-telegram-bot's AIORateLimiter pauses every request while one waits out a 429;
with thousands of digests going out that turns one slow chat into a stalled fan-out.
Here only the request that got the 429 waits, while the overall and per-group rates
still keep the bot under Telegram's limits.

The overall rate is paced, not a bucket: Telegram counts messages in a sliding second,
and a bucket that starts full (or refills while a 429 is waited out) lets through a
burst on top of the steady rate, which the sliding second answers with 429s, each
costing its message a whole retry_after. Evenly spaced sends just under the limit
never put more than the limit in any one second, even with a little send-time jitter.

The limits belong to the bot token. On PostgreSQL every instance takes its turn from
one SharedBudget in the database, so N instances together keep to the limit, and a 429
any of them meets holds all of them for its retry_after. SQLite is one process: the
in-process Pacer and per-group limiters are the whole budget.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

from bot.retry_policy import REPLIES, RetryPolicy, maybe_delivered, retry_after_seconds
from bot.store.db import Database, is_unavailable
from bot.store.send_budget import OverallRate, pause_sends, take_group_turn, take_send_turns

log = logging.getLogger(__name__)
JSONDict = dict[str, Any]
_MAX_GROUP_LIMITERS = 10_000


class Pacer:
    """At most `per_second` callers in any window of a second (plus `margin`), evenly spread.

    Telegram counts messages in a sliding second, so this counts the same way, over a
    window `margin` seconds longer than Telegram's: a send may reach Telegram up to that
    much later than the one 30 sends before it without the two ever sharing a second.
    Callers are also kept `spacing` of an interval apart, so a full window goes out spread
    over it rather than in one burst; after a stall of the event loop the sends catch up
    a little faster (never more than the window allows), so no rate is lost to the stall.
    Callers go one at a time, in the order they came.
    """

    def __init__(
        self,
        per_second: float,
        *,
        margin: float = 0.015,
        spacing: float = 0.9,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.limit = max(1, int(per_second))
        self.window = self.limit / per_second + margin
        self.gap = spacing / per_second
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._turn = asyncio.Lock()  # fair: callers go in the order they came

    async def __aenter__(self) -> None:
        async with self._turn:
            clock = self._clock or asyncio.get_running_loop().time
            while True:
                now = clock()
                while self._sent and self._sent[0] <= now - self.window:
                    self._sent.popleft()
                wait = 0.0
                if len(self._sent) >= self.limit:
                    wait = self._sent[0] + self.window - now
                if self._sent:
                    wait = max(wait, self._sent[-1] + self.gap - now)
                if wait <= 0:
                    break
                await self._sleep(wait)
            self._sent.append(clock())

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class SharedBudget:
    """The token's overall and per-group budgets, counted in PostgreSQL by every instance.

    Its window is `margin` longer than Telegram's second, wider than the in-process
    Pacer's: a turn is taken a database round trip before the request leaves, and that
    lead varies more between processes than within one. One caller per process asks the
    database at a time, in the order they came, so no instance floods the lock and each
    gets turns; it reserves a slot for every caller then waiting (at most a twentieth of
    the limit, at most `horizon` ahead), so a round trip is not paid per message at
    paid-broadcast rates. A slot not used within half the `margin` of its time is given up
    rather than sent late in a burst.
    If the database cannot be reached, sends keep to the in-process Pacer.
    """

    def __init__(
        self,
        database: Database,
        *,
        per_second: float,
        group_per_minute: float = 20.0,
        margin: float = 0.05,
        spacing: float = 0.9,
        horizon: float = 0.1,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        limit = max(1, int(per_second))
        window = limit / per_second + margin
        self.rate = OverallRate(limit=limit, window=window, gap=spacing * window / limit)
        self.group_per_minute = int(group_per_minute)
        self._database = database
        self._fallback = Pacer(per_second)
        self._turn = asyncio.Lock()
        self._batch = max(1, limit // 20)
        self._late = margin / 2
        # Slots are reserved at most this far ahead: a 429 another instance meets holds
        # this one after as much, not after every slot it could have reserved.
        self._horizon = horizon
        self._slots: deque[float] = deque()  # reserved send times, event-loop clock
        self._waiting = 0

    async def take_turn(self, group_key: str | None) -> None:
        """Wait until this send fits the shared budgets (its group's first, if it has one)."""
        if group_key is not None and self.group_per_minute > 0:
            await self._wait_for_group(group_key)
        loop = asyncio.get_running_loop()
        while True:
            self._waiting += 1
            try:
                async with self._turn:
                    slot = await self._next_slot(loop)
            finally:
                self._waiting -= 1
            if slot is None:
                return
            if slot > loop.time():
                await asyncio.sleep(slot - loop.time())
            # Woken too late (a busy loop), the send would crowd the next window: the slot
            # is given up and another taken.
            if loop.time() <= slot + self._late:
                return

    async def _next_slot(self, loop: asyncio.AbstractEventLoop) -> float | None:
        """The time of this caller's reserved slot; None when it was paced in-process."""
        while True:
            while self._slots:
                slot = self._slots.popleft()
                if slot >= loop.time() - self._late:
                    return slot
            try:
                async with self._database.autocommit() as connection:
                    turns = await take_send_turns(
                        connection,
                        self.rate,
                        wanted=min(self._waiting, self._batch),
                        horizon=self._horizon,
                    )
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                log.warning("Send budget unavailable, pacing this process alone: %s", exc)
                async with self._fallback:
                    return None
            answered = loop.time()
            self._slots.extend(answered + delay for delay in turns.delays)
            if not turns.delays:
                await asyncio.sleep(turns.wait)

    async def pause(self, seconds: float) -> None:
        """Hold every instance's sends for `seconds`, as Telegram asked one of them to."""
        self._slots.clear()
        try:
            async with self._database.session() as session:
                await pause_sends(session, seconds)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            log.warning(
                "Could not share a %.1f s flood wait (database unavailable): %s", seconds, exc
            )

    async def _wait_for_group(self, group_key: str) -> None:
        while True:
            try:
                async with self._database.session() as session:
                    wait = await take_group_turn(session, group_key, self.group_per_minute)
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                log.warning("Group budget unavailable, sending to %s unshared: %s", group_key, exc)
                return
            if wait <= 0:
                return
            await asyncio.sleep(wait)


class ChatFairRateLimiter(BaseRateLimiter[RetryPolicy]):
    """Overall and per-group rate limits; a request is retried alone, as its policy says.

    The policy is the request's `rate_limit_args` (see bot.retry_policy), else REPLIES.
    With a `shared` budget the limits are those of every instance together.
    """

    def __init__(
        self,
        *,
        overall_per_second: float = 30.0,
        group_per_minute: float = 20.0,
        shared: SharedBudget | None = None,
    ) -> None:
        self._shared = shared
        # A shared budget counts every send itself; this process's Pacer is only its fallback.
        pace_here = overall_per_second > 0 and shared is None
        self._overall = Pacer(overall_per_second) if pace_here else None
        self._group_per_minute = group_per_minute
        self._groups: OrderedDict[int | str, AsyncLimiter] = OrderedDict()
        # Requests sent again after their answer was lost: each may have arrived twice.
        self.maybe_sent_twice = 0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    def _group_limiter(self, chat_id: int | str) -> AsyncLimiter | None:
        if self._group_per_minute <= 0:
            return None
        limiter = self._groups.get(chat_id)
        if limiter is None:
            limiter = self._groups[chat_id] = AsyncLimiter(self._group_per_minute, 60)
            if len(self._groups) > _MAX_GROUP_LIMITERS:
                self._groups.popitem(last=False)
        else:
            self._groups.move_to_end(chat_id)
        return limiter

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: RetryPolicy | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """Run one Bot API request within the limits, retrying it alone as its policy says."""
        chat_id = data.get("chat_id")
        group_key: int | str | None = None
        if isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0):
            group_key = chat_id
        group = None
        if group_key is not None and self._shared is None:
            group = self._group_limiter(group_key)
        policy = rate_limit_args or REPLIES
        retries = 0
        while True:
            try:
                async with AsyncExitStack() as limits:
                    if self._shared is not None and chat_id is not None:
                        await self._shared.take_turn(None if group_key is None else str(group_key))
                    if group is not None:
                        await limits.enter_async_context(group)
                    if self._overall is not None and chat_id is not None:
                        await limits.enter_async_context(self._overall)
                    return await callback(*args, **kwargs)
            except TelegramError as exc:
                delay = policy.delay(exc, retries_so_far=retries)
                if isinstance(exc, RetryAfter) and self._shared is not None:
                    await self._shared.pause(retry_after_seconds(exc))
                if delay is None:
                    raise
                if isinstance(exc, NetworkError) and maybe_delivered(exc):
                    self.maybe_sent_twice += 1
                    log.warning(
                        "%s on %s for chat %s: the answer was lost, sending again in %.1f s "
                        "(it may arrive twice)",
                        exc,
                        endpoint,
                        chat_id,
                        delay,
                    )
                else:
                    log.info(
                        "%s on %s for chat %s: retrying in %.1f s", exc, endpoint, chat_id, delay
                    )
            retries += 1
            # Outside the limits: waiting here holds up no other request.
            await asyncio.sleep(delay)
