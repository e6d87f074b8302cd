"""Queries on digests: claiming the due ones, what a chat has not seen, recording deliveries.

A digest is claimed before it is built and recorded after it is sent. The claim is a
`digests` row (unique per chat and due time) made in the same transaction that moves the
chat's `next_digest_at` on; on PostgreSQL the chat rows are locked with SKIP LOCKED, so
two instances never claim the same digest. A claim whose instance died is taken over
once its lease runs out, as long as the digest is still within the grace period.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, and_, bindparam, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.news.rules import ALERT, Rule
from bot.schedule.times import next_digest_at, quiet_until
from bot.store.articles import Headline, headline_columns, headline_of
from bot.store.chat_sources import visible_to
from bot.store.chats import ChatChoices, chat_times, news_languages, rule_of, rules_of
from bot.store.db import insert_into
from bot.store.models import Article, Chat, ChatFeed, ChatTopic, Delivery, Digest, Source

CLAIMED = "claimed"
RETRY = "retry"
SENT = "sent"
EMPTY = "empty"
SKIPPED = "skipped"
EXPIRED = "expired"
UNDELIVERABLE = "undeliverable"
_CHATS = cast(Table, Chat.__table__)
_DIGESTS = cast(Table, Digest.__table__)
_DELIVERIES = cast(Table, Delivery.__table__)
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
    rules: tuple[Rule, ...]  # followed, included and muted patterns, in the chat's order
    kind: str = "private"  # the chat's type: a channel's digest is worded for an audience
    link_preview: bool = True  # show Telegram's preview of the top story
    newest_first: bool = False  # stories newest first, not by how many outlets report them
    language: str = "en"  # the interface language the digest is written in
    # The news languages the chat keeps to (None: every language).
    news_languages: frozenset[str] | None = None
    # Sent without a notification sound: due in the chat's quiet hours, as it asked.
    silent: bool = False


@dataclass(frozen=True)
class ClaimResult:
    """What one claim pass took, and how many digests it skipped as too late to send."""

    digests: list[ClaimedDigest]
    skipped: int


# The chat's columns a claim reads: Core rows, as a fan-out claims thousands of chats and
# loading them as ORM objects (with their topics) cost more than the rest of the claim.
_CHAT_CHOICES = (
    Chat.id,
    Chat.thread_id,
    Chat.timezone,
    Chat.digest_times,
    Chat.digest_size,
    Chat.only_followed,
    Chat.notify_empty,
    Chat.kind,
    Chat.link_preview,
    Chat.newest_first,
    Chat.language,
    Chat.news_languages,
    Chat.last_digest_at,
    Chat.quiet_hours,
    Chat.quiet_digests_silent,
)


def _snapshot(
    digest_id: int, due_at: datetime, chat: ChatChoices, rules: Sequence[Rule]
) -> ClaimedDigest:
    """The digest as its chat chose it, with the chat's rules in order."""
    since = chat.last_digest_at or (due_at - FIRST_DIGEST_WINDOW)
    return ClaimedDigest(
        digest_id=digest_id,
        chat_id=chat.id,
        thread_id=chat.thread_id,
        due_at=due_at,
        timezone=chat.timezone,
        digest_size=chat.digest_size,
        only_followed=chat.only_followed,
        notify_empty=chat.notify_empty,
        since=since,
        rules=tuple(rules),
        kind=chat.kind,
        link_preview=chat.link_preview,
        newest_first=chat.newest_first,
        language=chat.language,
        news_languages=news_languages(chat),
        silent=chat.quiet_digests_silent
        and quiet_until(chat.quiet_hours, chat.timezone, due_at) is not None,
    )


async def _rules_by_chat(session: AsyncSession, chat_ids: Sequence[int]) -> dict[int, list[Rule]]:
    """Each of these chats' rules, in the order added."""
    rules: dict[int, list[Rule]] = {}
    if not chat_ids:
        return rules
    statement = (
        select(
            ChatTopic.chat_id,
            ChatTopic.kind,
            ChatTopic.phrase,
            ChatTopic.pattern_type,
            ChatTopic.source_id,
            ChatTopic.field,
        )
        .where(ChatTopic.chat_id.in_(chat_ids), ChatTopic.kind != ALERT)
        .order_by(ChatTopic.id)
    )
    for row in await session.execute(statement):
        rules.setdefault(row.chat_id, []).append(rule_of(row))
    return rules


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
            rules=(),
        )
    return _snapshot(0, now, chat, rules_of(chat))


async def claim_due_digests(
    session: AsyncSession,
    *,
    now: datetime,
    grace: timedelta,
    lease: timedelta,
    instance: str,
    limit: int,
) -> ClaimResult:
    """Claim up to `limit` due digests: abandoned claims first, then chats whose time came.

    Core statements throughout, a handful a batch however large: a fan-out claims every
    chat, and the ORM's unit of work (an object per digest, a flush) cost most of a claim.
    """
    claimed = await _take_over_abandoned(
        session, now=now, grace=grace, lease=lease, instance=instance, limit=limit
    )
    if len(claimed) >= limit:
        return ClaimResult(claimed, 0)
    chats = await _lock_due_chats(session, now=now, limit=limit - len(claimed))
    if not chats:
        return ClaimResult(claimed, 0)
    digests, moves = _claims_and_moves(chats, now=now, grace=grace, instance=instance)
    digest_ids = await _insert_claims_and_move_on(session, digests, moves)
    wanted = [chat for chat in chats if chat.next_digest_at >= now - grace]
    rules = await _rules_by_chat(session, [chat.id for chat in wanted])
    claimed += [
        _snapshot(digest_ids[chat.id], chat.next_digest_at, chat, rules.get(chat.id, ()))
        for chat in wanted
    ]
    return ClaimResult(claimed, len(chats) - len(wanted))


async def _lock_due_chats(
    session: AsyncSession, *, now: datetime, limit: int
) -> Sequence[Row[*tuple[Any, ...]]]:
    """The chats whose digest time came, earliest first, locked against other instances."""
    statement = (
        select(*_CHAT_CHOICES, Chat.next_digest_at)
        .where(Chat.subscribed.is_(True), Chat.active.is_(True), Chat.next_digest_at <= now)
        .order_by(Chat.next_digest_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Chat)
    )
    return (await session.execute(statement)).all()


def _claims_and_moves(
    chats: Sequence[Row[*tuple[Any, ...]]], *, now: datetime, grace: timedelta, instance: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each chat's `digests` row (claimed, or skipped as too late) and its next digest time."""
    digests, moves = [], []
    # Chats with the same times and zone move on to the same moment: computed once.
    next_at: dict[tuple[str, str], datetime | None] = {}
    for chat in chats:
        late = chat.next_digest_at < now - grace
        digests.append(
            {
                "chat_id": chat.id,
                "due_at": chat.next_digest_at,
                "status": SKIPPED if late else CLAIMED,
                "claimed_by": instance,
                "claimed_at": now,
                "item_count": 0,
                "error": "missed by more than the grace period" if late else None,
            }
        )
        schedule = (chat.digest_times, chat.timezone)
        if schedule not in next_at:
            # Move on from now, not from due_at: after downtime, missed digests are not piled up.
            next_at[schedule] = next_digest_at(chat_times(chat), chat.timezone, now)
        moves.append({"chat": chat.id, "next_at": next_at[schedule]})
    return digests, moves


async def _insert_claims_and_move_on(
    session: AsyncSession, digests: list[dict[str, Any]], moves: list[dict[str, Any]]
) -> dict[int, int]:
    """Write the claims and the chats' next digest times; each claim's id by its chat."""
    # One multi-row INSERT ... RETURNING for the batch (each chat is in it once).
    inserted = await session.execute(
        insert(_DIGESTS).returning(_DIGESTS.c.chat_id, _DIGESTS.c.id), digests
    )
    digest_ids: dict[int, int] = {chat_id: digest_id for chat_id, digest_id in inserted}
    await session.execute(
        update(_CHATS)
        .where(_CHATS.c.id == bindparam("chat"))
        .values(next_digest_at=bindparam("next_at")),
        moves,
    )
    return digest_ids


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
            select(Digest.id.label("digest_id"), Digest.due_at, *_CHAT_CHOICES)
            .join(Chat, Chat.id == Digest.chat_id)
            .where(Digest.id.in_(taken), Chat.active.is_(True), Chat.subscribed.is_(True))
        )
    ).all()
    rules = await _rules_by_chat(session, [row.id for row in rows])
    return [_snapshot(row.digest_id, row.due_at, row, rules.get(row.id, ())) for row in rows]


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
    session: AsyncSession,
    chat_ids: Sequence[int],
    *,
    since: datetime,
    limit: int,
    shared: Callable[[Headline], Headline],
) -> list[Candidate]:
    """Items fetched since `since` from the bot's feeds and these chats' own, newest first:
    one query for a whole claim batch, each chat's own filters applied in memory after it.
    `shared` gives the object to keep for each headline read (an equal one held already)."""
    own = select(ChatFeed.source_id).where(ChatFeed.chat_id.in_(chat_ids))
    statement = (
        select(*headline_columns(), Source.user_feed)
        .join(Source, Source.id == Article.source_id)
        .add_columns(Article.fetched_at)
        .where(Article.fetched_at > since, Source.user_feed.is_(False) | Source.id.in_(own))
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(limit)
    )
    return [
        Candidate(shared(headline_of(row)), row.source_id, bool(row.user_feed), row.fetched_at)
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
    """Digests that reached their chats, in three statements however many there are.

    Core statements on the tables: the ORM's bulk paths do work per row (a fan-out records
    ten items for each of thousands of digests) that plain executemany does not.
    """
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
        await session.execute(insert_into(session, _DELIVERIES).on_conflict_do_nothing(), rows)
    await session.execute(
        update(_DIGESTS)
        .where(_DIGESTS.c.id == bindparam("digest"))
        .values(
            status=bindparam("status"),
            sent_at=bindparam("sent_at"),
            item_count=bindparam("item_count"),
            error=None,
        ),
        [
            {
                "digest": d.digest.digest_id,
                "status": SENT if d.article_ids else EMPTY,
                "sent_at": d.sent_at,
                "item_count": len(d.article_ids),
            }
            for d in delivered
        ],
    )
    await session.execute(
        update(_CHATS)
        .where(_CHATS.c.id == bindparam("chat"))
        .values(last_digest_at=bindparam("seen_until")),
        [{"chat": d.digest.chat_id, "seen_until": d.seen_until} for d in delivered],
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


async def items_after(
    session: AsyncSession, after_id: int, chat_ids: Sequence[int], *, limit: int
) -> list[Candidate]:
    """Items stored after `after_id` from the bot's feeds and these chats' own, oldest
    first: what every follow, or every alert, of a pass is compared with, read once."""
    own = select(ChatFeed.source_id).where(ChatFeed.chat_id.in_(chat_ids))
    statement = (
        select(*headline_columns(), Source.id.label("source_id"), Source.user_feed)
        .join(Source, Source.id == Article.source_id)
        .add_columns(Article.fetched_at)
        .where(Article.id > after_id, Source.user_feed.is_(False) | Source.id.in_(own))
        .order_by(Article.id)
        .limit(limit)
    )
    return [
        Candidate(headline_of(row), row.source_id, bool(row.user_feed), row.fetched_at)
        for row in await session.execute(statement)
    ]
