"""The fast path stores what feedparser alone stores, and leaves to it what it cannot read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.news.feeds.fastread import read_fast
from bot.news.feeds.parse import parse_feed
from tests.support import ILLFORMED_FEEDS, NEWS_FEEDS

NOW = datetime(2026, 11, 30, tzinfo=UTC)
URL = "https://feeds.example/news"
NEWS = sorted(path for path in NEWS_FEEDS.glob("*") if path.suffix in (".xml", ".rss", ".atom"))


@pytest.mark.parametrize("path", NEWS, ids=lambda path: path.name)
def test_real_news_feed_stores_the_same_entries_on_either_path(path: Path):
    body = path.read_bytes()
    alone = parse_feed(body, url=URL, now=NOW, fast=False)
    fast = parse_feed(body, url=URL, now=NOW)
    assert fast == alone
    assert alone.entries


def test_most_real_news_feeds_take_the_fast_path():
    read = [path.name for path in NEWS if read_fast(path.read_bytes(), {}, URL) is not None]
    # The rest are double-encoded ("Ã©") with character references, or not UTF-8.
    assert len(read) >= len(NEWS) // 2, read


@pytest.mark.parametrize(
    "name",
    [
        # feedparser-rs stops at the broken ampersand; feedparser recovers the item.
        "feedparser/illformed/rss_item_link_corrupted_ampersands.xml",
        # feedparser-rs reads it without complaint, but not item for item as feedparser does.
        "realworld/node-feedparser__illegally-nested.xml",
    ],
)
def test_feed_the_fast_parser_cannot_read_still_parses_through_feedparser(name: str):
    body = (ILLFORMED_FEEDS / name).read_bytes()
    assert read_fast(body, {}, URL) is None
    parsed = parse_feed(body, url=URL, now=NOW)
    assert parsed.entries
    assert parsed == parse_feed(body, url=URL, now=NOW, fast=False)
