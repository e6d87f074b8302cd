"""Queries on digests: claiming the due ones, what a chat has not seen, recording deliveries.

A digest is claimed before it is built and recorded after it is sent. The claim is a
`digests` row (unique per chat and due time) made in the same transaction that moves the
chat's `next_digest_at` on; on PostgreSQL the chat rows are locked with SKIP LOCKED, so
two instances never claim the same digest. A claim whose instance died is taken over
once its lease runs out, as long as the digest is still within the grace period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.schedule import next_digest_at
from bot.store.articles import Headline, headline_columns, headline_of
from bot.store.chat_sources import visible_to
from bot.store.chats import FOLLOW, MUTE, chat_times, news_languages, topics_of
from bot.store.db import insert_into
from bot.store.models import Article, Chat, ChatFeed, Delivery, Digest, Source

CLAIMED = "claimed"
RETRY = "retry"
SENT = "sent"
EMPTY = "empty"
SKIPPED = "skipped"
EXPIRED = "expired"
UNDELIVERABLE = "undeliverable"
# How far back the first digest of a new subscriber reaches.
FIRST_DIGEST_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class ClaimedDigest:
    """A digest this instance now owns: the chat's choices as they were when claimed."""

    digest_id: int
    chat_id: int
    thread_id: int | None
    due_at: datetime
    timezone: str
    digest_size: int
    only_followed: bool
    notify_empty: bool
    since: datetime
    follows: tuple[str, ...]
    mutes: tuple[str, ...]
    kind: str = "private"  # the chat's type: a channel's digest is worded for an audience
    link_preview: bool = True  # show Telegram's preview of the top story
    language: str = "en"  # the interface language the digest is written in
    # The news languages the chat keeps to (None: every language).
    news_languages: frozenset[str] | None = None


@dataclass(frozen=True)
class ClaimResult:
    """What one claim pass took, and how many digests it skipped as too late to send."""

    digests: list[ClaimedDigest]
    skipped: int


def _snapshot(digest: Digest, chat: Chat) -> ClaimedDigest:
    since = chat.last_digest_at or (digest.due_at - FIRST_DIGEST_WINDOW)
    return ClaimedDigest(
        digest_id=digest.id,
        chat_id=chat.id,
        thread_id=chat.thread_id,
        due_at=digest.due_at,
        timezone=chat.timezone,
        digest_size=chat.digest_size,
        only_followed=chat.only_followed,
        notify_empty=chat.notify_empty,
        since=since,
        follows=tuple(topics_of(chat, FOLLOW)),
        mutes=tuple(topics_of(chat, MUTE)),
        kind=chat.kind,
        link_preview=chat.link_preview,
        language=chat.language,
        news_languages=news_languages(chat),
    )


def preview_digest(chat: Chat | None, *, now: datetime, size: int, zone: str) -> ClaimedDigest:
    """A digest as if due now for a chat (None: a new subscriber); nothing is claimed."""
    if chat is None:
        return ClaimedDigest(
            digest_id=0,
            chat_id=0,
            thread_id=None,
            due_at=now,
            timezone=zone,
            digest_size=size,
            only_followed=False,
            notify_empty=False,
            since=now - FIRST_DIGEST_WINDOW,
            follows=(),
            mutes=(),
        )
    return _snapshot(Digest(id=0, due_at=now), chat)


async def claim_due_digests(
    session: AsyncSession,
    *,
    now: datetime,
    grace: timedelta,
    lease: timedelta,
    instance: str,
    limit: int,
) -> ClaimResult:
    """Claim up to `limit` due digests: abandoned claims first, then chats whose time came."""
    claimed = await _take_over_abandoned(
        session, now=now, grace=grace, lease=lease, instance=instance, limit=limit
    )
    skipped = 0
    statement = (
        select(Chat)
        .where(Chat.subscribed.is_(True), Chat.active.is_(True), Chat.next_digest_at <= now)
        .order_by(Chat.next_digest_at)
        .limit(max(0, limit - len(claimed)))
        .with_for_update(skip_locked=True, of=Chat)
    )
    chats = list((await session.scalars(statement)).all()) if len(claimed) < limit else []
    taken: list[tuple[Digest, Chat]] = []
    for chat in chats:
        due_at = chat.next_digest_at
        assert due_at is not None
        late = due_at < now - grace
        digest = Digest(
            chat_id=chat.id,
            due_at=due_at,
            status=SKIPPED if late else CLAIMED,
            claimed_by=instance,
            claimed_at=now,
            item_count=0,
            error="missed by more than the grace period" if late else None,
        )
        # Move on from now, not from due_at: after downtime, missed digests are not piled up.
        chat.next_digest_at = next_digest_at(chat_times(chat), chat.timezone, now)
        session.add(digest)
        taken.append((digest, chat))
    # One flush for the whole batch (a multi-row INSERT ... RETURNING gives every id):
    # a flush per chat kept SQLite's write lock through hundreds of round trips.
    await session.flush()
    for digest, chat in taken:
        if digest.status == SKIPPED:
            skipped += 1
        else:
            claimed.append(_snapshot(digest, chat))
    return ClaimResult(claimed, skipped)


async def _take_over_abandoned(
    session: AsyncSession,
    *,
    now: datetime,
    grace: timedelta,
    lease: timedelta,
    instance: str,
    limit: int,
) -> list[ClaimedDigest]:
    """Claims whose owner died (or that asked to be retried), still worth sending."""
    stale = or_(
        and_(Digest.status == CLAIMED, Digest.claimed_at < now - lease),
        and_(Digest.status == RETRY, Digest.claimed_at <= now),
    )
    await session.execute(
        update(Digest)
        .where(stale, Digest.due_at < now - grace)
        .values(status=EXPIRED, error="not delivered within the grace period")
    )
    taken = (
        (
            await session.execute(
                update(Digest)
                .where(
                    stale,
                    Digest.due_at >= now - grace,
                    Digest.id.in_(
                        select(Digest.id)
                        .where(stale)
                        .order_by(Digest.due_at)
                        .limit(limit)
                        .scalar_subquery()
                    ),
                )
                .values(status=CLAIMED, claimed_by=instance, claimed_at=now)
                .returning(Digest.id)
            )
        )
        .scalars()
        .all()
    )
    if not taken:
        return []
    rows = (
        await session.execute(
            select(Digest, Chat).join(Chat, Chat.id == Digest.chat_id).where(Digest.id.in_(taken))
        )
    ).all()
    return [_snapshot(digest, chat) for digest, chat in rows if chat.active and chat.subscribed]


async def undelivered_headlines(
    session: AsyncSession, chat_id: int, *, since: datetime, limit: int = 300
) -> list[Headline]:
    """Items from the chat's sources that arrived since `since` and never reached it,
    newest first."""
    delivered = exists().where(Delivery.chat_id == chat_id, Delivery.article_id == Article.id)
    statement = (
        select(*headline_columns())
        .join(Source, Source.id == Article.source_id)
        .where(Article.fetched_at > since, ~delivered, visible_to(chat_id))
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(limit)
    )
    return [headline_of(row) for row in await session.execute(statement)]


@dataclass(frozen=True)
class Candidate:
    """An item that may go into the digests of a claim batch, with what filters it per chat."""

    headline: Headline
    source_id: int
    user_feed: bool
    fetched_at: datetime


async def digest_candidates(
    session: AsyncSession, chat_ids: Sequence[int], *, since: datetime, limit: int
) -> list[Candidate]:
    """Items fetched since `since` from the bot's feeds and these chats' own, newest first:
    one query for a whole claim batch, each chat's own filters applied in memory after it."""
    own = select(ChatFeed.source_id).where(ChatFeed.chat_id.in_(chat_ids))
    statement = (
        select(*headline_columns(), Source.id.label("source_id"), Source.user_feed)
        .join(Source, Source.id == Article.source_id)
        .add_columns(Article.fetched_at)
        .where(Article.fetched_at > since, Source.user_feed.is_(False) | Source.id.in_(own))
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(limit)
    )
    return [
        Candidate(headline_of(row), row.source_id, bool(row.user_feed), row.fetched_at)
        for row in await session.execute(statement)
    ]


async def delivered_ids(
    session: AsyncSession, chat_ids: Sequence[int], *, from_article_id: int
) -> dict[int, set[int]]:
    """For each of these chats, the ids from `from_article_id` up of the items it already
    got: a range of the deliveries key per chat, however long its history."""
    statement = select(Delivery.chat_id, Delivery.article_id).where(
        Delivery.chat_id.in_(chat_ids), Delivery.article_id >= from_article_id
    )
    delivered: dict[int, set[int]] = {}
    for chat_id, article_id in await session.execute(statement):
        delivered.setdefault(chat_id, set()).add(article_id)
    return delivered


@dataclass(frozen=True)
class Delivered:
    """A digest Telegram accepted: its items, when, and up to when the chat has seen the news
    (when its items were read, so nothing fetched while it went out is passed over)."""

    digest: ClaimedDigest
    article_ids: Sequence[int]
    sent_at: datetime
    seen_until: datetime


async def record_sent(
    session: AsyncSession, digest: ClaimedDigest, article_ids: Sequence[int], *, now: datetime
) -> None:
    """The digest reached the chat: remember every item in it, so none is sent again."""
    await record_deliveries(session, [Delivered(digest, article_ids, now, now)])


async def record_deliveries(session: AsyncSession, delivered: Sequence[Delivered]) -> None:
    """Digests that reached their chats, in three statements however many there are."""
    rows = [
        {
            "chat_id": d.digest.chat_id,
            "article_id": a,
            "digest_id": d.digest.digest_id,
            "delivered_at": d.sent_at,
        }
        for d in delivered
        for a in dict.fromkeys(d.article_ids)
    ]
    if rows:
        await session.execute(insert_into(session, Delivery).on_conflict_do_nothing(), rows)
    await session.execute(
        update(Digest),
        [
            {
                "id": d.digest.digest_id,
                "status": SENT if d.article_ids else EMPTY,
                "sent_at": d.sent_at,
                "item_count": len(d.article_ids),
                "error": None,
            }
            for d in delivered
        ],
    )
    await session.execute(
        update(Chat),
        [{"id": d.digest.chat_id, "last_digest_at": d.seen_until} for d in delivered],
    )


async def record_retry(
    session: AsyncSession, digest: ClaimedDigest, *, error: str, not_before: datetime
) -> None:
    """Sending failed for a passing reason: leave the digest due for a later pass."""
    await session.execute(
        update(Digest)
        .where(Digest.id == digest.digest_id)
        .values(status=RETRY, claimed_at=not_before, error=error[:500])
    )


async def record_undeliverable(
    session: AsyncSession, digest: ClaimedDigest, *, error: str, now: datetime
) -> None:
    """Telegram will not deliver to this chat (blocked, deleted): stop sending to it."""
    await session.execute(
        update(Digest)
        .where(Digest.id == digest.digest_id)
        .values(status=UNDELIVERABLE, error=error[:500])
    )
    await session.execute(
        update(Chat).where(Chat.id == digest.chat_id).values(active=False, updated_at=now)
    )
