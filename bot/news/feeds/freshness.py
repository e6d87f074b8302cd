"""How long a feed response stays fresh, by its HTTP caching headers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.news.http.headers import parse_http_date
from bot.news.text import as_utc


def freshness_seconds(headers: Mapping[str, str], *, now: datetime) -> float | None:
    """How long the response stays fresh by its caching headers, or None if unsaid.

    max-age (less Age) wins over Expires, as in HTTP caching; Expires is measured
    against the server's own Date so clock skew between us does not matter.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    for directive in lowered.get("cache-control", "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "max-age":
            try:
                max_age = int(value.strip().strip('"'))
            except ValueError:
                break
            try:
                age = int(lowered.get("age", "0").strip())
            except ValueError:
                age = 0
            return float(max(0, max_age - age))
    expires = parse_http_date(lowered.get("expires"))
    if expires is None:
        return None
    date = parse_http_date(lowered.get("date")) or as_utc(now)
    return max(0.0, (expires - date).total_seconds())
