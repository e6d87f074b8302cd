"""Feed parsing: bytes to normalised entries, on made-up documents and real-world feeds."""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
import re
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.news.feeds.parse import (
    MalformedFeed,
    NotAFeed,
    make_parse_executor,
    parse_feed,
    parse_feed_async,
)
from tests.feedserver import HTML_PAGE, SAMPLE_FEED, rss_feed
from tests.support import ILLFORMED_FEEDS, NEWS_FEEDS

NOW = datetime(2024, 1, 3, 12, 0, tzinfo=UTC)
TAG = re.compile(r"<[A-Za-z/!][^>]*>")
ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty document"),
        (b"  \n\t ", "empty document"),
        (
            b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
            "got a JSON document, not an RSS or Atom feed",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not an RSS or Atom feed"),
        (
            gzip.compress(SAMPLE_FEED),
            "got compressed (gzip) data the server did not label, not a feed",
        ),
        (
            b'<?xml version="1.0"?><catalog><book>x</book></catalog>',
            "not an RSS or Atom feed (the document is <catalog>)",
        ),
        (HTML_PAGE, "got an HTML page, not a feed"),
    ],
)
def test_not_a_feed(body, message):
    with pytest.raises(NotAFeed) as caught:
        parse_feed(body, url="https://news.example/feed", now=NOW)
    assert str(caught.value) == message


def test_missing_dates_guids_and_links():
    feed = rss_feed(
        [
            {"title": "No date, guid or link"},
            {"link": "https://news.example/only-link", "description": "Only a link and some text"},
            {"description": "Neither a title nor a link"},
            {"title": "<b></b>"},  # no text once cleaned: counts as no title
        ]
    )
    parsed = parse_feed(feed, url="https://news.example/feed", now=NOW)

    assert parsed.skipped == 2
    bare, link_only = parsed.entries
    assert (bare.guid, bare.url, bare.published_at) == (None, None, NOW)
    assert link_only.title == "Only a link and some text"
    assert link_only.url == "https://news.example/only-link"

    atom = b"""<?xml version="1.0" encoding="utf-8"?>
    <feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
      <entry><title>Updated only</title><id>urn:x:1</id><updated>2024-01-02T03:04:05+02:00</updated>
        <link href="/posts/1"/><author><name>Ada</name></author></entry>
    </feed>"""
    (entry,) = parse_feed(atom, url="https://blog.example/atom.xml", now=NOW).entries
    assert entry.published_at == datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC)
    assert entry.url == "https://blog.example/posts/1"  # relative to the feed's own URL
    assert (entry.guid, entry.author) == ("urn:x:1", "Ada")


def test_future_dates_are_clamped_to_now():
    feed = rss_feed(
        [
            {
                "title": "From the future",
                "link": "https://n.example/f",
                "pubDate": "Fri, 01 Jan 2100 00:00:00 GMT",
            }
        ]
    )
    (entry,) = parse_feed(feed, url="https://n.example/feed", now=NOW).entries
    assert entry.published_at == NOW


def test_long_text_unsafe_links_and_entities():
    long_text = " ".join(["word"] * 2000)
    feed = rss_feed(
        [
            {
                "title": "Fish &amp; chips",
                "link": "javascript:alert(1)",
                "description": f"<script>steal()</script><p>{long_text}</p>",
            },
        ]
    )
    (entry,) = parse_feed(feed, url="https://n.example/feed", now=NOW).entries
    assert entry.title == "Fish & chips"
    assert entry.url is None  # never a javascript: link in a chat
    assert "steal" not in entry.description
    assert len(entry.description) <= 2001 and entry.description.endswith("word…")


def test_feedparser_never_opens_a_path_or_url(tmp_path, server):
    feed_file = tmp_path / "feed.xml"
    feed_file.write_bytes(SAMPLE_FEED)

    # Were these read as a file name or fetched as a URL, a valid feed would come back.
    for body in (
        str(feed_file).encode(),
        b"/etc/hostname",
        server.url("/fault/etag").encode(),
        feed_file.as_uri().encode(),
    ):
        server.clear()
        with pytest.raises(NotAFeed):
            parse_feed(body, url="https://n.example/feed", now=NOW)
        assert server.requests == []
    with pytest.raises(TypeError):
        parse_feed(str(feed_file), url="https://n.example/feed", now=NOW)  # type: ignore[arg-type]


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    feed = f"""<?xml version="1.0"?>
    <!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>
    <rss version="2.0"><channel><title>t</title>
    <item><title>A &xxe; B</title><link>https://n.example/a</link></item></channel></rss>""".encode()
    parsed = parse_feed(feed, url="https://n.example/feed", now=NOW)
    assert all("TOP-SECRET" not in e.title + e.description for e in parsed.entries)


async def test_parsing_in_a_process_pool():
    executor = make_parse_executor(2)
    assert executor is not None and make_parse_executor(1) is None
    try:
        parsed = await parse_feed_async(
            SAMPLE_FEED, url="https://n.example/feed", now=NOW, executor=executor
        )
        assert len(parsed.entries) == 2
        with pytest.raises(NotAFeed):
            await parse_feed_async(
                HTML_PAGE, url="https://n.example/feed", now=NOW, executor=executor
            )
    finally:
        executor.shutdown()


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail instead of hanging (POSIX main thread only; elsewhere no guard)."""
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"still parsing after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def corpus_files(root: Path) -> list:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix not in (".md", ".json"))
    return [pytest.param(p, id=str(p.relative_to(root))) for p in files]


@functools.cache
def news_index() -> dict:
    return json.loads((NEWS_FEEDS / "index.json").read_text())


@pytest.mark.parametrize("path", corpus_files(NEWS_FEEDS))
def test_corpus_news_feeds(path: Path):
    with deadline(10):
        parsed = parse_feed(path.read_bytes(), url="https://news.example/feed", now=NOW)

    assert parsed.entries, "a real news feed must yield entries"
    expected = news_index().get(path.name, {}).get("feedparser_entries")
    if expected is not None:
        assert len(parsed.entries) + parsed.skipped == expected
    for entry in parsed.entries:
        assert entry.title, entry
        assert not TAG.search(entry.title), entry.title
        assert not ENTITY.search(entry.title), entry.title
        assert entry.published_at.tzinfo is not None
        assert entry.published_at.utcoffset() == timedelta(0)
        assert entry.published_at <= NOW
        assert entry.url is None or entry.url.startswith(("http://", "https://"))
        assert len(entry.description) <= 2001


@pytest.mark.parametrize("path", corpus_files(ILLFORMED_FEEDS))
def test_corpus_illformed_feeds(path: Path):
    with deadline(10):
        try:
            parsed = parse_feed(path.read_bytes(), url="https://news.example/feed", now=NOW)
        except (NotAFeed, MalformedFeed) as exc:
            assert str(exc)  # something an admin can read
            return
    for entry in parsed.entries:
        assert entry.title or entry.url
        assert entry.published_at.tzinfo is not None


ZURICH_ITEMS = [
    {"title": "Zürich votes on the new tram line", "guid": "tram"},
    {"title": "Genève: lake festival moved", "guid": "lake"},
]


def test_one_invalid_utf8_byte_costs_only_that_byte():
    feed = rss_feed(ZURICH_ITEMS).replace(b"festival", b"fest\xffival")
    parsed = parse_feed(feed, url="https://news.example/feed", now=NOW)
    assert [e.title for e in parsed.entries] == [
        "Zürich votes on the new tram line",
        "Genève: lake fest\ufffdival moved",
    ]


def test_windows_1252_labelled_utf8_is_still_read_as_windows_1252():
    feed = rss_feed(ZURICH_ITEMS, encoding="windows-1252").replace(
        b'encoding="windows-1252"', b'encoding="utf-8"'
    )
    parsed = parse_feed(feed, url="https://news.example/feed", now=NOW)
    assert [e.title for e in parsed.entries][0] == "Zürich votes on the new tram line"


def test_a_broken_byte_is_not_mended_when_the_server_names_another_charset():
    feed = rss_feed(ZURICH_ITEMS, encoding="iso-8859-1", declare_encoding=False)
    parsed = parse_feed(
        feed,
        url="https://news.example/feed",
        headers={"Content-Type": "application/rss+xml; charset=iso-8859-1"},
        now=NOW,
    )
    assert [e.title for e in parsed.entries][1] == "Genève: lake festival moved"


def dated_items(count: int) -> list[dict[str, str]]:
    """Items numbered 0.. and dated a minute apart, the newest last in the document."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return [
        {
            "title": f"Item {number}",
            "link": f"https://news.example/{number}",
            "pubDate": (start + timedelta(minutes=number)).strftime("%a, %d %b %Y %H:%M:%S +0000"),
        }
        for number in range(count)
    ]


def test_a_feed_over_the_item_cap_keeps_its_newest_items_in_document_order():
    parsed = parse_feed(
        rss_feed(dated_items(1000)), url="https://news.example/feed", now=NOW, max_items=300
    )
    assert [e.title for e in parsed.entries] == [f"Item {n}" for n in range(700, 1000)]
    assert parsed.over_cap == 700
