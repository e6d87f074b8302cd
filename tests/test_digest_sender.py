"""The lean digest client answers every Bot API outcome exactly as python-telegram-bot does.

Each case sends one digest-shaped message through PTB's `send_message` and through
`DigestSender` against the same fake Bot API and the same fault, and compares what
Telegram received, what the caller got (exception class, message, fields), how many
requests were made and how many may have arrived twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Defaults, ExtBot
from telegram.request import HTTPXRequest

from bot.sending.digest_sender import DigestSender
from bot.sending.ratelimit import ChatFairRateLimiter
from bot.sending.retry_policy import RetryPolicy, maybe_delivered
from tests.fakebot import FakeBotAPI

CHAT = 4242
# Quick retries, so a case takes a fraction of a second.
POLICY = RetryPolicy(flood_retries=2, network_retries=1, unsent_retries=1, backoff=0.01)
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("1", callback_data="s:1")]])
PREVIEW = LinkPreviewOptions(
    is_disabled=False, url="https://wire.example/1", prefer_small_media=True
)


@dataclass
class Outcome:
    """What one send came to, as far as the bot and Telegram can tell."""

    error: str | None
    error_fields: dict[str, Any]
    maybe_delivered: bool | None
    accepted: list[dict[str, Any]]
    refused: int
    maybe_sent_twice: int


def make_bot(fake: FakeBotAPI, *, read_timeout: float = 5.0) -> ExtBot[RetryPolicy]:
    """The bot as bot.app builds it: HTML and no previews by default, the chat-fair limiter."""
    return ExtBot(
        fake.token,
        base_url=fake.base_url,
        defaults=Defaults(
            parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
        ),
        rate_limiter=ChatFairRateLimiter(overall_per_second=0),
        request=HTTPXRequest(read_timeout=read_timeout),
    )


async def send_both_ways(
    fake: FakeBotAPI,
    arrange: Callable[[], None],
    *,
    read_timeout: float = 5.0,
    **kwargs: Any,
) -> tuple[Outcome, Outcome]:
    """The same send with the same fault, through PTB and through the lean client."""
    outcomes = []
    for lean in (False, True):
        fake.clear()
        arrange()
        bot = make_bot(fake, read_timeout=read_timeout)
        sender = DigestSender(bot)
        send = sender.send_message if lean else bot.send_message
        error: TelegramError | None = None
        try:
            await send(CHAT, "<b>Your news digest</b>", rate_limit_args=POLICY, **kwargs)
        except TelegramError as exc:
            error = exc
        finally:
            await sender.aclose()
            await bot.shutdown()
        limiter = bot.rate_limiter
        assert isinstance(limiter, ChatFairRateLimiter)
        outcomes.append(
            Outcome(
                error=None if error is None else f"{type(error).__name__}: {error.message}",
                error_fields=_fields_of(error),
                maybe_delivered=None if error is None else maybe_delivered(error),
                accepted=[call.params for call in fake.calls("sendMessage")],
                refused=len(fake.failed_calls("sendMessage")),
                maybe_sent_twice=limiter.maybe_sent_twice,
            )
        )
    return outcomes[0], outcomes[1]


def _fields_of(error: TelegramError | None) -> dict[str, Any]:
    if isinstance(error, ChatMigrated):
        return {"new_chat_id": error.new_chat_id}
    if isinstance(error, RetryAfter):
        return {"retry_after": error._retry_after}
    return {}


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as started:
        yield started


async def test_telegram_receives_the_same_message_with_every_option(fake: FakeBotAPI) -> None:
    ptb, lean = await send_both_ways(
        fake,
        lambda: None,
        message_thread_id=7,
        reply_markup=KEYBOARD,
        link_preview_options=PREVIEW,
        allow_paid_broadcast=True,
    )
    assert lean == ptb
    (params,) = lean.accepted
    assert params["parse_mode"] == "HTML"
    assert params["message_thread_id"] == 7
    assert params["allow_paid_broadcast"] is True
    assert params["reply_markup"] == KEYBOARD.to_dict()
    assert params["link_preview_options"]["url"] == "https://wire.example/1"


async def test_the_bots_defaults_fill_what_the_digest_leaves_unset(fake: FakeBotAPI) -> None:
    ptb, lean = await send_both_ways(fake, lambda: None)
    assert lean == ptb
    (params,) = lean.accepted
    assert params["link_preview_options"] == {"is_disabled": True}
    assert "reply_markup" not in params and "allow_paid_broadcast" not in params


async def test_a_flood_wait_is_waited_out_and_the_message_arrives_once(fake: FakeBotAPI) -> None:
    def flood() -> None:
        fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)

    ptb, lean = await send_both_ways(fake, flood)
    assert lean == ptb
    assert (lean.error, len(lean.accepted), lean.refused) == (None, 1, 1)


async def test_a_flood_that_does_not_end_gives_up_with_retry_after(fake: FakeBotAPI) -> None:
    def floods() -> None:
        fake.fail_next(
            "sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, times=3
        )

    ptb, lean = await send_both_ways(fake, floods)
    assert lean == ptb
    assert lean.error is not None and lean.error.startswith("RetryAfter")
    assert (len(lean.accepted), lean.refused) == (0, 3)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("blocked", Forbidden),
        ("migrated", ChatMigrated),
        ("gone", BadRequest),
        ("server", NetworkError),
    ],
)
async def test_refusals_raise_the_same_exception_with_the_same_words(
    fake: FakeBotAPI, fault: str, expected: type[TelegramError]
) -> None:
    def arrange() -> None:
        if fault == "blocked":
            fake.block_chat(CHAT)
        elif fault == "migrated":
            fake.upgrade_group(CHAT, -100_777, announce=False)
        elif fault == "gone":
            fake.fail_next("sendMessage", 400, "Bad Request: chat not found")
        else:
            fake.fail_next("sendMessage", 502, "Bad Gateway", times=2)

    ptb, lean = await send_both_ways(fake, arrange)
    assert lean == ptb
    assert lean.error is not None and lean.error.startswith(expected.__name__ + ":")
    assert lean.accepted == []
    if fault == "migrated":
        assert lean.error_fields == {"new_chat_id": -100_777}


async def test_a_lost_answer_is_timed_out_maybe_sent_and_resent_only_by_policy(
    fake: FakeBotAPI,
) -> None:
    def slow() -> None:
        fake.latency = 0.3

    ptb, lean = await send_both_ways(fake, slow, read_timeout=0.1)
    fake.latency = 0.0
    # The request reached Telegram, whose answer came too late: sent again as the policy
    # allows, and each resend counted as one that may show twice.
    assert lean == ptb
    assert lean.error == f"TimedOut: {TimedOut().message}"
    assert lean.maybe_delivered is True
    assert lean.maybe_sent_twice == POLICY.network_retries
