"""Feed lists in and out as OPML: the bot's own feeds (its administrators'), or a chat's.

A file is read whole before anything is written (`bot.news.opml.feed_list` refuses a bad
one, and nothing changes); then each outline is added, skipped or refused on its own, all
in one transaction, by the same rules as /addsource and /addfeed.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.news.http.errors import BadScheme, BlockedAddress, InvalidURL
from bot.news.http.policy import checked_feed_url
from bot.news.opml import OutlineFeed, render_opml
from bot.ops.admin import admit_feed
from bot.store.chat_sources import (
    FeedAlreadyAdded,
    SharedFeedExists,
    TooManyFeeds,
    add_chat_feed,
    listed_feeds,
)
from bot.store.db import Database
from bot.store.sources import SourceExists
from bot.ui.user_input import normalize_input

TITLE_CHARS = 300  # what sources.title holds


class Skip(enum.Enum):
    """Why an outline added nothing, though nothing is wrong with it."""

    KNOWN = "known"  # the list (the bot's, or the chat's) has it already
    REPEATED = "repeated"  # earlier in the same file
    SHARED = "shared"  # a chat's import of one of the bot's feeds, which it reads anyway


class Refusal(enum.Enum):
    """Why an outline may not be added."""

    SCHEME = "scheme"  # not http(s)
    PRIVATE = "private"  # a literal private or local address, for a chat
    INVALID = "invalid"  # no host, spaces, too long, does not parse
    CHAT_FULL = "chat_full"  # the chat has as many feeds of its own as it may


@dataclass(frozen=True)
class Outline:
    """One outline of the file, as it will be stored, and the source it became."""

    url: str
    title: str
    source_id: int | None = None


@dataclass
class ImportReport:
    """What one file did: what was added, skipped and refused, in the file's order."""

    added: list[Outline] = field(default_factory=list)
    skipped: list[tuple[Outline, Skip]] = field(default_factory=list)
    refused: list[tuple[Outline, Refusal]] = field(default_factory=list)


# Adds one checked outline in the session: the source's id, or a Skip or Refusal.
_Adder = Callable[[AsyncSession, Outline], Awaitable[int | Skip | Refusal]]


async def import_shared_feeds(
    database: Database,
    outlines: Sequence[OutlineFeed],
    *,
    now: datetime,
    added_by: int | None,
    interval_seconds: int,
) -> ImportReport:
    """Add a file's feeds for every chat, as /addsource does each: private addresses too,
    a feed switched off after failing back on, a chat's own feed made everyone's."""

    async def add(session: AsyncSession, outline: Outline) -> int | Skip | Refusal:
        try:
            source, _new = await admit_feed(
                session,
                outline.url,
                now=now,
                added_by=added_by,
                interval_seconds=interval_seconds,
                title=outline.title,
            )
        except SourceExists:
            return Skip.KNOWN
        return source.id

    return await _import(database, outlines, allow_private=True, add=add)


async def import_chat_feeds(
    database: Database,
    chat_id: int,
    outlines: Sequence[OutlineFeed],
    *,
    now: datetime,
    added_by: int | None,
    interval_seconds: int,
    limit: int,
    allow_private: bool,
) -> ImportReport:
    """Add a file's feeds as the chat's own, as /addfeed does each, up to the chat's limit."""

    async def add(session: AsyncSession, outline: Outline) -> int | Skip | Refusal:
        try:
            source = await add_chat_feed(
                session,
                chat_id,
                outline.url,
                now=now,
                limit=limit,
                interval_seconds=interval_seconds,
                added_by=added_by,
                title=outline.title,
            )
        except SharedFeedExists:
            return Skip.SHARED
        except FeedAlreadyAdded:
            return Skip.KNOWN
        except TooManyFeeds:
            return Refusal.CHAT_FULL
        return source.id

    return await _import(database, outlines, allow_private=allow_private, add=add)


async def _import(
    database: Database, outlines: Sequence[OutlineFeed], *, allow_private: bool, add: _Adder
) -> ImportReport:
    report = ImportReport()
    seen: set[str] = set()
    async with database.session() as session:
        for listed in outlines:
            outline = Outline(
                url=normalize_input(listed.url),
                title=normalize_input(listed.title)[:TITLE_CHARS],
            )
            if outline.url in seen:
                report.skipped.append((outline, Skip.REPEATED))
                continue
            seen.add(outline.url)
            refusal = _refusal(outline.url, allow_private=allow_private)
            outcome = refusal if refusal is not None else await add(session, outline)
            if isinstance(outcome, Skip):
                report.skipped.append((outline, outcome))
            elif isinstance(outcome, Refusal):
                report.refused.append((outline, outcome))
            else:
                report.added.append(Outline(outline.url, outline.title, source_id=outcome))
    return report


def _refusal(url: str, *, allow_private: bool) -> Refusal | None:
    """The add-feed commands' rule for an address (`checked_feed_url`), as a Refusal."""
    try:
        checked_feed_url(url, allow_private=allow_private)
    except BadScheme:
        return Refusal.SCHEME
    except InvalidURL:
        return Refusal.INVALID
    except BlockedAddress:
        return Refusal.PRIVATE
    return None


async def feeds_opml(session: AsyncSession, chat_id: int | None) -> tuple[str, int]:
    """The bot's feeds for everyone (chat_id None) or the chat's own, as an OPML document,
    and how many it lists."""
    feeds = [
        OutlineFeed(url=url, title=title) for url, title in await listed_feeds(session, chat_id)
    ]
    title = "newsbot sources" if chat_id is None else "newsbot: a chat's own feeds"
    return render_opml(feeds, title=title), len(feeds)
