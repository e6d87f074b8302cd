"""A group upgraded to a supergroup keeps everything: settings, follows, history, digests."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.digests.dispatch import dispatch_digests
from bot.news.rules import FOLLOW, MUTE
from bot.services import SERVICES_KEY
from bot.store.articles import NewArticle, add_articles
from bot.store.chats import (
    ChatDefaults,
    add_topic,
    ensure_chat,
    get_chat,
    migrate_chat,
    subscribe,
    topics_of,
)
from bot.store.db import Database
from bot.store.models import Chat, Delivery, Digest
from bot.store.sources import add_source
from tests.botharness import BotUser, running_bot
from tests.support import FakeClock

GROUP_ID = -5001
SUPERGROUP_ID = -1005001
ADMIN = 51
DEFAULTS = ChatDefaults("UTC", ["08:00"], 10)


async def _group_with_history(database: Database, clock: FakeClock) -> None:
    now = clock.now()
    async with database.session() as session:
        chat = await ensure_chat(
            session, GROUP_ID, kind="group", title="Readers", defaults=DEFAULTS, now=now
        )
        subscribe(chat, times=["07:15", "19:00"], zone="Europe/Berlin", thread_id=None, now=now)
        chat.digest_size = 5
        await add_topic(session, chat, FOLLOW, "iran")
        await add_topic(session, chat, MUTE, "football")
        source = await add_source(session, "https://wire.example/rss", now=now, title="Wire")
        (article_id,) = await add_articles(
            session, source.id, [NewArticle(title="Old news", published_at=now)], now=now
        )
        digest = Digest(chat_id=GROUP_ID, due_at=now, status="claimed", claimed_at=now)
        session.add(digest)
        await session.flush()
        session.add(
            Delivery(chat_id=GROUP_ID, article_id=article_id, digest_id=digest.id, delivered_at=now)
        )


async def _count(database: Database, model: type[Digest] | type[Delivery], chat_id: int) -> int:
    async with database.session() as session:
        statement = select(func.count()).select_from(model).where(model.chat_id == chat_id)
        return int(await session.scalar(statement) or 0)


async def test_the_row_and_everything_on_it_moves(database: Database, clock: FakeClock) -> None:
    await _group_with_history(database, clock)
    async with database.session() as session:
        # A message in the new supergroup arrived first and made a row with the defaults.
        await ensure_chat(
            session,
            SUPERGROUP_ID,
            kind="supergroup",
            title="Readers",
            defaults=DEFAULTS,
            now=clock.now(),
        )
    async with database.session() as session:
        moved = await migrate_chat(session, GROUP_ID, SUPERGROUP_ID, now=clock.now())
    assert moved is not None
    async with database.session() as session:
        chat = await get_chat(session, SUPERGROUP_ID)
        assert await get_chat(session, GROUP_ID) is None
    assert chat is not None and chat.kind == "supergroup" and chat.subscribed
    assert (chat.digest_times, chat.timezone, chat.digest_size) == (
        "07:15,19:00",
        "Europe/Berlin",
        5,
    )
    assert topics_of(chat, FOLLOW) == ["iran"] and topics_of(chat, MUTE) == ["football"]
    assert chat.next_digest_at is not None
    for model in (Digest, Delivery):
        assert await _count(database, model, SUPERGROUP_ID) == 1
        assert await _count(database, model, GROUP_ID) == 0
    async with database.session() as session:  # the second half of the upgrade: no-op
        again = await migrate_chat(session, GROUP_ID, SUPERGROUP_ID, now=clock.now())
    assert again is not None and again.subscribed


async def test_a_supergroup_that_subscribed_on_its_own_keeps_its_choice(
    database: Database, clock: FakeClock
) -> None:
    now = clock.now()
    async with database.session() as session:
        await ensure_chat(session, GROUP_ID, kind="group", title="", defaults=DEFAULTS, now=now)
        own = await ensure_chat(
            session, SUPERGROUP_ID, kind="supergroup", title="", defaults=DEFAULTS, now=now
        )
        subscribe(own, times=["06:00"], zone=None, thread_id=None, now=now)
    async with database.session() as session:
        kept = await migrate_chat(session, GROUP_ID, SUPERGROUP_ID, now=now)
    assert kept is not None and kept.digest_times == "06:00"
    async with database.session() as session:
        assert await session.get(Chat, GROUP_ID) is None


@pytest.fixture
async def user(settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    async with running_bot(settings, clock) as bot_user:
        yield bot_user


async def _until_moved(user: BotUser) -> Chat:
    database = user.application.bot_data[SERVICES_KEY].database
    for _ in range(200):
        async with database.session() as session:
            chat = await get_chat(session, SUPERGROUP_ID)
            gone = await get_chat(session, GROUP_ID) is None
        if chat is not None and gone:
            return chat
        await asyncio.sleep(0.025)
    raise AssertionError("the group never moved to its supergroup")


async def test_a_digest_follows_the_group_through_its_upgrade(
    user: BotUser, clock: FakeClock
) -> None:
    user.fake.set_admins(GROUP_ID, [ADMIN])
    group: dict[str, Any] = {"chat_id": GROUP_ID, "chat_type": "group", "user_id": ADMIN}
    await user.reply_to("/subscribe 10:00 Europe/Berlin", **group)
    await user.reply_to("/follow iran", **group)
    user.fake.upgrade_group(GROUP_ID, SUPERGROUP_ID)
    await _until_moved(user)

    user.fake.set_admins(SUPERGROUP_ID, [ADMIN])
    settings_text = await user.reply_to(
        "/settings", chat_id=SUPERGROUP_ID, chat_type="supergroup", user_id=ADMIN
    )
    assert "Digests: on. Digests at 10:00 (Europe/Berlin)." in settings_text
    assert "Following: iran" in settings_text

    clock.set(datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    async with user.application.bot_data[SERVICES_KEY].database.session() as session:
        source = await add_source(session, "https://wire.example/rss", now=clock.now())
        await add_articles(
            session,
            source.id,
            [
                NewArticle(title="Harbour reopens after the storm", published_at=clock.now()),
                NewArticle(title="Iran talks resume in Oman", published_at=clock.now()),
            ],
            now=clock.now(),
        )
    clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))  # 10:00 in Berlin
    await dispatch_digests(user.application.bot_data[SERVICES_KEY], user.application.bot)
    digest = user.fake.sent_messages(SUPERGROUP_ID)[-1].params["text"]
    assert digest.startswith("<b>Your news digest · Fri 27 Nov, 10:00</b>")
    assert "Iran" in digest.split("\n")[2]  # the followed topic still leads
    assert not user.fake.failed_calls(chat_id=GROUP_ID)  # the old id is never called


async def test_a_reply_that_meets_the_upgrade_goes_to_the_supergroup(
    user: BotUser, caplog: pytest.LogCaptureFixture
) -> None:
    user.fake.set_admins(GROUP_ID, [ADMIN])
    await user.reply_to("/help", chat_id=GROUP_ID, chat_type="group", user_id=ADMIN)
    user.fake.upgrade_group(GROUP_ID, SUPERGROUP_ID, announce=False)
    with caplog.at_level(logging.INFO):
        user.fake.send_command(GROUP_ID, "/latest 2", chat_type="group", user_id=ADMIN)
        (answer,) = await user.fake.wait_for("sendMessage", lambda c: c.chat_id == SUPERGROUP_ID)
    assert answer.params["text"].startswith("<b>Latest headlines</b>")
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "moved to -1005001; replying there" in caplog.text


async def test_a_digest_that_meets_the_upgrade_moves_the_chat_and_goes_there(
    user: BotUser, clock: FakeClock
) -> None:
    user.fake.set_admins(GROUP_ID, [ADMIN])
    group: dict[str, Any] = {"chat_id": GROUP_ID, "chat_type": "group", "user_id": ADMIN}
    await user.reply_to("/subscribe 10:00 Europe/Berlin", **group)
    # No service message reaches the bot: the digest's own send is the first to hear of it.
    user.fake.upgrade_group(GROUP_ID, SUPERGROUP_ID, announce=False)
    services = user.application.bot_data[SERVICES_KEY]
    clock.set(datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    async with services.database.session() as session:
        source = await add_source(session, "https://wire.example/rss", now=clock.now())
        await add_articles(
            session,
            source.id,
            [NewArticle(title="Harbour reopens after the storm", published_at=clock.now())],
            now=clock.now(),
        )
    clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))  # 10:00 in Berlin
    report = await dispatch_digests(services, user.application.bot)
    assert report.sent == 1 and report.retry == 0
    (digest,) = user.fake.sent_messages(SUPERGROUP_ID)
    assert "Harbour reopens" in digest.params["text"]
    async with services.database.session() as session:
        assert await get_chat(session, GROUP_ID) is None
        moved = await get_chat(session, SUPERGROUP_ID)
        assert moved is not None and moved.subscribed and moved.timezone == "Europe/Berlin"
    # The next day's digest goes straight to the supergroup: the old id is not tried again.
    failed_before = len(user.fake.failed_calls(chat_id=GROUP_ID))
    clock.set(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    await dispatch_digests(services, user.application.bot)
    assert len(user.fake.failed_calls(chat_id=GROUP_ID)) == failed_before
