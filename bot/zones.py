"""Time zones people can pick without knowing IANA names: by city, by language, by abbreviation.

A zone is stored as an IANA name or a fixed "UTC+05:30" (bot.schedule reads both). Here
are the ways to get there from what a person types or what Telegram says about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import available_timezones

# Zones under these areas are places; the rest (US/..., Etc/..., EST5EDT) are aliases.
_AREAS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)

# Likely zones for a Telegram language_code: the region when it names one, else the language.
LANGUAGE_ZONES: dict[str, tuple[str, ...]] = {
    "en-us": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
    "en-gb": ("Europe/London",),
    "en-au": ("Australia/Sydney", "Australia/Perth"),
    "en-in": ("Asia/Kolkata",),
    "pt-br": ("America/Sao_Paulo",),
    "es-mx": ("America/Mexico_City",),
    "en": ("Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Kolkata"),
    "de": ("Europe/Berlin", "Europe/Vienna", "Europe/Zurich"),
    "fr": ("Europe/Paris", "Europe/Brussels", "America/Montreal", "Africa/Abidjan"),
    "es": ("Europe/Madrid", "America/Mexico_City", "America/Bogota", "America/Buenos_Aires"),
    "pt": ("Europe/Lisbon", "America/Sao_Paulo"),
    "it": ("Europe/Rome",),
    "nl": ("Europe/Amsterdam", "Europe/Brussels"),
    "pl": ("Europe/Warsaw",),
    "uk": ("Europe/Kyiv",),
    "ru": ("Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Asia/Vladivostok"),
    "tr": ("Europe/Istanbul",),
    "fa": ("Asia/Tehran",),
    "ar": ("Asia/Riyadh", "Africa/Cairo", "Asia/Dubai", "Africa/Casablanca"),
    "he": ("Asia/Jerusalem",),
    "hi": ("Asia/Kolkata",),
    "id": ("Asia/Jakarta",),
    "ja": ("Asia/Tokyo",),
    "ko": ("Asia/Seoul",),
    "zh": ("Asia/Shanghai", "Asia/Taipei", "Asia/Hong_Kong"),
    "vi": ("Asia/Ho_Chi_Minh",),
}
FALLBACK_ZONES = ("Europe/London", "Europe/Berlin", "America/New_York", "Asia/Kolkata")
MAX_LIKELY = 4


@dataclass(frozen=True)
class Abbreviation:
    """A zone abbreviation: the fixed offset it stands for, and the zone people usually mean."""

    name: str
    offset: str  # stored form, "UTC-05:00"
    zone: str


_ABBREVIATIONS = {
    a.name: a
    for a in (
        Abbreviation("EST", "UTC-05:00", "America/New_York"),
        Abbreviation("EDT", "UTC-04:00", "America/New_York"),
        Abbreviation("CST", "UTC-06:00", "America/Chicago"),
        Abbreviation("CDT", "UTC-05:00", "America/Chicago"),
        Abbreviation("MST", "UTC-07:00", "America/Denver"),
        Abbreviation("MDT", "UTC-06:00", "America/Denver"),
        Abbreviation("PST", "UTC-08:00", "America/Los_Angeles"),
        Abbreviation("PDT", "UTC-07:00", "America/Los_Angeles"),
        Abbreviation("AKST", "UTC-09:00", "America/Anchorage"),
        Abbreviation("HST", "UTC-10:00", "Pacific/Honolulu"),
        Abbreviation("BST", "UTC+01:00", "Europe/London"),
        Abbreviation("WET", "UTC+00:00", "Europe/Lisbon"),
        Abbreviation("WEST", "UTC+01:00", "Europe/Lisbon"),
        Abbreviation("CET", "UTC+01:00", "Europe/Berlin"),
        Abbreviation("CEST", "UTC+02:00", "Europe/Berlin"),
        Abbreviation("MET", "UTC+01:00", "Europe/Berlin"),
        Abbreviation("EET", "UTC+02:00", "Europe/Athens"),
        Abbreviation("EEST", "UTC+03:00", "Europe/Athens"),
        Abbreviation("MSK", "UTC+03:00", "Europe/Moscow"),
        Abbreviation("IST", "UTC+05:30", "Asia/Kolkata"),
        Abbreviation("PKT", "UTC+05:00", "Asia/Karachi"),
        Abbreviation("WIB", "UTC+07:00", "Asia/Jakarta"),
        Abbreviation("HKT", "UTC+08:00", "Asia/Hong_Kong"),
        Abbreviation("SGT", "UTC+08:00", "Asia/Singapore"),
        Abbreviation("JST", "UTC+09:00", "Asia/Tokyo"),
        Abbreviation("KST", "UTC+09:00", "Asia/Seoul"),
        Abbreviation("AEST", "UTC+10:00", "Australia/Sydney"),
        Abbreviation("AEDT", "UTC+11:00", "Australia/Sydney"),
        Abbreviation("NZST", "UTC+12:00", "Pacific/Auckland"),
        Abbreviation("NZDT", "UTC+13:00", "Pacific/Auckland"),
    )
}


def abbreviation(text: str) -> Abbreviation | None:
    """The abbreviation typed ("EST", "cet"), or None if it is not one we know."""
    return _ABBREVIATIONS.get(text.strip().upper())


def likely_zones(language_code: str | None) -> list[str]:
    """A few zones a person with this Telegram language is likely to live in."""
    code = (language_code or "").lower().replace("_", "-")
    zones = LANGUAGE_ZONES.get(code) or LANGUAGE_ZONES.get(code.split("-")[0]) or FALLBACK_ZONES
    return list(zones[:MAX_LIKELY])


@lru_cache(maxsize=1)
def _zones_by_city() -> dict[str, str]:
    cities: dict[str, str] = {}
    for name in sorted(available_timezones()):
        if name.startswith(_AREAS):
            city = name.rsplit("/", 1)[-1].replace("_", " ").replace("-", " ").lower()
            cities.setdefault(city, name)
    return cities


@lru_cache(maxsize=1)
def _zones_by_folded_name() -> dict[str, str]:
    return {name.lower(): name for name in sorted(available_timezones(), reverse=True)}


def zone_ignoring_case(name: str) -> str | None:
    """The zone whose name this is but for case ("europe/berlin"), or None."""
    return _zones_by_folded_name().get(name.lower())


def zone_for_city(text: str) -> str | None:
    """The zone named after a city ("Berlin", "new york", "Sao_Paulo"), or None."""
    city = " ".join(text.replace("_", " ").replace("-", " ").split()).lower()
    return _zones_by_city().get(city) if city else None


def city_of(zone: str) -> str:
    """The place a zone is named after, for a button: "America/New_York" is "New York"."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")
