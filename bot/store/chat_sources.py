"""Which sources a chat reads: the bot's feeds it keeps, and feeds it added for itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.db import insert_into
from bot.store.models import Article, ChatFeed, HiddenSource, Source
from bot.store.sources import add_source


class TooManyFeeds(Exception):
    """The chat already has as many feeds of its own as the operator allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"a chat may add at most {limit} feeds")
        self.limit = limit


class SharedFeedExists(Exception):
    """The URL is one of the bot's own feeds, which every chat reads already."""

    def __init__(self, source_id: int) -> None:
        super().__init__(f"the bot already reads this feed (source {source_id})")
        self.source_id = source_id


class FeedAlreadyAdded(Exception):
    """The chat added this feed before."""

    def __init__(self, source_id: int) -> None:
        super().__init__(f"this chat already reads that feed (source {source_id})")
        self.source_id = source_id


@dataclass(frozen=True)
class SourceChoice:
    """A feed as /sources offers it to one chat: whether the chat keeps it, whose it is."""

    id: int
    title: str
    url: str
    kept: bool
    own: bool


def visible_to(chat_id: int | ColumnElement[int]) -> ColumnElement[bool]:
    """The condition an article (its query joined to Source) meets to reach this chat's lists
    and digests: its source is not hidden there, and is open to the chat."""
    hidden = exists().where(
        HiddenSource.chat_id == chat_id, HiddenSource.source_id == Article.source_id
    )
    return ~hidden & open_to(chat_id)


def open_to(chat_id: int | ColumnElement[int]) -> ColumnElement[bool]:
    """The condition an article (joined to Source) meets for this chat to open it at all:
    its source is one everyone reads, or one the chat added."""
    own = exists().where(ChatFeed.chat_id == chat_id, ChatFeed.source_id == Article.source_id)
    return Source.user_feed.is_(False) | own


def shared_only() -> ColumnElement[bool]:
    """The condition an article (joined to Source) meets to be seen by everyone."""
    return Source.user_feed.is_(False)


async def sources_by_chat(
    session: AsyncSession, chat_ids: Sequence[int]
) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """For each of these chats, the bot's feeds it switched off and the feeds it added, by id:
    what `visible_to` asks of the database, for deciding in memory."""
    hidden = select(HiddenSource.chat_id, HiddenSource.source_id).where(
        HiddenSource.chat_id.in_(chat_ids)
    )
    own = select(ChatFeed.chat_id, ChatFeed.source_id).where(ChatFeed.chat_id.in_(chat_ids))
    return await _grouped(session, hidden), await _grouped(session, own)


def reads_source(hidden: set[int], own: set[int], source_id: int, *, user_feed: bool) -> bool:
    """Whether a chat reads a feed (as `visible_to` decides in the database), from the
    chat's entries of `sources_by_chat`."""
    if user_feed:
        return source_id in own
    return source_id not in hidden


async def _grouped(session: AsyncSession, statement: Select[int, int]) -> dict[int, set[int]]:
    grouped: dict[int, set[int]] = {}
    for chat_id, source_id in await session.execute(statement):
        grouped.setdefault(chat_id, set()).add(source_id)
    return grouped


async def source_choices(session: AsyncSession, chat_id: int) -> list[SourceChoice]:
    """The bot's feeds, then the chat's own, by id, each with whether the chat keeps it."""
    hidden = exists().where(HiddenSource.chat_id == chat_id, HiddenSource.source_id == Source.id)
    own = exists().where(ChatFeed.chat_id == chat_id, ChatFeed.source_id == Source.id)
    statement = (
        select(Source.id, Source.title, Source.url, ~hidden, Source.user_feed)
        .where(Source.kind == "feed", Source.user_feed.is_(False) | own)
        .order_by(Source.user_feed, Source.id)
    )
    return [
        SourceChoice(id=id_, title=title, url=url, kept=bool(kept), own=bool(user_feed))
        for id_, title, url, kept, user_feed in await session.execute(statement)
    ]


async def listed_feeds(session: AsyncSession, chat_id: int | None) -> list[tuple[str, str]]:
    """(url, title) by id: the bot's feeds, read by everyone (chat_id None), or the chat's own."""
    condition: ColumnElement[bool]
    if chat_id is None:
        condition = Source.user_feed.is_(False)
    else:
        condition = exists().where(ChatFeed.chat_id == chat_id, ChatFeed.source_id == Source.id)
    statement = (
        select(Source.url, Source.title).where(Source.kind == "feed", condition).order_by(Source.id)
    )
    return [(url, title) for url, title in await session.execute(statement)]


async def toggle_source(session: AsyncSession, chat_id: int, source_id: int) -> bool | None:
    """Switch one of the bot's feeds off for the chat, or back on; return whether it is now
    kept, or None if there is no such shared feed."""
    source = await session.get(Source, source_id)
    if source is None or source.kind != "feed" or source.user_feed:
        return None
    removed = await session.execute(
        delete(HiddenSource).where(
            HiddenSource.chat_id == chat_id, HiddenSource.source_id == source_id
        )
    )
    if removed.rowcount:  # type: ignore[attr-defined]
        return True
    await session.execute(
        insert_into(session, HiddenSource)
        .values(chat_id=chat_id, source_id=source_id)
        .on_conflict_do_nothing()
    )
    return False


async def count_chat_feeds(session: AsyncSession, chat_id: int) -> int:
    """How many feeds the chat added for itself."""
    statement = select(func.count()).select_from(ChatFeed).where(ChatFeed.chat_id == chat_id)
    return int(await session.scalar(statement) or 0)


async def add_chat_feed(
    session: AsyncSession,
    chat_id: int,
    url: str,
    *,
    now: datetime,
    limit: int,
    interval_seconds: int,
    added_by: int | None,
    title: str = "",
) -> Source:
    """Give the chat a feed of its own, due at once unless another chat reads it already.

    Raises SharedFeedExists for one of the bot's feeds, FeedAlreadyAdded, or TooManyFeeds.
    """
    source = await session.scalar(select(Source).where(Source.url == url))
    if source is not None and not source.user_feed:
        raise SharedFeedExists(source.id)
    if source is not None and await session.get(ChatFeed, (chat_id, source.id)) is not None:
        raise FeedAlreadyAdded(source.id)
    if await count_chat_feeds(session, chat_id) >= limit:
        raise TooManyFeeds(limit)
    if source is None:
        source = await add_source(
            session,
            url,
            now=now,
            title=title,
            added_by=added_by,
            interval_seconds=interval_seconds,
        )
        source.user_feed = True
    session.add(ChatFeed(chat_id=chat_id, source_id=source.id, added_at=now))
    await session.flush()
    return source


async def remove_chat_feed(session: AsyncSession, chat_id: int, source_id: int) -> str | None:
    """Take a feed of its own from the chat, and the feed itself (with its items) when no
    other chat reads it; its URL, or None if the chat had no such feed."""
    link = await session.get(ChatFeed, (chat_id, source_id))
    if link is None:
        return None
    source = await session.get(Source, source_id)
    await session.delete(link)
    await session.flush()
    others = await session.scalar(select(exists().where(ChatFeed.source_id == source_id)))
    if source is None:
        return None
    url = source.url
    if not others:
        await session.delete(source)
        await session.flush()
    return url


async def share_feed(session: AsyncSession, source: Source) -> None:
    """Make a chat's own feed one of the bot's, read by every chat; it stops counting
    against the limit of the chats that added it."""
    source.user_feed = False
    await session.execute(delete(ChatFeed).where(ChatFeed.source_id == source.id))
