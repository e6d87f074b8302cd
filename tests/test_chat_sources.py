"""A chat chooses its sources, and (when the operator allows it) adds feeds of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.digests.dispatch import dispatch_digests
from bot.services import SERVICES_KEY, Services
from bot.store.articles import recent_texts
from bot.store.chat_sources import add_chat_feed, source_choices, toggle_source
from bot.store.chats import ChatDefaults, ensure_chat, migrate_chat, subscribe
from bot.store.db import Database
from bot.store.models import Article, Source
from bot.store.sources import add_source
from tests.botharness import ADMIN_ID, USER_ID, BotUser, button_data, buttons, running_bot
from tests.feedserver import FeedServer
from tests.support import FakeClock

NEIGHBOUR = 5151  # another private chat, whose choices must not change
CHANNEL_ID = -1007002
CHANNEL_ADMIN = 91
HARBOUR = "Zanzibar harbour"
MARKET = "Tallinn market"
OWN = "Quokka festival"


def rss(title: str, words: str, count: int = 3) -> bytes:
    """A small RSS feed whose items all carry `words`, published an hour before the clock."""
    published = format_datetime(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    items = "".join(
        f"<item><title>{words} report {n}</title><link>https://{title.lower()}.example/{n}</link>"
        f"<guid>{title}-{n}</guid><pubDate>{published}</pubDate></item>"
        for n in range(1, count + 1)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://{title.lower()}.example/</link>{items}</channel></rss>"
    ).encode()


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with FeedServer() as feed_server:
        feed_server.add("/harbour.xml", rss("Harbour", HARBOUR))
        feed_server.add("/market.xml", rss("Market", MARKET))
        feed_server.add("/own.xml", rss("Own", OWN))
        for n in range(3):
            feed_server.add(f"/extra{n}.xml", rss(f"Extra{n}", f"Extra{n} news", count=1))
        yield feed_server


def services_of(user: BotUser) -> Services:
    return user.application.bot_data[SERVICES_KEY]


async def poll_feeds(user: BotUser) -> None:
    """Let the bot's own FeedPoller fetch what is due, as its job does, and wait for it."""
    services = services_of(user)
    poller = services.feed_poller
    assert poller is not None
    report = await poller.tick(now=services.clock.now())
    for _ in range(400):
        if report.in_flight == 0 and not report.started:
            return
        await asyncio.sleep(0.025)
        report = await poller.tick(now=services.clock.now())
    raise AssertionError("feeds still in flight")


async def source_row(user: BotUser, source_id: int) -> Source:
    async with services_of(user).database.session() as session:
        source = await session.get(Source, source_id)
    assert source is not None
    return source


async def own_item_ids(user: BotUser, source_id: int, *, limit: int) -> list[int]:
    async with services_of(user).database.session() as session:
        statement = select(Article.id).where(Article.source_id == source_id).limit(limit)
        return list((await session.scalars(statement)).all())


async def add_shared_feeds(user: BotUser, server: FeedServer) -> dict[str, int]:
    ids = {}
    for name in ("harbour", "market"):
        added = await user.reply_to(f"/addsource {server.url(f'/{name}.xml')}", chat_id=ADMIN_ID)
        ids[name] = int(added.split(":")[0].removeprefix("Added source "))
    await poll_feeds(user)
    return ids


async def subscribe_at_ten(user: BotUser, chat_ids: list[int], *, kind: str = "private") -> None:
    services = services_of(user)
    now = services.clock.now()
    async with services.database.session() as session:
        for chat_id in chat_ids:
            chat = await ensure_chat(
                session,
                chat_id,
                kind=kind,
                title="",
                defaults=ChatDefaults("UTC", ["08:00"], 50),
                now=now,
            )
            subscribe(chat, times=["10:00"], zone="UTC", thread_id=None, now=now)


async def digests_at_ten(user: BotUser) -> dict[int, str]:
    user.clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    await dispatch_digests(services_of(user), user.application.bot)
    return {
        chat_id: call.params["text"]
        for call in user.fake.sent_messages()
        if "news digest" in call.params["text"].lower()
        for chat_id in [int(call.params["chat_id"])]
    }


async def inline_titles(user: BotUser, user_id: int, words: str) -> list[str]:
    query_id = user.fake.send_inline_query(user_id, words)
    (answer,) = await user.fake.wait_for(
        "answerInlineQuery", lambda c: c.params.get("inline_query_id") == query_id
    )
    return [result["title"] for result in answer.params["results"]]


# ------------------------------------------------------------------ per-chat sources


@pytest.fixture
async def user(settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    async with running_bot(settings, clock) as bot_user:
        yield bot_user


async def test_a_source_switched_off_leaves_this_chats_lists_only(
    user: BotUser, server: FeedServer
) -> None:
    ids = await add_shared_feeds(user, server)
    (listing,) = await user.command("/sources")
    assert f"{ids['harbour']}. Harbour — ✅ just now, 3 items" in listing.params["text"]
    assert [row[0][0] for row in buttons(listing)] == ["✅ Harbour", "✅ Market"]

    answer = await user.press(listing, button_data(listing, "✅ Harbour"))
    assert answer.params["text"] == "Switched off for this chat."
    (edited,) = await user.fake.wait_for("editMessageText")
    assert "Harbour — ✅ just now, 3 items · 🚫 hidden here" in edited.params["text"]
    assert [row[0][0] for row in buttons(edited)] == ["⬜ Harbour", "✅ Market"]

    mine = await user.reply_to("/latest 50")
    theirs = await user.reply_to("/latest 50", chat_id=NEIGHBOUR)
    assert HARBOUR not in mine and MARKET in mine
    assert HARBOUR in theirs and MARKET in theirs
    assert (await user.reply_to("/topic zanzibar")).startswith("Nothing matches “zanzibar”.")
    assert HARBOUR in await user.reply_to("/topic zanzibar", chat_id=NEIGHBOUR)
    assert MARKET in await user.reply_to("/topic tallinn")
    assert await inline_titles(user, USER_ID, "zanzibar") == []
    assert len(await inline_titles(user, NEIGHBOUR, "zanzibar")) == 3

    # Switched on again, the feed's items are back.
    (listing,) = await user.command("/sources")
    answer = await user.press(listing, button_data(listing, "⬜ Harbour"))
    assert answer.params["text"] == "Switched on for this chat."
    assert HARBOUR in await user.reply_to("/latest 50")


async def test_a_source_switched_off_stays_out_of_that_chats_digest(
    user: BotUser, server: FeedServer
) -> None:
    await subscribe_at_ten(user, [USER_ID, NEIGHBOUR])
    await add_shared_feeds(user, server)
    (listing,) = await user.command("/sources")
    await user.press(listing, button_data(listing, "✅ Market"))
    digests = await digests_at_ten(user)
    assert HARBOUR in digests[USER_ID] and MARKET not in digests[USER_ID]
    assert HARBOUR in digests[NEIGHBOUR] and MARKET in digests[NEIGHBOUR]


async def test_in_a_group_only_administrators_toggle_sources(
    user: BotUser, server: FeedServer
) -> None:
    group = -100555
    await add_shared_feeds(user, server)
    user.fake.set_admins(group, [CHANNEL_ADMIN])
    (listing,) = await user.command(
        "/sources", chat_id=group, user_id=NEIGHBOUR, chat_type="supergroup"
    )
    refused = await user.press(
        listing, button_data(listing, "✅ Harbour"), chat_id=group, user_id=NEIGHBOUR
    )
    assert refused.params["text"] == (
        "Only this chat's administrators can change its digest settings."
    )
    assert HARBOUR in await user.reply_to(
        "/latest 50", chat_id=group, user_id=NEIGHBOUR, chat_type="supergroup"
    )
    done = await user.press(
        listing, button_data(listing, "✅ Harbour"), chat_id=group, user_id=CHANNEL_ADMIN
    )
    assert done.params["text"] == "Switched off for this chat."
    assert HARBOUR not in await user.reply_to(
        "/latest 50", chat_id=group, user_id=NEIGHBOUR, chat_type="supergroup"
    )


# ------------------------------------------------------------------ user feeds


@pytest.fixture
def feeds_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"user_feeds": True, "user_feeds_max": 2, "default_digest_size": 50}
    )


@pytest.fixture
async def feeds_user(feeds_settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    async with running_bot(feeds_settings, clock) as bot_user:
        yield bot_user


async def test_user_feeds_are_off_unless_the_operator_allows_them(
    user: BotUser, server: FeedServer
) -> None:
    answer = await user.reply_to(f"/addfeed {server.url('/own.xml')}")
    assert answer == "This bot reads only the feeds its administrators chose; see /sources."
    async with services_of(user).database.session() as session:
        assert await session.scalar(Source.__table__.select().where(Source.user_feed)) is None


async def test_a_user_feed_on_a_private_address_is_refused_by_the_fetcher(
    feeds_user: BotUser, server: FeedServer
) -> None:
    # A literal private address is refused at once; a name is checked when it is fetched.
    literal = server.url("/own.xml")
    assert await feeds_user.reply_to(f"/addfeed {literal}") == (
        f"“{literal}” is on a private or local network, which this bot does not read."
    )
    added = await feeds_user.reply_to(f"/addfeed {literal.replace('127.0.0.1', 'localhost')}")
    assert added.startswith("Added feed ")
    assert "Only this chat sees its headlines." in added
    asked_before = len(server.requests_to("/own.xml"))
    await poll_feeds(feeds_user)
    assert len(server.requests_to("/own.xml")) == asked_before
    listing = await feeds_user.reply_to("/sources")
    assert "<b>This chat's own feeds (1)</b>" in listing
    assert "⚠️ failed 1 time" in listing
    assert "blocked: localhost resolves to a loopback address" in listing
    assert OWN not in await feeds_user.reply_to("/latest 50")


@pytest.fixture
async def open_user(feeds_settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    allowed = feeds_settings.model_copy(update={"fetch_allow_private": True})
    async with running_bot(allowed, clock) as bot_user:
        yield bot_user


async def test_a_user_feed_reaches_only_the_chat_that_added_it(
    open_user: BotUser, server: FeedServer
) -> None:
    user = open_user
    await subscribe_at_ten(user, [USER_ID, NEIGHBOUR])
    await add_shared_feeds(user, server)
    added = await user.reply_to(f"/addfeed {server.url('/own.xml')}")
    feed_id = int(added.split(":")[0].removeprefix("Added feed "))
    await poll_feeds(user)
    assert (await source_row(user, feed_id)).last_ok_at is not None

    assert OWN in await user.reply_to("/latest 50")
    assert OWN not in await user.reply_to("/latest 50", chat_id=NEIGHBOUR)
    assert OWN in await user.reply_to("/topic quokka")
    assert (await user.reply_to("/topic quokka", chat_id=NEIGHBOUR)).startswith(
        "Nothing matches “quokka”."
    )
    assert len(await inline_titles(user, USER_ID, "quokka")) == 3
    assert await inline_titles(user, NEIGHBOUR, "quokka") == []
    (item_id,) = await own_item_ids(user, feed_id, limit=1)
    assert OWN in await user.reply_to(f"/summary {item_id}")
    assert await user.reply_to(f"/summary {item_id}", chat_id=NEIGHBOUR) == (
        f"There is no article {item_id}; it may have been removed."
    )
    # Its items are only in the chat's own lists, never in the trends everyone shares.
    async with services_of(user).database.session() as session:
        trending_text = " ".join(
            t.title for t in await recent_texts(session, since=user.clock.now() - timedelta(1))
        )
    assert HARBOUR in trending_text and OWN not in trending_text

    # Listed apart from the bot's feeds, with no toggle of its own.
    (listing,) = await user.command("/sources")
    assert f"{feed_id}. Own — ✅ just now, 3 items" in listing.params["text"]
    assert [row[0][0] for row in buttons(listing)] == ["✅ Harbour", "✅ Market"]
    neighbours = await user.reply_to("/sources", chat_id=NEIGHBOUR)
    assert "Own" not in neighbours

    digests = await digests_at_ten(user)
    assert OWN in digests[USER_ID] and HARBOUR in digests[USER_ID]
    assert OWN not in digests[NEIGHBOUR] and HARBOUR in digests[NEIGHBOUR]


async def test_user_feeds_limit_duplicates_and_removal(
    open_user: BotUser, server: FeedServer
) -> None:
    user = open_user
    ids = await add_shared_feeds(user, server)
    shared = await user.reply_to(f"/addfeed {server.url('/harbour.xml')}")
    assert shared == f"The bot already reads that feed for everyone (source {ids['harbour']})."
    bad = await user.reply_to("/addfeed file:///etc/passwd")
    assert bad.startswith("“file:///etc/passwd” is not an http(s) address. Usage: /addfeed URL")
    assert (await user.reply_to("/addfeed")).startswith("Usage: /addfeed URL")

    first = await user.reply_to(f"/addfeed {server.url('/own.xml')}")
    feed_id = int(first.split(":")[0].removeprefix("Added feed "))
    again = await user.reply_to(f"/addfeed {server.url('/own.xml')}")
    assert again == f"This chat already reads that feed (source {feed_id})."
    await user.reply_to(f"/addfeed {server.url('/extra0.xml')}")
    refused = await user.reply_to(f"/addfeed {server.url('/extra1.xml')}")
    assert refused == (
        "This chat already has 2 feeds of its own, the most it may. Remove one with /removefeed ID."
    )

    # Another chat adding the same address shares the fetch, not the chat's list.
    theirs = await user.reply_to(f"/addfeed {server.url('/own.xml')}", chat_id=NEIGHBOUR)
    assert theirs.startswith(f"Added feed {feed_id}: ")
    await poll_feeds(user)
    assert OWN in await user.reply_to("/latest 50", chat_id=NEIGHBOUR)

    assert await user.reply_to(f"/removefeed {ids['market']}") == (
        f"This chat has no feed {ids['market']} of its own. See /sources."
    )
    removed = await user.reply_to(f"/removefeed {feed_id}")
    assert removed == f"Removed feed {feed_id}: {server.url('/own.xml')}"
    assert OWN not in await user.reply_to("/latest 50")
    assert OWN in await user.reply_to("/latest 50", chat_id=NEIGHBOUR)
    # Room for another feed again.
    assert (await user.reply_to(f"/addfeed {server.url('/extra1.xml')}")).startswith("Added feed")

    # The last chat to remove it removes the feed and its items.
    await user.reply_to(f"/removefeed {feed_id}", chat_id=NEIGHBOUR)
    async with services_of(user).database.session() as session:
        assert await session.get(Source, feed_id) is None
    assert await own_item_ids(user, feed_id, limit=1) == []


async def test_an_admin_adding_a_chats_own_feed_makes_it_everyones(
    open_user: BotUser, server: FeedServer
) -> None:
    user = open_user
    added = await user.reply_to(f"/addfeed {server.url('/own.xml')}")
    feed_id = int(added.split(":")[0].removeprefix("Added feed "))
    await poll_feeds(user)
    assert OWN not in await user.reply_to("/latest 50", chat_id=NEIGHBOUR)
    shared = await user.reply_to(f"/addsource {server.url('/own.xml')}", chat_id=ADMIN_ID)
    assert shared.startswith(f"Added source {feed_id}: ")
    assert OWN in await user.reply_to("/latest 50", chat_id=NEIGHBOUR)
    listing = await user.reply_to("/sources")
    assert "own feeds" not in listing and f"{feed_id}. Own — " in listing


async def test_a_channel_managed_from_a_private_chat_gets_its_own_feeds_and_choices(
    open_user: BotUser, server: FeedServer
) -> None:
    user = open_user
    await subscribe_at_ten(user, [CHANNEL_ADMIN])
    await add_shared_feeds(user, server)
    user.fake.set_admins(CHANNEL_ID, [CHANNEL_ADMIN])
    (picker,) = await user.command("/channel", chat_id=CHANNEL_ADMIN, user_id=CHANNEL_ADMIN)
    request = picker.params["reply_markup"]["keyboard"][0][0]["request_chat"]
    user.fake.share_chat(CHANNEL_ADMIN, request["request_id"], CHANNEL_ID, title="World Wire")
    await user.fake.wait_for(
        "sendMessage", lambda c: c.chat_id == CHANNEL_ADMIN and "Now managing" in c.params["text"]
    )
    await user.reply_to("/subscribe 10:00 UTC", chat_id=CHANNEL_ADMIN, user_id=CHANNEL_ADMIN)

    added = await user.reply_to(
        f"/addfeed {server.url('/own.xml')}", chat_id=CHANNEL_ADMIN, user_id=CHANNEL_ADMIN
    )
    assert added.startswith("<b>World Wire</b> · Added feed ")
    (listing,) = await user.command("/sources", chat_id=CHANNEL_ADMIN, user_id=CHANNEL_ADMIN)
    assert listing.params["text"].startswith("<b>World Wire</b> · <b>Sources (2)</b>")
    await user.press(
        listing, button_data(listing, "✅ Market"), chat_id=CHANNEL_ADMIN, user_id=CHANNEL_ADMIN
    )
    await poll_feeds(user)

    digests = await digests_at_ten(user)
    assert OWN in digests[CHANNEL_ID] and MARKET not in digests[CHANNEL_ID]
    # The administrator's own chat keeps every shared feed and none of the channel's own.
    assert MARKET in digests[CHANNEL_ADMIN] and OWN not in digests[CHANNEL_ADMIN]


async def test_a_group_upgrade_keeps_its_choice_of_sources(
    database: Database, clock: FakeClock
) -> None:
    old_id, new_id = -4001, -1004001
    now = clock.now()
    async with database.session() as session:
        shared = await add_source(session, "https://shared.example/feed", now=now)
        await ensure_chat(
            session,
            old_id,
            kind="group",
            title="",
            defaults=ChatDefaults("UTC", ["08:00"], 10),
            now=now,
        )
        assert await toggle_source(session, old_id, shared.id) is False
        own = await add_chat_feed(
            session,
            old_id,
            "https://own.example/feed",
            now=now,
            limit=2,
            interval_seconds=900,
            added_by=None,
        )
    async with database.session() as session:
        await migrate_chat(session, old_id, new_id, now=now)
    async with database.session() as session:
        choices = await source_choices(session, new_id)
    assert [(c.id, c.kept, c.own) for c in choices] == [
        (shared.id, False, False),
        (own.id, True, True),
    ]
