"""Channels: an administrator's post sets up digests; only administrators change them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.config import Settings
from bot.digests.content import DigestContent, DigestStory
from bot.digests.render import digest_message
from bot.services import SERVICES_KEY
from bot.store.articles import Headline
from bot.store.chats import get_chat
from tests.botharness import BotUser, button_data, running_bot
from tests.support import FakeClock

CHANNEL_ID = -1007001
ADMIN = 71
READER = 72


@pytest.fixture
async def user(settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    async with running_bot(settings, clock) as bot_user:
        yield bot_user


async def test_a_channel_post_subscribes_the_channel(user: BotUser) -> None:
    user.fake.post_in_channel(CHANNEL_ID, "/subscribe 07:00 UTC", title="World Wire")
    (answer,) = await user.fake.wait_for("sendMessage", lambda c: c.chat_id == CHANNEL_ID)
    assert answer.params["text"].startswith(
        "✅ Subscribed. Digests at 07:00 (UTC). Next one: Fri 27 Nov, 07:00."
    )
    async with user.application.bot_data[SERVICES_KEY].database.session() as session:
        chat = await get_chat(session, CHANNEL_ID)
    assert chat is not None and chat.kind == "channel" and chat.subscribed
    assert chat.title == "World Wire"


async def test_only_the_channels_administrators_may_press_its_buttons(user: BotUser) -> None:
    user.fake.set_admins(CHANNEL_ID, [ADMIN])
    user.fake.post_in_channel(CHANNEL_ID, "/subscribe 8am")
    (answer,) = await user.fake.wait_for("sendMessage", lambda c: c.chat_id == CHANNEL_ID)
    refused = await user.press(
        answer, button_data(answer, "UTC"), chat_id=CHANNEL_ID, user_id=READER
    )
    assert (
        refused.params["text"] == "Only this chat's administrators can change its digest settings."
    )
    saved = await user.press(
        answer, button_data(answer, "London"), chat_id=CHANNEL_ID, user_id=ADMIN
    )
    assert saved.params["text"] == "Saved."
    (edited,) = await user.fake.wait_for("editMessageText")
    assert edited.params["text"].startswith("Time zone set to Europe/London.")


def test_a_channel_digest_speaks_to_no_one_in_person() -> None:
    due = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    lead = Headline(1, "Harbour reopens", None, "Wire", due, "")
    content = DigestContent([DigestStory(lead=lead, extra_sources=0, followed=True)], [1])
    channel = digest_message(content, due_at=due, now=due, zone=UTC, channel=True)
    personal = digest_message(content, due_at=due, now=due, zone=UTC)
    assert channel.startswith("<b>News digest · Fri 27 Nov, 07:00</b>")
    assert "The first story matches topics this channel follows." in channel
    assert personal.startswith("<b>Your news digest · Fri 27 Nov, 07:00</b>")
    assert "you" not in channel.lower().split("</b>", 1)[1]


async def test_a_channel_that_removes_the_bot_goes_inactive(user: BotUser) -> None:
    user.fake.post_in_channel(CHANNEL_ID, "/subscribe 07:00 UTC")
    await user.fake.wait_for("sendMessage", lambda c: c.chat_id == CHANNEL_ID)
    user.fake.set_my_status(CHANNEL_ID, "left", chat_type="channel", old_status="administrator")
    database = user.application.bot_data[SERVICES_KEY].database
    for _ in range(200):
        async with database.session() as session:
            chat = await get_chat(session, CHANNEL_ID)
        if chat is not None and not chat.active:
            break
        await asyncio.sleep(0.025)
    assert chat is not None and not chat.active and chat.subscribed


async def test_a_channel_is_managed_from_a_private_chat_by_its_administrators(
    user: BotUser, clock: FakeClock
) -> None:
    user.fake.set_admins(CHANNEL_ID, [ADMIN])
    (picker,) = await user.command("/channel", chat_id=ADMIN, user_id=ADMIN)
    (row,) = picker.params["reply_markup"]["keyboard"]
    request = row[0]["request_chat"]
    assert request["chat_is_channel"] is True
    assert request["bot_administrator_rights"]["can_post_messages"] is True

    user.fake.share_chat(ADMIN, request["request_id"], CHANNEL_ID, title="World Wire")
    (managing,) = await user.fake.wait_for(
        "sendMessage", lambda c: c.chat_id == ADMIN and "Now managing" in c.params["text"]
    )
    assert managing.params["text"].startswith("Now managing <b>World Wire</b>")
    assert managing.params["reply_markup"] == {"remove_keyboard": True}

    answer = await user.reply_to("/subscribe 06:30 Europe/Berlin", chat_id=ADMIN, user_id=ADMIN)
    assert answer.startswith("<b>World Wire</b> · ✅ Subscribed. Digests at 06:30 (Europe/Berlin).")
    assert (await user.reply_to("/follow climate", chat_id=ADMIN, user_id=ADMIN)).startswith(
        "<b>World Wire</b> · Following “climate”"
    )
    database = user.application.bot_data[SERVICES_KEY].database
    async with database.session() as session:
        channel = await get_chat(session, CHANNEL_ID)
        own = await get_chat(session, ADMIN)
    assert channel is not None and channel.kind == "channel" and channel.subscribed
    assert channel.timezone == "Europe/Berlin" and [t.phrase for t in channel.topics] == ["climate"]
    assert own is not None and not own.subscribed and not own.topics

    # Someone who is no longer an administrator loses the control with the role.
    user.fake.set_admins(CHANNEL_ID, [])
    refused = await user.reply_to("/digesttime 9am", chat_id=ADMIN, user_id=ADMIN)
    assert refused == "Only this chat's administrators can change its digest settings."

    back = await user.reply_to("/channel off", chat_id=ADMIN, user_id=ADMIN)
    assert back == "Settings commands here change this chat again."
    assert (await user.reply_to("/digesttime 9am", chat_id=ADMIN, user_id=ADMIN)).startswith(
        "Digest times set. Digests at 09:00 (UTC)."
    )


async def test_only_administrators_can_pick_a_channel(user: BotUser) -> None:
    user.fake.set_admins(CHANNEL_ID, [ADMIN])
    user.fake.share_chat(READER, 1, CHANNEL_ID, title="World Wire")
    (answer,) = await user.fake.wait_for("sendMessage", lambda c: c.chat_id == READER)
    assert answer.params["text"].startswith("Only the channel's administrators")
    async with user.application.bot_data[SERVICES_KEY].database.session() as session:
        assert await get_chat(session, CHANNEL_ID) is None
