"""Small facts about the store: one-time imports done, when jobs last ran."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.db import insert_into
from bot.store.models import Meta


async def get_meta(session: AsyncSession, key: str) -> Meta | None:
    """The stored fact under this key, or None."""
    return await session.get(Meta, key)


async def set_meta(session: AsyncSession, key: str, value: str, *, now: datetime) -> None:
    """Record a fact, replacing what was there (two instances may record the same key)."""
    statement = insert_into(session, Meta).values(key=key, value=value, updated_at=now)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["key"], set_={"value": value, "updated_at": now}
        )
    )


async def meta_with_prefix(session: AsyncSession, prefix: str) -> list[Meta]:
    """Every fact whose key starts with the prefix, by key."""
    statement = select(Meta).where(Meta.key.startswith(prefix)).order_by(Meta.key)
    return list((await session.scalars(statement)).all())


HEARTBEAT_PREFIX = "heartbeat:"


async def record_heartbeat(session: AsyncSession, job: str, detail: str, *, now: datetime) -> None:
    """Note that a job finished a pass, for /stats and the watchdog."""
    await set_meta(session, HEARTBEAT_PREFIX + job, detail, now=now)


async def heartbeats(session: AsyncSession) -> dict[str, datetime]:
    """When each job last finished a pass, by job name."""
    return {
        m.key.removeprefix(HEARTBEAT_PREFIX): m.updated_at
        for m in await meta_with_prefix(session, HEARTBEAT_PREFIX)
    }


MAYBE_SENT_PREFIX = "maybe-sent:"


async def record_maybe_sent(
    session: AsyncSession, instance: str, count: int, *, now: datetime
) -> None:
    """Keep how many messages this instance sent again after their answer was lost."""
    await set_meta(session, MAYBE_SENT_PREFIX + instance, str(count), now=now)


async def maybe_sent_total(session: AsyncSession) -> int:
    """Messages that may have arrived twice, over every instance that ever ran."""
    return sum(int(m.value) for m in await meta_with_prefix(session, MAYBE_SENT_PREFIX))
