"""Telegram's flood limits, kept per chat: a 429 for one chat never stalls the others.

python-telegram-bot's AIORateLimiter pauses every request while one waits out a 429;
with thousands of digests going out that turns one slow chat into a stalled fan-out.
Here only the request that got the 429 waits, while the overall and per-group rates
still keep the bot under Telegram's limits.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)
JSONDict = dict[str, Any]
_MAX_GROUP_LIMITERS = 10_000


class ChatFairRateLimiter(BaseRateLimiter[int]):
    """Overall and per-group rate limits; a RetryAfter delays only its own request."""

    def __init__(self, *, overall_per_second: float = 30.0, group_per_minute: float = 20.0,
                 max_retries: int = 3) -> None:
        self._overall = AsyncLimiter(overall_per_second, 1) if overall_per_second > 0 else None
        self._group_per_minute = group_per_minute
        self._groups: OrderedDict[int | str, AsyncLimiter] = OrderedDict()
        self._max_retries = max_retries

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
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """Run one Bot API request within the limits, retrying it alone after a 429."""
        chat_id = data.get("chat_id")
        is_group = isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0)
        retries = self._max_retries if rate_limit_args is None else rate_limit_args
        for attempt in range(retries + 1):
            try:
                async with AsyncExitStack() as limits:
                    if is_group and (group := self._group_limiter(chat_id)) is not None:
                        await limits.enter_async_context(group)
                    if self._overall is not None and chat_id is not None:
                        await limits.enter_async_context(self._overall)
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                delay = exc._retry_after.total_seconds() + 0.1  # noqa: SLF001 - avoids a deprecation warning
                log.info("Flood limit on %s for chat %s: retrying in %.1f s", endpoint, chat_id, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")
