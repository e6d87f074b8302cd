"""Time zones people can pick without knowing IANA names: by city, by language, by abbreviation.

A zone is stored as an IANA name or a fixed "UTC+05:30" (bot.schedule.times reads both).
Here are the ways to get there from what a person types or what Telegram says about them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import available_timezones

from babel import Locale
from babel.core import get_global

from bot.i18n import LANGUAGES, current_language

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


def _fold(name: str) -> str:
    """A city name as people may type it: any case, with or without accents, "_" or "-"."""
    spaced = " ".join(name.replace("_", " ").replace("-", " ").split()).casefold()
    decomposed = unicodedata.normalize("NFKD", spaced)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _place_zones() -> list[str]:
    return [name for name in sorted(available_timezones()) if name.startswith(_AREAS)]


@lru_cache(maxsize=1)
def _zones_by_city() -> dict[str, str]:
    """The zones by the city in their IANA name ("new york")."""
    cities: dict[str, str] = {}
    for name in _place_zones():
        cities.setdefault(_fold(name.rsplit("/", 1)[-1]), name)
    return cities


@lru_cache(maxsize=1)
def _zones_by_local_city() -> dict[str, str]:
    """The zones by their city's name in each interface language ("Moskau", "Москва",
    "Nueva York"), from CLDR through Babel; built on the first name that is not an IANA
    city (a tenth of a second)."""
    # An old name and its successor share a city ("Europe/Kiev", "Europe/Kyiv"): the zone
    # whose name matches what CLDR calls the city in English is the current one.
    zones = sorted(
        _place_zones(),
        key=lambda name: _fold(name.rsplit("/", 1)[-1]) != _fold(_local_city(name, "en")),
    )
    cities: dict[str, str] = {}
    for language in LANGUAGES:
        for name in zones:
            cities.setdefault(_fold(_local_city(name, language)), name)
    return cities


def _local_city(zone: str, language: str) -> str:
    # CLDR's own table, read directly: babel.dates.get_timezone_location is 20x slower.
    canonical = get_global("zone_aliases").get(zone, zone)
    city = _cldr_zones(language).get(canonical, {}).get("city")
    return str(city) if city else canonical.rsplit("/", 1)[-1].replace("_", " ")


@lru_cache(maxsize=len(LANGUAGES))
def _cldr_zones(language: str) -> Mapping[str, Mapping[str, str]]:
    return Locale.parse(language).time_zones


@lru_cache(maxsize=1)
def _zones_by_folded_name() -> dict[str, str]:
    return {name.lower(): name for name in sorted(available_timezones(), reverse=True)}


def zone_ignoring_case(name: str) -> str | None:
    """The zone whose name this is but for case ("europe/berlin"), or None."""
    return _zones_by_folded_name().get(name.lower())


def zone_for_city(text: str) -> str | None:
    """The zone named after a city, as its IANA name has it or as it is called in one of
    the bot's languages ("Berlin", "new york", "São Paulo", "Moskau", "Москва"), or None."""
    city = _fold(text)
    if not city:
        return None
    return _zones_by_city().get(city) or _zones_by_local_city().get(city)


def city_of(zone: str) -> str:
    """The place a zone is named after, in the reader's language, for a button:
    "America/New_York" is "New York", for a Spanish reader "Nueva York"."""
    return _local_city(zone, current_language())
