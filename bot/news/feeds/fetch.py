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
    parse_feed_async,
    require_aware,
)
from bot.news.http.errors import FetchError, HTTPStatusError
from bot.news.http.fetcher import SafeFetcher

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)

Outcome = Literal["ok", "not_modified", "error"]


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

    def failed(message: str, **extra: Any) -> FeedResult:
        return FeedResult(
            "error", url, etag=etag, last_modified=last_modified, error=message, **extra
        )

    try:
        response = await fetcher.fetch(
            url,
            etag=etag,
            last_modified=last_modified,
            allow_private=allow_private,
            accept=FEED_ACCEPT,
        )
    except HTTPStatusError as exc:
        waits = exc.status_code in (429, 503) and exc.retry_after is not None
        return failed(
            str(exc),
            status_code=exc.status_code,
            retry_after=exc.retry_after,
            refresh_hint_seconds=exc.retry_after if waits else None,
        )
    except FetchError as exc:
        return failed(str(exc))
    except Exception as exc:  # a bug must not stop the poll of every other feed
        log.exception("unexpected error fetching feed %s", url)
        return failed(f"unexpected error: {type(exc).__name__}")

    fresh = freshness_seconds(response.headers, now=now)
    if response.not_modified:
        return FeedResult(
            "not_modified",
            url,
            etag=response.headers.get("ETag") or etag,
            last_modified=response.headers.get("Last-Modified") or last_modified,
            permanent_url=response.permanent_redirect,
            status_code=response.status_code,
            refresh_hint_seconds=fresh,
        )

    try:
        parsed = await parse_feed_async(
            response.content,
            url=response.final_url,
            headers=response.headers,
            now=now,
            max_items=max_items,
            executor=executor,
        )
    except FeedError as exc:
        return failed(str(exc), status_code=response.status_code)
    except Exception as exc:
        log.exception("unexpected error parsing feed %s", url)
        return failed(
            f"could not parse the feed ({type(exc).__name__})", status_code=response.status_code
        )

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
