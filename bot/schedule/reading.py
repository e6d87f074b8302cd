"""What people type for digest times and zones, read into what the store keeps.

Times of day in the ways people write them ("8am", "20h30"), up to six a day; zones as
IANA names, cities, or UTC offsets. Every refusal is a ScheduleError whose message, in the
reader's language, says what to type instead.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.i18n import _, ngettext
from bot.schedule.zones import Abbreviation, abbreviation, zone_for_city, zone_ignoring_case

MAX_TIMES_PER_DAY = 6
# "08:00", "8.30", "8am", "8:30 pm", "20h", "20h30": the ways people write a time of day.
_TIME_OF_DAY = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|h)?$", re.IGNORECASE)
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


class ScheduleError(ValueError):
    """A time or zone a user typed cannot be used; the message says why."""


class AbbreviatedZone(ScheduleError):
    """An abbreviation like EST: a fixed offset, which is rarely what the person means."""

    def __init__(self, known: Abbreviation) -> None:
        super().__init__(
            # Translators: {name} is an abbreviation like EST, {offset} like "UTC−05:00",
            # {zone} a zone name like America/New_York.
            _(
                "{name} is a fixed offset ({offset}) without daylight saving time; "
                "{zone} follows the clocks there all year."
            ).format(name=known.name, offset=offset_text(known.offset), zone=known.zone)
        )
        self.abbreviation = known


def offset_text(zone: str) -> str:
    """A stored offset as people write it: "UTC+05:30", "UTC−05:00" (with a real minus)."""
    return zone.replace("-", "−") if zone.startswith("UTC") else zone


def parse_zone(text: str) -> str:
    """An IANA zone name, a city, or a UTC offset ("+05:30"), as the name the store keeps.

    Abbreviations (EST, CET) raise AbbreviatedZone: they name fixed offsets, and the zone
    the person most likely means is one that changes with daylight saving time.
    """
    value = text.strip()
    if value.upper() in {"UTC", "GMT", "Z"}:
        return "UTC"
    match = _OFFSET.match(value)
    if match:
        sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
        if hours > 14 or minutes >= 60 or (hours == 14 and minutes):
            raise ScheduleError(
                _("“{value}” is not a UTC offset (from -12:00 to +14:00).").format(value=value)
            )
        return f"UTC{sign}{hours:02d}:{minutes:02d}"
    known = abbreviation(value)
    if known is not None:
        raise AbbreviatedZone(known)
    if len(value) <= 64 and re.fullmatch(r"[A-Za-z0-9_+\-/]+", value):
        try:
            return ZoneInfo(value).key
        except (ZoneInfoNotFoundError, ValueError):
            # People type "europe/berlin"; zone files are case-sensitive on disk.
            named = zone_ignoring_case(value)
            if named is not None:
                return named
    city = zone_for_city(value[:64])
    if city is not None:
        return city
    raise ScheduleError(_not_a_zone(value))


def _not_a_zone(value: str) -> str:
    return _(
        "“{value}” is not a time zone or a city I know; "
        "try a city like Berlin, a zone like Europe/Berlin, or +05:30."
    ).format(value=value[:40])


def is_time_of_day(word: str) -> bool:
    """Whether a word is written like a time of day (it may still be out of range)."""
    return all(_TIME_OF_DAY.match(part) for part in word.split(",") if part) and bool(
        word.strip(",")
    )


def parse_time_of_day(text: str) -> str:
    """One time of day as "HH:MM": "08:00", "8am", "8:30pm", "20h" and "20h30" all read."""
    match = _TIME_OF_DAY.match(text.strip())
    if match:
        hours, minutes = int(match.group(1)), int(match.group(2) or 0)
        suffix = (match.group(3) or "").lower().replace(".", "")
        if suffix in ("am", "pm") and 1 <= hours <= 12:
            hours = hours % 12 + (12 if suffix == "pm" else 0)
        elif suffix in ("am", "pm"):
            hours = 99
        if hours < 24 and minutes < 60 and (match.group(2) or suffix):
            return f"{hours:02d}:{minutes:02d}"
    raise ScheduleError(
        _("“{value}” is not a time of day; write it like 08:00, 18:30, 8am or 6:30pm.").format(
            value=text[:20]
        )
    )


def parse_times(words: list[str]) -> list[str]:
    """Read up to six times of day; return them sorted as "HH:MM" strings."""
    times = {parse_time_of_day(part) for word in words for part in word.split(",") if part}
    if len(times) > MAX_TIMES_PER_DAY:
        raise ScheduleError(
            ngettext(
                "At most {count} digest a day, please.",
                "At most {count} digests a day, please.",
                MAX_TIMES_PER_DAY,
            ).format(count=MAX_TIMES_PER_DAY)
        )
    return sorted(times)


_QUIET_SPLIT = re.compile(r"\s*(?:-|–|—|\bto\b)\s*", re.IGNORECASE)


def parse_quiet_hours(text: str) -> str:
    """Quiet hours as "HH:MM-HH:MM" from "22:00-07:00", "10pm-7am" or "22:00 to 7:00"."""
    parts = [part for part in _QUIET_SPLIT.split(text.strip()) if part]
    if len(parts) != 2:
        raise ScheduleError(
            _("Write quiet hours as a start and an end, like 22:00-07:00 or 10pm-7am.")
        )
    start, end = (parse_time_of_day(part) for part in parts)
    if start == end:
        raise ScheduleError(_("Quiet hours need to end at another time than they start."))
    return f"{start}-{end}"
