"""Stories reported by more outlets come first: ranking on real feeds of one weekend.

The nine English feeds of 5-7 January 2017 are served on loopback and ingested through
the real path. On that Saturday afternoon five outlets had reported the Fort Lauderdale
airport shooting (the newest report 13:27 UTC) while single reports kept arriving until
15:20; /latest must lead with the shooting, and a chat that asks for newest first gets
the timeline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.digests.content import compose_digest
from bot.ingest.poller import ingest_all
from bot.news.http.fetcher import SafeFetcher
from bot.news.rules import FOLLOW, Pattern, Rule
from bot.store.articles import latest_articles
from bot.store.db import Database
from bot.store.digests import ClaimedDigest
from bot.store.sources import add_source
from bot.stories.cache import StoryCache
from bot.stories.lines import story_lines
from tests.botharness import button_data, running_bot
from tests.feedserver import FeedServer
from tests.support import GROUPING, NEWS_FEEDS, FakeClock, ingest_feeds, serving_feeds

# Japan Times dates none of its items (each is dated when fetched): left out, so the
# weekend reads as it was.
FEEDS = [
    NEWS_FEEDS / name
    for name in json.loads((GROUPING / "january-2017.json").read_text(encoding="utf-8"))[
        "feeds"
    ].values()
    if "JapanTimes" not in name
]
REUTERS = NEWS_FEEDS / "FeedReader__Rss20Reuters.xml"
SATURDAY_AFTERNOON = datetime(2017, 1, 7, 16, 0, tzinfo=UTC)
SHOOTING = "Fort Lauderdale"
# The newest item of the nine feeds: one outlet's report, two hours after the shooting's.
NEWEST_SINGLE = "China takes global lead in clean energy"


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with serving_feeds(FEEDS) as feed_server:
        # The same outlet's feed a second time under another name, as an outlet's world and
        # top-news feeds carry the same reports.
        top_news = REUTERS.read_bytes().replace(
            b"<title>Reuters: World News</title>", b"<title>Reuters: Top News</title>", 1
        )
        feed_server.add("/reuters-top-news.xml", top_news, content_type="text/xml")
        yield feed_server


@pytest.fixture
def quiet_settings(settings: Settings, tmp_path: Path) -> Settings:
    """No seed documents: the list holds only the feeds' items."""
    (tmp_path / "no-seeds").mkdir()
    return settings.model_copy(update={"seeds_dir": str(tmp_path / "no-seeds")})


def position(text: str, fragment: str) -> int:
    """Where a headline stands in a reply; fails if it is not there."""
    at = text.find(fragment)
    assert at >= 0, f"{fragment!r} not in the reply:\n{text}"
    return at


async def test_latest_leads_with_the_story_most_outlets_report(
    database: Database,
    fetcher: SafeFetcher,
    quiet_settings: Settings,
    server: FeedServer,
    clock: FakeClock,
) -> None:
    clock.set(SATURDAY_AFTERNOON)
    await ingest_feeds(database, fetcher, quiet_settings, server, clock, FEEDS)
    async with running_bot(quiet_settings, clock) as user:
        ranked = await user.reply_to("/latest")
        assert position(ranked, SHOOTING) < position(ranked, NEWEST_SINGLE)
        (panel,) = await user.command("/settings")
        assert "Stories: those more outlets report first" in panel.params["text"]
        await user.press(panel, button_data(panel, "Order: newest"))
        newest = await user.reply_to("/latest")
    # The timeline: the newest report first, the shooting (two hours older) not above it.
    assert SHOOTING not in newest[: position(newest, NEWEST_SINGLE)]
    assert newest.index("1. ") < position(newest, NEWEST_SINGLE) < newest.index("2. ")


async def test_one_outlets_two_feeds_count_once(
    database: Database,
    fetcher: SafeFetcher,
    settings: Settings,
    server: FeedServer,
    clock: FakeClock,
) -> None:
    clock.set(SATURDAY_AFTERNOON)
    await ingest_feeds(database, fetcher, settings, server, clock, FEEDS)
    second_feed = server.url("/reuters-top-news.xml")
    async with database.session() as session:
        await add_source(session, second_feed, now=clock.now(), allow_private=True)
    report = await ingest_all(database, fetcher, settings, now=clock.now())
    assert not report.failed, report.summary()
    async with database.session() as session:
        window = await latest_articles(session, limit=1000)
    lines = story_lines(window)
    sources = {h.id: h.source for h in window}
    reuters = {h.source for h in window if "Reuters" in h.source}
    assert len(reuters) == 2
    doubled = [line for line in lines if {sources[m] for m in line.member_ids} == reuters]
    assert len(doubled) >= 5
    assert all(line.outlets == 1 and line.extra_sources >= 1 for line in doubled)
    # A story both Reuters feeds and other outlets report counts Reuters once.
    shared = [line for line in lines if reuters < {sources[m] for m in line.member_ids}]
    assert shared
    for line in shared:
        assert line.outlets == len({sources[m] for m in line.member_ids}) - 1
    # Each Reuters report is now two items, yet one outlet's report still ranks by its age
    # alone: below any newer single report of another outlet.
    published = {h.id: h.published_at for h in window}
    singles = [line for line in lines if line.outlets == 1]
    newest_first = sorted(
        singles, key=lambda line: max(published[m] for m in line.member_ids), reverse=True
    )
    assert [line.lead.id for line in singles] == [line.lead.id for line in newest_first]


async def test_followed_topics_still_lead_the_digest(
    database: Database,
    fetcher: SafeFetcher,
    settings: Settings,
    server: FeedServer,
    clock: FakeClock,
) -> None:
    clock.set(SATURDAY_AFTERNOON)
    await ingest_feeds(database, fetcher, settings, server, clock, FEEDS)
    async with database.session() as session:
        unseen = tuple(await latest_articles(session, limit=300))
    digest = ClaimedDigest(
        digest_id=1,
        chat_id=1,
        thread_id=None,
        due_at=clock.now(),
        timezone="UTC",
        digest_size=10,
        only_followed=False,
        notify_empty=False,
        since=datetime(2017, 1, 1, tzinfo=UTC),
        rules=(Rule(FOLLOW, Pattern("ivory coast")),),
    )
    content = await compose_digest(digest, unseen, StoryCache())
    leads = [story.lead.title for story in content.stories]
    assert "Ivory Coast" in leads[0] and content.stories[0].followed
    unfollowed = [s.lead.title for s in content.stories if not s.followed]
    shooting_at = next(i for i, t in enumerate(unfollowed) if SHOOTING in t or "Florida" in t)
    newest_at = next((i for i, t in enumerate(unfollowed) if NEWEST_SINGLE in t), len(unfollowed))
    assert shooting_at < newest_at
