"""Fetching untrusted URLs safely: feeds added by admins, article links from anywhere.

One `SafeFetcher` (one `httpx.AsyncClient`) serves the whole process. Every fetch is
bounded in time, size, redirects and concurrency, and each hop's address is checked
against the caller's address policy before anything is sent.

Why the address is pinned: checking what a name resolves to and then letting httpx
resolve it again leaves a window in which DNS can answer differently (DNS rebinding).
So we resolve once, check, and connect to the checked address itself, sending the real
name in the Host header and as the TLS server name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import socket
import sys
import time
import weakref
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.cookiejar import CookieJar, DefaultCookiePolicy
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType

import httpx

__all__ = [
    "USER_AGENT",
    "BadScheme",
    "BlockedAddress",
    "ConnectFailed",
    "FetchError",
    "FetchResponse",
    "FetchTimeout",
    "HTTPStatusError",
    "InvalidURL",
    "Resolver",
    "SafeFetcher",
    "TooLarge",
    "TooManyRedirects",
    "parse_http_date",
    "parse_retry_after",
]

log = logging.getLogger(__name__)

# httpcore imports sniffio inside a function, on every request and for every lock it makes.
# Where sniffio is not installed (anyio no longer needs it) each of those failed imports
# searches sys.path again: about a fifth of a fetch's CPU time. Record its absence once;
# httpcore and anyio then take asyncio, which is what runs them.
try:
    import sniffio  # noqa: F401
except ImportError:
    sys.modules.setdefault("sniffio", None)  # type: ignore[assignment]

try:
    _VERSION = version("newsbot")
except PackageNotFoundError:  # running from a source tree that was never installed
    _VERSION = "0"

USER_AGENT = f"newsbot/{_VERSION} (+https://github.com/newsbot/newsbot)"

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 10 * MB

_SCHEMES = ("http", "https")
_REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_PERMANENT_STATUSES = (301, 308)
# Only what we can decode with a bounded output buffer (see _BoundedDecoder).
_ACCEPT_ENCODING = "gzip, deflate"
# A name may resolve to many addresses; trying a few covers a dead IPv6 route
# without letting one fetch spend its whole time budget on connection attempts.
_MAX_ADDRESSES_TRIED = 3

# host, port -> IP address strings, in the order to try them.
Resolver = Callable[[str, int], Awaitable[list[str]]]


# --------------------------------------------------------------------------- errors


class FetchError(Exception):
    """A URL could not be fetched. `str(error)` is short enough to show an admin."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url

    def __str__(self) -> str:
        return self.message


class InvalidURL(FetchError):
    """The URL cannot be parsed or has no host."""


class BadScheme(InvalidURL):
    """Only http and https are fetched; never file:, ftp:, data: or anything else."""

    def __init__(self, scheme: str, *, url: str | None = None) -> None:
        if scheme:
            message = f"unsupported URL scheme {scheme!r}: only http and https"
        else:
            message = "URL has no scheme: only http and https"
        super().__init__(message, url=url)
        self.scheme = scheme


class BlockedAddress(FetchError):
    """The host is, or resolves to, an address the policy forbids (private, loopback...)."""

    def __init__(self, host: str, address: str, kind: str, *, url: str | None = None) -> None:
        if _ip(host) == _ip(address):
            message = f"blocked: {host} is a {kind} address"
        else:
            message = f"blocked: {host} resolves to a {kind} address ({address})"
        super().__init__(message, url=url)
        self.host = host
        self.address = address
        self.kind = kind


class ConnectFailed(FetchError):
    """Name resolution, TCP, TLS or the HTTP exchange itself failed."""


class FetchTimeout(FetchError):
    def __init__(self, seconds: float, *, url: str | None = None) -> None:
        super().__init__(f"timed out after {_seconds(seconds)}", url=url)
        self.seconds = seconds


class TooLarge(FetchError):
    def __init__(self, limit: int, *, url: str | None = None) -> None:
        super().__init__(f"body larger than {_size(limit)}", url=url)
        self.limit = limit


class TooManyRedirects(FetchError):
    pass


class HTTPStatusError(FetchError):
    """The server answered with an error status (or a redirect we cannot follow)."""

    def __init__(
        self,
        status_code: int,
        reason: str = "",
        *,
        retry_after: float | None = None,
        url: str | None = None,
    ) -> None:
        reason = reason or _reason(status_code)
        message = f"HTTP {status_code} {reason}".rstrip()
        if retry_after is not None:
            message += f" (retry after {_seconds(retry_after)})"
        super().__init__(message, url=url)
        self.status_code = status_code
        self.reason = reason
        self.retry_after = retry_after


# ------------------------------------------------------------------------- response


@dataclass(frozen=True)
class FetchResponse:
    url: str
    """The URL asked for."""
    final_url: str
    """Where the content came from, after redirects."""
    status_code: int
    """2xx, or 304 when a conditional request matched (then `content` is empty)."""
    headers: httpx.Headers
    """The final response's headers. `content` is already decoded (no Content-Encoding)."""
    content: bytes
    permanent_redirect: str | None
    """The final URL when every redirect hop was permanent (301/308), else None."""
    elapsed: float
    """Seconds from the first request to the end of the body."""

    @property
    def not_modified(self) -> bool:
        return self.status_code == 304


# -------------------------------------------------------------------------- fetcher


class SafeFetcher:
    """The process-wide HTTP client for untrusted URLs.

    Use as an async context manager (or call `aclose()`). `fetch()` raises only
    `FetchError` subclasses for network, policy and HTTP problems.
    """

    def __init__(
        self,
        *,
        timeout: float = 20.0,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = 5,
        concurrency: int = 16,
        per_host: int = 2,
        allow_private: bool = False,
        user_agent: str = USER_AGENT,
        resolver: Resolver | None = None,
    ) -> None:
        if timeout <= 0 or max_bytes <= 0 or concurrency < 1 or per_host < 1:
            raise ValueError("timeout, max_bytes, concurrency and per_host must be positive")
        self.timeout = timeout
        self.connect_timeout = (
            connect_timeout if connect_timeout is not None else min(10.0, timeout)
        )
        self.read_timeout = read_timeout if read_timeout is not None else min(15.0, timeout)
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.allow_private = allow_private
        self.user_agent = user_agent
        self._resolver: Resolver = resolver or _system_resolver
        self._slots = asyncio.Semaphore(concurrency)
        self._per_host = per_host
        self._host_slots: weakref.WeakValueDictionary[str, asyncio.Semaphore] = (
            weakref.WeakValueDictionary()
        )
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(
                connect=self.connect_timeout,
                read=self.read_timeout,
                write=self.read_timeout,
                pool=self.timeout,
            ),
            # Redirects are followed by hand so that every hop is checked again.
            follow_redirects=False,
            # Environment proxies would route around the address check, and .netrc
            # credentials must never go to a URL a stranger chose.
            trust_env=False,
            # No keep-alive: connections are made to the checked IP, so a pooled TLS
            # connection to one name could otherwise be reused for another name
            # served from the same address (CDNs). Feed polls are minutes apart anyway.
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=0),
            # No cookies: one site's state must not follow us to another.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            headers={"User-Agent": user_agent, "Accept-Encoding": _ACCEPT_ENCODING},
        )

    async def __aenter__(self) -> SafeFetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        allow_private: bool | None = None,
        accept: str | None = None,
        max_bytes: int | None = None,
    ) -> FetchResponse:
        """GET `url` within every limit; conditional when `etag`/`last_modified` are given.

        `allow_private` overrides the fetcher's default for this call: True for feeds
        an admin added (an intranet feed is legitimate), False for third-party links.
        """
        allow_private = self.allow_private if allow_private is None else allow_private
        limit = self.max_bytes if max_bytes is None else max_bytes
        headers = {"Accept": accept or "*/*"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified

        current = _checked_url(url)
        seen = {str(current)}
        all_permanent = True
        redirects = 0
        started = time.monotonic()
        # The per-host slot is taken first and the clock starts last: twenty feeds on
        # one site must queue politely without burning their time budget or holding
        # global slots that fetches to other sites could use. Redirect targets are
        # not capped separately; the slot belongs to the site that was asked for.
        async with self._host_slot(current.raw_host.decode("ascii")), self._slots:
            try:
                async with asyncio.timeout(self.timeout):
                    while True:
                        outcome = await self._hop(current, headers, allow_private, limit)
                        if isinstance(outcome, _Final):
                            break
                        redirects += 1
                        if redirects > self.max_redirects:
                            raise TooManyRedirects(
                                f"too many redirects (more than {self.max_redirects})", url=url
                            )
                        if str(outcome.location) in seen:
                            raise TooManyRedirects("redirect loop", url=url)
                        seen.add(str(outcome.location))
                        all_permanent = all_permanent and outcome.permanent
                        current = outcome.location
            except TimeoutError:
                raise FetchTimeout(self.timeout, url=url) from None

        final_url = str(current)
        return FetchResponse(
            url=url,
            final_url=final_url,
            status_code=outcome.status_code,
            headers=outcome.headers,
            content=outcome.content,
            permanent_redirect=final_url if redirects and all_permanent else None,
            elapsed=time.monotonic() - started,
        )

    # ----------------------------------------------------------------- one hop

    async def _hop(
        self, url: httpx.URL, headers: dict[str, str], allow_private: bool, limit: int
    ) -> _Final | _Redirect:
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await self._addresses(host, port, allow_private, str(url))
        hop_headers = {**headers, "Host": url.netloc.decode("ascii")}

        failure: httpx.TransportError | None = None
        for address in addresses[:_MAX_ADDRESSES_TRIED]:
            request = self._client.build_request(
                "GET",
                url.copy_with(host=address),
                headers=hop_headers,
                extensions={"sni_hostname": host},
            )
            try:
                response = await self._client.send(request, stream=True)
            except httpx.ConnectError as exc:
                failure = exc  # try the next address of this name
                continue
            except httpx.HTTPError as exc:
                raise self._transport_error(exc, str(url)) from exc
            try:
                return await self._read(url, response, limit)
            except httpx.HTTPError as exc:
                raise self._transport_error(exc, str(url)) from exc
            finally:
                await response.aclose()
        assert failure is not None
        raise self._transport_error(failure, str(url)) from failure

    async def _read(
        self, url: httpx.URL, response: httpx.Response, limit: int
    ) -> _Final | _Redirect:
        status = response.status_code
        location = response.headers.get("Location")
        if status in _REDIRECT_STATUSES and location:
            try:
                target = url.join(location.strip()).copy_with(fragment=None)
            except (httpx.InvalidURL, UnicodeError, ValueError):
                raise FetchError("redirect to an invalid URL", url=str(url)) from None
            return _Redirect(_checked_url(str(target)), permanent=status in _PERMANENT_STATUSES)
        if status == 304:
            return _Final(status, response.headers, b"")
        if not 200 <= status < 300:
            raise HTTPStatusError(
                status,
                response.reason_phrase,
                retry_after=parse_retry_after(
                    response.headers.get("Retry-After"),
                    now=parse_http_date(response.headers.get("Date")),
                ),
                url=str(url),
            )

        declared = response.headers.get("Content-Length", "")
        if declared.strip().isdigit() and int(declared) > limit:
            raise TooLarge(limit, url=str(url))
        decoder = _BoundedDecoder(response.headers.get("Content-Encoding", ""), limit, str(url))
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > limit:  # compressed bytes count too
                raise TooLarge(limit, url=str(url))
            decoder.feed(chunk)
        return _Final(status, response.headers, decoder.finish())

    # ---------------------------------------------------------------- helpers

    async def _addresses(self, host: str, port: int, allow_private: bool, url: str) -> list[str]:
        """The addresses to connect to, after the policy has accepted every one of them."""
        literal = _ip(host)
        if literal is not None:
            host = host.strip("[]")  # messages then say "is", not "resolves to"
            addresses = [str(literal)]
        else:
            try:
                addresses = await self._resolver(host, port)
            except (OSError, UnicodeError) as exc:
                raise ConnectFailed(f"cannot resolve host {host}", url=url) from exc
            if not addresses:
                raise ConnectFailed(f"cannot resolve host {host}", url=url)
        if not allow_private:
            # All of them, not just the first: the connection may use any.
            for address in addresses:
                kind = _forbidden_kind(address)
                if kind:
                    raise BlockedAddress(host, address, kind, url=url)
        return addresses

    @asynccontextmanager
    async def _host_slot(self, host: str) -> AsyncIterator[None]:
        slot = self._host_slots.get(host)
        if slot is None:
            slot = asyncio.Semaphore(self._per_host)
            self._host_slots[host] = slot
        async with slot:  # the local reference keeps the weak entry alive while in use
            yield

    def _transport_error(self, exc: httpx.HTTPError, url: str) -> FetchError:
        if isinstance(exc, httpx.ConnectTimeout):
            return FetchTimeout(self.connect_timeout, url=url)
        if isinstance(exc, httpx.TimeoutException):
            return FetchTimeout(self.read_timeout, url=url)
        if isinstance(exc, httpx.ConnectError):
            reason = _root_cause(exc)
            if "CERTIFICATE_VERIFY_FAILED" in reason:
                return ConnectFailed("TLS certificate verification failed", url=url)
            return ConnectFailed(f"cannot connect: {reason}", url=url)
        if isinstance(exc, httpx.RemoteProtocolError):
            return ConnectFailed(f"broken HTTP response: {_first_line(str(exc))}", url=url)
        return ConnectFailed(
            f"connection failed: {_first_line(str(exc)) or type(exc).__name__}", url=url
        )


@dataclass(frozen=True)
class _Final:
    status_code: int
    headers: httpx.Headers
    content: bytes


@dataclass(frozen=True)
class _Redirect:
    location: httpx.URL
    permanent: bool


# ------------------------------------------------------------------- decoding


class _BoundedDecoder:
    """Content-Encoding decoding that never holds more than `limit` decoded bytes.

    httpx's own decoders inflate a whole network read at once, and one 64 KiB read of
    a gzip bomb inflates to about 64 MB; here output is asked for in bounded amounts.
    """

    def __init__(self, content_encoding: str, limit: int, url: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        for coding in codings:
            if coding not in ("gzip", "x-gzip", "deflate"):
                raise FetchError(f"unsupported Content-Encoding {coding!r}", url=url)
        # Applied in reverse order of the header (the last coding was applied last).
        self._layers = [_Inflater(c) for c in reversed(codings)]
        self._limit = limit
        self._url = url
        self._parts: list[bytes] = []
        self._size = 0

    def feed(self, data: bytes) -> None:
        self._keep(self._through(data, final=False))

    def finish(self) -> bytes:
        self._keep(self._through(b"", final=True))
        return b"".join(self._parts)

    def _through(self, data: bytes, *, final: bool) -> bytes:
        # Inner layers are only ever as large as the outer cap allows, too.
        try:
            for layer in self._layers:
                data = layer.inflate(data, self._limit - self._size, final=final)
        except zlib.error:
            raise FetchError("corrupt compressed body", url=self._url) from None
        except _Overflow:
            raise TooLarge(self._limit, url=self._url) from None
        return data

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise TooLarge(self._limit, url=self._url)
        if data:
            self._parts.append(data)


class _Overflow(Exception):
    pass


class _Inflater:
    def __init__(self, coding: str) -> None:
        self._gzip = coding in ("gzip", "x-gzip")
        self._raw_fallback = not self._gzip  # "deflate" is zlib-wrapped or, wrongly, raw
        self._obj = self._new()
        self._started = False

    def _new(self, raw: bool = False) -> zlib._Decompress:
        wbits = 16 + zlib.MAX_WBITS if self._gzip else (-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
        return zlib.decompressobj(wbits)

    def inflate(self, data: bytes, room: int, *, final: bool) -> bytes:
        out: list[bytes] = []
        while data:
            try:
                chunk = self._obj.decompress(data, room + 1)
            except zlib.error:
                if self._started or not self._raw_fallback:
                    raise
                self._raw_fallback = False
                self._obj = self._new(raw=True)
                continue
            self._started = True
            if len(chunk) > room:
                raise _Overflow
            room -= len(chunk)
            out.append(chunk)
            # Output below the cap means all input was consumed, except past the end
            # of a gzip member: a body may hold several members back to back.
            data = self._obj.unused_data if self._obj.eof else b""
            if data and self._gzip and data[:2] == b"\x1f\x8b":
                self._obj = self._new()
            else:
                data = b""  # trailing garbage after the stream is ignored, like browsers do
        if final:
            tail = self._obj.flush()
            if len(tail) > room:
                raise _Overflow
            out.append(tail)
        return b"".join(out)


# ------------------------------------------------------------------- address policy


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _forbidden_kind(address: str) -> str | None:
    """Why an address may not be fetched from third-party input, or None if it may."""
    ip = _ip(address)
    if ip is None:
        return "invalid"
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address wrapped in IPv6 reaches the IPv4 host.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return _forbidden_kind(str(embedded))
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


async def _system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[str] = []
    for family, *_rest, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6) and sockaddr[0] not in addresses:
            addresses.append(str(sockaddr[0]))
    return addresses


def _checked_url(url: str) -> httpx.URL:
    if not isinstance(url, str):
        raise InvalidURL("URL must be a string")
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


# ----------------------------------------------------------------- header helpers


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP date (RFC 9110) as aware UTC, or None when absent or invalid."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date.

    A date is measured from `now` (the response's Date header is the best choice:
    it shares the server's clock); None for a missing or unreadable header.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    when = parse_http_date(value)
    if when is None:
        return None
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def _reason(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _size(value: int) -> str:
    if value >= MB and value % MB == 0:
        return f"{value // MB} MB"
    if value >= 1024:
        return f"{value / 1024:g} KB"
    return f"{value} bytes"


def _root_cause(exc: BaseException) -> str:
    """The most specific reason in an exception chain: "Connection refused", not
    httpx's "All connection attempts failed"."""
    reason = _first_line(str(exc)) or type(exc).__name__
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and (current.errno or current.strerror):
            return os.strerror(current.errno) if current.errno else str(current.strerror)
        current = current.__cause__ or current.__context__
    return reason


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else ""
