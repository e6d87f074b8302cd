"""Time arithmetic of digests: a stored zone's tzinfo, and the next instant a digest is due.

Times are wall-clock times in the chat's own zone; the next instant is found in that
zone and converted to UTC, so an 08:00 digest stays at 08:00 across a DST change. Plain
arithmetic with no interface text, so the store may use it.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import parse_clock_time


# ZoneInfo keeps only the last 8 zones alive; a fan-out over more re-read their files.
@functools.lru_cache(maxsize=1024)
def zone_info(name: str) -> tzinfo:
    """The tzinfo for a stored zone name (IANA or "UTC+05:30")."""
    match = re.fullmatch(r"UTC([+-])(\d{2}):(\d{2})", name)
    if match:
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        return timezone(delta if match.group(1) == "+" else -delta, name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def next_digest_at(times: list[str], zone_name: str, after: datetime) -> datetime | None:
    """The first of the local times strictly after `after`, as an aware UTC instant."""
    if not times:
        return None
    zone = zone_info(zone_name)
    local_after = after.astimezone(zone)
    clock_times = sorted(parse_clock_time(t) for t in times)
    for day in range(0, 3):
        local_day = local_after.date() + timedelta(days=day)
        for clock in clock_times:
            candidate = _local_instant(local_day, clock, zone)
            if candidate > after:
                return candidate.astimezone(UTC)
    return None


def quiet_until(quiet_hours: str | None, zone_name: str, now: datetime) -> datetime | None:
    """When the chat's quiet hours ("22:00-07:00", its zone) now in force end, as an aware
    UTC instant; None when they are not in force (or the chat has none)."""
    if not quiet_hours:
        return None
    start_text, end_text = quiet_hours.split("-")
    start, end = parse_clock_time(start_text), parse_clock_time(end_text)
    zone = zone_info(zone_name)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start <= end:
        inside = start <= clock < end
        end_day = local.date()
    else:  # across midnight: from start tonight to end tomorrow
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1 if clock >= start else 0)
    if not inside:
        return None
    ends = _local_instant(end_day, end, zone).astimezone(UTC)
    return ends if ends > now else None


def _local_instant(day: date, clock: time, zone: tzinfo) -> datetime:
    # fold=0 takes the first of a repeated autumn hour, and maps a time skipped in
    # spring to the same distance after the change (02:30 becomes 03:30): never early.
    return datetime.combine(day, clock).replace(tzinfo=zone, fold=0)
