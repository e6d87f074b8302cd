"""`newsbot sources`: list, add, remove, import or export feeds."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.bootstrap import import_feeds
from bot.cli.store import ready_store
from bot.clock import SystemClock
from bot.config import Settings
from bot.news.opml import OPMLError, OutlineFeed, parse_opml, render_opml
from bot.ops.admin import add_feed
from bot.store.db import Database
from bot.store.sources import SourceExists, SourceStatus, remove_source, source_statuses


async def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    """List, add, remove, import or export feeds."""
    now = SystemClock().now()
    # Read the file before opening the store: a bad file changes nothing.
    feeds = _read_opml(args.file) if args.action == "import" else []
    database = await ready_store(settings)
    try:
        if args.action == "add":
            return await _add_source(database, args.url.strip(), settings, now)
        async with database.session() as session:
            if args.action == "import":
                return await _import_sources(session, args.file, feeds, settings, now)
            if args.action == "remove":
                return await _remove_source(session, args.id)
            statuses = await source_statuses(session)
    finally:
        await database.dispose()
    if args.action == "export":
        feeds = [OutlineFeed(url=s.url, title=s.title) for s in statuses if s.kind == "feed"]
        sys.stdout.write(render_opml(feeds))
    elif args.json:
        print(json.dumps([_status_json(s) for s in statuses], ensure_ascii=False, indent=2))
    else:
        _print_statuses(statuses)
    return 0


async def _add_source(database: Database, url: str, settings: Settings, now: datetime) -> int:
    if not url.startswith(("http://", "https://")):
        print(f"newsbot: {url!r} is not an http(s) feed URL", file=sys.stderr)
        return 1
    try:
        source, new = await add_feed(
            database, url, now=now, added_by=None, interval_seconds=settings.feed_poll_interval
        )
    except SourceExists as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 1
    print(
        f"Added source {source.id}: {source.url}"
        if new
        else f"Source {source.id} was switched off after failing; it is back on: {source.url}"
    )
    return 0


async def _import_sources(
    session: AsyncSession,
    path: str,
    feeds: Sequence[OutlineFeed],
    settings: Settings,
    now: datetime,
) -> int:
    added, known = await import_feeds(
        session, feeds, now=now, interval_seconds=settings.feed_poll_interval
    )
    print(f"Imported {path}: {added} new sources, {known} already known.")
    return 0


async def _remove_source(session: AsyncSession, source_id: int) -> int:
    removed = await remove_source(session, source_id)
    if removed is None:
        print(f"newsbot: no source with id {source_id}", file=sys.stderr)
        return 1
    print(f"Removed source {removed.id}: {removed.url}")
    return 0


def _read_opml(path: str) -> list[OutlineFeed]:
    try:
        content = Path(path).read_bytes()
    except OSError as exc:
        raise OPMLError(f"cannot read {path}: {exc.strerror or exc}") from None
    feeds = parse_opml(content)
    if not feeds:
        raise OPMLError(f"{path} lists no http(s) feeds (outlines with an xmlUrl)")
    return feeds


def _status_json(status: SourceStatus) -> dict[str, object]:
    return {
        "id": status.id,
        "title": status.title,
        "url": status.url,
        "source": status.title or status.url,
        "kind": status.kind,
        "active": status.active,
        "error_count": status.error_count,
        "last_error": status.last_error,
        "articles": status.articles,
        "published_at": None,
        "last_ok_at": status.last_ok_at.isoformat() if status.last_ok_at else None,
    }


def _print_statuses(statuses: Sequence[SourceStatus]) -> None:
    for s in statuses:
        health = "ok" if s.error_count == 0 else f"{s.error_count} errors: {s.last_error}"
        if not s.active:
            health = f"inactive ({s.last_error or 'stopped'})"
        print(f"{s.id:>4}  {s.kind:<4}  {s.articles:>6} items  {health}")
        print(f"      {s.title or '(untitled)'} — {s.url}")
