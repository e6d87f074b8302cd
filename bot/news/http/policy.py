"""Which URLs and addresses may be fetched: http(s) only, and no private networks for strangers.

Third-party input must not reach the bot's own network (loopback, the LAN, a cloud
metadata address), so every address a name resolves to is checked before connecting.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from functools import lru_cache

import httpx

from bot.news.http.errors import BadScheme, BlockedAddress, ConnectFailed, InvalidURL

# host, port -> IP address strings, in the order to try them.
Resolver = Callable[[str, int], Awaitable[list[str]]]

_SCHEMES = ("http", "https")


def checked_url(url: str) -> httpx.URL:
    """`url` parsed, without its fragment; InvalidURL or BadScheme unless http(s) with a host."""
    if not isinstance(url, str):
        raise InvalidURL("URL must be a string")
    return _checked_url(url)


# A feed is fetched by the same URL pass after pass, and httpx's parsing was about a fifth
# of the CPU a 304 costs: each URL is parsed once (URLs are immutable, refusals not kept).
@lru_cache(maxsize=4096)
def _checked_url(url: str) -> httpx.URL:
    text = url.strip()
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    if scheme not in _SCHEMES:
        raise BadScheme(scheme, url=url)
    try:
        parsed = httpx.URL(text)
        host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError, ValueError):
        raise InvalidURL("not a valid URL", url=url) from None
    if not host:
        raise InvalidURL("URL has no host", url=url)
    return parsed.copy_with(fragment=None)


# Longer addresses are refused as feeds: no real feed needs one, and each is kept per chat.
MAX_FEED_URL_CHARS = 2000


def checked_feed_url(url: str, *, allow_private: bool) -> str:
    """A feed address someone gave (typed, or listed in a file), stripped, if it may be added.

    BadScheme unless http(s); InvalidURL if it does not parse, has no host, has spaces or is
    too long; unless `allow_private`, BlockedAddress for a literal private, loopback or other
    non-public address (a name is checked against its addresses when it is fetched).
    """
    text = url.strip()
    if len(text) > MAX_FEED_URL_CHARS:
        raise InvalidURL(f"URL longer than {MAX_FEED_URL_CHARS} characters", url=url)
    if any(char.isspace() for char in text):
        raise InvalidURL("URL has spaces in it", url=url)
    parsed = checked_url(text)
    if not allow_private:
        host = parsed.host
        kind = forbidden_kind(host) if _ip(host) is not None else None
        if kind:
            raise BlockedAddress(host, host, kind, resolved=False, url=url)
    return text


async def allowed_addresses(
    host: str, port: int, *, resolver: Resolver, allow_private: bool, url: str
) -> list[str]:
    """The addresses to connect to, after the policy has accepted every one of them."""
    literal = _ip(host)
    if literal is not None:
        host = host.strip("[]")  # messages then say "is", not "resolves to"
        addresses = [str(literal)]
    else:
        try:
            addresses = await resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise ConnectFailed(f"cannot resolve host {host}", url=url) from exc
        if not addresses:
            raise ConnectFailed(f"cannot resolve host {host}", url=url)
    if not allow_private:
        # All of them, not just the first: the connection may use any.
        for address in addresses:
            kind = forbidden_kind(address)
            if kind:
                resolved = _ip(host) != _ip(address)
                raise BlockedAddress(host, address, kind, resolved=resolved, url=url)
    return addresses


def forbidden_kind(address: str) -> str | None:
    """Why an address may not be fetched from third-party input, or None if it may."""
    ip = _ip(address)
    if ip is None:
        return "invalid"
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address wrapped in IPv6 reaches the IPv4 host.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return forbidden_kind(str(embedded))
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:  # carrier-grade NAT and other special-purpose ranges
        return "non-public"
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer for `host`, IPv4 and IPv6, without duplicates."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[str] = []
    for family, *_rest, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6) and sockaddr[0] not in addresses:
            addresses.append(str(sockaddr[0]))
    return addresses


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = host.strip("[]").split("%", 1)[0]
    if ":" not in text and not text.replace(".", "").isdigit():
        return None  # a name: only IPv6 has colons, and IPv4 is digits and dots
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
