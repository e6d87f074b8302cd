"""Story words stored at ingest: lists group the same stories from them as from the text.

/latest and digests group their items into stories; the words that grouping reads are
stored with each item when it is ingested, so a list never reads long descriptions
again. Real feeds are served on loopback and ingested through the real path, on both
backends; rows stored before migration 0010 have no stored words and are read afresh.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text

from bot.config import Settings
from bot.news.grouping import story_words
from bot.news.http.fetcher import SafeFetcher
from bot.store.articles import Headline, NewArticle, add_articles, latest_articles
from bot.store.db import Database
from bot.store.models import Article
from bot.stories.lines import StoryLine, story_lines
from tests.feedserver import FeedServer
from tests.support import (
    GROUPING,
    LANGUAGE_FEEDS,
    NEWS_FEEDS,
    FakeClock,
    ingest_feeds,
    schema_before,
    serving_feeds,
)

# The hand-checked English feeds of test_grouping, and feeds in four other languages.
FEEDS = [
    NEWS_FEEDS / name
    for name in json.loads((GROUPING / "january-2017.json").read_text(encoding="utf-8"))[
        "feeds"
    ].values()
] + [
    NEWS_FEEDS / "FeedReader__Rss20Spiegel.xml",
    LANGUAGE_FEEDS / "FeedReader__Rss20LeParisien.xml",
    LANGUAGE_FEEDS / "FeedReader__Rss10Minutos20.xml",
    LANGUAGE_FEEDS / "FeedReader__Rss20YandexRussia-repaired.xml",
]


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with serving_feeds(FEEDS) as feed_server:
        yield feed_server


def stories(lines: list[StoryLine]) -> list[tuple[int, list[int], int]]:
    return [(line.lead.id, line.member_ids, line.first_position) for line in lines]


def read_afresh(headlines: list[Headline]) -> list[Headline]:
    """The same items as a store without stored words gives them."""
    return [dataclasses.replace(headline, story_words=None) for headline in headlines]


async def test_lists_group_the_same_stories_from_stored_words(
    database: Database,
    fetcher: SafeFetcher,
    settings: Settings,
    server: FeedServer,
    clock: FakeClock,
) -> None:
    await ingest_feeds(database, fetcher, settings, server, clock, FEEDS)
    async with database.session() as session:
        stored = (await session.scalars(select(Article))).all()
        everything = await latest_articles(session, limit=2000)
        newest = await latest_articles(session, limit=150)
    # Each item's words as grouping reads them in its own language (detected or declared).
    assert [a.story_words for a in stored] == [
        story_words(a.title, a.description, a.language) for a in stored
    ]
    assert len(everything) > 300
    assert len({headline.language for headline in everything}) >= 5
    for window in (everything, newest):
        from_stored = story_lines(window)
        assert stories(from_stored) == stories(story_lines(read_afresh(window)))
    # Stories of several items were there to tell apart.
    assert sum(1 for line in story_lines(everything) if line.extra_sources) >= 10


async def test_rows_stored_before_story_words_group_with_new_ones(
    database: Database, clock: FakeClock
) -> None:
    """A store made before 0010 keeps its rows; they are read afresh when grouped, and
    tell one story with an item stored after the upgrade."""
    old_title = "Fort Lauderdale airport shooting suspect was Iraq war veteran, officials say"
    new_title = "Fort Lauderdale airport shooting suspect was an Iraq war veteran"
    async with schema_before(database, "0010") as connection:
        for name in ("Old", "New"):
            await connection.execute(
                text(
                    "INSERT INTO sources (url, title, kind, active, allow_private, "
                    "interval_seconds, error_count, created_at) VALUES "
                    "(:url, :name, 'feed', true, false, 900, 0, :now)"
                ),
                {
                    "url": f"https://{name.lower()}.example/feed",
                    "name": name,
                    "now": clock.now(),
                },
            )
        # What add_articles wrote before: no story words.
        await connection.execute(
            text(
                "INSERT INTO articles (source_id, key, title, description, published_at, "
                "fetched_at, search_text) VALUES ((SELECT id FROM sources WHERE title = "
                "'Old'), 'g:1', :title, '', :now, :now, '')"
            ),
            {"title": old_title, "now": clock.now()},
        )

    async with database.session() as session:
        new_source = await session.scalar(text("SELECT id FROM sources WHERE title = 'New'"))
        await add_articles(
            session,
            new_source,
            [NewArticle(title=new_title, published_at=clock.now(), guid="n1", language="en")],
            now=clock.now(),
        )
    async with database.session() as session:
        headlines = await latest_articles(session, limit=10)
    assert sorted(h.story_words is None for h in headlines) == [False, True]
    lines = story_lines(headlines)
    assert [sorted(line.member_ids) for line in lines] == [sorted(h.id for h in headlines)]
    assert lines[0].extra_sources == 1
