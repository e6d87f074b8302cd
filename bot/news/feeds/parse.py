"""Parse the bytes of an RSS/Atom response into normalised entries, or say why they are no feed.

feedparser is only ever given the bytes of a response wrapped in a stream. Given a
str (or even bytes) it first tries to open it as a URL or a local file.
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import logging
import multiprocessing
import re
from collections.abc import Mapping
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from bot.news.feeds.cap import keep_newest_items
from bot.news.feeds.encoding import mend_utf8
from bot.news.images import entry_image
from bot.news.language import normalise_language
from bot.news.text import as_utc, canonical_url, clean_text, truncate

log = logging.getLogger(__name__)

TITLE_MAX_CHARS = 300
# Items kept from one fetch unless the caller says otherwise (FEED_MAX_ITEMS).
MAX_ITEMS = 300
DESCRIPTION_MAX_CHARS = 2000
AUTHOR_MAX_CHARS = 200

_FEED_ROOTS = {"rss", "feed", "rdf", "channel"}
_HTML_ROOTS = {"html", "head", "body"}
_ROOT = re.compile(r"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_SKIP = re.compile(r"<\?.*?\?>|<!--.*?-->|<!\[CDATA\[.*?\]\]>|<![^>]*>", re.S)


class FeedError(ValueError):
    """A response body is not a usable feed. `str(error)` is fit to show an admin."""


class NotAFeed(FeedError):
    """An HTML page, an empty body, JSON, binary data: not RSS or Atom at all."""


class MalformedFeed(FeedError):
    """Looks like a feed, but is broken so badly that no item can be read."""


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed, cleaned to plain text and safe links, ready to store."""

    guid: str | None
    url: str | None
    """Canonical http(s) link, or None (other schemes are dropped, never shown)."""
    title: str
    description: str
    published_at: datetime
    """Aware UTC: published, else updated, else fetch time; never in the future."""
    author: str | None
    language: str | None = None
    """ISO code the item or its feed declares (xml:lang, <language>, dc:language), or None."""
    image: str | None = None
    """Its picture: the largest image it names, a public http(s) URL (bot.news.images)."""


@dataclass(frozen=True)
class ParsedFeed:
    """What one feed document holds: its title and link, its usable items, its ttl."""

    title: str
    link: str | None
    entries: list[FeedEntry]
    skipped: int
    """Items dropped because they had neither a title nor a link."""
    over_cap: int
    """The oldest items dropped because the feed lists more than the cap."""
    ttl_seconds: int | None
    """RSS <ttl>: how long the publisher asks readers to wait between polls."""
    language: str | None = None
    """ISO code the feed declares for all its items, or None."""


def parse_feed(
    content: bytes,
    *,
    url: str,
    headers: Mapping[str, str] | None = None,
    now: datetime,
    max_items: int = MAX_ITEMS,
    fast: bool = True,
) -> ParsedFeed:
    """Parse a response body into normalised entries. Pure and CPU-bound.

    `headers` are the response headers: Content-Type's charset is honoured, and
    relative links resolve against `url` (the final URL after redirects). At most
    `max_items` entries are kept, the newest. Raises NotAFeed or MalformedFeed.
    `fast=False` reads with feedparser alone, the reference the fast path matches.
    """
    if not isinstance(content, (bytes, bytearray, memoryview)):
        # A str would be taken by feedparser as a URL or a file name.
        raise TypeError("parse_feed takes the response body as bytes")
    data = bytes(content)
    if not data.strip():
        raise NotAFeed("empty document")
    now = require_aware(now)
    data, over_cap = keep_newest_items(data, max_items)
    result = _read(data, url=url, headers=headers, fast=fast)

    bozo_exc = result.get("bozo_exception") if result.get("bozo") else None
    hard_error = bozo_exc is not None and not isinstance(bozo_exc, _soft_bozo())
    reason = _describe(bozo_exc) if bozo_exc is not None else None

    feed = result.get("feed", {})
    feed_language = normalise_language(feed.get("language"))
    entries, skipped = _usable_entries(result.get("entries", []), now, feed_language)

    if not entries:
        _reject_if_unusable(
            data, version=result.get("version") or "", hard_error=hard_error, reason=reason
        )
    if bozo_exc is not None:
        log.debug("feed %s is ill-formed but usable: %s", url, reason)
    if len(entries) > max_items:  # items the byte scan could not tell apart
        over_cap += len(entries) - max_items
        entries = _newest_in_feed_order(entries, max_items)

    return ParsedFeed(
        title=truncate(clean_text(feed.get("title")), TITLE_MAX_CHARS),
        link=_web_link(feed.get("link")),
        entries=entries,
        skipped=skipped,
        over_cap=over_cap,
        ttl_seconds=_ttl(feed.get("ttl")),
        language=feed_language,
    )


@functools.cache
def _soft_bozo() -> tuple[type[Exception], ...]:
    """What feedparser flags as bozo although the document itself parsed fine."""
    import feedparser

    return (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def _read(
    data: bytes, *, url: str, headers: Mapping[str, str] | None, fast: bool
) -> Mapping[str, Any]:
    """The document read by feedparser-rs where it reads it as feedparser would, else by
    feedparser, with the response's headers and `url` as the base."""
    # Imported here: the bot's process parses in its workers, and the two parsers are 14 MB
    # it would otherwise carry for nothing (the workers import them on their first feed).
    import feedparser

    from bot.news.feeds.fastread import read_fast

    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    # feedparser resolves relative links against Content-Location, which must be absolute.
    base = urljoin(url, response_headers.get("content-location", ""))
    response_headers["content-location"] = base
    data = mend_utf8(data, response_headers)
    if fast and (result := read_fast(data, response_headers, base)) is not None:
        return result
    return feedparser.parse(
        io.BytesIO(data),  # a stream: never a path or URL
        response_headers=response_headers,
        # Links of entries and feeds are resolved against the base either way; this is
        # only about links *inside* HTML content, which clean_text drops with the tags.
        # Leaving them alone skips a second HTML parse of every description (~10 % of
        # parse time, identical entries over the 2,141 feeds of the shared corpus).
        resolve_relative_uris=False,
        sanitize_html=True,  # drops <script>/<style> contents that clean_text would keep
    )


def _usable_entries(
    raws: list[dict[str, Any]], now: datetime, feed_language: str | None
) -> tuple[list[FeedEntry], int]:
    """The items worth storing, and how many were dropped for having no title and no link."""
    entries: list[FeedEntry] = []
    skipped = 0
    for raw in raws:
        entry = _entry(raw, now, feed_language)
        if entry is None:
            skipped += 1
        else:
            entries.append(entry)
    return entries, skipped


def _newest_in_feed_order(entries: list[FeedEntry], count: int) -> list[FeedEntry]:
    """The `count` most recently published entries, in the order the feed lists them."""
    newest = sorted(entries, key=lambda entry: entry.published_at, reverse=True)
    kept = {id(entry) for entry in newest[:count]}
    return [entry for entry in entries if id(entry) in kept]


async def parse_feed_async(
    content: bytes,
    *,
    url: str,
    headers: Mapping[str, str] | None = None,
    now: datetime,
    max_items: int = MAX_ITEMS,
    executor: Executor | None = None,
) -> ParsedFeed:
    """`parse_feed` off the event loop: in `executor` if given, else in a thread.

    A process pool (see `make_parse_executor`) keeps a huge feed from holding the GIL
    the bot needs; a thread is enough when there is a single worker.
    """
    call = functools.partial(
        parse_feed,
        bytes(content),
        url=url,
        headers=dict(headers or {}),
        now=now,
        max_items=max_items,
    )
    if executor is None:
        return await asyncio.to_thread(call)
    return await asyncio.get_running_loop().run_in_executor(executor, call)


def make_parse_executor(workers: int) -> Executor | None:
    """A process pool for `parse_feed_async` when `workers > 1`, else None (threads).

    "spawn" because forking a process that runs an event loop and threads is unsafe.
    The caller owns the pool and shuts it down.
    """
    if workers <= 1:
        return None
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def _entry(raw: dict[str, Any], now: datetime, feed_language: str | None) -> FeedEntry | None:
    title = clean_text(raw.get("title"))
    url = _web_link(raw.get("link"))
    description = _description(raw, title)
    if not title and not url:
        return None
    if not title:
        # A link without a headline still is news; its text's opening stands in.
        title = truncate(description, 120)
    guid = (raw.get("id") or "").strip() or None
    author_detail = raw.get("author_detail") or {}
    author = clean_text(author_detail.get("name") or raw.get("author"))
    return FeedEntry(
        guid=guid,
        url=url,
        title=truncate(title, TITLE_MAX_CHARS),
        description=truncate(description, DESCRIPTION_MAX_CHARS),
        published_at=_published(raw, now),
        author=truncate(author, AUTHOR_MAX_CHARS) or None,
        language=_declared_language(raw) or feed_language,
        image=entry_image(raw, url),
    )


def _description(raw: Mapping[str, Any], title: str) -> str:
    candidates = [raw.get("summary")]
    candidates += [part.get("value") for part in raw.get("content") or []]
    fallback = ""
    for candidate in candidates:
        text = clean_text(candidate)
        if text and text != title:
            return text
        fallback = fallback or text
    return fallback


def _declared_language(raw: Mapping[str, Any]) -> str | None:
    """An item's own xml:lang (Atom feeds mixing languages), as feedparser reads it."""
    detail = raw.get("title_detail") or {}
    return normalise_language(detail.get("language"))


def _published(raw: dict[str, Any], now: datetime) -> datetime:
    # dict.get: FeedParserDict maps a missing "updated" to "published" with a warning.
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = dict.get(raw, key)
        if not parsed:
            continue
        try:
            year, month, day, hour, minute, second = parsed[:6]
            # feedparser has already converted the time to UTC.
            when = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except (TypeError, ValueError, OverflowError):
            continue
        return min(when, now)  # clocks are wrong and drafts leak: never in the future
    return now


def _web_link(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    link = canonical_url(value)
    if not link:
        return None
    if not link.startswith(("https://", "http://")) and urlsplit(link).scheme not in (
        "http",
        "https",
    ):
        return None  # javascript:, data:, mailto: and friends never reach a chat
    return link


def _ttl(value: object) -> int | None:
    try:
        minutes = float(str(value).strip())
    except ValueError:
        return None
    if not 0 < minutes < 1e7:
        return None
    return int(minutes * 60)


def require_aware(value: datetime) -> datetime:
    """`value` in UTC; a naive time is refused, since its zone would be a guess."""
    if value.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return as_utc(value)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    text = re.sub(r"^<unknown>:(\d+):(\d+):\s*", r"line \1, column \2: ", text)
    return text.splitlines()[0][:200]


def _reject_if_unusable(data: bytes, *, version: str, hard_error: bool, reason: str | None) -> None:
    """Explain why a document without a single usable item is not a feed we can use.

    A well-formed feed with no items is fine (a new blog); anything else is an error.
    """
    head = _text_head(data)
    root = _root_element(head)
    if root in _HTML_ROOTS or head.lower().startswith("<!doctype html"):
        raise NotAFeed("got an HTML page, not a feed")
    looks_like_feed = bool(version) or root in _FEED_ROOTS
    if looks_like_feed and not hard_error:
        return
    if looks_like_feed:
        raise MalformedFeed(f"feed is not well-formed XML ({reason}) and no item could be read")
    if data[:2] == b"\x1f\x8b":
        raise NotAFeed("got compressed (gzip) data the server did not label, not a feed")
    if head[:1] in ("{", "[") and _is_json(data):
        raise NotAFeed("got a JSON document, not an RSS or Atom feed")
    if root:
        raise NotAFeed(f"not an RSS or Atom feed (the document is <{root}>)")
    raise NotAFeed("not an RSS or Atom feed")


def _text_head(data: bytes, size: int = 65536) -> str:
    """The start of the document as text, good enough to find its root element."""
    prefix = data[:size]
    if prefix[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in prefix[:4]:
        codec = "utf-16-be" if prefix[:1] == b"\x00" or prefix[:2] == b"\xfe\xff" else "utf-16-le"
        text = prefix.decode(codec, "ignore")
    else:
        text = prefix.decode("latin-1")
    return text.lstrip("\ufeff\u00ef\u00bb\u00bf \t\r\n")


def _root_element(head: str) -> str | None:
    match = _ROOT.search(_SKIP.sub("", head))
    return match.group(2).lower() if match else None


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return True
