"""Feed fetching and parsing against a real loopback server and real-world feeds."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import json
import re
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.news.feeds import (
    FeedResult,
    MalformedFeed,
    NotAFeed,
    fetch_feed,
    make_parse_executor,
    next_fetch_delay,
    parse_feed,
    parse_feed_async,
    stable_jitter,
)
from bot.news.http import (
    BadScheme,
    BlockedAddress,
    FetchTimeout,
    HTTPStatusError,
    SafeFetcher,
    TooLarge,
    TooManyRedirects,
)
from tests.feedserver import (
    ETAG,
    HTML_PAGE,
    LAST_MODIFIED,
    SAMPLE_FEED,
    FeedServer,
    rss_feed,
)

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
NOW = datetime(2024, 1, 3, 12, 0, tzinfo=UTC)
TAG = re.compile(r"<[A-Za-z/!][^>]*>")
ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with FeedServer() as feed_server:
        yield feed_server


@pytest.fixture
async def fetcher():
    async with SafeFetcher(
        allow_private=True, timeout=5, connect_timeout=2, read_timeout=2
    ) as client:
        yield client


async def poll(fetcher: SafeFetcher, server: FeedServer, path: str, **kwargs) -> FeedResult:
    return await fetch_feed(fetcher, server.url(path), now=NOW, **kwargs)


# --------------------------------------------------------------------- happy path


async def test_fetches_and_normalises_a_feed(fetcher, server):
    result = await poll(fetcher, server, "/fault/etag")

    assert result.outcome == "ok" and result.error is None
    assert result.title == "Test feed"
    budget, storm = result.entries
    assert budget.title == "Parliament passes the budget"
    assert budget.url == "https://news.example/budget"  # tracking parameter dropped
    assert budget.guid == "https://news.example/budget"
    assert budget.description == "The vote was close tonight."
    assert budget.published_at == datetime(2024, 1, 2, 10, 0, tzinfo=UTC)
    assert storm.published_at == datetime(2024, 1, 2, 8, 0, tzinfo=UTC)  # +0100 -> UTC
    assert result.etag == ETAG and result.last_modified == LAST_MODIFIED
    sent = server.requests_to("/fault/etag")[-1].headers
    assert sent["user-agent"].startswith("newsbot/")
    assert "+https://github.com/newsbot/newsbot" in sent["user-agent"]
    assert "application/rss+xml" in sent["accept"]


@pytest.mark.parametrize("path", ["/fault/gzip-feed", "/fault/deflate-feed"])
async def test_compressed_feeds_are_decoded(fetcher, server, path):
    result = await poll(fetcher, server, path)
    assert result.outcome == "ok"
    assert [e.title for e in result.entries][0] == "Parliament passes the budget"


# ----------------------------------------------------------------- HTTP failures


async def test_server_error_500(fetcher, server):
    result = await poll(fetcher, server, "/status/500", etag='"old"', last_modified=LAST_MODIFIED)
    assert result.outcome == "error"
    assert result.error == "HTTP 500 Internal Server Error"
    assert result.status_code == 500
    assert result.entries == []
    # The stored validators come back untouched, so the caller may save them blindly.
    assert result.etag == '"old"' and result.last_modified == LAST_MODIFIED


async def test_not_found_404(fetcher, server):
    result = await poll(fetcher, server, "/status/404")
    assert (result.outcome, result.error, result.status_code) == (
        "error",
        "HTTP 404 Not Found",
        404,
    )


async def test_429_retry_after_is_honoured(fetcher, server):
    result = await poll(fetcher, server, "/status/429?retry_after=3600")

    assert result.outcome == "error"
    assert result.error == "HTTP 429 Too Many Requests (retry after 3600 s)"
    assert result.retry_after == 3600
    assert result.refresh_hint_seconds == 3600
    # The server asks for more than backoff alone would give: it gets it.
    delay = next_fetch_delay(300, result.refresh_hint_seconds, error_count=1)
    assert delay == 3600


async def test_503_retry_after_as_http_date(fetcher, server):
    result = await poll(fetcher, server, "/status/503?retry_after=date:600")
    assert result.status_code == 503
    assert result.retry_after is not None and 590 <= result.retry_after <= 610
    assert result.refresh_hint_seconds == result.retry_after


async def test_timeout_when_server_never_answers(server):
    async with SafeFetcher(allow_private=True, timeout=5, read_timeout=0.2) as fetcher:
        result = await poll(fetcher, server, "/fault/timeout")
        assert result.outcome == "error"
        assert result.error == "timed out after 0.2 s"
        with pytest.raises(FetchTimeout):
            await fetcher.fetch(server.url("/fault/timeout"))


async def test_slow_drip_is_cut_off_by_the_total_limit(server):
    # Every byte arrives well within the read timeout; only the total limit stops it.
    async with SafeFetcher(allow_private=True, timeout=0.3, read_timeout=2) as fetcher:
        result = await poll(fetcher, server, "/fault/slow?interval=0.05&size=5000")
    assert result.outcome == "error"
    assert result.error == "timed out after 0.3 s"


@pytest.mark.parametrize("path", ["/fault/huge", "/fault/huge-declared"])
async def test_20_mb_body_is_refused(fetcher, server, path):
    result = await poll(fetcher, server, path)
    assert result.outcome == "error"
    assert result.error == "body larger than 10 MB"
    with pytest.raises(TooLarge):
        await fetcher.fetch(server.url(path), max_bytes=1024 * 1024)


async def test_gzip_bomb_is_refused_by_decoded_size(fetcher, server):
    result = await poll(fetcher, server, "/fault/gzip-bomb")
    assert result.outcome == "error"
    assert result.error == "body larger than 10 MB"


async def test_redirect_loop(fetcher, server):
    result = await poll(fetcher, server, "/fault/redirect-loop")
    assert result.outcome == "error"
    assert result.error == "redirect loop"


async def test_too_many_redirects(fetcher, server):
    assert (await poll(fetcher, server, "/fault/redirect-chain/5")).outcome == "ok"
    result = await poll(fetcher, server, "/fault/redirect-chain/6")
    assert result.error == "too many redirects (more than 5)"
    with pytest.raises(TooManyRedirects):
        await fetcher.fetch(server.url("/fault/redirect-chain/6"))


async def test_permanent_move_reports_the_new_url(fetcher, server):
    moved = await poll(fetcher, server, "/fault/moved")  # 301 then 308
    assert moved.outcome == "ok" and moved.entries
    assert moved.permanent_url == server.url("/feeds/moved.xml")

    temporary = await poll(fetcher, server, "/fault/temporary")  # 302
    mixed = await poll(fetcher, server, "/fault/mixed")  # 301 then 302
    assert temporary.entries and temporary.permanent_url is None
    assert mixed.entries and mixed.permanent_url is None


async def test_not_modified_304_does_no_parsing(fetcher, server):
    class NoParsing(Executor):
        def submit(self, *args, **kwargs):
            raise AssertionError("a 304 must not be parsed")

    result = await poll(fetcher, server, "/fault/etag", etag=ETAG, executor=NoParsing())

    assert result.outcome == "not_modified"
    assert result.entries == [] and result.error is None
    assert result.etag == ETAG and result.last_modified == LAST_MODIFIED
    assert server.requests_to("/fault/etag")[-1].headers["if-none-match"] == ETAG

    by_date = await poll(
        fetcher, server, "/fault/etag", last_modified=LAST_MODIFIED, executor=NoParsing()
    )
    assert by_date.outcome == "not_modified"
    assert server.requests_to("/fault/etag")[-1].headers["if-modified-since"] == LAST_MODIFIED


async def test_freshness_hints_from_headers_and_ttl(fetcher, server):
    max_age = await poll(fetcher, server, "/fault/max-age")
    assert max_age.refresh_hint_seconds == 1800

    server.add(
        "/ttl.xml",
        rss_feed([{"title": "t", "link": "https://n.example/t"}], ttl=90),
        headers={"Cache-Control": "max-age=600"},
    )
    ttl = await poll(fetcher, server, "/ttl.xml")
    assert ttl.refresh_hint_seconds == 90 * 60  # the larger of ttl and max-age

    server.add(
        "/expires.xml",
        SAMPLE_FEED,
        headers={
            "Date": "Mon, 01 Jan 2024 00:00:00 GMT",
            "Expires": "Mon, 01 Jan 2024 02:00:00 GMT",
        },
    )
    expires = await poll(fetcher, server, "/expires.xml")
    assert expires.refresh_hint_seconds == 7200  # measured from the server's Date

    plain = await poll(fetcher, server, "/feeds/moved.xml")
    assert plain.refresh_hint_seconds is None


# ------------------------------------------------------------------ bad content


async def test_html_page_instead_of_a_feed(fetcher, server):
    result = await poll(fetcher, server, "/fault/html")
    assert result.outcome == "error"
    assert result.error == "got an HTML page, not a feed"
    assert result.etag is None  # a broken response never replaces stored validators


async def test_illformed_but_recoverable_feed_is_accepted(fetcher, server):
    result = await poll(fetcher, server, "/fault/illformed")
    assert result.outcome == "ok"
    assert [e.title for e in result.entries] == ["Café opens & closes", "Second & last"]


async def test_hopeless_xml_is_malformed(fetcher, server):
    result = await poll(fetcher, server, "/fault/invalid-xml")
    assert result.outcome == "error"
    assert result.error.startswith("feed is not well-formed XML (line 2")
    assert result.error.endswith("no item could be read")


async def test_wrong_declared_encoding_is_recovered(fetcher, server):
    # windows-1252 bytes while Content-Type claims UTF-8.
    result = await poll(fetcher, server, "/fault/wrong-encoding")
    assert [e.title for e in result.entries] == ["Café crème à la gare"]


async def test_charset_from_content_type_is_honoured(fetcher, server):
    # No XML declaration: only the HTTP header says ISO-8859-1.
    result = await poll(fetcher, server, "/fault/header-charset")
    assert [e.title for e in result.entries] == ["Café crème à la gare"]


async def test_feed_served_with_a_non_xml_content_type_is_accepted(fetcher, server):
    server.add("/as-html.xml", SAMPLE_FEED, content_type="text/html; charset=utf-8")
    result = await poll(fetcher, server, "/as-html.xml")
    assert result.outcome == "ok" and len(result.entries) == 2


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


# --------------------------------------------------------------- address policy


async def test_private_address_blocked_when_not_allowed(server):
    async with SafeFetcher() as fetcher:  # the fetcher's default: no private addresses
        server.clear()
        result = await fetch_feed(fetcher, server.url("/fault/etag"), allow_private=False, now=NOW)
        assert result.outcome == "error"
        assert result.error == "blocked: 127.0.0.1 is a loopback address"
        with pytest.raises(BlockedAddress):
            await fetcher.fetch(server.url("/fault/etag"))
        assert server.requests == []  # refused before connecting

        # An admin's feed may live on the intranet: the per-call flag allows it.
        allowed = await fetch_feed(fetcher, server.url("/fault/etag"), allow_private=True, now=NOW)
        assert allowed.outcome == "ok"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://10.1.2.3/feed", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),  # cloud metadata
        ("http://[::1]/feed", "loopback"),
        ("http://[::ffff:127.0.0.1]/feed", "loopback"),
        ("http://0.0.0.0/feed", "unspecified"),
        ("http://224.0.0.1/feed", "multicast"),
        ("http://100.64.0.1/feed", "non-public"),
    ],
)
async def test_private_literal_addresses_are_blocked(url, kind):
    async with SafeFetcher() as fetcher:
        with pytest.raises(BlockedAddress) as caught:
            await fetcher.fetch(url)
    assert caught.value.kind == kind


async def test_names_are_checked_by_what_they_resolve_to_and_pinned(server):
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "feeds.test" else []

    url = f"http://feeds.test:{server.port}/fault/etag"
    async with SafeFetcher(resolver=resolver) as fetcher:
        blocked = await fetch_feed(fetcher, url, allow_private=False, now=NOW)
        assert blocked.error == "blocked: feeds.test resolves to a loopback address (127.0.0.1)"

        server.clear()
        result = await fetch_feed(fetcher, url, allow_private=True, now=NOW)
        assert result.outcome == "ok"
        # Connected to the checked address, while the server still saw its own name.
        assert server.requests_to("/fault/etag")[0].headers["host"] == f"feeds.test:{server.port}"

        unknown = await fetch_feed(fetcher, "http://nowhere.test/feed", now=NOW)
        assert unknown.error == "cannot resolve host nowhere.test"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/feed.xml",
        "javascript:alert(1)",
        "gopher://x/",
        "//example.com/feed",
    ],
)
async def test_non_http_schemes_are_refused(fetcher, url):
    with pytest.raises(BadScheme):
        await fetcher.fetch(url)
    result = await fetch_feed(fetcher, url, now=NOW)
    assert result.outcome == "error"
    assert "only http and https" in result.error


async def test_redirect_to_a_non_http_scheme_is_refused(fetcher, server):
    result = await poll(fetcher, server, "/redirect/302?to=file:///etc/passwd")
    assert result.error == "unsupported URL scheme 'file': only http and https"


async def test_per_host_concurrency_cap(server):
    async with SafeFetcher(allow_private=True, per_host=1) as fetcher:
        server.clear()
        results = await asyncio.gather(
            *(poll(fetcher, server, "/fault/concurrency") for _ in range(4))
        )
    assert all(r.outcome == "ok" for r in results)
    assert server.max_in_flight == 1


async def test_http_status_error_carries_status_and_retry_after(fetcher, server):
    with pytest.raises(HTTPStatusError) as caught:
        await fetcher.fetch(server.url("/status/429?retry_after=120"))
    assert (caught.value.status_code, caught.value.retry_after) == (429, 120)


# ------------------------------------------------------------------ scheduling


def test_next_fetch_delay_clamps_to_what_the_server_says():
    assert next_fetch_delay(900, None, error_count=0) == 900
    assert next_fetch_delay(900, 60, error_count=0) == 900  # never faster than our interval
    assert next_fetch_delay(900, 1800, error_count=0) == 1800  # the server asks for slower
    assert next_fetch_delay(900, 30 * 86400, error_count=0) == 3600  # but at most 4x ours
    assert next_fetch_delay(10, None, error_count=0) == 60  # min_seconds
    assert next_fetch_delay(10, None, error_count=0, min_seconds=5) == 10


def test_next_fetch_delay_backs_off_on_errors():
    assert next_fetch_delay(900, None, error_count=1) == 1800
    assert next_fetch_delay(900, None, error_count=3) == 7200
    assert next_fetch_delay(900, None, error_count=50) == 86400  # capped at 24 h
    assert next_fetch_delay(900, 10 * 3600, error_count=1) == 10 * 3600  # Retry-After wins
    assert next_fetch_delay(900, 30 * 86400, error_count=1) == 86400  # within the cap


def test_next_fetch_delay_jitter_is_injected_and_only_adds():
    assert next_fetch_delay(900, None, error_count=0, jitter=0.1) == pytest.approx(990)
    assert next_fetch_delay(900, None, error_count=0, jitter=-0.5) == 900
    assert stable_jitter("source-1") == stable_jitter("source-1")
    assert 0 <= stable_jitter("source-2") < 0.1


# ---------------------------------------------------------------------- corpus


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


def corpus_files(folder: str) -> list:
    root = CORPUS / "feeds" / folder
    if not root.is_dir():
        return [
            pytest.param(None, marks=pytest.mark.skip(reason=f"feed corpus not found at {root}"))
        ]
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix not in (".md", ".json"))
    return [pytest.param(p, id=str(p.relative_to(root))) for p in files]


@functools.cache
def news_index() -> dict:
    index = CORPUS / "feeds" / "news" / "index.json"
    return json.loads(index.read_text()) if index.is_file() else {}


@pytest.mark.parametrize("path", corpus_files("news"))
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


@pytest.mark.parametrize("path", corpus_files("illformed"))
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


async def test_corpus_gzipped_response_served_as_http(fetcher, server):
    path = (
        CORPUS
        / "feeds"
        / "illformed"
        / "realworld"
        / "node-feedparser__invalid-characters-gzipped.xml"
    )
    if not path.is_file():
        pytest.skip(f"feed corpus not found at {path}")
    server.add("/nshipster.xml", path.read_bytes(), headers={"Content-Encoding": "gzip"})
    result = await poll(fetcher, server, "/nshipster.xml")
    assert result.outcome == "ok", result.error
    assert result.entries
