"""No silence and no repeats: unknown commands, plain text, edited messages, double taps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from tests.botharness import USER_ID, BotUser, button_data, running_bot
from tests.support import FakeClock

GROUP_ID = -100777


@pytest.fixture
async def user(settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    async with running_bot(settings, clock) as bot_user:
        yield bot_user


async def _settle(user: BotUser) -> None:
    """Wait until the bot has answered everything sent before a /help."""
    user.fake.send_command(USER_ID, "/help")
    await user.fake.wait_for(
        "sendMessage", lambda c: c.chat_id == USER_ID and c.params["text"].startswith("<b>Commands")
    )


async def test_an_unknown_command_in_a_private_chat_points_at_help(user: BotUser) -> None:
    text = await user.reply_to("/frobnicate now")
    assert text == "I don't know “/frobnicate”. /help lists everything I can do."


async def test_an_unknown_command_in_a_group_is_left_to_other_bots(user: BotUser) -> None:
    user.fake.send_command(GROUP_ID, "/frobnicate", chat_type="supergroup", user_id=5)
    assert (await user.reply_to("/help")).startswith("<b>Commands</b>")
    assert not user.fake.calls("sendMessage", chat_id=GROUP_ID)


async def test_plain_text_is_a_topic_search_with_a_hint(user: BotUser) -> None:
    before = len(user.fake.calls("sendMessage", chat_id=USER_ID))
    user.fake.send_text(USER_ID, "iran")
    calls = await user.fake.wait_for(
        "sendMessage", lambda c: c.chat_id == USER_ID, count=before + 1
    )
    text = calls[-1].params["text"]
    assert text.startswith("<b>Topic: iran</b>")
    assert text.count("Iran") == 3
    assert text.endswith("<i>Tip: /topic WORDS does the same.</i>")


async def test_plain_text_that_matches_nothing_still_gets_an_answer(user: BotUser) -> None:
    user.fake.send_text(USER_ID, "quantum gravity")
    (answer,) = await user.fake.wait_for("sendMessage", lambda c: c.chat_id == USER_ID)
    assert answer.params["text"].startswith("Nothing matches “quantum gravity”.")


async def test_an_edited_command_is_not_run_again(user: BotUser) -> None:
    (listing,) = await user.command("/latest 2")
    sent = user.fake.sent_messages(USER_ID)
    own_message_id = listing.result["message_id"] - 1  # the user's /latest, just before
    user.fake.edit_user_message(USER_ID, own_message_id, "/latest 3")
    await _settle(user)
    await asyncio.sleep(0.5)  # a reply to the edit would have had time to arrive
    assert len(user.fake.sent_messages(USER_ID)) == len(sent) + 1


async def test_a_button_tapped_twice_answers_once(user: BotUser) -> None:
    (listing,) = await user.command("/latest 3")
    first = await user.press(listing, button_data(listing, "1"))
    second = await user.press(listing, button_data(listing, "1"))
    assert first.params.get("text") is None
    assert second.params.get("text") == "Already sent, just above."
    await _settle(user)
    summaries = [
        c
        for c in user.fake.calls("sendMessage", chat_id=USER_ID)
        if "North Korean" in c.params["text"]
    ]
    assert len(summaries) == 2  # the list's first line, and the summary once
    other = await user.press(listing, button_data(listing, "2"))
    assert other.params.get("text") is None  # another button still answers


async def test_subscribe_tapped_twice_confirms_once(user: BotUser) -> None:
    (welcome,) = await user.command("/start")
    await user.press(welcome, "c:start:on")
    again = await user.press(welcome, "c:start:on")
    assert again.params.get("text") == "Already sent, just above."
    await _settle(user)
    confirmations = [
        c
        for c in user.fake.calls("sendMessage", chat_id=USER_ID)
        if "Subscribed" in c.params["text"]
    ]
    assert len(confirmations) == 1
