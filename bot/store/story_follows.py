"""Queries on followed stories and their updates' outbox.

An update is made in the same transaction that marks its reports known to the follow, and
only if the follow still stands as it was read (its update count and checked id unchanged),
so two passes, or two instances, never make the same update. It is sent from the outbox:
claimed with a lease, marked sent once Telegram accepted it; a claim whose instance died is
taken again when the lease ends.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Article, Chat, StoryFollow, StoryUpdate

# How many stories one chat may follow at once.
MAX_FOLLOWED_STORIES = 20


class Followed(Enum):
    """What asking to follow a story came to."""

    FOLLOWING = "following"
    ALREADY = "already"
    TOO_MANY = "too_many"


def id_list(text: str) -> tuple[int, ...]:
    """A stored comma list of ids."""
    return tuple(int(part) for part in text.split(",") if part)


def _ids_text(ids: Iterable[int]) -> str:
    return ",".join(str(i) for i in ids)


@dataclass(frozen=True)
class FollowState:
    """A follow as it was read: what the chat knows of the story and its day's count."""

    id: int
    chat_id: int
    article_id: int
    known_ids: tuple[int, ...]
    outlets: frozenset[str]
    held_ids: tuple[int, ...]
    checked_through: int
    last_news_at: datetime
    window_started_at: datetime | None
    updates_in_window: int
    updates_made: int


@dataclass(frozen=True)
class FollowChange:
    """What a pass found for one follow; `update_ids` non-empty makes an update of them."""

    known_ids: tuple[int, ...]
    outlets: frozenset[str]
    held_ids: tuple[int, ...]
    checked_through: int
    last_news_at: datetime
    window_started_at: datetime | None
    updates_in_window: int
    update_ids: tuple[int, ...] = ()


async def follow_story(
    session: AsyncSession,
    chat_id: int,
    *,
    article_id: int,
    title: str,
    known_ids: Sequence[int],
    outlets: Collection[str],
    now: datetime,
) -> Followed:
    """Start following a story from one of its articles, knowing its reports so far."""
    already = await session.scalar(
        select(StoryFollow.id).where(
            StoryFollow.chat_id == chat_id, StoryFollow.article_id == article_id
        )
    )
    if already is not None:
        return Followed.ALREADY
    count = await session.scalar(
        select(func.count()).select_from(StoryFollow).where(StoryFollow.chat_id == chat_id)
    )
    if (count or 0) >= MAX_FOLLOWED_STORIES:
        return Followed.TOO_MANY
    newest = await session.scalar(select(func.max(Article.id)))
    session.add(
        StoryFollow(
            chat_id=chat_id,
            article_id=article_id,
            title=title[:300],
            known_ids=_ids_text(known_ids),
            outlets=",".join(sorted(outlets)),
            held_ids="",
            checked_through=newest or 0,
            last_news_at=now,
            window_started_at=None,
            updates_in_window=0,
            updates_made=0,
            created_at=now,
        )
    )
    return Followed.FOLLOWING


async def unfollow_story(session: AsyncSession, chat_id: int, article_id: int) -> bool:
    """Stop following; its unsent updates go with it. Whether it was followed."""
    removed = await session.execute(
        delete(StoryFollow).where(
            StoryFollow.chat_id == chat_id, StoryFollow.article_id == article_id
        )
    )
    return bool(removed.rowcount)  # type: ignore[attr-defined]


async def followed_stories(session: AsyncSession, chat_id: int) -> list[tuple[int, str]]:
    """The stories a chat follows, as (article id, headline), in the order followed."""
    statement = (
        select(StoryFollow.article_id, StoryFollow.title)
        .where(StoryFollow.chat_id == chat_id)
        .order_by(StoryFollow.id)
    )
    return [(row.article_id, row.title) for row in await session.execute(statement)]


async def end_quiet_follows(session: AsyncSession, *, quiet_since: datetime) -> int:
    """Let go of the follows with no news since `quiet_since` and none held; how many."""
    ended = await session.execute(
        delete(StoryFollow).where(
            StoryFollow.last_news_at < quiet_since, StoryFollow.held_ids == ""
        )
    )
    return int(ended.rowcount or 0)  # type: ignore[attr-defined]


async def active_follows(session: AsyncSession) -> list[FollowState]:
    """Every follow of a chat the bot can still write to."""
    statement = (
        select(StoryFollow)
        .join(Chat, Chat.id == StoryFollow.chat_id)
        .where(Chat.active.is_(True))
        .order_by(StoryFollow.id)
    )
    return [
        FollowState(
            id=f.id,
            chat_id=f.chat_id,
            article_id=f.article_id,
            known_ids=id_list(f.known_ids),
            outlets=frozenset(o for o in f.outlets.split(",") if o),
            held_ids=id_list(f.held_ids),
            checked_through=f.checked_through,
            last_news_at=f.last_news_at,
            window_started_at=f.window_started_at,
            updates_in_window=f.updates_in_window,
            updates_made=f.updates_made,
        )
        for f in (await session.scalars(statement)).all()
    ]


async def record_story_news(
    session: AsyncSession, follow: FollowState, change: FollowChange, *, now: datetime
) -> bool:
    """Write what a pass found, and its update if it makes one, if the follow is still as
    it was read; whether it was (another pass got there first otherwise)."""
    made = follow.updates_made + (1 if change.update_ids else 0)
    written = await session.execute(
        update(StoryFollow)
        .where(
            StoryFollow.id == follow.id,
            StoryFollow.updates_made == follow.updates_made,
            StoryFollow.checked_through == follow.checked_through,
        )
        .values(
            known_ids=_ids_text(change.known_ids),
            outlets=",".join(sorted(change.outlets)),
            held_ids=_ids_text(change.held_ids),
            checked_through=change.checked_through,
            last_news_at=change.last_news_at,
            window_started_at=change.window_started_at,
            updates_in_window=change.updates_in_window,
            updates_made=made,
        )
    )
    if not written.rowcount:  # type: ignore[attr-defined]
        return False
    if change.update_ids:
        session.add(
            StoryUpdate(
                follow_id=follow.id,
                key=f"{follow.id}:{made}",
                article_ids=_ids_text(change.update_ids),
                outlets=len(change.outlets),
                created_at=now,
            )
        )
    return True


@dataclass(frozen=True)
class ClaimedUpdate:
    """An update this instance now owns, with what sending and rendering it needs."""

    update_id: int
    chat_id: int
    thread_id: int | None
    language: str
    timezone: str
    article_id: int
    title: str
    article_ids: tuple[int, ...]
    outlets: int
    quiet_hours: str | None = None


def _due(now: datetime) -> ColumnElement[bool]:
    """An update not sent, and not held by a live claim."""
    return and_(
        StoryUpdate.sent_at.is_(None),
        or_(StoryUpdate.claimed_until.is_(None), StoryUpdate.claimed_until <= now),
    )


async def claim_due_updates(
    session: AsyncSession, *, now: datetime, lease: timedelta, instance: str, limit: int
) -> list[ClaimedUpdate]:
    """Claim up to `limit` unsent updates nobody holds (or whose holder's lease ran out)."""
    due = _due(now)
    wanted = (
        select(StoryUpdate.id)
        .join(StoryFollow, StoryFollow.id == StoryUpdate.follow_id)
        .join(Chat, Chat.id == StoryFollow.chat_id)
        .where(due, Chat.active.is_(True))
        .order_by(StoryUpdate.id)
        .limit(limit)
        .scalar_subquery()
    )
    # The condition again in the UPDATE: on PostgreSQL a row another instance claimed
    # meanwhile is read again after its lock and no longer matches.
    taken = (
        await session.scalars(
            update(StoryUpdate)
            .where(StoryUpdate.id.in_(wanted), due)
            .values(claimed_by=instance, claimed_until=now + lease)
            .returning(StoryUpdate.id)
        )
    ).all()
    if not taken:
        return []
    statement = (
        select(
            StoryUpdate.id,
            StoryUpdate.article_ids,
            StoryUpdate.outlets,
            StoryFollow.article_id,
            StoryFollow.title,
            Chat.id.label("chat_id"),
            Chat.thread_id,
            Chat.language,
            Chat.timezone,
            Chat.quiet_hours,
        )
        .join(StoryFollow, StoryFollow.id == StoryUpdate.follow_id)
        .join(Chat, Chat.id == StoryFollow.chat_id)
        .where(StoryUpdate.id.in_(taken))
        .order_by(StoryUpdate.id)
    )
    return [
        ClaimedUpdate(
            update_id=row.id,
            chat_id=row.chat_id,
            thread_id=row.thread_id,
            language=row.language,
            timezone=row.timezone,
            article_id=row.article_id,
            title=row.title,
            article_ids=id_list(row.article_ids),
            outlets=row.outlets,
            quiet_hours=row.quiet_hours,
        )
        for row in await session.execute(statement)
    ]


async def record_update_sent(session: AsyncSession, update_id: int, *, now: datetime) -> None:
    """Telegram accepted the update: it is never sent again."""
    await session.execute(
        update(StoryUpdate).where(StoryUpdate.id == update_id).values(sent_at=now, error=None)
    )


async def record_update_retry(
    session: AsyncSession, update_id: int, *, error: str, not_before: datetime
) -> None:
    """Sending failed for a passing reason: due again from `not_before`."""
    await session.execute(
        update(StoryUpdate)
        .where(StoryUpdate.id == update_id)
        .values(claimed_until=not_before, error=error[:500])
    )


async def end_follow_of(session: AsyncSession, update_id: int) -> None:
    """Telegram will not deliver the update to its chat: the follow ends, with its updates."""
    follow = select(StoryUpdate.follow_id).where(StoryUpdate.id == update_id)
    await session.execute(delete(StoryFollow).where(StoryFollow.id.in_(follow)))
