"""The address policy: http(s) only, private networks only when the caller allows them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.news.feeds.fetch import fetch_feed
from bot.news.http.errors import BadScheme, BlockedAddress
from bot.news.http.fetcher import SafeFetcher

NOW = datetime(2024, 1, 3, 12, 0, tzinfo=UTC)


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
    assert result.outcome == "error" and result.error is not None
    assert "only http and https" in result.error


async def test_redirect_to_a_non_http_scheme_is_refused(fetcher, server):
    result = await fetch_feed(fetcher, server.url("/redirect/302?to=file:///etc/passwd"), now=NOW)
    assert result.error == "unsupported URL scheme 'file': only http and https"


async def test_a_kept_connection_carries_only_what_the_policy_accepts_now(server):
    # Connections are kept for the next fetch from the same site, but every fetch is
    # checked before one is taken from the pool: the pool never skips the address check.
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    url = f"http://feeds.test:{server.port}/fault/etag"
    async with SafeFetcher(resolver=resolver) as fetcher:
        server.clear()
        assert (await fetch_feed(fetcher, url, allow_private=True, now=NOW)).outcome == "ok"
        again = await fetch_feed(fetcher, url, allow_private=True, now=NOW)
        assert again.outcome == "ok"
        first, second = server.requests_to("/fault/etag")
        assert first.peer == second.peer  # one connection for both

        refused = await fetch_feed(fetcher, url, allow_private=False, now=NOW)
        assert refused.error == "blocked: feeds.test resolves to a loopback address (127.0.0.1)"
        assert len(server.requests_to("/fault/etag")) == 2  # nothing sent on the kept one
