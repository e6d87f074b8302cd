"""Telegram's flood limits, kept per chat: a 429 for one chat never stalls the others.

python-telegram-bot's AIORateLimiter pauses every request while one waits out a 429;
with thousands of digests going out that turns one slow chat into a stalled fan-out.
Here only the request that got the 429 waits, while the overall and per-group rates
still keep the bot under Telegram's limits.

The overall rate is a Pacer (bot.sending.pacer), not a bucket, for the reason given there.

The limits belong to the bot token. On PostgreSQL every instance takes its turn from
one SharedBudget (bot.sending.shared_budget), so N instances together keep to the limit, and a
429 any of them meets holds all of them for its retry_after. SQLite is one process: the
in-process Pacer and per-group limiters are the whole budget.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Any

from aiolimiter import AsyncLimiter
from prometheus_client import Counter
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

from bot.sending.pacer import Pacer
from bot.sending.retry_policy import REPLIES, RetryPolicy, maybe_delivered, retry_after_seconds
from bot.sending.shared_budget import SharedBudget

log = logging.getLogger(__name__)
MESSAGES_SENT = Counter(
    "newsbot_messages_sent_total",
    "Bot API requests to a chat that Telegram accepted, by method",
    ["method"],
)
FLOOD_WAITS = Counter("newsbot_telegram_429_total", "429 Too Many Requests answers from Telegram")
FLOOD_WAIT_SECONDS = Counter(
    "newsbot_telegram_429_wait_seconds_total", "Seconds Telegram's 429 answers asked to wait"
)
SENT_AGAIN = Counter(
    "newsbot_sent_again_total",
    "Requests sent again after their answer was lost (each may have arrived twice)",
)
JSONDict = dict[str, Any]
_MAX_GROUP_LIMITERS = 10_000


class ChatFairRateLimiter(BaseRateLimiter[RetryPolicy]):
    """Overall and per-group rate limits; a request is retried alone, as its policy says.

    The policy is the request's `rate_limit_args` (see bot.sending.retry_policy), else REPLIES.
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
                    answer = await callback(*args, **kwargs)
                if chat_id is not None:
                    MESSAGES_SENT.labels(method=endpoint).inc()
                return answer
            except TelegramError as exc:
                delay = policy.delay(exc, retries_so_far=retries)
                if isinstance(exc, RetryAfter):
                    FLOOD_WAITS.inc()
                    FLOOD_WAIT_SECONDS.inc(retry_after_seconds(exc))
                if isinstance(exc, RetryAfter) and self._shared is not None:
                    await self._shared.pause(retry_after_seconds(exc))
                if delay is None:
                    raise
                if isinstance(exc, NetworkError) and maybe_delivered(exc):
                    self.maybe_sent_twice += 1
                    SENT_AGAIN.inc()
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
