"""Queries on instant alerts: the chats' alert rules, the outbox of alerts, its cursor.

Alerts are made by one pass at a time over the items stored since the last (the cursor in
`meta`, advanced in the transaction that makes them, so an item is looked at once across
restarts and instances). An alert row is unique per chat and item; it is claimed with a
lease when due, and marked sent once Telegram accepted it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.news.rules import ALERT, Rule, sifting
from bot.store.chats import news_languages, rule_of
from bot.store.db import insert_into
from bot.store.models import Alert, Chat, ChatTopic, Meta

CURSOR_KEY = "alerts:checked-through"


@dataclass(frozen=True)
class ChatAlertRules:
    """A chat's alert rules, and the includes and excludes they obey too."""

    alerts: tuple[tuple[int, Rule], ...]  # (rule id, rule), in the chat's order
    sifting: tuple[Rule, ...]


@dataclass(frozen=True)
class AlertingChat:
    """A chat with alert rules, and what decides which items reach it."""

    chat_id: int
    timezone: str
    quiet_hours: str | None
    news_languages: frozenset[str] | None
    rules: ChatAlertRules


async def rules_version(session: AsyncSession) -> tuple[int, int]:
    """What changes whenever a rule is added or deleted anywhere: how many there are, and
    the newest id (ids are never reused)."""
    count, newest = (
        await session.execute(select(func.count(), func.max(ChatTopic.id)).select_from(ChatTopic))
    ).one()
    return int(count or 0), int(newest or 0)


async def alert_rules_by_chat(session: AsyncSession) -> dict[int, ChatAlertRules]:
    """The rules of every chat with an alert rule, whether it is active or not."""
    with_alerts = select(ChatTopic.chat_id).where(ChatTopic.kind == ALERT)
    statement = (
        select(
            ChatTopic.chat_id,
            ChatTopic.id,
            ChatTopic.kind,
            ChatTopic.phrase,
            ChatTopic.pattern_type,
            ChatTopic.source_id,
            ChatTopic.field,
        )
        .where(ChatTopic.chat_id.in_(with_alerts))
        .order_by(ChatTopic.chat_id, ChatTopic.id)
    )
    rows: dict[int, list[tuple[int, Rule]]] = {}
    # Chats share rules ("earthquake" is many chats' alert): each made once.
    made: dict[tuple[Any, ...], Rule] = {}
    for row in await session.execute(statement):
        key = (row.kind, row.phrase, row.pattern_type, row.source_id, row.field)
        rule = made.get(key)
        if rule is None:
            rule = made[key] = rule_of(row)
        rows.setdefault(row.chat_id, []).append((row.id, rule))
    return {
        chat_id: ChatAlertRules(
            alerts=tuple((i, rule) for i, rule in rules if rule.action == ALERT),
            sifting=sifting(rule for _i, rule in rules),
        )
        for chat_id, rules in rows.items()
    }


async def alerting_chats(
    session: AsyncSession, rules: dict[int, ChatAlertRules]
) -> list[AlertingChat]:
    """The active ones of these chats, with their zone, quiet hours and news languages as
    they stand now."""
    statement = select(Chat.id, Chat.timezone, Chat.quiet_hours, Chat.news_languages).where(
        Chat.active.is_(True), Chat.id.in_(select(ChatTopic.chat_id).where(ChatTopic.kind == ALERT))
    )
    return [
        AlertingChat(row.id, row.timezone, row.quiet_hours, news_languages(row), rules[row.id])
        for row in await session.execute(statement)
        if row.id in rules
    ]


async def alerts_cursor(session: AsyncSession) -> int | None:
    """The newest article id the alert passes have looked at, held until this transaction
    ends (so two instances' passes take turns); None before the first pass."""
    statement = select(Meta.value).where(Meta.key == CURSOR_KEY).with_for_update()
    value = await session.scalar(statement)
    return int(value) if value else None


async def move_alerts_cursor(session: AsyncSession, through: int, *, now: datetime) -> None:
    """Every item up to `through` has been looked at."""
    statement = insert_into(session, Meta).values(
        key=CURSOR_KEY, value=str(through), updated_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["key"], set_={"value": str(through), "updated_at": now}
        )
    )


async def alerted_articles(
    session: AsyncSession, chat_ids: Sequence[int], *, since: datetime
) -> dict[int, set[int]]:
    """The articles each of these chats was alerted to (or will be) since a time."""
    statement = select(Alert.chat_id, Alert.article_id).where(
        Alert.chat_id.in_(chat_ids), Alert.created_at >= since
    )
    found: dict[int, set[int]] = {}
    for chat_id, article_id in await session.execute(statement):
        found.setdefault(chat_id, set()).add(article_id)
    return found


async def alone_alerts_since(
    session: AsyncSession, chat_ids: Sequence[int], *, since: datetime
) -> dict[int, list[datetime]]:
    """When each of these chats' alerts sent as messages of their own were made, since a
    time, oldest first: what the hour's cap counts."""
    statement = (
        select(Alert.chat_id, Alert.created_at)
        .where(Alert.chat_id.in_(chat_ids), Alert.alone.is_(True), Alert.created_at >= since)
        .order_by(Alert.created_at)
    )
    found: dict[int, list[datetime]] = {}
    for chat_id, created_at in await session.execute(statement):
        found.setdefault(chat_id, []).append(created_at)
    return found


@dataclass(frozen=True)
class NewAlert:
    """An alert a pass decided to make."""

    chat_id: int
    rule_id: int
    article_id: int
    alone: bool
    due_at: datetime


async def add_alerts(session: AsyncSession, alerts: Sequence[NewAlert], *, now: datetime) -> None:
    """Put alerts in the outbox; one a chat already has for the same item is left out."""
    if not alerts:
        return
    rows = [
        {
            "chat_id": a.chat_id,
            "rule_id": a.rule_id,
            "article_id": a.article_id,
            "alone": a.alone,
            "created_at": now,
            "due_at": a.due_at,
        }
        for a in alerts
    ]
    # The table, not the ORM entity: a pass over a burst makes thousands of rows, and the
    # ORM's bulk insert costs several times a Core executemany per row.
    statement = insert_into(session, cast(Table, Alert.__table__)).on_conflict_do_nothing(
        index_elements=["chat_id", "article_id"]
    )
    await session.execute(statement, rows)


@dataclass(frozen=True)
class ClaimedAlert:
    """An alert this instance now owns, with what sending and rendering it needs."""

    alert_id: int
    chat_id: int
    thread_id: int | None
    language: str
    timezone: str
    quiet_hours: str | None
    rule_id: int
    pattern: str
    article_id: int
    alone: bool


def _due(now: datetime) -> ColumnElement[bool]:
    """An alert not sent, due, and not held by a live claim."""
    return and_(
        Alert.sent_at.is_(None),
        Alert.due_at <= now,
        or_(Alert.claimed_until.is_(None), Alert.claimed_until <= now),
    )


async def claim_due_alerts(
    session: AsyncSession,
    *,
    now: datetime,
    lease: timedelta,
    instance: str,
    chats: int,
    per_chat: int,
) -> list[ClaimedAlert]:
    """Claim the due alerts of up to `chats` chats (at most `per_chat` each, oldest first),
    so a chat's gathered alerts are claimed, and sent, together."""
    due = _due(now)
    chat_ids = (
        await session.scalars(
            select(Alert.chat_id)
            .join(Chat, Chat.id == Alert.chat_id)
            .where(due, Chat.active.is_(True))
            .group_by(Alert.chat_id)
            .order_by(func.min(Alert.due_at))
            .limit(chats)
        )
    ).all()
    taken: list[int] = []
    for chat_id in chat_ids:
        wanted = (
            select(Alert.id)
            .where(Alert.chat_id == chat_id, due)
            .order_by(Alert.id)
            .limit(per_chat)
            .scalar_subquery()
        )
        # The condition again in the UPDATE: on PostgreSQL a row another instance claimed
        # meanwhile is read again after its lock and no longer matches.
        taken += (
            await session.scalars(
                update(Alert)
                .where(Alert.id.in_(wanted), due)
                .values(claimed_by=instance, claimed_until=now + lease)
                .returning(Alert.id)
            )
        ).all()
    return await _claimed(session, taken)


async def _claimed(session: AsyncSession, alert_ids: Sequence[int]) -> list[ClaimedAlert]:
    """These alerts with what sending them needs, a chat's together, oldest first."""
    if not alert_ids:
        return []
    statement = (
        select(
            Alert.id,
            Alert.rule_id,
            Alert.article_id,
            Alert.alone,
            ChatTopic.phrase,
            Chat.id.label("chat_id"),
            Chat.thread_id,
            Chat.language,
            Chat.timezone,
            Chat.quiet_hours,
        )
        .join(ChatTopic, ChatTopic.id == Alert.rule_id)
        .join(Chat, Chat.id == Alert.chat_id)
        .where(Alert.id.in_(alert_ids))
        .order_by(Alert.chat_id, Alert.id)
    )
    return [
        ClaimedAlert(
            alert_id=row.id,
            chat_id=row.chat_id,
            thread_id=row.thread_id,
            language=row.language,
            timezone=row.timezone,
            quiet_hours=row.quiet_hours,
            rule_id=row.rule_id,
            pattern=row.phrase,
            article_id=row.article_id,
            alone=row.alone,
        )
        for row in await session.execute(statement)
    ]


async def record_alerts_sent(
    session: AsyncSession, alert_ids: Sequence[int], *, now: datetime
) -> None:
    """Telegram accepted the message these alerts were in: they are never sent again."""
    await session.execute(
        update(Alert).where(Alert.id.in_(alert_ids)).values(sent_at=now, error=None)
    )


async def record_alerts_later(
    session: AsyncSession, alert_ids: Sequence[int], *, not_before: datetime, error: str | None
) -> None:
    """Not sent now (a passing failure, or the chat's quiet hours): due again from
    `not_before`, sent then as one message with the chat's others due then."""
    values: dict[str, object] = {"claimed_until": None, "due_at": not_before}
    if error is not None:
        values["error"] = error[:500]
    else:
        values["alone"] = False
    await session.execute(update(Alert).where(Alert.id.in_(alert_ids)).values(**values))


async def drop_alerts(session: AsyncSession, alert_ids: Sequence[int]) -> None:
    """Telegram will not deliver these alerts to their chat: they go."""
    await session.execute(delete(Alert).where(Alert.id.in_(alert_ids)))


@dataclass(frozen=True)
class AlertCounts:
    """A chat's alerts: sent in the last day, and waiting (quiet hours, the cap, a retry)."""

    sent_today: int
    waiting: int
    next_due: datetime | None


async def alert_counts(session: AsyncSession, chat_id: int, *, now: datetime) -> AlertCounts:
    """What the chat's alerts came to lately, for /alerts and the command line."""
    sent = await session.scalar(
        select(func.count())
        .select_from(Alert)
        .where(Alert.chat_id == chat_id, Alert.sent_at >= now - timedelta(days=1))
    )
    waiting, next_due = (
        await session.execute(
            select(func.count(), func.min(Alert.due_at)).where(
                Alert.chat_id == chat_id, Alert.sent_at.is_(None)
            )
        )
    ).one()
    return AlertCounts(int(sent or 0), int(waiting or 0), next_due)


async def prune_sent_alerts(session: AsyncSession, *, before: datetime) -> int:
    """Forget alerts sent before a time (they only told the cap and one-per-story); how many."""
    removed = await session.execute(
        delete(Alert).where(Alert.sent_at.is_not(None), Alert.sent_at < before)
    )
    return int(removed.rowcount or 0)  # type: ignore[attr-defined]
