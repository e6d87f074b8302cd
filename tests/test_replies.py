"""Replies as people read them: valid HTML parts, right plurals and quotes, clean input."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from html import unescape

import pytest

from bot.config import Settings
from bot.news.rules import FOLLOW
from bot.schedule.reading import ScheduleError, parse_time_of_day
from bot.store.chats import get_chat, topics_of
from bot.ui.render import split_message
from bot.ui.user_input import normalize_input
from tests.botharness import USER_ID, BotUser, button_data, running_bot
from tests.support import FakeClock


@pytest.fixture
async def user(settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    async with running_bot(settings, clock) as bot_user:
        yield bot_user


def _visible(html_text: str) -> str:
    return unescape(re.sub(r"<[^<>]*>", "", html_text))


# ---------------------------------------------------------------- splitting (issue item 9)


def test_a_cut_never_falls_inside_an_entity() -> None:
    text = "x &lt;a&amp;b&gt; " * 600
    parts = split_message(text)
    assert len(parts) > 1
    for part in parts:
        assert len(part) <= 4096
        assert not re.search(r"&[#\w]*$", part), part[-20:]
        assert not re.match(r"^[#\w]*;", part), part[:20]
    assert " ".join(_visible(p) for p in parts).rstrip() == _visible(text).rstrip()


def test_tags_open_at_a_cut_are_closed_and_opened_again() -> None:
    text = '<b>Heading</b>\n<i><a href="https://example.org/?a=1&amp;b=2">' + "word " * 2000
    text += "</a></i>\nend"
    parts = split_message(text, 1000)
    assert len(parts) > 5
    for part in parts:
        assert len(part) <= 1000
        assert part.count("<i>") == part.count("</i>")
        assert part.count("<a ") == part.count("</a>")
    assert parts[1].startswith('<i><a href="https://example.org/?a=1&amp;b=2">word')
    assert parts[-1].endswith("</a></i>\nend")


def test_a_short_message_is_left_alone() -> None:
    assert split_message("<b>a &amp; b</b>") == ["<b>a &amp; b</b>"]


async def test_every_part_of_a_long_message_is_accepted_by_telegram(user: BotUser) -> None:
    text = "<b>Digest</b>\n" + "\n".join(
        f'{n}. <a href="https://example.org/{n}?x=1&amp;y=2">Tom &amp; Jerry &lt;3 #{n}</a>'
        for n in range(400)
    )
    for part in split_message(text):
        await user.application.bot.send_message(USER_ID, part)
    assert not user.fake.failed_calls("sendMessage")
    sent = user.fake.calls("sendMessage", chat_id=USER_ID)
    assert len(sent) > 1
    assert "\n".join(_visible(c.params["text"]) for c in sent) == _visible(text)


# ------------------------------------------------- "message is not modified" (issue item 10)


async def test_a_repeated_tap_is_quietly_a_success(
    user: BotUser, caplog: pytest.LogCaptureFixture
) -> None:
    (listing,) = await user.command("/latest 5")
    with caplog.at_level(logging.DEBUG):
        more = button_data(listing, "More ›")
        await user.press(listing, more)
        (edited,) = await user.fake.wait_for("editMessageText")
        answer = await user.press(edited, more)  # a second tap: the same page again
        for _ in range(100):
            if user.fake.failed_calls("editMessageText"):
                break
            await asyncio.sleep(0.05)
        await user.command("/help")  # every update before it has been handled by now
    (refused,) = user.fake.failed_calls("editMessageText")
    assert refused.error is not None and "message is not modified" in refused.error.description
    assert answer.ok and answer.params.get("text") is None  # no apology
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(user.fake.calls("sendMessage", chat_id=USER_ID)) == 2  # the list and /help


# --------------------------------------------------------------------- wording (issue item 7)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("8am", "08:00"),
        ("8:30pm", "20:30"),
        ("20h", "20:00"),
        ("20h15", "20:15"),
        ("12am", "00:00"),
    ],
)
def test_times_are_read_the_ways_people_write_them(typed: str, expected: str) -> None:
    assert parse_time_of_day(typed) == expected


@pytest.mark.parametrize("typed", ["8", "13pm", "24:00", "noon", "8:5"])
def test_what_is_not_a_time_is_said_so(typed: str) -> None:
    with pytest.raises(ScheduleError, match=f"^“{re.escape(typed)}” is not a time of day"):
        parse_time_of_day(typed)


async def test_subscribe_accepts_8am_and_friends(user: BotUser) -> None:
    assert "Digests at 08:00 (UTC)." in await user.reply_to("/subscribe 8am")
    assert "Digests at 08:00, 20:30 (Europe/Berlin)." in await user.reply_to(
        "/subscribe 8 am 8:30pm Europe/Berlin"
    )
    assert "Digests at 20:00 (Europe/Berlin)." in await user.reply_to("/digesttime 20h")


async def test_singular_and_quotes_read_right(user: BotUser) -> None:
    (panel,) = await user.command("/settings")
    for _ in range(2):
        await user.press(panel, button_data(panel, "Size −5"))
    edits = await user.fake.wait_for("editMessageText", count=2)
    assert "Digest size: 1 headline\n" in edits[-1].params["text"]
    bad = await user.reply_to("/timezone Mars'Olympus")
    assert bad == (
        "“Mars'Olympus” is not a time zone or a city I know; "
        "try a city like Berlin, a zone like Europe/Berlin, or +05:30."
    )
    usage = await user.reply_to("/summary")
    assert "newsbot" not in usage and "/latest" in usage


# ----------------------------------------------------------- clean input (issue item 8)


def test_normalising_removes_what_cannot_be_seen() -> None:
    assert normalize_input("ir\u200ban") == "iran"
    assert normalize_input("\x00Europe/Berlin\x00") == "Europe/Berlin"
    assert normalize_input("ｉｒａｎ\u00a0 \u2066nuclear\u2069") == "iran nuclear"
    assert normalize_input("\u3164") == ""


async def test_follows_are_stored_as_they_look(user: BotUser) -> None:
    assert (
        await user.reply_to("/follow ir\u200ban\x00") == "Following “iran”: it leads your digests."
    )
    assert await user.reply_to("/follow iran") == "You already follow “iran”."
    assert await user.reply_to("/mute \u200b\u2060") == (
        "Usage: /mute WORDS, e.g. <code>/mute climate change</code>."
    )
    moved = await user.reply_to("/timezone Europe/Berlin\x00")
    assert moved.startswith("Time zone set to Europe/Berlin.")
    services = user.application.bot_data["newsbot.services"]
    async with services.database.session() as session:
        chat = await get_chat(session, USER_ID)
    assert chat is not None and topics_of(chat, FOLLOW) == ["iran"]


async def test_a_phrase_cut_to_its_limit_says_so(user: BotUser) -> None:
    text = await user.reply_to("/follow " + "word " * 40)
    assert text.endswith("<i>Only the first 100 characters were kept.</i>")
    assert "Following “word word" in text
