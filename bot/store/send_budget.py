"""The bot token's send budget, counted in PostgreSQL so every instance shares it.

Telegram limits the token, not a process: instances on one database take each send's
turn here, under one advisory lock, so together they never put more than the limit in
any window. Times are the database's clock, the one clock all instances agree on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.db import insert_into
from bot.store.models import SendPause, SendSlot

# Any constant serialises the budget's transactions; this one spells "newsbot".
_LOCK_KEY = 0x6E657773626F74
# Group sends are counted over a minute; older slots count for nothing.
_KEPT = timedelta(seconds=60)
_PAUSE_ROW = 1


@dataclass(frozen=True)
class OverallRate:
    """At most `limit` sends in any `window` seconds, each at least `gap` after the last."""

    limit: int
    window: float
    gap: float


async def take_send_turn(session: AsyncSession, rate: OverallRate) -> float:
    """Count one send against the shared budget now and return 0, or return the seconds to
    wait before asking again (the budget is full, or a 429 is being waited out)."""
    await _lock(session)
    now = func.statement_timestamp()
    in_window = SendSlot.group_key.is_(None) & (
        SendSlot.sent_at > now - timedelta(seconds=rate.window)
    )
    row = (
        await session.execute(
            select(
                now,
                select(SendPause.until).where(SendPause.id == _PAUSE_ROW).scalar_subquery(),
                func.count().filter(in_window),
                func.min(SendSlot.sent_at).filter(in_window),
                func.max(SendSlot.sent_at).filter(in_window),
            ).where(SendSlot.sent_at > now - _KEPT)
        )
    ).one()
    current, paused_until, count, oldest, newest = row
    wait = 0.0
    if paused_until is not None:
        wait = (paused_until - current).total_seconds()
    if count >= rate.limit and oldest is not None:
        wait = max(wait, (oldest - current).total_seconds() + rate.window)
    if newest is not None:
        wait = max(wait, (newest - current).total_seconds() + rate.gap)
    if wait > 0:
        return wait
    await session.execute(delete(SendSlot).where(SendSlot.sent_at <= current - _KEPT))
    session.add(SendSlot(sent_at=current, group_key=None))
    return 0.0


async def take_group_turn(session: AsyncSession, group_key: str, per_minute: int) -> float:
    """Count one send to a group against its shared per-minute budget and return 0, or
    return the seconds until the group's oldest counted send leaves the minute."""
    await _lock(session)
    now = func.statement_timestamp()
    recent = (SendSlot.group_key == group_key) & (SendSlot.sent_at > now - _KEPT)
    current, count, oldest = (
        await session.execute(
            select(now, func.count(SendSlot.id), func.min(SendSlot.sent_at)).where(recent)
        )
    ).one()
    if count >= per_minute and oldest is not None:
        wait = (oldest - current + _KEPT).total_seconds()
        if wait > 0:
            return wait
    session.add(SendSlot(sent_at=current, group_key=group_key))
    return 0.0


async def pause_sends(session: AsyncSession, seconds: float) -> None:
    """Hold every instance's sends for `seconds` from now (never shortening a longer pause)."""
    until = func.statement_timestamp() + timedelta(seconds=seconds)
    statement = insert_into(session, SendPause).values(id=_PAUSE_ROW, until=until)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"],
            set_={"until": func.greatest(SendPause.until, statement.excluded.until)},
        )
    )


async def _lock(session: AsyncSession) -> None:
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
