"""Fetch one feed and parse it: a FeedResult for the poll, never an exception.

No database and no Telegram here: the caller stores what `fetch_feed` returns and
schedules the next poll from it (bot.news.feeds.poll_schedule).
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.news.feeds.freshness import freshness_seconds
from bot.news.feeds.parse import (
    MAX_ITEMS,
    FeedEntry,
    FeedError,
    ParsedFeed,
    parse_feed_async,
    require_aware,
)
from bot.news.http.errors import FetchError, FetchErrorKind, HTTPStatusError
from bot.news.http.fetcher import FetchResponse, SafeFetcher

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)

Outcome = Literal["ok", "not_modified", "error"]
# Why a poll failed: the fetch's own kinds, a body that is no feed we can read, or a bug.
ErrorKind = Literal[FetchErrorKind, "parse", "internal"]


@dataclass(frozen=True)
class FeedResult:
    """One poll of one feed. On "error" the conditional-GET validators passed in are
    handed back unchanged, so the caller can store these fields whatever happened."""

    outcome: Outcome
    url: str
    entries: list[FeedEntry] = field(default_factory=list)
    skipped: int = 0
    title: str = ""
    link: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None
    """Set when the feed moved for good (every redirect was 301/308): update the source."""
    status_code: int | None = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    """On "error", why in one word (a metric's label); `error` says it to an admin."""
    retry_after: float | None = None
    refresh_hint_seconds: float | None = None
    """What the server says about freshness: RSS ttl, Cache-Control max-age, Expires,
    or Retry-After on 429/503. Feed it to `next_fetch_delay`."""

    @property
    def ok(self) -> bool:
        """The poll worked, whether or not the feed had changed."""
        return self.outcome != "error"


async def fetch_feed(
    fetcher: SafeFetcher,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    allow_private: bool = True,
    now: datetime,
    max_items: int = MAX_ITEMS,
    executor: Executor | None = None,
) -> FeedResult:
    """Fetch and parse one feed, keeping its newest `max_items` items. Never raises for
    feed or network problems.

    `allow_private` defaults to True because feeds are added by admins; pass False
    for a URL that came from anyone else.
    """
    now = require_aware(now)
    try:
        response = await fetcher.fetch(
            url,
            etag=etag,
            last_modified=last_modified,
            allow_private=allow_private,
            accept=FEED_ACCEPT,
        )
    except Exception as exc:  # a bug must not stop the poll of every other feed
        return _not_fetched(url, exc, etag=etag, last_modified=last_modified)

    fresh = freshness_seconds(response.headers, now=now)
    if response.not_modified:
        return _not_modified(url, response, fresh, etag=etag, last_modified=last_modified)

    try:
        parsed = await parse_feed_async(
            response.content,
            url=response.final_url,
            headers=response.headers,
            now=now,
            max_items=max_items,
            executor=executor,
        )
    except Exception as exc:
        return _not_parsed(url, exc, response, etag=etag, last_modified=last_modified)
    return _parsed(url, response, parsed, fresh)


def _failed(
    url: str,
    kind: ErrorKind,
    message: str,
    *,
    etag: str | None,
    last_modified: str | None,
    **extra: Any,
) -> FeedResult:
    """An error result that hands back the validators it was given."""
    return FeedResult(
        "error",
        url,
        etag=etag,
        last_modified=last_modified,
        error=message,
        error_kind=kind,
        **extra,
    )


def _not_fetched(
    url: str, exc: Exception, *, etag: str | None, last_modified: str | None
) -> FeedResult:
    """Why the fetch failed, and how long a 429 or 503 asked us to wait."""
    if isinstance(exc, HTTPStatusError):
        waits = exc.status_code in (429, 503) and exc.retry_after is not None
        return _failed(
            url,
            exc.error_kind,
            str(exc),
            etag=etag,
            last_modified=last_modified,
            status_code=exc.status_code,
            retry_after=exc.retry_after,
            refresh_hint_seconds=exc.retry_after if waits else None,
        )
    if isinstance(exc, FetchError):
        return _failed(url, exc.error_kind, str(exc), etag=etag, last_modified=last_modified)
    log.error("unexpected error fetching feed %s", url, exc_info=exc)
    message = f"unexpected error: {type(exc).__name__}"
    return _failed(url, "internal", message, etag=etag, last_modified=last_modified)


def _not_modified(
    url: str,
    response: FetchResponse,
    fresh: float | None,
    *,
    etag: str | None,
    last_modified: str | None,
) -> FeedResult:
    """The server confirmed our copy: keep the validators, new ones if it sent them."""
    return FeedResult(
        "not_modified",
        url,
        etag=response.headers.get("ETag") or etag,
        last_modified=response.headers.get("Last-Modified") or last_modified,
        permanent_url=response.permanent_redirect,
        status_code=response.status_code,
        refresh_hint_seconds=fresh,
    )


def _not_parsed(
    url: str,
    exc: Exception,
    response: FetchResponse,
    *,
    etag: str | None,
    last_modified: str | None,
) -> FeedResult:
    """Why the body is not a feed we can read."""
    kind: ErrorKind
    if isinstance(exc, FeedError):
        kind, message = "parse", str(exc)
    else:
        log.error("unexpected error parsing feed %s", url, exc_info=exc)
        kind, message = "internal", f"could not parse the feed ({type(exc).__name__})"
    return _failed(
        url,
        kind,
        message,
        etag=etag,
        last_modified=last_modified,
        status_code=response.status_code,
    )


def _parsed(
    url: str, response: FetchResponse, parsed: ParsedFeed, fresh: float | None
) -> FeedResult:
    """The feed's items, its new validators, and the longer of its ttl and the freshness
    its headers give."""
    if parsed.over_cap:
        log.warning(
            "Feed %s lists %d items; kept the newest %d",
            url,
            len(parsed.entries) + parsed.over_cap,
            len(parsed.entries),
        )
    hints = [h for h in (parsed.ttl_seconds, fresh) if h is not None]
    return FeedResult(
        "ok",
        url,
        entries=parsed.entries,
        skipped=parsed.skipped,
        title=parsed.title,
        link=parsed.link,
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        permanent_url=response.permanent_redirect,
        status_code=response.status_code,
        refresh_hint_seconds=float(max(hints)) if hints else None,
    )
