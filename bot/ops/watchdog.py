"""Liveness: a job that has not completed a pass for three of its intervals has stalled."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.store.db import Database
from bot.store.meta import heartbeats

MISSED_PASSES = 3


async def stalled_jobs(
    database: Database, intervals: Mapping[str, int], *, now: datetime
) -> list[str]:
    """Jobs (by name, with their interval in seconds) whose last pass is three intervals old."""
    async with database.session() as session:
        beats = await heartbeats(session)
    stalled = []
    for name, interval in intervals.items():
        last = beats.get(name)
        if last is not None and now - last > timedelta(seconds=interval * MISSED_PASSES):
            stalled.append(f"{name} (last pass {int((now - last).total_seconds())} s ago)")
    return stalled
