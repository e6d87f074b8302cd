"""Blocked, removed, unblocked, added: the chat's state follows the bot's membership at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.config import Settings
from bot.digests.dispatch import dispatch_digests
from bot.services import SERVICES_KEY
from bot.store.articles import NewArticle, add_articles
from bot.store.chats import get_chat
from bot.store.models import Chat
from bot.store.sources import add_source
from tests.botharness import USER_ID, BotUser, running_bot
from tests.support import FakeClock

GROUP_ID = -4001


@pytest.fixture
async def user(settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    async with running_bot(settings, clock) as bot_user:
        yield bot_user


async def _chat(user: BotUser, chat_id: int) -> Chat | None:
    async with user.application.bot_data[SERVICES_KEY].database.session() as session:
        return await get_chat(session, chat_id)


async def _add_headline(user: BotUser, title: str) -> None:
    services = user.application.bot_data[SERVICES_KEY]
    now = services.clock.now()
    async with services.database.session() as session:
        source = await add_source(session, "https://wire.example/rss", now=now, title="Wire")
        await add_articles(session, source.id, [NewArticle(title=title, published_at=now)], now=now)


async def _until(user: BotUser, chat_id: int, *, active: bool) -> Chat:
    for _ in range(200):
        chat = await _chat(user, chat_id)
        if chat is not None and chat.active is active:
            return chat
        await asyncio.sleep(0.025)
    raise AssertionError(f"chat {chat_id} never became {'active' if active else 'inactive'}")


async def test_a_user_who_blocks_gets_no_attempt_and_after_unblocking_the_digest(
    user: BotUser, clock: FakeClock
) -> None:
    await user.reply_to("/subscribe 10:00")
    user.fake.set_my_status(USER_ID, "kicked")
    await _until(user, USER_ID, active=False)
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    await dispatch_digests(user.application.bot_data[SERVICES_KEY], user.application.bot)
    assert not user.fake.failed_calls("sendMessage", chat_id=USER_ID)  # not even tried
    assert len(user.fake.sent_messages(USER_ID)) == 1  # only the /subscribe reply

    clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    user.fake.set_my_status(USER_ID, "member")
    chat = await _until(user, USER_ID, active=True)
    # Back at 12:00: the digest missed while blocked is not sent late; tomorrow's is due.
    assert chat.next_digest_at == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    await dispatch_digests(user.application.bot_data[SERVICES_KEY], user.application.bot)
    assert len(user.fake.sent_messages(USER_ID)) == 1
    clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    await _add_headline(user, "Lighthouse keepers return to the northern isles")
    clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    await dispatch_digests(user.application.bot_data[SERVICES_KEY], user.application.bot)
    digest = user.fake.sent_messages(USER_ID)[-1].params["text"]
    assert digest.startswith("<b>Your news digest · Fri 27 Nov, 10:00</b>")
    assert "Lighthouse keepers" in digest


async def test_a_group_is_greeted_when_the_bot_is_added_and_quiet_when_removed(
    user: BotUser,
) -> None:
    user.fake.set_my_status(GROUP_ID, "member", chat_type="group")
    (greeting,) = await user.fake.wait_for("sendMessage", lambda c: c.chat_id == GROUP_ID)
    assert greeting.params["text"].startswith("<b>Hi, I'm newsbot.</b>")
    assert "/subscribe" in greeting.params["text"]
    assert (await _until(user, GROUP_ID, active=True)).kind == "group"

    user.fake.set_my_status(GROUP_ID, "left", chat_type="group")
    await _until(user, GROUP_ID, active=False)
    user.fake.set_my_status(GROUP_ID, "administrator", chat_type="group")
    await _until(user, GROUP_ID, active=True)
    await user.fake.wait_for("sendMessage", lambda c: c.chat_id == GROUP_ID, count=2)
    # Promoted while already in the group: no second greeting.
    user.fake.set_my_status(GROUP_ID, "member", chat_type="group")
    user.fake.set_my_status(GROUP_ID, "administrator", chat_type="group")
    assert (await user.reply_to("/help")).startswith("<b>Commands</b>")
    await asyncio.sleep(0.2)
    assert len(user.fake.sent_messages(GROUP_ID)) == 2


async def test_a_private_chat_unblocking_gets_no_greeting(user: BotUser) -> None:
    await user.reply_to("/start")
    user.fake.set_my_status(USER_ID, "kicked")
    await _until(user, USER_ID, active=False)
    user.fake.set_my_status(USER_ID, "member")
    await _until(user, USER_ID, active=True)
    assert len(user.fake.sent_messages(USER_ID)) == 1


async def test_any_command_from_an_inactive_chat_reactivates_it(user: BotUser) -> None:
    await user.reply_to("/subscribe 10:00")
    user.fake.set_my_status(USER_ID, "kicked")
    await _until(user, USER_ID, active=False)
    user.fake.unblock_chat(USER_ID)  # as if the unblock update was lost
    assert (await user.reply_to("/help")).startswith("<b>Commands</b>")
    chat = await _until(user, USER_ID, active=True)
    assert chat.subscribed and chat.next_digest_at is not None
