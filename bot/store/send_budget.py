"""The bot token's send budget, counted in PostgreSQL so every instance shares it.

Telegram limits the token, not a process: instances on one database take each send's
turn here, under one advisory lock, so together they never put more than the limit in
any window. Times are the database's clock, the one clock all instances agree on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.store.db import insert_into
from bot.store.models import SendPause, SendSlot

# Any constant serialises the budget's transactions; this one spells "newsbot" (the
# functions of migrations 0008, 0011 and 0013 take the same lock).
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


@dataclass(frozen=True)
class SendTurns:
    """Slots reserved for this instance's next sends, or how long to wait for any."""

    delays: tuple[float, ...]  # seconds after `counted_at` until each slot, in order
    counted_at: float  # the database's clock when it counted them, seconds since the epoch
    wait: float = 0.0  # with no slots: seconds before asking again


async def take_send_turns(
    connection: AsyncConnection,
    rate: OverallRate,
    *,
    wanted: int,
    horizon: float,
    lead: float = 0.0,
) -> SendTurns:
    """Reserve up to `wanted` of the budget's next slots at least `lead` seconds ahead and
    within `horizon` seconds after that.

    The work is the database function of migration 0013, one round trip on an autocommit
    connection however many slots it reserves: at 1,000 messages a second a turn a message
    would be the limit, not Telegram.
    """
    wait, delays, counted_at = (
        await connection.execute(
            text(
                "SELECT wait, delays, counted_at FROM newsbot_take_send_turns("
                ":wanted, :limit, :window, :gap, :horizon, :lead)"
            ),
            {
                "wanted": wanted,
                "limit": rate.limit,
                "window": rate.window,
                "gap": rate.gap,
                "horizon": horizon,
                "lead": lead,
            },
        )
    ).one()
    return SendTurns(
        delays=tuple(float(d) for d in delays or ()),
        counted_at=float(counted_at),
        wait=float(wait or 0.0),
    )


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
