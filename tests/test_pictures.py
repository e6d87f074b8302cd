"""Pictures: kept at ingest from what real feeds name, shown large above the top story and
summaries, and a message Telegram refuses for its picture sent again without it.

Real feeds and an article page from tests/data are served on loopback and read through
the real fetch, parse and store path; the bot talks to the fake Bot API.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.news.feeds.parse import parse_feed
from bot.news.http.fetcher import SafeFetcher
from bot.news.images import entry_image, public_image_url
from bot.store.db import Database
from bot.store.models import Article, Source
from bot.stories.summary import article_summary
from tests.botharness import running_bot
from tests.feedserver import FeedServer
from tests.support import NEWS_FEEDS, FakeClock, ingest_feeds, page_html, serving_feeds
from tests.test_digests import dispatch, subscribe_chats

GUARDIAN = NEWS_FEEDS / "rss-parser__guardian.rss"  # two media:content sizes per item
MIRROR = NEWS_FEEDS / "FeedReader__Rss20TheMirror.xml"  # an image enclosure per item
GOLEM = NEWS_FEEDS / "miniflux__encoding_ISO-8859-1.xml"  # only an <img> in the HTML
REUTERS = NEWS_FEEDS / "FeedReader__Rss20Reuters.xml"  # FeedBurner share buttons, no picture
FEEDS = [GUARDIAN, MIRROR, GOLEM, REUTERS]
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with serving_feeds(FEEDS) as feed_server:
        yield feed_server


@pytest.fixture
def quiet_settings(settings: Settings, tmp_path: Path) -> Settings:
    (tmp_path / "no-seeds").mkdir()
    return settings.model_copy(update={"seeds_dir": str(tmp_path / "no-seeds")})


def test_the_largest_picture_each_real_feed_names_is_kept() -> None:
    guardian = parse_feed(GUARDIAN.read_bytes(), url="https://feeds.example.org/feed.xml", now=NOW)
    assert all(entry.image for entry in guardian.entries)
    # Of media:content at 140 and 460 pixels wide, the 460.
    assert all("w=460" in (entry.image or "") for entry in guardian.entries)
    mirror = parse_feed(MIRROR.read_bytes(), url="https://feeds.example.org/feed.xml", now=NOW)
    enclosures = [
        e.enclosures[0].href for e in feedparser.parse(MIRROR.read_bytes()).entries if e.enclosures
    ]
    assert enclosures and [e.image for e in mirror.entries] == enclosures
    golem = parse_feed(GOLEM.read_bytes(), url="https://feeds.example.org/feed.xml", now=NOW)
    assert all(re.match(r"https://www\.golem\.de/.+\.jpg$", e.image or "") for e in golem.entries)
    # FeedBurner's share buttons and counter pixel are images, not the story's picture.
    assert [
        e.image
        for e in parse_feed(
            REUTERS.read_bytes(), url="https://feeds.example.org/feed.xml", now=NOW
        ).entries
    ] == [None] * 10


@pytest.mark.parametrize(
    ("named", "kept"),
    [
        ("https://cdn.example.org/a.jpg", "https://cdn.example.org/a.jpg"),
        ("//cdn.example.org/a.jpg", "https://cdn.example.org/a.jpg"),
        ("/img/a.jpg", "https://news.example.org/img/a.jpg"),
        ("http://127.0.0.1/a.jpg", None),
        ("http://10.1.2.3/a.jpg", None),
        ("http://[::1]/a.jpg", None),
        ("http://localhost/a.jpg", None),
        ("http://printer.local/a.jpg", None),
        ("http://intranet/a.jpg", None),
        ("ftp://cdn.example.org/a.jpg", None),
        ("data:image/png;base64,AAAA", None),
        ("javascript:alert(1)", None),
        ("https://cdn.example.org/" + "a" * 3000 + ".jpg", None),
    ],
)
def test_only_public_web_addresses_are_kept(named: str, kept: str | None) -> None:
    assert public_image_url(named, "https://news.example.org/story/1") == kept
    entry = {"media_content": [{"url": named, "medium": "image"}]}
    assert entry_image(entry, "https://news.example.org/story/1") == kept


def test_tiny_images_and_other_media_are_not_pictures() -> None:
    pixel = {"summary": '<img src="https://t.example.org/p.gif" width="1" height="1">'}
    assert entry_image(pixel, None) is None
    video = {"media_content": [{"url": "https://v.example.org/clip.mp4", "medium": "video"}]}
    assert entry_image(video, None) is None
    audio = {"enclosures": [{"href": "https://a.example.org/ep.mp3", "type": "audio/mpeg"}]}
    assert entry_image(audio, None) is None


async def test_the_digests_top_story_shows_its_picture_and_goes_without_if_refused(
    database: Database,
    fetcher: SafeFetcher,
    quiet_settings: Settings,
    server: FeedServer,
    clock: FakeClock,
) -> None:
    await ingest_feeds(database, fetcher, quiet_settings, server, clock, [GUARDIAN])
    async with database.session() as session:
        stored = (await session.scalars(select(Article.image_url))).all()
    assert stored and all(url and "w=460" in url for url in stored)
    async with running_bot(quiet_settings, clock) as user:
        (listing,) = await user.command("/latest")
        top_id = int(
            next(
                d
                for row in listing.params["reply_markup"]["inline_keyboard"]
                for b in row
                if (d := b["callback_data"]).startswith("s:")
            ).removeprefix("s:")
        )
        # Telegram cannot read the picture: the summary is sent again, without it.
        user.fake.fail_next("sendMessage", 400, "Bad Request: WEBPAGE_MEDIA_EMPTY")
        (summary,) = await user.command(f"/summary {top_id}")
        (again,) = await user.command(f"/summary {top_id}")
    refused = user.fake.failed_calls("sendMessage")
    assert len(refused) == 1
    asked = refused[0].params["link_preview_options"]
    assert asked["prefer_large_media"] and asked["show_above_text"]
    assert "w=460" in asked["url"]
    assert summary.params["link_preview_options"].get("is_disabled") is True
    assert summary.params["text"] == refused[0].params["text"]
    shown = again.params["link_preview_options"]
    assert shown["url"] == asked["url"] and not shown.get("is_disabled")


async def test_a_digest_refused_for_its_picture_arrives_once_without_it(
    database: Database,
    fetcher: SafeFetcher,
    quiet_settings: Settings,
    server: FeedServer,
    clock: FakeClock,
) -> None:
    await ingest_feeds(database, fetcher, quiet_settings, server, clock, [GUARDIAN])
    async with running_bot(quiet_settings, clock) as user:
        await subscribe_chats(user, [31], times=["09:30"], zone="UTC")
        clock.advance(minutes=31)
        user.fake.fail_next("sendMessage", 400, "Bad Request: WEBPAGE_CURL_FAILED", chat_id=31)
        report = await dispatch(user)
        query_id = user.fake.send_inline_query(31, "")
        (answer,) = await user.fake.wait_for(
            "answerInlineQuery", lambda c: c.params.get("inline_query_id") == query_id
        )
    # Inline results carry each story's picture as their thumbnail.
    results = answer.params["results"]
    assert results and all("w=460" in r["thumbnail_url"] for r in results)
    assert report.sent == 1
    (refused,) = user.fake.failed_calls("sendMessage", chat_id=31)
    (digest,) = user.fake.sent_messages(31)
    picture = refused.params["link_preview_options"]
    assert picture["prefer_large_media"] and picture["show_above_text"]
    assert picture["url"].startswith("https://i.guim.co.uk/") and "w=460" in picture["url"]
    assert digest.params["text"] == refused.params["text"]
    assert digest.params["link_preview_options"]["is_disabled"] is True


async def test_a_pages_picture_is_kept_when_its_feed_named_none(
    database: Database, clock: FakeClock, server: FeedServer, fetcher: SafeFetcher
) -> None:
    url = server.add(
        "/bbc-story.html", page_html("bbc.com.52241221.html"), content_type="text/html"
    )
    async with database.session() as session:
        source = Source(url="https://news.example/feed", title="Example", created_at=clock.now())
        session.add(source)
        await session.flush()
        article = Article(
            source_id=source.id,
            key="g:bbc",
            title="Hart Island",
            url=url,
            published_at=clock.now(),
            fetched_at=clock.now(),
        )
        session.add(article)
        await session.flush()
        article_id = article.id
    summary = await article_summary(database, article_id, fetcher=fetcher, allow_private=True)
    assert summary is not None
    assert summary.image == "https://ichef.bbci.co.uk/images/ic/1024x576/p08960hj.jpg"
    async with database.session() as session:
        assert (
            await session.scalar(select(Article.image_url).where(Article.id == article_id))
            == summary.image
        )
