"""SafeFetcher's limits: time, size, redirects, concurrency, and the errors that name them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.news.feeds.fetch import fetch_feed
from bot.news.http.errors import FetchTimeout, HTTPStatusError, TooLarge, TooManyRedirects
from bot.news.http.fetcher import SafeFetcher
from tests.feedserver import SAMPLE_FEED

NOW = datetime(2024, 1, 3, 12, 0, tzinfo=UTC)


async def test_timeout_when_server_never_answers(server):
    async with SafeFetcher(allow_private=True, timeout=5, read_timeout=0.2) as fetcher:
        result = await fetch_feed(fetcher, server.url("/fault/timeout"), now=NOW)
        assert result.outcome == "error"
        assert result.error == "timed out after 0.2 s"
        with pytest.raises(FetchTimeout):
            await fetcher.fetch(server.url("/fault/timeout"))


async def test_slow_drip_is_cut_off_by_the_total_limit(server):
    # Every byte arrives well within the read timeout; only the total limit stops it.
    async with SafeFetcher(allow_private=True, timeout=0.3, read_timeout=2) as fetcher:
        result = await fetch_feed(
            fetcher, server.url("/fault/slow?interval=0.05&size=5000"), now=NOW
        )
    assert result.outcome == "error"
    assert result.error == "timed out after 0.3 s"


@pytest.mark.parametrize("path", ["/fault/huge", "/fault/huge-declared"])
async def test_20_mb_body_is_refused(fetcher, server, path):
    result = await fetch_feed(fetcher, server.url(path), now=NOW)
    assert result.outcome == "error"
    assert result.error == "body larger than 10 MB"
    with pytest.raises(TooLarge):
        await fetcher.fetch(server.url(path), max_bytes=1024 * 1024)


async def test_gzip_bomb_is_refused_by_decoded_size(fetcher, server):
    result = await fetch_feed(fetcher, server.url("/fault/gzip-bomb"), now=NOW)
    assert result.outcome == "error"
    assert result.error == "body larger than 10 MB"


async def test_redirect_loop(fetcher, server):
    result = await fetch_feed(fetcher, server.url("/fault/redirect-loop"), now=NOW)
    assert result.outcome == "error"
    assert result.error == "redirect loop"


async def test_too_many_redirects(fetcher, server):
    assert (
        await fetch_feed(fetcher, server.url("/fault/redirect-chain/5"), now=NOW)
    ).outcome == "ok"
    result = await fetch_feed(fetcher, server.url("/fault/redirect-chain/6"), now=NOW)
    assert result.error == "too many redirects (more than 5)"
    with pytest.raises(TooManyRedirects):
        await fetcher.fetch(server.url("/fault/redirect-chain/6"))


async def test_per_host_concurrency_cap(server):
    async with SafeFetcher(allow_private=True, per_host=1) as fetcher:
        server.clear()
        results = await asyncio.gather(
            *(fetch_feed(fetcher, server.url("/fault/concurrency"), now=NOW) for _ in range(4))
        )
    assert all(r.outcome == "ok" for r in results)
    assert server.max_in_flight == 1


async def test_http_status_error_carries_status_and_retry_after(fetcher, server):
    with pytest.raises(HTTPStatusError) as caught:
        await fetcher.fetch(server.url("/status/429?retry_after=120"))
    assert (caught.value.status_code, caught.value.retry_after) == (429, 120)


async def test_a_slow_host_costs_only_its_own_fetches_each_within_its_deadline(server):
    slow = server.url("/fault/slow?interval=0.05&size=5000")
    elsewhere = server.add("/elsewhere.xml", SAMPLE_FEED).replace("127.0.0.1", "localhost")
    async with SafeFetcher(allow_private=True, timeout=0.5, read_timeout=2, per_host=2) as fetcher:
        started = asyncio.get_running_loop().time()

        async def timed(url: str) -> tuple[str | None, float]:
            result = await fetch_feed(fetcher, url, now=NOW)
            return result.error, asyncio.get_running_loop().time() - started

        outcomes = await asyncio.gather(*(timed(slow) for _ in range(6)), timed(elsewhere))
    *stalled, (other_error, other_took) = outcomes
    # Two fetches held the site's two slots until the deadline; those queued behind them
    # gave up at the same deadline instead of waiting their turn (one that got a slot in
    # the last instant reports a plain timeout).
    queued = "timed out after 0.5 s waiting for a connection to 127.0.0.1, whose other"
    assert {error for error, _ in stalled} <= {"timed out after 0.5 s", f"{queued} feeds are slow"}
    assert max(took for _, took in stalled) < 0.9
    assert other_error is None and other_took < 0.4
