"""Scheduled digests: on time in every zone, never missed, never repeated, through floods."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.digests.content import CANDIDATE_LIMIT
from bot.digests.dispatch import CLAIM_LEASE, DispatchReport, dispatch_digests
from bot.schedule.times import next_digest_at
from bot.services import SERVICES_KEY, Services
from bot.store.articles import NewArticle, add_articles
from bot.store.chat_sources import toggle_source
from bot.store.chats import ChatDefaults, add_topic, ensure_chat, get_chat, subscribe
from bot.store.digests import claim_due_digests, record_sent, undelivered_headlines
from bot.store.models import Digest
from bot.store.sources import add_source
from tests.botharness import BotUser, running_bot
from tests.fakebot import FakeBotAPI
from tests.support import BACKENDS, POSTGRES_URL, FakeClock, postgres_admin

UTC = UTC


def services_of(user: BotUser) -> Services:
    return user.application.bot_data[SERVICES_KEY]


async def dispatch(user: BotUser) -> DispatchReport:
    """One dispatch pass of this bot, as its job runs it."""
    return await dispatch_digests(services_of(user), user.application.bot)


async def subscribe_chats(
    user: BotUser,
    chat_ids: list[int],
    *,
    times: list[str],
    zone: str,
    follows: Sequence[str] = (),
    mutes: Sequence[str] = (),
) -> None:
    services = services_of(user)
    now = services.clock.now()
    defaults = ChatDefaults("UTC", ["08:00"], 10)
    async with services.database.session() as session:
        for chat_id in chat_ids:
            chat = await ensure_chat(
                session, chat_id, kind="private", title="", defaults=defaults, now=now
            )
            subscribe(chat, times=times, zone=zone, thread_id=None, now=now)
            for phrase in follows:
                await add_topic(session, chat, "follow", phrase)
            for phrase in mutes:
                await add_topic(session, chat, "mute", phrase)


async def add_items(
    user: BotUser, titles: list[str], *, feed: str = "https://wire.example/feed"
) -> int:
    """Items just published on a new feed; returns the feed's source id."""
    services = services_of(user)
    now = services.clock.now()
    async with services.database.session() as session:
        source = await add_source(session, feed, now=now, title="Wire")
        await add_articles(
            session,
            source.id,
            [
                NewArticle(title=t, url=f"https://wire.example/{abs(hash(t))}", published_at=now)
                for t in titles
            ],
            now=now,
        )
    return source.id


def digests_to(fake: FakeBotAPI, chat_id: int) -> list[str]:
    return [c.params["text"] for c in fake.sent_messages(chat_id)]


@pytest.fixture
async def user(settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    async with running_bot(settings, clock) as bot_user:
        yield bot_user


def test_next_digest_keeps_local_time_across_dst() -> None:
    # Europe/Berlin leaves summer time on 25 Oct 2026; New York on 1 Nov 2026.
    berlin = next_digest_at(["08:00"], "Europe/Berlin", datetime(2026, 10, 24, 7, 0, tzinfo=UTC))
    assert berlin == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)  # 08:00 CET, UTC+1
    before = next_digest_at(["08:00"], "Europe/Berlin", datetime(2026, 10, 23, 7, 0, tzinfo=UTC))
    assert before == datetime(2026, 10, 24, 6, 0, tzinfo=UTC)  # 08:00 CEST, UTC+2
    new_york = next_digest_at(
        ["07:30"], "America/New_York", datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    )
    assert new_york == datetime(2026, 11, 1, 12, 30, tzinfo=UTC)
    kolkata = next_digest_at(
        ["08:00", "20:00"], "Asia/Kolkata", datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    )
    assert kolkata == datetime(2026, 11, 26, 14, 30, tzinfo=UTC)


async def test_digests_arrive_at_the_local_instant_in_several_zones(
    user: BotUser, clock: FakeClock
) -> None:
    await subscribe_chats(user, [1], times=["08:00"], zone="Europe/Berlin")
    await subscribe_chats(user, [2], times=["08:00"], zone="Asia/Tokyo")
    await subscribe_chats(user, [3], times=["08:00"], zone="America/New_York")
    sent_at: dict[int, datetime] = {}
    for _ in range(24 * 4):
        clock.advance(minutes=15)
        await dispatch(user)
        for chat_id in (1, 2, 3):
            if chat_id not in sent_at and user.fake.sent_messages(chat_id):
                sent_at[chat_id] = clock.now()
    # Subscribed at 09:00 UTC: 04:00 in New York, 18:00 in Tokyo, 10:00 in Berlin.
    assert sent_at == {
        3: datetime(2026, 11, 26, 13, 0, tzinfo=UTC),  # 08:00 in New York, the same day
        2: datetime(2026, 11, 26, 23, 0, tzinfo=UTC),  # 08:00 in Tokyo
        1: datetime(2026, 11, 27, 7, 0, tzinfo=UTC),  # 08:00 in Berlin
    }
    assert all(len(user.fake.sent_messages(c)) == 1 for c in (1, 2, 3))
    berlin = digests_to(user.fake, 1)[0]
    assert berlin.startswith("<b>Your news digest · Fri 27 Nov, 08:00</b>")


async def test_digest_content_merges_stories_and_skips_nothing(
    user: BotUser, clock: FakeClock
) -> None:
    await subscribe_chats(user, [10], times=["10:00"], zone="UTC")
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    await dispatch(user)
    (text,) = digests_to(user.fake, 10)
    assert "TrumpRx Website Launches" in text or "TrumpRx.gov Highlights" in text
    assert "+1 source" in text
    (message,) = user.fake.sent_messages(10)
    labels = [b["text"] for row in message.params["reply_markup"]["inline_keyboard"] for b in row]
    # A summary button per story, then a card button for each told by several items.
    assert labels[:10] == [str(n) for n in range(1, 11)]
    cards = labels[10:]
    assert cards and all(re.fullmatch(r"\d+ · \+1 source", label) for label in cards)
    assert len(cards) == text.count("+1 source")


async def test_no_repeat_across_two_digests(user: BotUser, clock: FakeClock) -> None:
    await subscribe_chats(user, [20], times=["08:00", "18:00"], zone="UTC")
    clock.set(datetime(2026, 11, 26, 18, 0, tzinfo=UTC))
    await dispatch(user)
    first = digests_to(user.fake, 20)
    clock.set(datetime(2026, 11, 27, 7, 0, tzinfo=UTC))
    await add_items(user, ["Storm Closes Alpine Passes", "Central Bank Holds Rates Steady"])
    clock.set(datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    await dispatch(user)
    second = digests_to(user.fake, 20)[len(first) :]
    assert len(second) == 1
    assert (
        "Storm Closes Alpine Passes" in second[0] and "Central Bank Holds Rates Steady" in second[0]
    )
    assert "North Korean" not in second[0] and "TrumpRx" not in second[0]
    assert "1. " in second[0] and "\n3. " not in second[0]


async def test_a_chat_that_switched_off_the_busiest_feed_still_gets_the_others(
    user: BotUser, clock: FakeClock
) -> None:
    # A claim batch reads its chats' newest items together; here the busy feed's fill that
    # read entirely, so the chat that switched it off must be read on its own.
    await subscribe_chats(user, [31, 32], times=["18:00"], zone="UTC")
    clock.set(datetime(2026, 11, 26, 17, 0, tzinfo=UTC))
    quiet = ["Storm Closes Alpine Passes", "Central Bank Holds Rates Steady"]
    await add_items(user, quiet, feed="https://quiet.example/feed")
    busy = [f"Busy wire bulletin number {n}" for n in range(CANDIDATE_LIMIT)]
    busy_source = await add_items(user, busy, feed="https://busy.example/feed")
    async with services_of(user).database.session() as session:
        assert await toggle_source(session, 31, busy_source) is False
    clock.set(datetime(2026, 11, 26, 18, 0, tzinfo=UTC))
    await dispatch(user)
    (switched_off,) = digests_to(user.fake, 31)
    assert all(title in switched_off for title in quiet)
    assert "Busy wire" not in switched_off
    (everything,) = digests_to(user.fake, 32)
    assert "Busy wire" in everything


async def test_followed_topics_lead_and_muted_words_never_arrive(
    user: BotUser, clock: FakeClock
) -> None:
    await subscribe_chats(
        user, [30], times=["10:00"], zone="UTC", follows=["iran"], mutes=["trumprx"]
    )
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    await dispatch(user)
    (text,) = digests_to(user.fake, 30)
    lines = [line for line in text.splitlines() if line[:2].rstrip(".").isdigit()]
    assert all("Iran" in line for line in lines[:3])
    assert "TrumpRx" not in text
    assert "The first 3 stories match topics you follow." in text


async def test_only_followed_and_nothing_new(user: BotUser, clock: FakeClock) -> None:
    await subscribe_chats(user, [40], times=["10:00", "11:00"], zone="UTC", follows=["oman"])
    services = services_of(user)
    async with services.database.session() as session:
        chat = await get_chat(session, 40)
        assert chat is not None
        chat.only_followed = True
        chat.notify_empty = True
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    await dispatch(user)
    clock.set(datetime(2026, 11, 26, 11, 0, tzinfo=UTC))
    await dispatch(user)
    only, empty = digests_to(user.fake, 40)
    assert only.count("\n    <i>") == 1 and "Oman" in only
    assert empty == "No new headlines since your last digest."


async def test_catch_up_after_downtime_sends_once_late_and_skips_older(
    user: BotUser, clock: FakeClock
) -> None:
    await subscribe_chats(user, [50], times=["08:00"], zone="UTC")
    await subscribe_chats(user, [51], times=["06:00"], zone="UTC")
    # The bot was down from before 06:00 until 09:30: 08:00 is within the 2 h grace, 06:00 is not.
    clock.set(datetime(2026, 11, 27, 9, 30, tzinfo=UTC))
    await dispatch(user)
    await dispatch(user)
    assert len(user.fake.sent_messages(50)) == 1
    assert user.fake.sent_messages(51) == []
    services = services_of(user)
    async with services.database.session() as session:
        late = await get_chat(session, 51)
    assert late is not None and late.next_digest_at == datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


async def test_restart_mid_fan_out_resends_only_what_was_not_recorded(
    user: BotUser, clock: FakeClock
) -> None:
    chats = list(range(100, 110))
    await subscribe_chats(user, chats, times=["12:00"], zone="UTC")
    clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    services = services_of(user)
    # A first instance claims all ten, delivers and records four, then dies.
    async with services.database.session() as session:
        claim = await claim_due_digests(
            session,
            now=clock.now(),
            grace=timedelta(hours=2),
            lease=CLAIM_LEASE,
            instance="crashed",
            limit=100,
        )
    assert len(claim.digests) == 10
    for digest in claim.digests[:4]:
        async with services.database.session() as session:
            items = await undelivered_headlines(session, digest.chat_id, since=digest.since)
            await record_sent(session, digest, [h.id for h in items], now=clock.now())
    # Within the lease nobody touches the dead instance's claims.
    await dispatch(user)
    assert user.fake.sent_messages() == []
    clock.advance(minutes=6)
    await dispatch(user)
    await dispatch(user)
    recorded = {d.chat_id for d in claim.digests[:4]}
    for chat_id in chats:
        assert len(user.fake.sent_messages(chat_id)) == (0 if chat_id in recorded else 1), chat_id


def not_exactly_one(fake: FakeBotAPI, chats: list[int]) -> dict[int, int]:
    """The chats that got no digest or more than one, with how many they got."""
    sent = Counter(c.chat_id for c in fake.sent_messages())
    return {chat: sent[chat] for chat in chats if sent[chat] != 1}


async def cut_off_database(url: str, *, after: Awaitable[object], seconds: float) -> None:
    """Once `after` is done, the database refuses every connection for `seconds`, the ones
    open are dropped, as in a PostgreSQL restart (for this test's database alone)."""
    await after
    name = make_url(url).database
    await postgres_admin(POSTGRES_URL, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        await postgres_admin(
            POSTGRES_URL,
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
        )
        await asyncio.sleep(seconds)
    finally:
        await postgres_admin(POSTGRES_URL, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


# The outage is made by PostgreSQL refusing connections: a PostgreSQL-only case.
@pytest.mark.parametrize("backend", [b for b in BACKENDS if b == "postgresql"])
async def test_a_database_outage_mid_fan_out_sends_every_digest_exactly_once(
    settings: Settings, clock: FakeClock
) -> None:
    chats = list(range(3000, 3060))
    paced = settings.model_copy(update={"telegram_rate_limit": 10.0})  # the fan-out takes 6 s
    async with running_bot(paced, clock) as user:
        await subscribe_chats(user, chats, times=["12:00"], zone="UTC")
        await add_items(user, ["Parliament passes the budget", "Storm warning for the coast"])
        clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
        ten_sent = user.fake.wait_for("sendMessage", count=10, timeout=30)
        outage = asyncio.create_task(
            cut_off_database(settings.database_url, after=ten_sent, seconds=2.5)
        )
        with contextlib.suppress(Exception):  # the pass may end with the database away
            await dispatch(user)
        await outage
        for _ in range(2):  # the digests not sent yet go out within two minutes
            clock.advance(minutes=1)
            await dispatch(user)
        assert not_exactly_one(user.fake, chats) == {}
        clock.advance(minutes=6)  # past the claim lease: nothing is taken over and resent
        await dispatch(user)
        assert not_exactly_one(user.fake, chats) == {}
        async with services_of(user).database.session() as session:
            statuses = Counter((await session.scalars(select(Digest.status))).all())
        assert statuses == {"sent": len(chats)}


async def test_a_stopping_instance_claims_no_more_and_releases_what_waits(
    settings: Settings, clock: FakeClock
) -> None:
    chats = list(range(4000, 4300))
    paced = settings.model_copy(update={"telegram_rate_limit": 30.0})  # the fan-out takes 10 s
    with FakeBotAPI() as fake:
        async with running_bot(paced, clock, fake=fake) as stopping:
            await subscribe_chats(stopping, chats, times=["12:00"], zone="UTC")
            clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
            fan_out = asyncio.create_task(dispatch(stopping))
            await fake.wait_for("sendMessage", count=30, timeout=30)
            services_of(stopping).stopping.set()  # what SIGTERM does
            report = await fan_out
            # It stopped well before the end: most chats were left for another instance.
            assert report.released > len(chats) // 2
            assert report.sent + report.empty + report.released == len(chats)
        # The released digests are due at once for the other instance, none is sent twice.
        async with running_bot(paced, clock, fake=fake) as other:
            again = await dispatch(other)
        assert again.sent + again.empty == report.released
        assert not_exactly_one(fake, chats) == {}


async def test_two_instances_never_send_the_same_digest(
    settings: Settings, clock: FakeClock, backend: str
) -> None:
    with FakeBotAPI() as fake:
        async with (
            running_bot(settings, clock, fake=fake) as first,
            running_bot(settings, clock, fake=fake) as second,
        ):
            chats = list(range(1000, 1300))
            await subscribe_chats(first, chats, times=["12:00"], zone="UTC")
            clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
            await asyncio.gather(dispatch(first), dispatch(second))
        per_chat = Counter(c.chat_id for c in fake.sent_messages())
    assert set(per_chat) == set(chats)
    assert max(per_chat.values()) == 1


async def test_429_and_403_mid_fan_out(user: BotUser, clock: FakeClock) -> None:
    chats = list(range(200, 220))
    await subscribe_chats(user, chats, times=["12:00"], zone="UTC")
    user.fake.fail_next(
        "sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=205
    )
    user.fake.block_chat(210)
    user.fake.fail_next("sendMessage", 400, "Bad Request: chat not found", chat_id=215)
    clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    report = await dispatch(user)
    assert report.sent == 18 and report.undeliverable == 2
    for chat_id in chats:
        expected = 0 if chat_id in (210, 215) else 1
        assert len(user.fake.sent_messages(chat_id)) == expected, chat_id
    services = services_of(user)
    async with services.database.session() as session:
        blocked = await get_chat(session, 210)
        gone = await get_chat(session, 215)
    assert blocked is not None and not blocked.active and gone is not None and not gone.active


async def test_network_failure_leaves_the_digest_due(user: BotUser, clock: FakeClock) -> None:
    await subscribe_chats(user, [300], times=["12:00"], zone="UTC")
    # Four failures: the first pass and all its retries meet a broken gateway.
    user.fake.fail_next("sendMessage", 502, "Bad Gateway", chat_id=300, times=4)
    clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    report = await dispatch(user)
    assert report.retry == 1 and user.fake.sent_messages(300) == []
    clock.advance(minutes=1)
    await dispatch(user)
    assert len(user.fake.sent_messages(300)) == 1


@pytest.mark.slow
async def test_flood_of_2000_chats_at_30_per_second_each_get_exactly_one(
    user: BotUser, clock: FakeClock
) -> None:
    chats = list(range(10_000, 12_000))
    await subscribe_chats(user, chats, times=["12:00"], zone="UTC")
    user.fake.rate_limit(30)
    clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    report = await dispatch(user)
    for _ in range(5):
        if report.retry == 0:
            break
        clock.advance(minutes=1)
        report = await dispatch(user)
    per_chat = Counter(c.chat_id for c in user.fake.sent_messages())
    assert set(per_chat) == set(chats)
    assert max(per_chat.values()) == 1


async def test_an_0800_digest_stays_at_0800_local_across_the_dst_change(
    user: BotUser, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 10, 22, 12, 0, tzinfo=UTC))
    await subscribe_chats(user, [60], times=["08:00"], zone="Europe/Berlin")
    async with services_of(user).database.session() as session:
        chat = await get_chat(session, 60)
        assert chat is not None
        chat.notify_empty = True  # a message every day, news or not
    sent_at: list[datetime] = []
    for _ in range(5 * 24 * 2):  # five days in half-hour steps
        clock.advance(minutes=30)
        before = len(user.fake.sent_messages(60))
        await dispatch(user)
        if len(user.fake.sent_messages(60)) > before:
            sent_at.append(clock.now())
    # Summer time (UTC+2) ends on Sunday 25 October: 08:00 local moves from 06:00 to 07:00 UTC.
    assert [t.astimezone(UTC).strftime("%d %H:%M") for t in sent_at][:4] == [
        "23 06:00",
        "24 06:00",
        "25 07:00",
        "26 07:00",
    ]


async def test_forum_digests_go_into_the_topic_thread(user: BotUser, clock: FakeClock) -> None:
    services = services_of(user)
    async with services.database.session() as session:
        chat = await ensure_chat(
            session,
            -1005,
            kind="supergroup",
            title="Newsroom",
            defaults=ChatDefaults("UTC", ["08:00"], 10),
            now=clock.now(),
        )
        subscribe(chat, times=["10:00"], zone="UTC", thread_id=77, now=clock.now())
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    await dispatch(user)
    (digest,) = user.fake.sent_messages(-1005)
    assert digest.params["message_thread_id"] == 77


async def test_paid_broadcast_digests_ask_for_it_and_replies_do_not(
    settings: Settings, clock: FakeClock
) -> None:
    paid = settings.model_copy(update={"telegram_paid_broadcast": True})
    async with running_bot(paid, clock) as user:
        await subscribe_chats(user, [600], times=["12:00"], zone="UTC")
        clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
        assert (await dispatch(user)).sent == 1
        await user.reply_to("/help", chat_id=601)
    [digest] = user.fake.sent_messages(600)
    [reply] = user.fake.sent_messages(601)
    assert digest.params.get("allow_paid_broadcast") in (True, "true")
    assert "allow_paid_broadcast" not in reply.params
