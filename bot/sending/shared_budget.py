"""The bot token's send budget shared by every instance on one PostgreSQL database.

Telegram counts a token's messages, whichever process sends them. Each instance takes
its sends' turns from slots the database hands out (bot.store.send_budget), and a 429
one instance meets is recorded there so the others hold too.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from prometheus_client import Counter

from bot.sending.pacer import Pacer
from bot.store.db import Database, is_unavailable
from bot.store.send_budget import OverallRate, pause_sends, take_group_turn, take_send_turns

log = logging.getLogger(__name__)
SLOTS_TAKEN = Counter(
    "newsbot_send_budget_slots_total", "Send slots this instance reserved from the shared budget"
)


class DatabaseClock:
    """The database's clock read on this process's event-loop clock.

    The budget places slots by the database's clock; a process sends by its own. An ask
    is answered at a database moment that fell between sending it and reading the answer,
    so the two clocks' offset is at least (sent - database time). Reading is the end a
    busy event loop delays, at times by hundreds of milliseconds; sending leaves at once.
    So the offset is the largest such lower bound of the asks of the last `keep` seconds,
    and slots from every instance land on their senders' clocks within about one quick
    send of where the database placed them. An ask whose own bracket lies wholly below
    that (the database's clock was set forward) starts the record again.
    """

    def __init__(self, keep: float = 10.0) -> None:
        self._keep = keep
        # (sent, lower bound) of recent asks, lower bounds decreasing: the first is the largest.
        self._bounds: deque[tuple[float, float]] = deque()

    def observe(self, sent: float, read: float, database_time: float) -> None:
        """Record one ask: sent and read on the event-loop clock, answered at database_time."""
        lower, upper = sent - database_time, read - database_time
        if self._bounds and upper < self._bounds[0][1]:
            self._bounds.clear()
        while self._bounds and self._bounds[-1][1] <= lower:
            self._bounds.pop()
        self._bounds.append((sent, lower))
        while self._bounds[0][0] < sent - self._keep:
            self._bounds.popleft()

    def local(self, database_time: float) -> float:
        """database_time on the event-loop clock (after at least one observe)."""
        return database_time + self._bounds[0][1]


class SharedBudget:
    """The token's overall and per-group budgets, counted in PostgreSQL by every instance.

    Its window is `margin` longer than Telegram's second, wider than the in-process
    Pacer's: a turn is taken a database round trip before the request leaves, and that
    lead varies more between processes than within one. One caller per process asks the
    database at a time, in the order they came, so no instance floods the lock and each
    gets turns; it reserves a slot for every caller then waiting (at most a twentieth of
    the limit), so a round trip is not paid per message at paid-broadcast rates. Slots
    start no sooner than the last ask took to come back, so they are not past when their
    answer is read, and end `horizon` after that. A slot not used within half the `margin`
    of its time is given up rather than sent late in a burst.
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
        self._lead = 0.0
        self._clock = DatabaseClock()
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
                    sent = loop.time()
                    turns = await take_send_turns(
                        connection,
                        self.rate,
                        wanted=min(self._waiting, self._batch),
                        horizon=self._horizon,
                        lead=self._lead,
                    )
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                log.warning("Send budget unavailable, pacing this process alone: %s", exc)
                async with self._fallback:
                    return None
            read = loop.time()
            self._clock.observe(sent, read, turns.counted_at)
            self._lead = min(read - sent, self.rate.window)
            counted = self._clock.local(turns.counted_at)
            self._slots.extend(counted + delay for delay in turns.delays)
            SLOTS_TAKEN.inc(len(turns.delays))
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
