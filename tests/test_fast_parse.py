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


ATOM_IN_ENGLISH = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/"
      xml:lang="en_GB">
<title>Harbour News</title>
<link rel="alternate" href="https://harbour.example/?from=feed&amp;kind=all"/>
<id>https://harbour.example/</id>
<updated>2026-11-29T08:00:00Z</updated>
<entry>
<title>Storm closes the harbour</title>
<link rel="alternate" href="https://harbour.example/storm?utm_source=rss&amp;page=2&#38;x=1"/>
<id>https://harbour.example/a/1</id>
<updated>2026-11-29T07:00:00Z</updated>
<media:thumbnail url="https://harbour.example/storm.jpg?w=800&amp;h=450"/>
<summary type="html">&lt;p&gt;Gales closed the harbour.&lt;/p&gt;</summary>
</entry>
</feed>"""


def test_an_atom_feed_with_a_language_and_escaped_links_takes_the_fast_path_unchanged():
    # feedparser-rs leaves "&amp;" in Atom attributes; the root's xml:lang is every item's.
    assert read_fast(ATOM_IN_ENGLISH, {}, URL) is not None
    fast = parse_feed(ATOM_IN_ENGLISH, url=URL, now=NOW)
    assert fast == parse_feed(ATOM_IN_ENGLISH, url=URL, now=NOW, fast=False)
    (entry,) = fast.entries
    assert (fast.language, entry.language) == ("en", "en")
    assert entry.url == "https://harbour.example/storm?page=2&x=1"
    assert entry.image == "https://harbour.example/storm.jpg?w=800&h=450"


def test_an_xml_lang_below_the_root_is_left_to_feedparser():
    nested = ATOM_IN_ENGLISH.replace(b"<entry>", b'<entry xml:lang="de">')
    assert read_fast(nested, {}, URL) is None
    assert parse_feed(nested, url=URL, now=NOW).entries[0].language == "de"


def test_the_mending_table_maps_only_c1_controls():
    # fastread skips the table for values without a C1 control: it must map nothing else.
    from bot.news.feeds import fastread

    assert fastread._CP1252 and all(0x80 <= point <= 0x9F for point in fastread._CP1252)
