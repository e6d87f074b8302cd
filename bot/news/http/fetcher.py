"""SafeFetcher: the one HTTP client for untrusted URLs, feeds added by admins and article links.

One `SafeFetcher` (one `aiohttp.ClientSession`) serves the whole process. Every fetch is
bounded in time, size, redirects and concurrency, and each hop's address is checked
against the caller's address policy before anything is sent.

Why the address is pinned: checking what a name resolves to and then letting the client
resolve it again leaves a window in which DNS can answer differently (DNS rebinding).
So we resolve once, check, and connect to the checked address itself, sending the real
name in the Host header and as the TLS server name.

Why aiohttp: a warm poll is mostly conditional GETs answered 304, and the client's own
CPU was most of each. This fetcher on httpx spent 2.3-2.8x the CPU it spends on aiohttp
for one (bench/README.md). URLs are still parsed and checked by `policy.checked_url`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType

import aiohttp
import httpx
from aiohttp.client_reqrep import ConnectionKey
from yarl import URL

from bot.news.http.decoding import ACCEPT_ENCODING, BoundedDecoder
from bot.news.http.errors import (
    ConnectFailed,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    QueueTimeout,
    TooLarge,
    TooManyRedirects,
)
from bot.news.http.headers import parse_http_date, parse_retry_after
from bot.news.http.policy import Resolver, allowed_addresses, checked_url, system_resolver

# httpcore imports sniffio inside a function, on every request and for every lock it makes.
# Where sniffio is not installed (anyio no longer needs it) each of those failed imports
# searches sys.path again: about a fifth of an httpx request's CPU time. This client is
# aiohttp now, but python-telegram-bot and the summarizer still send through httpx, and
# every process that runs them imports this module. Record sniffio's absence once;
# httpcore and anyio then take asyncio, which is what runs them.
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    # None in sys.modules is how Python marks a module as absent; typeshed has no room for it.
    sys.modules["sniffio"] = None  # type: ignore[assignment]

try:
    _VERSION = version("newsbot")
except PackageNotFoundError:  # running from a source tree that was never installed
    _VERSION = "0"

USER_AGENT = f"newsbot/{_VERSION} (+https://github.com/newsbot/newsbot)"

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

_REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_PERMANENT_STATUSES = (301, 308)
# A name may resolve to many addresses; trying a few covers a dead IPv6 route
# without letting one fetch spend its whole time budget on connection attempts.
_MAX_ADDRESSES_TRIED = 3
_MAX_HEADER_BYTES = 16 * 1024
# How long an idle connection is kept for the next fetch from its site.
KEEPALIVE_SECONDS = 30.0
# Connections are made to the checked IP, so several names served from one address (a CDN)
# share a pool entry unless the TLS server name is part of its key: a connection verified
# for one name must never carry a request for another. aiohttp keys by it since 3.14.x;
# with an older aiohttp every connection is closed after its request, as before.
_POOL_KEYED_BY_SERVER_NAME = "server_hostname" in ConnectionKey._fields


@dataclass(frozen=True)
class FetchResponse:
    """What one successful fetch brought back, after redirects and decoding."""

    url: str
    """The URL asked for."""
    final_url: str
    """Where the content came from, after redirects."""
    status_code: int
    """2xx, or 304 when a conditional request matched (then `content` is empty)."""
    headers: Mapping[str, str]
    """The final response's headers, any case. `content` is decoded (no Content-Encoding)."""
    content: bytes
    permanent_redirect: str | None
    """The final URL when every redirect hop was permanent (301/308), else None."""

    @property
    def not_modified(self) -> bool:
        """The server confirmed the cached copy (304): there is no new content."""
        return self.status_code == 304


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
        self._resolver: Resolver = resolver or system_resolver
        self._slots = asyncio.Semaphore(concurrency)
        self._per_host = per_host
        self._host_slots: weakref.WeakValueDictionary[str, asyncio.Semaphore] = (
            weakref.WeakValueDictionary()
        )
        self._timeouts = aiohttp.ClientTimeout(
            total=None, sock_connect=self.connect_timeout, sock_read=self.read_timeout
        )
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use: an aiohttp session belongs to the event loop that runs it.
        if self._session is None:
            self._session = aiohttp.ClientSession(
                # Keep-alive: feeds of one site come due together, and a new connection
                # per request was most of a 304's CPU. A pooled connection is reused
                # only for the address this request's own check just accepted (it is
                # looked up by that address), so the policy and the pinning hold.
                connector=aiohttp.TCPConnector(
                    limit=0,
                    force_close=not _POOL_KEYED_BY_SERVER_NAME,
                    keepalive_timeout=KEEPALIVE_SECONDS if _POOL_KEYED_BY_SERVER_NAME else None,
                ),
                # No cookies: one site's state must not follow us to another.
                cookie_jar=aiohttp.DummyCookieJar(),
                # Environment proxies would route around the address check, and .netrc
                # credentials must never go to a URL a stranger chose.
                trust_env=False,
                # Bodies are decoded by BoundedDecoder, which counts the decoded bytes.
                auto_decompress=False,
                # h11's limit under httpx was 16 KiB; aiohttp's own 8 KiB turns away sites
                # that send one long header (a Content-Security-Policy, say).
                max_line_size=_MAX_HEADER_BYTES,
                max_field_size=_MAX_HEADER_BYTES,
                timeout=self._timeouts,
                headers={"User-Agent": self.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            )
        return self._session

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
        """Close the underlying client and its connections; the fetcher is done after this."""
        if self._session is not None:
            await self._session.close()

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
        headers = _request_headers(etag, last_modified, accept)
        current = checked_url(url)
        # One deadline for the whole fetch, waiting for its slots included: twenty feeds
        # on one slow site then cost only their own time, never a poll's. The per-host
        # slot is taken before a global one, so feeds queued behind a slow site do not
        # hold global slots that fetches to other sites could use. Redirect targets are
        # not capped separately; the slot belongs to the site that was asked for.
        host = current.raw_host.decode("ascii")
        started = False
        try:
            async with asyncio.timeout(self.timeout):
                async with self._host_slot(host), self._slots:
                    started = True
                    final, current, permanent = await self._follow_redirects(
                        url, current, headers, allow_private, limit
                    )
        except TimeoutError:
            if not started:
                raise QueueTimeout(self.timeout, host, url=url) from None
            raise FetchTimeout(self.timeout, url=url) from None

        final_url = str(current)
        return FetchResponse(
            url=url,
            final_url=final_url,
            status_code=final.status_code,
            headers=final.headers,
            content=final.content,
            permanent_redirect=final_url if permanent else None,
        )

    async def _follow_redirects(
        self,
        url: str,
        current: httpx.URL,
        headers: dict[str, str],
        allow_private: bool,
        limit: int,
    ) -> tuple[_Final, httpx.URL, bool]:
        """The final answer, where it came from, and whether it was reached by redirects
        that were all permanent; every hop is checked against the policy on its own."""
        seen = {str(current)}
        all_permanent = True
        redirects = 0
        while True:
            outcome = await self._hop(current, headers, allow_private, limit)
            if isinstance(outcome, _Final):
                return outcome, current, bool(redirects) and all_permanent
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

    async def _hop(
        self, url: httpx.URL, headers: dict[str, str], allow_private: bool, limit: int
    ) -> _Final | _Redirect:
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await allowed_addresses(
            host, port, resolver=self._resolver, allow_private=allow_private, url=str(url)
        )
        hop_headers = {**headers, "Host": url.netloc.decode("ascii")}
        path = url.raw_path.decode("ascii")

        failure: aiohttp.ClientConnectorError | None = None
        for address in addresses[:_MAX_ADDRESSES_TRIED]:
            pinned = f"[{address}]" if ":" in address else address
            target = URL(f"{url.scheme}://{pinned}:{port}{path}", encoded=True)
            try:
                async with self._client().get(
                    target,
                    headers=hop_headers,
                    allow_redirects=False,
                    server_hostname=host if url.scheme == "https" else None,
                ) as response:
                    return await self._read(url, response, limit)
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc, aiohttp.ClientConnectorCertificateError):
                    raise self._transport_error(exc, str(url)) from exc
                failure = exc  # try the next address of this name
            except aiohttp.ClientError as exc:
                raise self._transport_error(exc, str(url)) from exc
        assert failure is not None
        raise self._transport_error(failure, str(url)) from failure

    async def _read(
        self, url: httpx.URL, response: aiohttp.ClientResponse, limit: int
    ) -> _Final | _Redirect:
        status = response.status
        location = response.headers.get("Location")
        if status in _REDIRECT_STATUSES and location:
            try:
                target = url.join(location.strip()).copy_with(fragment=None)
            except (httpx.InvalidURL, UnicodeError, ValueError):
                raise FetchError("redirect to an invalid URL", url=str(url)) from None
            return _Redirect(checked_url(str(target)), permanent=status in _PERMANENT_STATUSES)
        if status == 304:
            return _Final(status, response.headers, b"")
        if not 200 <= status < 300:
            raise HTTPStatusError(
                status,
                response.reason or "",
                retry_after=parse_retry_after(
                    response.headers.get("Retry-After"),
                    now=parse_http_date(response.headers.get("Date")),
                ),
                url=str(url),
            )

        declared = response.headers.get("Content-Length", "")
        if declared.strip().isdigit() and int(declared) > limit:
            raise TooLarge(limit, url=str(url))
        decoder = BoundedDecoder(response.headers.get("Content-Encoding", ""), limit, str(url))
        received = 0
        async for chunk in response.content.iter_any():
            received += len(chunk)
            if received > limit:  # compressed bytes count too
                raise TooLarge(limit, url=str(url))
            decoder.feed(chunk)
        return _Final(status, response.headers, decoder.finish())

    @asynccontextmanager
    async def _host_slot(self, host: str) -> AsyncIterator[None]:
        slot = self._host_slots.get(host)
        if slot is None:
            slot = asyncio.Semaphore(self._per_host)
            self._host_slots[host] = slot
        async with slot:  # the local reference keeps the weak entry alive while in use
            yield

    def _transport_error(self, exc: aiohttp.ClientError, url: str) -> FetchError:
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return FetchTimeout(self.connect_timeout, url=url)
        if isinstance(exc, aiohttp.ServerTimeoutError):
            return FetchTimeout(self.read_timeout, url=url)
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            return ConnectFailed("TLS certificate verification failed", url=url)
        if isinstance(exc, aiohttp.ClientConnectorError):
            return ConnectFailed(f"cannot connect: {_root_cause(exc)}", url=url)
        if isinstance(exc, aiohttp.ClientResponseError | aiohttp.ClientPayloadError):
            return ConnectFailed(f"broken HTTP response: {_first_line(str(exc))}", url=url)
        return ConnectFailed(
            f"connection failed: {_first_line(str(exc)) or type(exc).__name__}", url=url
        )


@dataclass(frozen=True)
class _Final:
    status_code: int
    headers: Mapping[str, str]
    content: bytes


@dataclass(frozen=True)
class _Redirect:
    location: httpx.URL
    permanent: bool


def _request_headers(
    etag: str | None, last_modified: str | None, accept: str | None
) -> dict[str, str]:
    """A fetch's own headers: what it accepts, and the validators that make it conditional."""
    headers = {"Accept": accept or "*/*"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _root_cause(exc: BaseException) -> str:
    """The most specific reason in an exception chain: "Connection refused", not
    the client's "Cannot connect to host ..." around it."""
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
