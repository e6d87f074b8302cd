"""The overall send rate, paced in one process.

The rate is paced, not a bucket: Telegram counts messages in a sliding second, and a
bucket that starts full (or refills while a 429 is waited out) lets through a burst on
top of the steady rate, which the sliding second answers with 429s, each costing its
message a whole retry_after. Evenly spaced sends just under the limit never put more
than the limit in any one second, even with a little send-time jitter.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType


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
