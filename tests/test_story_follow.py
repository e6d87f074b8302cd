"""Following a story: one update when another outlet reports it, never for a repeat.

The January 2017 feeds are served on loopback and ingested through the real path, all
but two outlets that reported the Fort Lauderdale shooting (The New York Times, Japan
Today); the chat follows the shooting from its card, then those outlets' feeds arrive.
The bot runs against the fake Bot API and the follow job's pass runs as the job runs it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.digests.story_updates import UpdatesReport, story_update_pass
from bot.news.http.fetcher import SafeFetcher
from bot.services import services_of
from bot.store.articles import latest_articles
from bot.store.db import Database
from bot.store.story_follows import MAX_FOLLOWED_STORIES, followed_stories
from tests.botharness import USER_ID, BotUser, button_data, buttons, running_bot
from tests.fakebot import Call, FakeBotAPI
from tests.feedserver import FeedServer
from tests.support import NEWS_FEEDS, FakeClock, ingest_feeds, serving_feeds
from tests.test_significance import FEEDS, SATURDAY_AFTERNOON, SHOOTING
from tests.test_story_card import visible

NYTIMES = NEWS_FEEDS / "FeedReader__Rss20NYTimes.xml"
JAPAN_TODAY = NEWS_FEEDS / "FeedReader__Rss20JapanToday.xml"
FIRST = [f for f in FEEDS if f not in (NYTIMES, JAPAN_TODAY)]
MIRROR = NEWS_FEEDS / "FeedReader__Rss20TheMirror.xml"
# The Mirror's feed again under another name: the same reports from an outlet known already.
MIRROR_AGAIN = Path("/mirror-again.xml")
# The Mirror again, later: its shooting report with one sentence more, at a new address.
MIRROR_LATER = Path("/mirror-later.xml")
NEW_FACT = "He appeared before a federal judge in Miami on Monday and was held without bail."
FOLLOW = "🔔 Follow this story"
UPDATE = "🔔 News of a story you follow"
GROUP_ID = -100500
GROUP_ADMIN = 61
GROUP_MEMBER = 62


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with serving_feeds(FEEDS) as feed_server:
        again = MIRROR.read_bytes().replace(b"<title>", b"<title>Mirror again: ", 1)
        feed_server.add(str(MIRROR_AGAIN), again, content_type="text/xml")
        feed_server.add(str(MIRROR_LATER), mirror_later(), content_type="text/xml")
        yield feed_server


def mirror_later() -> bytes:
    """The Mirror's feed holding only one of its shooting reports ("what we know so far"),
    told again at a new address with a new fact."""
    text = MIRROR.read_text(encoding="utf-8")
    head = text[: text.index("<item>")].replace("<title>", "<title>Mirror later: ", 1)
    item = next(i for i in re.findall(r"<item>.*?</item>", text, re.DOTALL) if "9576476" in i)
    item = re.sub(
        r"<pubDate>[^<]*</pubDate>", "<pubDate>Sat, 07 Jan 2017 15:30:00 GMT</pubDate>", item
    )
    item = item.replace("9576476", "9579000").replace(
        "who had lived in Alaska", f"who had lived in Alaska. {NEW_FACT}"
    )
    return (head + item + "</channel></rss>").encode("utf-8")


@pytest.fixture
def quiet_settings(settings: Settings, tmp_path: Path) -> Settings:
    (tmp_path / "no-seeds").mkdir()
    return settings.model_copy(update={"seeds_dir": str(tmp_path / "no-seeds")})


class Feeds:
    """Adds feeds to the store and reads them, as the poller would."""

    def __init__(
        self,
        database: Database,
        fetcher: SafeFetcher,
        settings: Settings,
        server: FeedServer,
        clock: FakeClock,
    ) -> None:
        self.args = (database, fetcher, settings, server, clock)

    async def ingest(self, paths: list[Path]) -> None:
        await ingest_feeds(*self.args, paths)


@pytest.fixture
async def feeds(
    database: Database,
    fetcher: SafeFetcher,
    quiet_settings: Settings,
    server: FeedServer,
    clock: FakeClock,
) -> Feeds:
    clock.set(SATURDAY_AFTERNOON)
    ingested = Feeds(database, fetcher, quiet_settings, server, clock)
    await ingested.ingest(FIRST)
    return ingested


async def open_card(user: BotUser, *, chat_id: int = USER_ID, **kwargs: object) -> Call:
    """The shooting's story card, opened from its "+N sources" button under /latest."""
    (listing,) = await user.command("/latest", chat_id=chat_id, **kwargs)  # type: ignore[arg-type]
    text = listing.params["text"]
    number = next(
        line.split(".", 1)[0] for line in text.splitlines() if SHOOTING in line and ". " in line
    )
    data = next(
        data for row in buttons(listing) for label, data in row if label.startswith(f"{number} · +")
    )
    before = len(user.fake.sent_messages(chat_id))
    await user.press(listing, data, chat_id=chat_id, user_id=kwargs.get("user_id"))  # type: ignore[arg-type]
    calls = await user.fake.wait_for(
        "sendMessage", lambda c: c.chat_id == chat_id, count=before + 1, timeout=10
    )
    return calls[-1]


async def follow_shooting(user: BotUser) -> tuple[Call, str]:
    """Follow the shooting from its card: the card, and what the bot answered."""
    card = await open_card(user)
    answer = await user.press(card, button_data(card, FOLLOW))
    return card, str(answer.params.get("text", ""))


async def run_pass(user: BotUser) -> UpdatesReport:
    """One pass of the follow job, as the job runs it."""
    return await story_update_pass(services_of(user.application), user.application.bot)


def updates(fake: FakeBotAPI, chat_id: int = USER_ID) -> list[Call]:
    return [c for c in fake.sent_messages(chat_id) if c.params["text"].startswith(f"<b>{UPDATE}")]


def outlets_on(card: Call) -> int:
    return int(re.search(r"Reported by (\d+) outlets", visible(card.params["text"])).group(1))  # type: ignore[union-attr]


async def test_a_new_outlet_makes_one_update_and_a_repeat_none(
    feeds: Feeds, quiet_settings: Settings, clock: FakeClock, server: FeedServer
) -> None:
    async with running_bot(quiet_settings, clock) as user:
        card, answer = await follow_shooting(user)
        assert answer.startswith("Following this story")
        again = await user.press(card, button_data(card, FOLLOW))
        assert again.params["text"] == "You already follow this story."
        assert (await run_pass(user)).sent == 0
        # The Mirror's reports again, from a second feed of the same outlet: nothing new.
        await feeds.ingest([MIRROR_AGAIN])
        await run_pass(user)
        assert updates(user.fake) == []
        await feeds.ingest([NYTIMES])
        report = await run_pass(user)
        await run_pass(user)
        sent = updates(user.fake)
    assert report.sent == 1 and len(sent) == 1
    text = sent[0].params["text"]
    shown = visible(text)
    # What is new: the outlet's report with its link and time, and the outlets now.
    assert re.search(r'<a href="https?://[^"]*nytimes\.com[^"]*">', text)
    assert "NYT" in shown and "ago" in shown
    assert f"Now reported by {outlets_on(card) + 1} outlets." in shown
    labels = [label for row in buttons(sent[0]) for label, _data in row]
    assert labels == ["Story card", "Unfollow"]


async def test_a_known_outlets_report_with_a_new_fact_is_news(
    feeds: Feeds, quiet_settings: Settings, clock: FakeClock
) -> None:
    async with running_bot(quiet_settings, clock) as user:
        card, _answer = await follow_shooting(user)
        await feeds.ingest([MIRROR_LATER])
        await run_pass(user)
        sent = updates(user.fake)
    assert len(sent) == 1
    text = sent[0].params["text"]
    assert "9579000" in text and "Mirror later" in visible(text)
    # The same outlets as before: the news is what the report says.
    assert f"Now reported by {outlets_on(card)} outlets." in visible(text)


async def test_the_days_cap_holds_and_the_held_news_comes_next(
    feeds: Feeds, quiet_settings: Settings, clock: FakeClock
) -> None:
    settings = quiet_settings.model_copy(update={"story_updates_per_day": 1})
    async with running_bot(settings, clock) as user:
        await follow_shooting(user)
        await feeds.ingest([NYTIMES])
        await run_pass(user)
        await feeds.ingest([JAPAN_TODAY])
        held = await run_pass(user)
        assert held.found.held == 1 and len(updates(user.fake)) == 1
        clock.advance(hours=23)
        await run_pass(user)
        assert len(updates(user.fake)) == 1
        clock.advance(hours=1, minutes=1)
        told = await run_pass(user)
        await run_pass(user)
        sent = updates(user.fake)
    assert told.sent == 1 and len(sent) == 2
    assert "Japan Today" in visible(sent[1].params["text"])
    assert "NYT" not in visible(sent[1].params["text"])


async def test_an_update_found_before_a_restart_is_sent_once_after_it(
    feeds: Feeds, quiet_settings: Settings, clock: FakeClock
) -> None:
    with FakeBotAPI() as fake:
        async with running_bot(quiet_settings, clock, fake=fake) as user:
            await follow_shooting(user)
            await feeds.ingest([NYTIMES])
            # Telegram unreachable for the pass and every retry: the update stays unsent.
            fake.fail_next("sendMessage", 502, "Bad Gateway", chat_id=USER_ID, times=4)
            report = await run_pass(user)
        assert report.found.updates == 1 and report.retry == 1 and updates(fake) == []
        clock.advance(minutes=1)
        async with running_bot(quiet_settings, clock, fake=fake) as restarted:
            await run_pass(restarted)
            await run_pass(restarted)
        assert len(updates(fake)) == 1


async def test_unfollow_stops_updates(
    feeds: Feeds, quiet_settings: Settings, clock: FakeClock
) -> None:
    async with running_bot(quiet_settings, clock) as user:
        await follow_shooting(user)
        await feeds.ingest([NYTIMES])
        await run_pass(user)
        (update,) = updates(user.fake)
        answer = await user.press(update, button_data(update, "Unfollow"))
        assert answer.params["text"] == "Unfollowed: no more updates of this story."
        await feeds.ingest([JAPAN_TODAY])
        await run_pass(user)
        assert len(updates(user.fake)) == 1


async def test_a_follow_ends_after_days_without_news(
    feeds: Feeds, quiet_settings: Settings, clock: FakeClock, database: Database
) -> None:
    async with running_bot(quiet_settings, clock) as user:
        await follow_shooting(user)
        clock.advance(days=2, hours=23)
        assert (await run_pass(user)).found.ended == 0
        clock.advance(hours=2)
        assert (await run_pass(user)).found.ended == 1
        await feeds.ingest([NYTIMES])
        await run_pass(user)
        assert updates(user.fake) == []
    async with database.session() as session:
        assert await followed_stories(session, USER_ID) == []


async def test_in_a_group_only_administrators_follow(
    feeds: Feeds, quiet_settings: Settings, clock: FakeClock, database: Database
) -> None:
    group = {"chat_type": "supergroup"}
    async with running_bot(quiet_settings, clock) as user:
        user.fake.set_admins(GROUP_ID, [GROUP_ADMIN])
        card = await open_card(user, chat_id=GROUP_ID, user_id=GROUP_MEMBER, **group)
        data = button_data(card, FOLLOW)
        refused = await user.press(card, data, chat_id=GROUP_ID, user_id=GROUP_MEMBER)
        async with database.session() as session:
            assert await followed_stories(session, GROUP_ID) == []
        allowed = await user.press(card, data, chat_id=GROUP_ID, user_id=GROUP_ADMIN)
    assert refused.params["text"] == (
        "Only this chat's administrators can change its digest settings."
    )
    assert allowed.params["text"].startswith("Following this story")
    async with database.session() as session:
        assert len(await followed_stories(session, GROUP_ID)) == 1


async def test_a_chat_follows_a_bounded_number_of_stories(
    feeds: Feeds, quiet_settings: Settings, clock: FakeClock, database: Database
) -> None:
    async with database.session() as session:
        window = await latest_articles(session, limit=200)
    async with running_bot(quiet_settings, clock) as user:
        card = await open_card(user)
        answers = [await user.press(card, f"f:{h.id}") for h in window[: MAX_FOLLOWED_STORIES + 1]]
    assert all(a.params["text"].startswith("Following") for a in answers[:-1])
    assert answers[-1].params["text"] == (
        f"This chat follows {MAX_FOLLOWED_STORIES} stories, the most it may; unfollow one first."
    )
    async with database.session() as session:
        assert len(await followed_stories(session, USER_ID)) == MAX_FOLLOWED_STORIES
