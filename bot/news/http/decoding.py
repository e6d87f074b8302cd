"""Content-Encoding decoding with a bounded output buffer, so a gzip bomb stays a small error."""

from __future__ import annotations

import zlib

from bot.news.http.errors import FetchError, TooLarge

# Only what BoundedDecoder can decode; sent as the request's Accept-Encoding.
ACCEPT_ENCODING = "gzip, deflate"


class BoundedDecoder:
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
        """Decode one chunk of the body as it arrives, so the cap holds at every step."""
        self._keep(self._through(data, final=False))

    def finish(self) -> bytes:
        """Flush the decoders and return the whole decoded body."""
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
