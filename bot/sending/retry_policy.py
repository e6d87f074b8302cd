"""How often and how long a Bot API request is tried again: the one place that decides.

The rate limiter applies a policy to every request: a 429 is waited out by the request
that got it (never by the others), and a brief network failure is retried with backoff
where the caller asked for it. Replies to users retry flood waits only; a digest also
rides out a short network outage, and past that is left due for a later pass.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import httpx
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.warnings import PTBDeprecationWarning

# Telegram's wait is whole seconds; a little more keeps the retry from landing early.
_FLOOD_MARGIN = 0.1


def retry_after_seconds(error: RetryAfter) -> float:
    """How long Telegram asked to wait, whether PTB gives seconds or a timedelta."""
    with warnings.catch_warnings():
        # PTB warns that the attribute becomes a timedelta; both types are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


# Failures that happened before Telegram could have read the whole request: nothing was sent.
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
    # The lean digest client's (bot.sending.digest_sender) own words for the same.
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
)


def maybe_delivered(error: BaseException) -> bool:
    """Whether a failed request may still have reached Telegram: the request was written and
    the answer was lost. The Bot API has no idempotency key, so sending it again may show
    it twice; a request that never left ("not sent") is always safe to send again."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _NOT_SENT):
            return False
        current = current.__cause__ or current.__context__
    return True


@dataclass(frozen=True)
class RetryPolicy:
    """How many times a request is tried again after a flood wait or a network failure.

    A network failure before the request was written is tried again up to
    `unsent_retries` times whatever the policy; one after it ("maybe sent") only up to
    `network_retries`, since it may reach the chat twice.
    """

    flood_retries: int = 3
    network_retries: int = 0
    unsent_retries: int = 3
    # The first network retry waits this long; each further one twice as long as the last.
    backoff: float = 0.5

    def delay(self, error: Exception, *, retries_so_far: int) -> float | None:
        """Seconds to wait before trying again after `error`, or None to give up."""
        if isinstance(error, RetryAfter):
            if retries_so_far < self.flood_retries:
                return retry_after_seconds(error) + _FLOOD_MARGIN
            return None
        # BadRequest is a NetworkError to PTB, but sending it again gets the same answer.
        if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
            allowed = self.network_retries
            if not maybe_delivered(error):
                allowed = max(allowed, self.unsent_retries)
            if retries_so_far < allowed:
                return self.backoff * 2**retries_so_far
            return None
        return None


# What users wait for: a flood wait or three; a reply that may have arrived is not resent.
REPLIES = RetryPolicy()
# A digest is worth a few seconds more; past them it stays due and a later pass sends it.
DIGESTS = RetryPolicy(flood_retries=5, network_retries=3)
