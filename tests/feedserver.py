"""A loopback HTTP server for feed tests: real feed bytes plus every fault we guard against.

It runs an aiohttp app on its own event loop in a daemon thread, so one server can
outlive the per-test event loops of pytest-asyncio and a handler that never answers
cannot block the test that is waiting for it.

    with FeedServer({"/feed.xml": rss_feed([...])}) as server:
        server.url("/feed.xml")
        server.requests_to("/feed.xml")[0].headers["user-agent"]

Built-in routes (all paths not registered with `add` or found under `root`):

    /status/<code>[?retry_after=V]   that status, with a Retry-After header if asked;
                                     V may be seconds or "date:<n>" (an HTTP date n s ahead)
    /fault/timeout                   headers never come
    /fault/slow[?interval=1&size=60] a 200 whose body drips one byte per interval
    /fault/huge[?size=N]             a 20 MB (or N) body, chunked, no Content-Length
    /fault/huge-declared             the same with Content-Length declared up front
    /fault/gzip-bomb                 ~32 KB on the wire, 32 MB once decompressed
    /fault/gzip-feed, /fault/deflate-feed   a small feed, compressed properly
    /fault/redirect-loop             302 -> /fault/redirect-loop-2 -> 302 -> back
    /fault/redirect-chain/<n>        n successive 302s, then a feed
    /fault/moved                     301 -> /fault/moved-2 -> 308 -> /feeds/moved.xml
    /fault/temporary                 302 -> /feeds/moved.xml
    /fault/mixed                     301 -> /fault/temporary (so not permanent overall)
    /redirect/<code>?to=<url>        one redirect of that status to any URL
    /fault/html                      an HTML page with status 200
    /fault/invalid-xml               hopeless markup that is not a feed any more
    /fault/illformed                 an ill-formed feed that still has items
    /fault/wrong-encoding            windows-1252 bytes served as charset=utf-8
    /fault/header-charset            ISO-8859-1 bytes, charset only in Content-Type
    /fault/etag                      ETag/Last-Modified; 304 when either validator matches
    /fault/max-age                   Cache-Control: max-age=1800
    /fault/concurrency               a feed served slowly; counts requests in flight
"""

from __future__ import annotations

import asyncio
import gzip
import threading
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from types import TracebackType
from xml.sax.saxutils import escape

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

RSS_TYPE = "application/rss+xml; charset=utf-8"
MB = 1024 * 1024
ETAG = '"v1-feed"'
LAST_MODIFIED = "Mon, 01 Jan 2024 00:00:00 GMT"


# ----------------------------------------------------------------- sample feeds


def rss_feed(
    items: Iterable[Mapping[str, str]],
    *,
    title: str = "Test feed",
    link: str = "https://news.example/",
    ttl: int | None = None,
    encoding: str = "utf-8",
    declare_encoding: bool = True,
) -> bytes:
    """An RSS 2.0 document. Item keys: title, link, guid, description, pubDate, author;
    values are inserted escaped; use `raw_rss` for deliberately broken markup."""
    parts = [
        f'<rss version="2.0"><channel><title>{escape(title)}</title><link>{escape(link)}</link>'
    ]
    if ttl is not None:
        parts.append(f"<ttl>{ttl}</ttl>")
    for item in items:
        parts.append("<item>")
        for key, value in item.items():
            parts.append(f"<{key}>{escape(value)}</{key}>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>\n' if declare_encoding else ""
    return (declaration + "".join(parts)).encode(encoding)


SAMPLE_ITEMS = [
    {
        "title": "Parliament passes the budget",
        "link": "https://news.example/budget?utm_source=rss",
        "guid": "https://news.example/budget",
        "description": "<p>The vote was <b>close</b> tonight.</p>",
        "pubDate": "Tue, 02 Jan 2024 10:00:00 GMT",
    },
    {
        "title": "Storm warning for the coast",
        "link": "https://news.example/storm",
        "guid": "storm-1",
        "description": "Gales expected overnight.",
        "pubDate": "Tue, 02 Jan 2024 09:00:00 +0100",
    },
]
SAMPLE_FEED = rss_feed(SAMPLE_ITEMS)

HTML_PAGE = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>News Example</title>
<link rel="alternate" type="application/rss+xml" href="/feed.xml"></head>
<body><h1>Welcome</h1><p>Our feed moved.</p></body></html>"""

HOPELESS_XML = b'<?xml version="1.0"?>\n<rss version="2.0"><channel><<title>>>&&& </chan'

ILLFORMED_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Tom & Jerry news</title>
<item><title>Caf&eacute; opens &amp; closes</title><link>https://news.example/cafe</link></item>
<item><title>Second & last</title><link>https://news.example/second</link>
</channel></rss>"""

CAFE_ITEMS = [{"title": "Café crème à la gare", "link": "https://news.example/cafe"}]
WRONG_ENCODING_FEED = rss_feed(CAFE_ITEMS, encoding="windows-1252")
HEADER_CHARSET_FEED = rss_feed(CAFE_ITEMS, encoding="iso-8859-1", declare_encoding=False)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    """Lower-cased names."""
    peer: object = None
    """The client's address and port: one value per connection."""


# ------------------------------------------------------------------------ server


class FeedServer:
    def __init__(
        self,
        files: Mapping[str, bytes | Handler] | None = None,
        *,
        root: Path | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.root = root
        self.requests: list[RecordedRequest] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._routes: dict[str, Handler] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._bomb: bytes | None = None
        for path, body in (files or {}).items():
            self.add(path, body)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> FeedServer:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="feedserver", daemon=True
        )
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # handler_cancellation: a client that gives up ends the handler (timeout, drip).
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    # --------------------------------------------------------------- public

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def add(
        self,
        path: str,
        body: bytes | Handler,
        *,
        content_type: str = RSS_TYPE,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Serve `body` (bytes, or an aiohttp handler) at `path`; returns its URL."""
        if isinstance(body, bytes):
            payload = body

            async def handler(request: web.Request) -> web.StreamResponse:
                return web.Response(
                    body=payload,
                    status=status,
                    headers={"Content-Type": content_type, **(headers or {})},
                )

            self._routes[path] = handler
        else:
            self._routes[path] = body
        return self.url(path)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def clear(self) -> None:
        self.requests.clear()
        self.max_in_flight = 0

    # ------------------------------------------------------------- dispatch

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=request.query_string,
                headers={k.lower(): v for k, v in request.headers.items()},
                peer=request.transport.get_extra_info("peername") if request.transport else None,
            )
        )
        path = request.path
        if path in self._routes:
            return await self._routes[path](request)
        if path.startswith("/status/"):
            return self._status(request)
        if path.startswith("/redirect/"):
            return _redirect(int(path.rsplit("/", 1)[1]), request.query["to"])
        if path.startswith("/fault/redirect-chain/"):
            left = int(path.rsplit("/", 1)[1])
            if left == 0:
                return _feed(SAMPLE_FEED)
            return _redirect(302, f"/fault/redirect-chain/{left - 1}")
        fault = getattr(self, "_fault_" + path.removeprefix("/fault/").replace("-", "_"), None)
        if path.startswith("/fault/") and fault is not None:
            return await fault(request)
        if path == "/feeds/moved.xml":
            return _feed(SAMPLE_FEED)
        if self.root is not None:
            file = (self.root / path.lstrip("/")).resolve()
            if file.is_file() and self.root.resolve() in file.parents:
                return _feed(file.read_bytes())
        return web.Response(status=404, text="not found")

    def _status(self, request: web.Request) -> web.StreamResponse:
        code = int(request.path.rsplit("/", 1)[1])
        headers = {}
        retry_after = request.query.get("retry_after")
        if retry_after and retry_after.startswith("date:"):
            when = datetime.now(UTC) + timedelta(seconds=int(retry_after[5:]))
            headers["Retry-After"] = format_datetime(when, usegmt=True)
        elif retry_after:
            headers["Retry-After"] = retry_after
        return web.Response(status=code, text=f"status {code}", headers=headers)

    # --------------------------------------------------------------- faults

    async def _fault_timeout(self, request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(3600)
        return web.Response(text="too late")

    async def _fault_slow(self, request: web.Request) -> web.StreamResponse:
        interval = float(request.query.get("interval", "1"))
        size = int(request.query.get("size", "60"))
        response = web.StreamResponse(headers={"Content-Type": RSS_TYPE})
        await response.prepare(request)
        for byte in (SAMPLE_FEED * (size // len(SAMPLE_FEED) + 1))[:size]:
            try:
                await response.write(bytes([byte]))
            except ConnectionError:
                return response
            await asyncio.sleep(interval)
        return response

    async def _fault_huge(self, request: web.Request) -> web.StreamResponse:
        return await _stream_zeros(request, int(request.query.get("size", 20 * MB)), declare=False)

    async def _fault_huge_declared(self, request: web.Request) -> web.StreamResponse:
        return await _stream_zeros(request, int(request.query.get("size", 20 * MB)), declare=True)

    async def _fault_gzip_bomb(self, request: web.Request) -> web.StreamResponse:
        if self._bomb is None:
            compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            block = b"\0" * MB
            body = [compressor.compress(b'<?xml version="1.0"?><rss><channel><title>')]
            body += [compressor.compress(block) for _ in range(32)]
            body.append(compressor.flush())
            self._bomb = b"".join(body)
        return web.Response(
            body=self._bomb, headers={"Content-Type": RSS_TYPE, "Content-Encoding": "gzip"}
        )

    async def _fault_gzip_feed(self, request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=gzip.compress(SAMPLE_FEED),
            headers={"Content-Type": RSS_TYPE, "Content-Encoding": "gzip"},
        )

    async def _fault_deflate_feed(self, request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=zlib.compress(SAMPLE_FEED),
            headers={"Content-Type": RSS_TYPE, "Content-Encoding": "deflate"},
        )

    async def _fault_redirect_loop(self, request: web.Request) -> web.StreamResponse:
        return _redirect(302, "/fault/redirect-loop-2")

    async def _fault_redirect_loop_2(self, request: web.Request) -> web.StreamResponse:
        return _redirect(302, "/fault/redirect-loop")

    async def _fault_moved(self, request: web.Request) -> web.StreamResponse:
        return _redirect(301, "/fault/moved-2")

    async def _fault_moved_2(self, request: web.Request) -> web.StreamResponse:
        return _redirect(308, self.url("/feeds/moved.xml"))  # absolute Location, too

    async def _fault_temporary(self, request: web.Request) -> web.StreamResponse:
        return _redirect(302, "/feeds/moved.xml")

    async def _fault_mixed(self, request: web.Request) -> web.StreamResponse:
        return _redirect(301, "/fault/temporary")

    async def _fault_html(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=HTML_PAGE, content_type="text/html", charset="utf-8")

    async def _fault_invalid_xml(self, request: web.Request) -> web.StreamResponse:
        return _feed(HOPELESS_XML)

    async def _fault_illformed(self, request: web.Request) -> web.StreamResponse:
        return _feed(ILLFORMED_FEED)

    async def _fault_wrong_encoding(self, request: web.Request) -> web.StreamResponse:
        return _feed(WRONG_ENCODING_FEED, content_type=RSS_TYPE)

    async def _fault_header_charset(self, request: web.Request) -> web.StreamResponse:
        return _feed(HEADER_CHARSET_FEED, content_type="application/rss+xml; charset=ISO-8859-1")

    async def _fault_etag(self, request: web.Request) -> web.StreamResponse:
        validators = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}
        if (
            request.headers.get("If-None-Match") == ETAG
            or request.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            return web.Response(status=304, headers=validators)
        return _feed(SAMPLE_FEED, headers=validators)

    async def _fault_max_age(self, request: web.Request) -> web.StreamResponse:
        return _feed(SAMPLE_FEED, headers={"Cache-Control": "public, max-age=1800"})

    async def _fault_concurrency(self, request: web.Request) -> web.StreamResponse:
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            await asyncio.sleep(0.05)
        finally:
            self._in_flight -= 1
        return _feed(SAMPLE_FEED)


def _feed(
    body: bytes, *, content_type: str = RSS_TYPE, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(body=body, headers={"Content-Type": content_type, **(headers or {})})


def _redirect(status: int, location: str) -> web.Response:
    return web.Response(status=status, headers={"Location": location})


async def _stream_zeros(request: web.Request, size: int, *, declare: bool) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": RSS_TYPE})
    if declare:
        response.content_length = size
    else:
        response.enable_chunked_encoding()
    await response.prepare(request)
    chunk = b"\0" * (256 * 1024)
    sent = 0
    try:
        while sent < size:
            await response.write(chunk[: size - sent])
            sent += len(chunk)
    except ConnectionError:  # the client stopped reading, as it should
        pass
    return response
