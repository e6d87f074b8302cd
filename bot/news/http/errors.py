"""Why a fetch failed, as exception classes whose text is short enough to show an admin."""

from __future__ import annotations

from http import HTTPStatus
from typing import ClassVar, Literal

_MB = 1024 * 1024

# Why a fetch failed, in one word per class below: few values, fit for a metric's label.
FetchErrorKind = Literal[
    "bad_response",
    "invalid_url",
    "blocked",
    "connect",
    "timeout",
    "queue_timeout",
    "too_large",
    "too_many_redirects",
    "http_status",
]


class FetchError(Exception):
    """A URL could not be fetched. `str(error)` is short enough to show an admin."""

    # Raised as itself for a response that cannot be used: an unknown Content-Encoding,
    # a corrupt compressed body, a redirect to an invalid URL.
    error_kind: ClassVar[FetchErrorKind] = "bad_response"

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url

    def __str__(self) -> str:
        return self.message


class InvalidURL(FetchError):
    """The URL cannot be parsed or has no host."""

    error_kind: ClassVar[FetchErrorKind] = "invalid_url"


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

    error_kind: ClassVar[FetchErrorKind] = "blocked"

    def __init__(
        self, host: str, address: str, kind: str, *, resolved: bool, url: str | None = None
    ) -> None:
        if resolved:
            message = f"blocked: {host} resolves to a {kind} address ({address})"
        else:
            message = f"blocked: {host} is a {kind} address"
        super().__init__(message, url=url)
        self.host = host
        self.address = address
        self.kind = kind


class ConnectFailed(FetchError):
    """Name resolution, TCP, TLS or the HTTP exchange itself failed."""

    error_kind: ClassVar[FetchErrorKind] = "connect"


class FetchTimeout(FetchError):
    """The fetch ran past its connect, read or total time limit."""

    error_kind: ClassVar[FetchErrorKind] = "timeout"

    def __init__(self, seconds: float, *, url: str | None = None) -> None:
        super().__init__(f"timed out after {_seconds(seconds)}", url=url)
        self.seconds = seconds


class QueueTimeout(FetchTimeout):
    """The fetch's time ran out while it waited for a connection slot to its site."""

    error_kind: ClassVar[FetchErrorKind] = "queue_timeout"

    def __init__(self, seconds: float, host: str, *, url: str | None = None) -> None:
        super().__init__(seconds, url=url)
        self.message = (
            f"timed out after {_seconds(seconds)} waiting for a connection to {host}, "
            "whose other feeds are slow"
        )
        self.args = (self.message,)
        self.host = host


class TooLarge(FetchError):
    """The body, on the wire or once decoded, is larger than the caller allows."""

    error_kind: ClassVar[FetchErrorKind] = "too_large"

    def __init__(self, limit: int, *, url: str | None = None) -> None:
        super().__init__(f"body larger than {_size(limit)}", url=url)
        self.limit = limit


class TooManyRedirects(FetchError):
    """The redirects went on past the limit, or came back to a URL already visited."""

    error_kind: ClassVar[FetchErrorKind] = "too_many_redirects"


class HTTPStatusError(FetchError):
    """The server answered with an error status (or a redirect we cannot follow)."""

    error_kind: ClassVar[FetchErrorKind] = "http_status"

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


def _reason(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _size(value: int) -> str:
    if value >= _MB and value % _MB == 0:
        return f"{value // _MB} MB"
    if value >= 1024:
        return f"{value / 1024:g} KB"
    return f"{value} bytes"
