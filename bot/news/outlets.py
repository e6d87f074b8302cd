"""Which outlet published an item: the site of its link, so one outlet's feeds count once.

An outlet's feeds live on many hosts (feeds.bbci.co.uk, www.bbc.co.uk) and a feed's title
names the section, not the outlet ("BBC News - World", "BBC News - Business"), but the
links of its articles share the site's registered domain. That domain is read without a
public-suffix list: the last two labels of the host, or three under a country code's
generic second level (bbc.co.uk, abc.net.au). Hosts under other multi-label suffixes
(blogspot.com, a city's domain) would count as one outlet: rare among news feeds, and
erring that way only ranks a story lower.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

# Second-level labels under which country codes register names (co.uk, com.au, ne.jp).
_GENERIC_SECOND_LEVEL = frozenset(
    {"ac", "co", "com", "edu", "gob", "gov", "go", "ne", "net", "nic", "or", "org"}
)


def outlet_of(url: str | None, source: str) -> str:
    """The outlet of an item: its link's registered domain, else its source's name."""
    host = _host(url)
    if host is None:
        return source.strip().casefold()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _registered_domain(host)
    return host


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.rstrip(".") or None if host else None


def _registered_domain(host: str) -> str:
    labels = host.split(".")
    if len(labels) <= 2:
        return host
    keep = 3 if len(labels[-1]) == 2 and labels[-2] in _GENERIC_SECOND_LEVEL else 2
    return ".".join(labels[-keep:])
