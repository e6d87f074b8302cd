"""A loopback fake of the Telegram Bot API, for driving the real python-telegram-bot in tests.

The fake is a real aiohttp HTTP server on ``127.0.0.1`` that runs in its own thread with its own
event loop, so the bot under test, the test code and the server never share a loop. PTB talks to
it exactly as it talks to Telegram::

    with FakeBotAPI() as fake:
        application = (
            ApplicationBuilder()
            .token(fake.token)
            .base_url(fake.base_url)
            .base_file_url(fake.base_file_url)
            .build()
        )
        ...
        fake.send_command(chat_id=42, text="/digest")
        (reply,) = await fake.wait_for("sendMessage")
        assert reply.params["text"].startswith("Today's headlines")

Every call is recorded as a :class:`Call`. Calls that the fake answered with ``"ok": true`` are
listed by :meth:`FakeBotAPI.calls`; calls it rejected (injected faults, blocked chats, rate limit,
wrong token, validation errors) are listed by :meth:`FakeBotAPI.failed_calls`, so tests can count
accepted deliveries exactly.

What is deliberately *not* emulated: ``parse_mode`` is not parsed into entities (the text is
echoed as sent, though HTML is checked the way Telegram rejects it: unknown or unbalanced
tags and broken entities), files are not stored or served, and inline mode, payments and business
connections only get the generic ``{"ok": true, "result": true}`` answer.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import dataclasses
import email.parser
import email.policy
import html
import itertools
import json
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Final, TypeAlias, TypeVar

import pytest
from aiohttp import web

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_USER_ID",
    "ApiError",
    "Call",
    "ChatId",
    "FakeBotAPI",
    "UploadedFile",
    "fake_bot_api",
    "fake_bot_api_factory",
]

ChatId: TypeAlias = int | str
JSONDict: TypeAlias = dict[str, Any]
CallPredicate: TypeAlias = Callable[["Call"], bool]
_T = TypeVar("_T")

#: Shaped like a real token (``<bot id>:<35 chars>``) so code that splits it keeps working.
DEFAULT_TOKEN: Final[str] = "5550001234:AAFakeTokenForLoopbackTestsOnly_0000"
#: The sender of injected updates in non-private chats when no ``user_id`` is given.
DEFAULT_USER_ID: Final[int] = 1001

#: Telegram's per-message limit, counted in UTF-16 code units after entity parsing.
MAX_MESSAGE_LENGTH: Final[int] = 4096
#: Telegram's upper bound for ``getUpdates(limit=...)``.
MAX_UPDATES_LIMIT: Final[int] = 100
#: Methods that deliver something into a chat, hence fail with 403 once the user blocked the bot.
_DELIVERY_METHOD_PREFIXES: Final[tuple[str, ...]] = ("send", "copy", "forward")
#: Parameters that Telegram defines as strings: never JSON-decode them, ``"123"`` is valid text.
_STRING_PARAMS: Final[frozenset[str]] = frozenset(
    {
        "address",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "currency",
        "custom_title",
        "description",
        "document",
        "emoji",
        "explanation",
        "first_name",
        "foursquare_id",
        "inline_message_id",
        "invite_link",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "next_offset",
        "parse_mode",
        "payload",
        "phone_number",
        "photo",
        "provider_token",
        "query",
        "question",
        "secret_token",
        "short_description",
        "start_parameter",
        "sticker",
        "text",
        "thumbnail",
        "title",
        "url",
        "video",
        "video_note",
        "voice",
    }
)
_BOT_COMMAND_PATTERN: Final[re.Pattern[str]] = re.compile(r"[a-z0-9_]{1,32}")
_HTML_TAG_PATTERN: Final[re.Pattern[str]] = re.compile(r"<[^>]*>")


@dataclasses.dataclass(frozen=True, slots=True)
class ApiError:
    """A Telegram error answer; kept as data so faults can be queued and recorded alike."""

    error_code: int
    description: str
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None

    def to_payload(self) -> JSONDict:
        """Build the exact JSON body Telegram sends, which PTB maps to its exception classes."""
        payload: JSONDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            payload["parameters"] = {"retry_after": self.retry_after}
        if self.migrate_to_chat_id is not None:
            payload["parameters"] = {"migrate_to_chat_id": self.migrate_to_chat_id}
        return payload


@dataclasses.dataclass(frozen=True, slots=True)
class UploadedFile:
    """A multipart file part, recorded instead of being JSON-decoded."""

    field_name: str
    filename: str | None
    content_type: str
    data: bytes = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Call:
    """One Bot API request as the fake received it, with the answer it gave."""

    method: str
    params: JSONDict
    #: :func:`time.monotonic` at arrival, so rates can be measured against the test's clock.
    at: float
    #: The ``result`` of an accepted call (e.g. the sent Message); ``None`` for failed calls.
    result: Any = None
    #: Why the call was rejected; ``None`` for accepted calls.
    error: ApiError | None = None
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict, repr=False)
    body: bytes = dataclasses.field(default=b"", repr=False)

    @property
    def ok(self) -> bool:
        """Whether the fake answered ``"ok": true``."""
        return self.error is None

    @property
    def chat_id(self) -> ChatId | None:
        """The target chat normalised to ``int`` where possible, so filters compare reliably."""
        raw = self.params.get("chat_id")
        return None if raw is None else _normalize_chat_id(raw)


class _ApiFailure(Exception):
    """Raised inside method handlers to answer with a Telegram error."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.description)
        self.error = error


def _bad_request(description: str) -> _ApiFailure:
    """Shorthand for the 400 answers Telegram gives on invalid input."""
    return _ApiFailure(ApiError(400, f"Bad Request: {description}"))


@dataclasses.dataclass(slots=True)
class _Fault:
    """A queued error answer for the next matching call(s)."""

    method: str
    error: ApiError
    chat_id: ChatId | None
    remaining: int


@dataclasses.dataclass(slots=True)
class _Matcher:
    """Incremental scan state for waiters, so waiting for 10,000 calls stays linear."""

    method: str
    predicate: CallPredicate | None
    generation: int = -1
    scanned: int = 0
    matches: list[Call] = dataclasses.field(default_factory=list)


def _normalize_chat_id(value: Any) -> ChatId:
    """Make ``42``, ``"42"`` and ``"@channel"`` comparable the way Telegram resolves them."""
    if isinstance(value, bool):
        raise _bad_request("chat_id is invalid")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return text


def _utf16_length(text: str) -> int:
    """Telegram measures text and entity offsets in UTF-16 code units, not code points."""
    return len(text.encode("utf-16-le")) // 2


def _visible_text(text: str, parse_mode: str | None) -> str:
    """Approximate the text Telegram counts against the length limit once markup is parsed."""
    if parse_mode is not None and parse_mode.upper() == "HTML":
        return html.unescape(_HTML_TAG_PATTERN.sub("", text))
    return text


_HTML_TOKEN: Final[re.Pattern[str]] = re.compile(r"<(/?)([a-zA-Z][\w-]*)[^<>]*>|<|&(#?\w*);?")
_TELEGRAM_TAGS: Final[frozenset[str]] = frozenset(
    "a b strong i em u ins s strike del code pre span tg-spoiler tg-emoji blockquote".split()
)
_HTML_NAMED_ENTITIES: Final[frozenset[str]] = frozenset({"lt", "gt", "amp", "quot"})


def _check_html(text: str) -> None:
    """Reject HTML as Telegram does: unsupported or unbalanced tags, a bare "<", bad entities."""
    open_tags: list[str] = []
    for match in _HTML_TOKEN.finditer(text):
        token = match.group(0)
        if token == "<":
            raise _bad_request("can't parse entities: unexpected '<'")
        if token.startswith("&"):
            name = match.group(3)
            if not token.endswith(";") or not (
                name in _HTML_NAMED_ENTITIES or re.fullmatch(r"#\d+|#x[0-9a-fA-F]+", name)
            ):
                raise _bad_request(f"can't parse entities: bad entity {token!r}")
            continue
        closing, name = match.group(1), match.group(2).lower()
        if name not in _TELEGRAM_TAGS:
            raise _bad_request(f"can't parse entities: unsupported start tag {name!r}")
        if not closing:
            open_tags.append(name)
        elif not open_tags or open_tags.pop() != name:
            raise _bad_request(f"can't parse entities: unmatched end tag {name!r}")
    if open_tags:
        raise _bad_request(f"can't parse entities: can't find end tag for {open_tags[-1]!r}")


def _decode_form_value(name: str, value: str) -> Any:
    """Undo PTB's form encoding, which JSON-dumps every non-string parameter value."""
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        # Usernames like "@channel" and file ids are plain strings, not JSON.
        return value


def _decode_multipart(content_type: str, body: bytes) -> JSONDict:
    """Parse a multipart body we already read (aiohttp can't re-read it) with the stdlib."""
    envelope = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(envelope)
    params: JSONDict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            text = data.decode(part.get_content_charset() or "utf-8")
            params[name] = _decode_form_value(name, text)
        else:
            params[name] = UploadedFile(name, filename, part.get_content_type(), data)
    return params


def _inline_markup(params: JSONDict) -> JSONDict | None:
    """Telegram only echoes inline keyboards in returned messages, never reply keyboards."""
    markup = params.get("reply_markup")
    return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None


class FakeBotAPI:
    """A Telegram Bot API server on loopback that records calls and lets tests inject updates."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "newsbot_test_bot",
        bot_first_name: str = "NewsBot",
        latency: float = 0.0,
    ) -> None:
        self.token: Final[str] = token
        self.bot_username: Final[str] = bot_username
        self.bot_first_name: Final[str] = bot_first_name
        #: Seconds every call waits before being answered; may be changed while running.
        self.latency: float = latency
        bot_id_text = token.split(":", 1)[0]
        self.bot_id: Final[int] = int(bot_id_text) if bot_id_text.isdigit() else 5550001234

        # One re-entrant lock guards all state: handlers run on the server thread, helpers on
        # the test thread, and predicates passed to waiters may call back into the fake.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

        self._calls: list[Call] = []
        self._calls_by_method: dict[str, list[Call]] = collections.defaultdict(list)
        self._failed: list[Call] = []
        self._generation = 0
        self._version = 0

        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(10_000)
        self._allowed_updates: list[str] = []
        self._webhook_url = ""
        self._callback_query_ids = itertools.count(4_000_000_000_000_000)
        self._pending_callback_queries: set[str] = set()

        self._chats: dict[ChatId, JSONDict] = {}
        self._users: dict[int, JSONDict] = {}
        self._message_ids: dict[int, Iterator[int]] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._admins: dict[int, set[int]] = {}
        self._my_status: dict[int, str] = {}  # the bot's own status per chat
        self._migrated: dict[ChatId, int] = {}  # group id -> the supergroup it became
        self._creators: dict[int, int] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}

        self._faults: list[_Fault] = []
        self._blocked_chats: set[ChatId] = set()
        self._rate_limit: int | None = None
        self._rate_window: collections.deque[float] = collections.deque()

        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._updates_event: asyncio.Event | None = None
        self._pending_long_polls = 0
        self._closing = False
        self._startup_error: BaseException | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeBotAPI:
        """Bind a free loopback port and serve from a background thread until :meth:`stop`."""
        if self._thread is not None:
            raise RuntimeError("FakeBotAPI is already running")
        # Binding here (not in the thread) means base_url is valid as soon as start() returns.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        self._closing = False
        self._startup_error = None
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run_server_thread, args=(sock, ready), name="FakeBotAPI", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout=10.0):
            raise RuntimeError("FakeBotAPI did not start within 10 s")
        if self._startup_error is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError("FakeBotAPI failed to start") from self._startup_error
        return self

    def stop(self) -> None:
        """Answer pending long polls, close connections and join the server thread."""
        thread, loop, stop_event = self._thread, self._loop, self._stop_event
        if thread is None or loop is None or stop_event is None:
            return
        loop.call_soon_threadsafe(stop_event.set)
        thread.join()
        self._thread = None

    def __enter__(self) -> FakeBotAPI:
        """Start on entry so ``with FakeBotAPI() as fake:`` is all a test needs."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop on exit even when the test failed, so no server thread outlives it."""
        self.stop()

    @property
    def port(self) -> int:
        """The bound loopback port."""
        if self._port is None:
            raise RuntimeError("FakeBotAPI is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder().base_url()``; PTB appends ``{token}/{method}``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder().base_file_url()``; file downloads answer 404."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ------------------------------------------------------------------ recorded calls

    def calls(self, method: str | None = None, chat_id: ChatId | None = None) -> list[Call]:
        """Accepted calls in arrival order, optionally filtered by method and target chat."""
        with self._lock:
            if method is None:
                source = self._calls
            else:
                source = self._calls_by_method.get(method.lower(), [])
            return self._filter_by_chat(source, chat_id)

    def failed_calls(self, method: str | None = None, chat_id: ChatId | None = None) -> list[Call]:
        """Rejected calls (faults, blocks, rate limit, 4xx), kept apart from deliveries."""
        with self._lock:
            source = self._failed
            if method is not None:
                source = [call for call in source if call.method.lower() == method.lower()]
            return self._filter_by_chat(source, chat_id)

    def all_calls(self) -> list[Call]:
        """Accepted and rejected calls together, ordered by arrival."""
        with self._lock:
            return sorted(self._calls + self._failed, key=lambda call: call.at)

    def sent_messages(self, chat_id: ChatId | None = None) -> list[Call]:
        """Accepted ``sendMessage`` calls: the messages Telegram would have delivered."""
        return self.calls("sendMessage", chat_id=chat_id)

    def message(self, chat_id: int, message_id: int) -> JSONDict:
        """The current state of a message (after edits), as Telegram would return it."""
        with self._lock:
            try:
                return copy.deepcopy(self._messages[(chat_id, message_id)])
            except KeyError:
                raise LookupError(f"no message {message_id} in chat {chat_id}") from None

    def clear(self) -> None:
        """Forget recorded calls (not chats, messages or faults) between test phases."""
        with self._lock:
            self._calls.clear()
            self._calls_by_method.clear()
            self._failed.clear()
            self._generation += 1
            self._notify_locked()

    async def wait_for(
        self,
        method: str,
        predicate: CallPredicate | None = None,
        timeout: float = 5.0,
        count: int = 1,
    ) -> list[Call]:
        """Await ``count`` accepted calls of ``method`` without blocking the caller's loop.

        Returns every matching call recorded so far (at least ``count``); raises
        :class:`TimeoutError` listing what *was* called, which is usually the useful clue.
        A call is recorded when it is answered, so a pending long poll is not yet a call.
        """
        matcher = _Matcher(method=method.lower(), predicate=predicate)
        return await self._wait_async(
            lambda: self._enough_matches(matcher, count),
            timeout,
            lambda: self._timeout_message(method, count, len(matcher.matches), timeout),
        )

    def wait_for_sync(
        self,
        method: str,
        predicate: CallPredicate | None = None,
        timeout: float = 5.0,
        count: int = 1,
    ) -> list[Call]:
        """Blocking twin of :meth:`wait_for`, for sync tests and benchmark driver threads."""
        matcher = _Matcher(method=method.lower(), predicate=predicate)
        return self._wait_sync(
            lambda: self._enough_matches(matcher, count),
            timeout,
            lambda: self._timeout_message(method, count, len(matcher.matches), timeout),
        )

    @property
    def pending_long_polls(self) -> int:
        """How many getUpdates requests are parked waiting for an update right now."""
        with self._lock:
            return self._pending_long_polls

    async def wait_for_long_poll(self, timeout: float = 5.0) -> None:
        """Await a parked getUpdates, i.e. the bot is polling and idle, without sleeping."""
        await self._wait_async(
            lambda: True if self.pending_long_polls > 0 else None,
            timeout,
            lambda: f"no parked getUpdates within {timeout:.1f}s; seen: {self._seen_methods()}",
        )

    async def _wait_async(
        self, check: Callable[[], _T | None], timeout: float, explain: Callable[[], str]
    ) -> _T:
        """Re-run ``check`` on every change of the fake's state until it returns non-None."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        waiter = (loop, asyncio.Event())
        with self._lock:
            self._async_waiters.add(waiter)
        try:
            while True:
                # Clear before checking: a change after the check sets the event again.
                waiter[1].clear()
                result = check()
                if result is not None:
                    return result
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(explain())
                try:
                    await asyncio.wait_for(waiter[1].wait(), remaining)
                except TimeoutError:
                    continue  # Check once more; the loop raises if still unmet.
        finally:
            with self._lock:
                self._async_waiters.discard(waiter)

    def _wait_sync(
        self, check: Callable[[], _T | None], timeout: float, explain: Callable[[], str]
    ) -> _T:
        """Blocking version of :meth:`_wait_async` built on a threading.Condition."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                seen_version = self._version
            result = check()
            if result is not None:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(explain())
            with self._changed:
                # Only sleep if nothing changed since the check, otherwise we'd miss a wake-up.
                if self._version == seen_version:
                    self._changed.wait(remaining)

    # ------------------------------------------------------------------ injecting updates

    def inject(self, update: JSONDict) -> JSONDict:
        """Queue a raw update for ``getUpdates``; assigns an increasing ``update_id`` if absent."""
        with self._lock:
            update = dict(update)
            if "update_id" in update:
                # Keep later automatic ids above a hand-picked one, as Telegram's ids only grow.
                next_id = max(next(self._update_ids), update["update_id"] + 1)
                self._update_ids = itertools.count(next_id)
            else:
                update["update_id"] = next(self._update_ids)
            self._updates.append(update)
        self._wake_long_polls()
        return update

    def send_command(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        message_thread_id: int | None = None,
        is_forum: bool = False,
        username: str | None = None,
        first_name: str | None = None,
        language_code: str | None = "en",
    ) -> JSONDict:
        """Inject a user's ``/command`` message with the ``bot_command`` entity Telegram adds."""
        if not text.startswith("/"):
            raise ValueError(f"a command must start with '/', got {text!r}")
        command_token = text.split(maxsplit=1)[0]  # Includes "@botname" when addressed.
        entity = {"type": "bot_command", "offset": 0, "length": _utf16_length(command_token)}
        return self._inject_user_message(
            chat_id,
            text,
            entities=[entity],
            user_id=user_id,
            chat_type=chat_type,
            message_thread_id=message_thread_id,
            is_forum=is_forum,
            username=username,
            first_name=first_name,
            language_code=language_code,
        )

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        message_thread_id: int | None = None,
        is_forum: bool = False,
        username: str | None = None,
        first_name: str | None = None,
        language_code: str | None = "en",
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """Inject a plain text message from a user (no entities; use send_command for those),
        optionally as a reply to an earlier message in the chat."""
        return self._inject_user_message(
            chat_id,
            text,
            entities=None,
            user_id=user_id,
            chat_type=chat_type,
            message_thread_id=message_thread_id,
            is_forum=is_forum,
            username=username,
            first_name=first_name,
            language_code=language_code,
            reply_to_message_id=reply_to_message_id,
        )

    def post_in_channel(self, channel_id: int, text: str, *, title: str | None = None) -> JSONDict:
        """Inject a ``channel_post``: an administrator posted ``text`` in a channel the bot is in.

        Channel posts have no ``from``; the channel itself is the ``sender_chat``. A post
        starting with "/" carries the ``bot_command`` entity, as Telegram adds it.
        """
        with self._lock:
            chat = self._chats.get(channel_id) or {"id": channel_id, "type": "channel"}
            chat = dict(
                chat, type="channel", title=title or chat.get("title", f"Channel {channel_id}")
            )
            self._chats[channel_id] = chat
            post: JSONDict = {
                "message_id": self._next_message_id(channel_id),
                "sender_chat": dict(chat),
                "chat": dict(chat),
                "date": int(time.time()),
                "text": text,
            }
            if text.startswith("/"):
                length = _utf16_length(text.split(maxsplit=1)[0])
                post["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
            self._messages[(channel_id, post["message_id"])] = post
            update = {"channel_post": copy.deepcopy(post)}
        return self.inject(update)

    def share_chat(
        self, user_id: int, request_id: int, chat_id: int, *, title: str, chat_type: str = "channel"
    ) -> JSONDict:
        """Inject the ``chat_shared`` message a user sends by picking a chat in the chat picker."""
        with self._lock:
            self._chats.setdefault(chat_id, {"id": chat_id, "type": chat_type, "title": title})
            user = self._remember_user(user_id, None, None, "en")
            chat = self._register_chat(user_id, "private", False, user)
            message: JSONDict = {
                "message_id": self._next_message_id(user_id),
                "from": user,
                "chat": dict(chat),
                "date": int(time.time()),
                "chat_shared": {"request_id": request_id, "chat_id": chat_id, "title": title},
            }
            self._messages[(user_id, message["message_id"])] = message
            update = {"message": copy.deepcopy(message)}
        return self.inject(update)

    def send_inline_query(self, user_id: int, query: str, *, offset: str = "") -> str:
        """Inject an ``inline_query`` ("@bot words" typed in any chat); returns its id."""
        with self._lock:
            user = self._users.get(user_id) or self._remember_user(user_id, None, None, "en")
            query_id = f"iq{next(self._callback_query_ids)}"
        self.inject(
            {
                "inline_query": {
                    "id": query_id,
                    "from": dict(user),
                    "query": query,
                    "offset": offset,
                    "chat_type": "private",
                }
            }
        )
        return query_id

    def edit_user_message(self, chat_id: int, message_id: int, text: str) -> JSONDict:
        """Inject an ``edited_message``: a user changed the text of a message they sent."""
        with self._lock:
            key = (chat_id, message_id)
            if key not in self._messages:
                raise LookupError(f"no message {message_id} in chat {chat_id} to edit")
            message = copy.deepcopy(self._messages[key])
            message["text"] = text
            message["edit_date"] = int(time.time())
            if text.startswith("/"):
                command_token = text.split(maxsplit=1)[0]
                length = _utf16_length(command_token)
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
            else:
                message.pop("entities", None)
            self._messages[key] = message
            update = {"edited_message": copy.deepcopy(message)}
        return self.inject(update)

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        username: str | None = None,
        first_name: str | None = None,
    ) -> str:
        """Inject a ``callback_query`` on a known message and return the query id to answer."""
        with self._lock:
            key = (chat_id, message_id)
            if key not in self._messages:
                raise LookupError(f"no message {message_id} in chat {chat_id} to press on")
            # Deep copy: the update must show the message as it was when the button was pressed.
            message = copy.deepcopy(self._messages[key])
            presser = self._default_user_id(chat_id, user_id)
            # The same person keeps the language Telegram reported for them before.
            language = self._users.get(presser, {}).get("language_code", "en")
            user = self._remember_user(presser, username, first_name, language)
            query_id = str(next(self._callback_query_ids))
            self._pending_callback_queries.add(query_id)
        self.inject(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "message": message,
                    "chat_instance": str(abs(chat_id) * 7919),
                    "data": data,
                }
            }
        )
        return query_id

    def set_my_status(
        self,
        chat_id: int,
        status: str,
        *,
        chat_type: str = "private",
        user_id: int | None = None,
        old_status: str | None = None,
    ) -> JSONDict:
        """Inject ``my_chat_member``: the bot was blocked, unblocked, added, removed or promoted.

        In a private chat "kicked" also makes deliveries fail with 403 (the user blocked the
        bot) and "member" lifts that, as on Telegram.
        """
        if status not in ("creator", "administrator", "member", "left", "kicked"):
            raise ValueError(f"unknown status {status!r}")
        with self._lock:
            user = self._remember_user(self._default_user_id(chat_id, user_id), None, None, "en")
            chat = self._chats.get(chat_id) or self._register_chat(chat_id, chat_type, False, user)
            previous = old_status or self._my_status.get(
                chat_id, "member" if chat_type == "private" else "left"
            )
            self._my_status[chat_id] = status
            if chat_type == "private":
                if status == "kicked":
                    self._blocked_chats.add(chat_id)
                else:
                    self._blocked_chats.discard(chat_id)
            update = {
                "my_chat_member": {
                    "chat": dict(chat),
                    "from": user,
                    "date": int(time.time()),
                    "old_chat_member": self._bot_member(previous),
                    "new_chat_member": self._bot_member(status),
                }
            }
        return self.inject(update)

    def _bot_member(self, status: str) -> JSONDict:
        """The bot as a ChatMember of the given status, with the fields PTB requires."""
        member: JSONDict = {"status": status, "user": self._bot_user()}
        if status == "kicked":
            member["until_date"] = 0
        elif status == "administrator":
            member |= {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": False,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_post_messages": True,
                "can_edit_messages": True,
            }
        elif status == "creator":
            member["is_anonymous"] = False
        return member

    def set_admins(
        self, chat_id: int, user_ids: list[int], *, creator_id: int | None = None
    ) -> None:
        """Declare who administers a group, for getChatMember / getChatAdministrators."""
        with self._lock:
            self._admins[chat_id] = set(user_ids)
            if creator_id is None:
                self._creators.pop(chat_id, None)
            else:
                self._creators[chat_id] = creator_id

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        chat_id: ChatId | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching calls with a Telegram error instead of success."""
        if times < 1:
            raise ValueError("times must be at least 1")
        fault = _Fault(
            method=method.lower(),
            error=ApiError(error_code, description, retry_after),
            chat_id=None if chat_id is None else _normalize_chat_id(chat_id),
            remaining=times,
        )
        with self._lock:
            self._faults.append(fault)

    def upgrade_group(self, old_id: int, new_id: int, *, announce: bool = True) -> None:
        """Turn a group into a supergroup, as Telegram does: sends to the old id fail with
        ``migrate_to_chat_id``, and (if ``announce``) both service messages are delivered."""
        with self._lock:
            self._migrated[_normalize_chat_id(old_id)] = new_id
            old_chat = self._chats.get(old_id) or {"id": old_id, "type": "group"}
            old_chat = dict(old_chat, type="group")
            new_chat = {"id": new_id, "type": "supergroup", "title": old_chat.get("title", "")}
            self._chats[new_id] = new_chat
            self._my_status[new_id] = self._my_status.get(old_id, "member")
            user = self._remember_user(DEFAULT_USER_ID, None, None, "en")
            updates = []
            if announce:
                for chat, field, value in (
                    (old_chat, "migrate_to_chat_id", new_id),
                    (new_chat, "migrate_from_chat_id", old_id),
                ):
                    message = {
                        "message_id": self._next_message_id(chat["id"]),
                        "from": user,
                        "chat": dict(chat),
                        "date": int(time.time()),
                        field: value,
                    }
                    updates.append({"message": message})
        for update in updates:
            self.inject(update)

    def block_chat(self, chat_id: ChatId) -> None:
        """Make every delivery to the chat fail with 403, as when a user blocks the bot."""
        with self._lock:
            self._blocked_chats.add(_normalize_chat_id(chat_id))

    def unblock_chat(self, chat_id: ChatId) -> None:
        """Undo :meth:`block_chat`."""
        with self._lock:
            self._blocked_chats.discard(_normalize_chat_id(chat_id))

    def rate_limit(self, per_second: int | None = 30) -> None:
        """Enforce Telegram's global sendMessage limit (sliding 1 s window); ``None`` disables."""
        with self._lock:
            self._rate_limit = per_second
            self._rate_window.clear()

    # ------------------------------------------------------------------ server thread

    def _run_server_thread(self, sock: socket.socket, ready: threading.Event) -> None:
        """Own a private event loop so the bot's loop can block or stop without affecting us."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(sock, ready))
        except BaseException as exc:
            if ready.is_set():
                raise  # Crashed while serving: let threading.excepthook report it.
            self._startup_error = exc  # Re-raised by start() in the caller's thread.
            ready.set()
        finally:
            loop.close()
            self._loop = None

    async def _serve(self, sock: socket.socket, ready: threading.Event) -> None:
        """Serve until :meth:`stop` sets the stop event, then release pending long polls."""
        self._stop_event = asyncio.Event()
        self._updates_event = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)  # Uploads can be large.
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api_request)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._handle_file_request)
        # access_log=None keeps 10,000-call benchmarks from flooding the log;
        # handler_cancellation ends long polls the bot abandoned (PTB cancels them on stop).
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await runner.setup()
        try:
            await web.SockSite(runner, sock).start()
            ready.set()
            await self._stop_event.wait()
        finally:
            self._closing = True
            self._updates_event.set()
            await runner.cleanup()

    async def _handle_file_request(self, request: web.Request) -> web.Response:
        """Files are not stored, so downloads fail loudly rather than hang."""
        return web.json_response(ApiError(404, "Not Found").to_payload(), status=404)

    async def _handle_api_request(self, request: web.Request) -> web.Response:
        """Decode, fault-check, dispatch and record one Bot API call."""
        arrived_at = time.monotonic()
        body = await request.read()
        method = self._canonical_method(request.match_info["method"])
        params = self._decode_params(request, body)
        headers = dict(request.headers)
        if self.latency > 0:
            await asyncio.sleep(self.latency)

        if request.match_info["token"] != self.token:
            error = ApiError(401, "Unauthorized")
            self._record(Call(method, params, arrived_at, None, error, headers, body))
            return web.json_response(error.to_payload(), status=error.error_code)

        try:
            if method == "getUpdates":
                result = await self._get_updates(params)
            else:
                with self._lock:
                    self._check_faults(method, params)
                    result = self._dispatch(method, params)
                    if method == "sendMessage" and self._rate_limit is not None:
                        self._rate_window.append(time.monotonic())
        except _ApiFailure as failure:
            self._record(Call(method, params, arrived_at, None, failure.error, headers, body))
            return web.json_response(failure.error.to_payload(), status=failure.error.error_code)
        self._record(Call(method, params, arrived_at, result, None, headers, body))
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _decode_params(request: web.Request, body: bytes) -> JSONDict:
        """Accept query strings, JSON bodies and the form/multipart bodies PTB sends."""
        params: JSONDict = {
            key: _decode_form_value(key, value) for key, value in request.query.items()
        }
        if not body:
            return params
        if request.content_type == "application/json":
            decoded = json.loads(body)
            params.update(decoded if isinstance(decoded, dict) else {})
        elif request.content_type == "multipart/form-data":
            params.update(_decode_multipart(request.headers["Content-Type"], body))
        else:
            text = body.decode(request.charset or "utf-8")
            form = urllib.parse.parse_qsl(text, keep_blank_values=True)
            params.update({key: _decode_form_value(key, value) for key, value in form})
        return params

    def _record(self, call: Call) -> None:
        """Store the call and wake every waiter, sync or async, on any thread."""
        with self._lock:
            if call.ok:
                self._calls.append(call)
                self._calls_by_method[call.method.lower()].append(call)
            else:
                self._failed.append(call)
            self._notify_locked()

    def _notify_locked(self) -> None:
        """Bump the version and wake waiters; caller holds the lock."""
        self._version += 1
        self._changed.notify_all()
        for loop, event in self._async_waiters:
            # A closed loop means the waiter's wait_for is gone with it.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    def _advance(self, matcher: _Matcher) -> None:
        """Scan only calls recorded since the matcher's last look; predicates run unlocked."""
        with self._lock:
            if matcher.generation != self._generation:
                matcher.generation, matcher.scanned, matcher.matches = self._generation, 0, []
            new_calls = self._calls_by_method.get(matcher.method, [])[matcher.scanned :]
            matcher.scanned += len(new_calls)
        for call in new_calls:
            if matcher.predicate is None or matcher.predicate(call):
                matcher.matches.append(call)

    def _enough_matches(self, matcher: _Matcher, count: int) -> list[Call] | None:
        """A copy of the matches once there are ``count`` of them, else None to keep waiting."""
        self._advance(matcher)
        return list(matcher.matches) if len(matcher.matches) >= count else None

    def _seen_methods(self) -> dict[str, int]:
        """Call counts per method, accepted and failed, for timeout messages."""
        return dict(collections.Counter(call.method for call in self.all_calls()))

    def _timeout_message(self, method: str, count: int, matched: int, timeout: float) -> str:
        """Explain a wait timeout with the calls that did arrive."""
        return (
            f"waited {timeout:.1f}s for {count} {method} call(s), matched {matched}; "
            f"calls seen: {self._seen_methods() or 'none'}; failed: {len(self.failed_calls())}"
        )

    def _wake_long_polls(self) -> None:
        """Let getUpdates return now; safe from any thread and before start()."""
        loop, event = self._loop, self._updates_event
        if loop is not None and event is not None:
            # Server loop already closed: nobody is polling.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    @staticmethod
    def _filter_by_chat(calls: list[Call], chat_id: ChatId | None) -> list[Call]:
        """Copy, optionally keeping only calls aimed at one chat."""
        if chat_id is None:
            return list(calls)
        wanted = _normalize_chat_id(chat_id)
        return [call for call in calls if call.chat_id == wanted]

    # ------------------------------------------------------------------ faults, per call

    def _check_faults(self, method: str, params: JSONDict) -> None:
        """Apply injected faults, blocked chats and the rate limit, in that order."""
        chat_id = _normalize_chat_id(params["chat_id"]) if "chat_id" in params else None
        for fault in self._faults:
            if fault.method == method.lower() and fault.chat_id in (None, chat_id):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                raise _ApiFailure(fault.error)
        if chat_id in self._migrated and method.startswith(_DELIVERY_METHOD_PREFIXES):
            raise _ApiFailure(
                ApiError(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    migrate_to_chat_id=self._migrated[chat_id],
                )
            )
        if chat_id in self._blocked_chats and method.startswith(_DELIVERY_METHOD_PREFIXES):
            raise _ApiFailure(ApiError(403, "Forbidden: bot was blocked by the user"))
        if method == "sendMessage" and self._rate_limit is not None:
            now = time.monotonic()
            while self._rate_window and self._rate_window[0] <= now - 1.0:
                self._rate_window.popleft()
            if len(self._rate_window) >= self._rate_limit:
                raise _ApiFailure(ApiError(429, "Too Many Requests: retry after 1", retry_after=1))

    # ------------------------------------------------------------------ method handlers

    _HANDLER_NAMES: Final[dict[str, str]] = {
        "getMe": "_get_me",
        "deleteWebhook": "_delete_webhook",
        "setWebhook": "_set_webhook",
        "getWebhookInfo": "_get_webhook_info",
        "setMyCommands": "_set_my_commands",
        "getMyCommands": "_get_my_commands",
        "deleteMyCommands": "_delete_my_commands",
        "sendMessage": "_send_message",
        "editMessageText": "_edit_message_text",
        "editMessageReplyMarkup": "_edit_message_reply_markup",
        "answerCallbackQuery": "_answer_callback_query",
        "getChat": "_get_chat",
        "getChatMember": "_get_chat_member",
        "getChatAdministrators": "_get_chat_administrators",
        "sendChatAction": "_send_chat_action",
        "deleteMessage": "_delete_message",
    }
    _CANONICAL_METHODS: Final[dict[str, str]] = {
        name.lower(): name for name in [*_HANDLER_NAMES, "getUpdates"]
    }

    def _canonical_method(self, method: str) -> str:
        """Telegram method names are case-insensitive; record the documented spelling."""
        return self._CANONICAL_METHODS.get(method.lower(), method)

    def _dispatch(self, method: str, params: JSONDict) -> Any:
        """Run the method's handler, or answer ``True`` for methods the fake doesn't model."""
        handler_name = self._HANDLER_NAMES.get(method)
        if handler_name is None:
            return True
        handler: Callable[[JSONDict], Any] = getattr(self, handler_name)
        return handler(params)

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        """Long poll: answer as soon as an update is queued, or with ``[]`` after ``timeout``."""
        assert self._updates_event is not None  # Only called on the running server loop.
        limit = min(max(int(params.get("limit") or MAX_UPDATES_LIMIT), 1), MAX_UPDATES_LIMIT)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        with self._lock:
            if self._webhook_url:
                raise _ApiFailure(
                    ApiError(
                        409,
                        "Conflict: can't use getUpdates method while webhook is active; "
                        "use deleteWebhook to delete the webhook first",
                    )
                )
            if "allowed_updates" in params:
                self._allowed_updates = list(params["allowed_updates"] or [])
            self._confirm_updates(params.get("offset"))
        while True:
            # Clearing before selecting is race-free: set() only ever runs on this loop.
            self._updates_event.clear()
            with self._lock:
                batch = self._select_updates(limit)
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing:
                return batch
            await self._park_long_poll(remaining)

    async def _park_long_poll(self, seconds: float) -> None:
        """Wait for an injected update, counted so tests can tell the bot is idle-polling."""
        assert self._updates_event is not None
        with self._lock:
            self._pending_long_polls += 1
            self._notify_locked()
        try:
            await asyncio.wait_for(self._updates_event.wait(), seconds)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._pending_long_polls -= 1
                self._notify_locked()

    def _confirm_updates(self, offset: Any) -> None:
        """Drop confirmed updates: ids below a positive offset, or all but the last -offset."""
        if not offset:
            return
        offset = int(offset)
        if offset > 0:
            self._updates = [update for update in self._updates if update["update_id"] >= offset]
        else:
            self._updates = self._updates[offset:]

    def _select_updates(self, limit: int) -> list[JSONDict]:
        """Pending updates of the allowed kinds, oldest first, without consuming them."""
        allowed = set(self._allowed_updates)
        selected = [
            update
            for update in self._updates
            if not allowed or any(kind in allowed for kind in update if kind != "update_id")
        ]
        return selected[:limit]

    def _get_me(self, params: JSONDict) -> JSONDict:
        """The bot's own User, which PTB caches and CommandHandler uses for ``@botname``."""
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _delete_webhook(self, params: JSONDict) -> bool:
        """Switch back to polling; ``drop_pending_updates`` discards the queue like Telegram."""
        self._webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _set_webhook(self, params: JSONDict) -> bool:
        """Remember the webhook URL so getUpdates conflicts exactly as on Telegram."""
        self._webhook_url = str(params.get("url") or "")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        """Report the webhook state PTB inspects when switching modes."""
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        """Telegram keeps one command list per (scope, language) pair."""
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _set_my_commands(self, params: JSONDict) -> bool:
        """Store commands, rejecting names Telegram rejects so typos fail in tests too."""
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("commands must be a JSON array")
        for command in commands:
            if not _BOT_COMMAND_PATTERN.fullmatch(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._commands_key(params)] = [dict(command) for command in commands]
        return True

    def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        """Return what setMyCommands stored for the same scope and language."""
        return [dict(command) for command in self._commands.get(self._commands_key(params), [])]

    def _delete_my_commands(self, params: JSONDict) -> bool:
        """Forget the command list for one scope and language."""
        self._commands.pop(self._commands_key(params), None)
        return True

    def _send_message(self, params: JSONDict) -> JSONDict:
        """Validate like Telegram, store the message and return it with a fresh per-chat id."""
        chat = self._chat_for(self._require_chat_id(params))
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad_request("message text is empty")
        if _utf16_length(_visible_text(text, params.get("parse_mode"))) > MAX_MESSAGE_LENGTH:
            raise _bad_request("message is too long")
        if str(params.get("parse_mode", "")).upper() == "HTML":
            _check_html(text)
        message: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": self._bot_user(),
            "chat": dict(chat),
            "date": int(time.time()),
            "text": text,
        }
        self._add_thread_fields(message, chat, params.get("message_thread_id"))
        if params.get("entities"):
            message["entities"] = params["entities"]
        if _inline_markup(params) is not None:
            message["reply_markup"] = params["reply_markup"]
        self._add_reply_to(message, params.get("reply_parameters"))
        self._messages[(chat["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        """Edit a stored message; omitting reply_markup removes the keyboard, as on Telegram."""
        if params.get("inline_message_id"):
            return True  # Inline messages aren't stored; Telegram answers True for them too.
        message = self._stored_message(params, "message to edit not found")
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad_request("message text is empty")
        if str(params.get("parse_mode", "")).upper() == "HTML":
            _check_html(text)
        new_markup = _inline_markup(params)
        if message.get("text") == text and message.get("reply_markup") == new_markup:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        message["text"] = text
        self._replace_optional(message, "entities", params.get("entities"))
        self._replace_optional(message, "reply_markup", new_markup)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        """Replace or remove a stored message's inline keyboard."""
        if params.get("inline_message_id"):
            return True
        message = self._stored_message(params, "message to edit not found")
        new_markup = _inline_markup(params)
        if message.get("reply_markup") == new_markup:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        self._replace_optional(message, "reply_markup", new_markup)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _answer_callback_query(self, params: JSONDict) -> bool:
        """Accept each pressed button's query exactly once, like Telegram."""
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._pending_callback_queries:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._pending_callback_queries.discard(query_id)
        return True

    def _get_chat(self, params: JSONDict) -> JSONDict:
        """A ChatFullInfo with the fields PTB 22 requires."""
        chat = self._chat_for(self._require_chat_id(params))
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _get_chat_member(self, params: JSONDict) -> JSONDict:
        """Status from :meth:`set_admins`: creator, administrator, else member."""
        chat = self._chat_for(self._require_chat_id(params))
        user_id = int(params.get("user_id") or 0)
        if not user_id:
            raise _bad_request("user_id is empty")
        return self._chat_member(chat["id"], user_id)

    def _get_chat_administrators(self, params: JSONDict) -> list[JSONDict]:
        """Creator first, then administrators; private chats have none, as on Telegram."""
        chat = self._chat_for(self._require_chat_id(params))
        if chat["type"] == "private":
            raise _bad_request("there are no administrators in the private chat")
        creator = self._creators.get(chat["id"])
        user_ids = ([creator] if creator is not None else []) + sorted(
            self._admins.get(chat["id"], set()) - {creator}
        )
        return [self._chat_member(chat["id"], user_id) for user_id in user_ids]

    def _send_chat_action(self, params: JSONDict) -> bool:
        """Typing indicators have no lasting effect; only the chat is validated."""
        self._require_chat_id(params)
        return True

    def _delete_message(self, params: JSONDict) -> bool:
        """Delete a stored message; unknown ids fail like on Telegram."""
        message = self._stored_message(params, "message to delete not found")
        del self._messages[(message["chat"]["id"], message["message_id"])]
        return True

    # ------------------------------------------------------------------ object builders

    def _bot_user(self) -> JSONDict:
        """The bot as the ``from`` of its own messages."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _remember_user(
        self,
        user_id: int,
        username: str | None,
        first_name: str | None,
        language_code: str | None,
    ) -> JSONDict:
        """Build a User and keep it, so getChatMember can describe the same person later."""
        user: JSONDict = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name or f"User{user_id}",
            "username": username or f"user{user_id}",
        }
        if language_code:
            user["language_code"] = language_code
        self._users[user_id] = user
        return dict(user)

    @staticmethod
    def _default_user_id(chat_id: int, user_id: int | None) -> int:
        """In a private chat the sender is the chat; elsewhere a stable default user."""
        if user_id is not None:
            return user_id
        return chat_id if chat_id > 0 else DEFAULT_USER_ID

    def _chat_for(self, chat_id: ChatId) -> JSONDict:
        """Known chat, or a plausible one inferred from the id like Telegram's id ranges."""
        if chat_id in self._chats:
            return self._chats[chat_id]
        chat: JSONDict
        if isinstance(chat_id, str):
            # "@channel": give it a stable numeric id in the channel range.
            chat = {
                "id": -1_009_000_000_000 - len(self._chats),
                "type": "channel",
                "title": chat_id.lstrip("@"),
                "username": chat_id.lstrip("@"),
            }
        elif chat_id > 0:
            chat = {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
        elif str(chat_id).startswith("-100"):
            chat = {"id": chat_id, "type": "supergroup", "title": f"Chat {chat_id}"}
        else:
            chat = {"id": chat_id, "type": "group", "title": f"Chat {chat_id}"}
        self._chats[chat_id] = chat
        self._chats[chat["id"]] = chat
        return chat

    def _register_chat(
        self, chat_id: int, chat_type: str, is_forum: bool, user: JSONDict
    ) -> JSONDict:
        """Record the chat an injected message came from so replies and getChat agree."""
        if chat_type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat_type {chat_type!r}")
        if chat_type == "private" and chat_id <= 0:
            raise ValueError("private chats have positive ids (the user's id)")
        chat: JSONDict = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = user["first_name"]
            chat["username"] = user["username"]
        else:
            chat["title"] = f"Chat {chat_id}"
        if is_forum:
            chat["is_forum"] = True
        self._chats[chat_id] = chat
        return chat

    def _inject_user_message(
        self,
        chat_id: int,
        text: str,
        *,
        entities: list[JSONDict] | None,
        user_id: int | None,
        chat_type: str,
        message_thread_id: int | None,
        is_forum: bool,
        username: str | None,
        first_name: str | None,
        language_code: str | None,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """Build a user's Message as Telegram delivers it and queue it as an update."""
        with self._lock:
            user = self._remember_user(
                self._default_user_id(chat_id, user_id), username, first_name, language_code
            )
            chat = self._register_chat(chat_id, chat_type, is_forum, user)
            message: JSONDict = {
                "message_id": self._next_message_id(chat_id),
                "from": user,
                "chat": dict(chat),
                "date": int(time.time()),
                "text": text,
            }
            if entities:
                message["entities"] = entities
            self._add_thread_fields(message, chat, message_thread_id)
            if reply_to_message_id is not None:
                self._add_reply_to(message, {"message_id": reply_to_message_id})
            self._messages[(chat_id, message["message_id"])] = message
            update = {"message": copy.deepcopy(message)}
        return self.inject(update)

    def _next_message_id(self, chat_id: int) -> int:
        """Message ids are per chat and shared by both directions, as on Telegram."""
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    @staticmethod
    def _add_thread_fields(message: JSONDict, chat: JSONDict, message_thread_id: Any) -> None:
        """Echo the topic thread; forum messages are also flagged as topic messages."""
        if message_thread_id is None:
            return
        message["message_thread_id"] = int(message_thread_id)
        if chat.get("is_forum"):
            message["is_topic_message"] = True

    def _add_reply_to(self, message: JSONDict, reply_parameters: Any) -> None:
        """Attach the quoted message when the bot replies to one the fake knows."""
        if not isinstance(reply_parameters, dict) or "message_id" not in reply_parameters:
            return
        chat_id = _normalize_chat_id(reply_parameters.get("chat_id", message["chat"]["id"]))
        message_id = int(reply_parameters["message_id"])
        original = self._messages.get((chat_id, message_id))  # type: ignore[arg-type]
        if original is not None:
            reply_to = copy.deepcopy(original)
            reply_to.pop("reply_to_message", None)  # Telegram never nests replies deeper.
            message["reply_to_message"] = reply_to

    @staticmethod
    def _replace_optional(message: JSONDict, key: str, value: Any) -> None:
        """Set or drop an optional field, mirroring how edits replace content."""
        if value:
            message[key] = value
        else:
            message.pop(key, None)

    def _require_chat_id(self, params: JSONDict) -> ChatId:
        """Telegram's answer when chat_id is missing."""
        if params.get("chat_id") in (None, ""):
            raise _bad_request("chat_id is empty")
        return _normalize_chat_id(params["chat_id"])

    def _stored_message(self, params: JSONDict, not_found: str) -> JSONDict:
        """Look up the message a call refers to by chat and message id."""
        chat = self._chat_for(self._require_chat_id(params))
        try:
            message_id = int(params.get("message_id") or 0)
        except (TypeError, ValueError):
            raise _bad_request("message identifier is not specified") from None
        message = self._messages.get((chat["id"], message_id))
        if message is None:
            raise _bad_request(not_found)
        return message

    def _chat_member(self, chat_id: int, user_id: int) -> JSONDict:
        """A ChatMember of the right subtype, with every field PTB 22 requires."""
        if user_id == self.bot_id:
            user = self._bot_user()
        else:
            fallback = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
            user = dict(self._users.get(user_id, fallback))
        if self._creators.get(chat_id) == user_id:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in self._admins.get(chat_id, set()):
            return {
                "status": "administrator",
                "user": user,
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": False,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
            }
        return {"status": "member", "user": user}


# ---------------------------------------------------------------------- pytest fixtures


@pytest.fixture
def fake_bot_api_factory() -> Iterator[Callable[..., FakeBotAPI]]:
    """Start fakes with custom options (token, latency, ...); all are stopped at teardown."""
    started: list[FakeBotAPI] = []

    def start_fake(**kwargs: Any) -> FakeBotAPI:
        fake = FakeBotAPI(**kwargs).start()
        started.append(fake)
        return fake

    yield start_fake
    for fake in started:
        fake.stop()


@pytest.fixture
def fake_bot_api() -> Iterator[FakeBotAPI]:
    """A running fake with default settings; self-contained so it can be imported alone."""
    with FakeBotAPI() as fake:
        yield fake
