"""Fetching one feed end to end against a real loopback server: results, validators, hints."""

from __future__ import annotations

from concurrent.futures import Executor
from datetime import UTC, datetime

import pytest

from bot.news.feeds.fetch import FeedResult, fetch_feed
from bot.news.feeds.poll_schedule import next_fetch_delay
from bot.news.http.fetcher import SafeFetcher
from tests.feedserver import ETAG, LAST_MODIFIED, SAMPLE_FEED, FeedServer, rss_feed
from tests.support import ILLFORMED_FEEDS

NOW = datetime(2024, 1, 3, 12, 0, tzinfo=UTC)


async def poll(fetcher: SafeFetcher, server: FeedServer, path: str, **kwargs) -> FeedResult:
    return await fetch_feed(fetcher, server.url(path), now=NOW, **kwargs)


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


async def test_a_feed_with_one_long_header_is_read(fetcher, server):
    # Sites send Content-Security-Policy headers of several kilobytes.
    sources = "; ".join(f"img-src https://cdn{n}.example" for n in range(400))
    policy = "default-src 'self'; " + sources
    assert 8 * 1024 < len(policy) < 16 * 1024
    server.add("/long-header.xml", SAMPLE_FEED, headers={"Content-Security-Policy": policy})
    result = await poll(fetcher, server, "/long-header.xml")
    assert result.outcome == "ok" and len(result.entries) == 2


@pytest.mark.parametrize("path", ["/fault/gzip-feed", "/fault/deflate-feed"])
async def test_compressed_feeds_are_decoded(fetcher, server, path):
    result = await poll(fetcher, server, path)
    assert result.outcome == "ok"
    assert [e.title for e in result.entries][0] == "Parliament passes the budget"


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
    assert result.outcome == "error" and result.error is not None
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


async def test_corpus_gzipped_response_served_as_http(fetcher, server):
    path = ILLFORMED_FEEDS / "realworld" / "node-feedparser__invalid-characters-gzipped.xml"
    server.add("/nshipster.xml", path.read_bytes(), headers={"Content-Encoding": "gzip"})
    result = await poll(fetcher, server, "/nshipster.xml")
    assert result.outcome == "ok", result.error
    assert result.entries


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/status/500", "http_status"),
        ("/fault/timeout", "timeout"),
        ("/fault/huge", "too_large"),
        ("/fault/redirect-loop", "too_many_redirects"),
        ("/fault/html", "parse"),
        ("/fault/invalid-xml", "parse"),
    ],
)
async def test_a_failed_poll_says_why_in_one_word(fetcher, server, path, kind):
    result = await poll(fetcher, server, path)
    assert (result.outcome, result.error_kind) == ("error", kind)


async def test_a_poll_refused_by_the_address_policy_says_so(fetcher, server):
    blocked = await poll(fetcher, server, "/feed.xml", allow_private=False)
    assert (blocked.outcome, blocked.error_kind) == ("error", "blocked")
    not_http = await fetch_feed(fetcher, "ftp://feeds.example/news.xml", now=NOW)
    assert (not_http.outcome, not_http.error_kind) == ("error", "invalid_url")
