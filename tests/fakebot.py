"""The local Bot API (bot/playground/botapi.py) plus what tests need: a thread, records, faults.

The server runs in its own thread with its own event loop, so the bot under test, the test
code and the server never share a loop. PTB talks to it exactly as it talks to Telegram::

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

Every call is recorded as a :class:`Call`. Calls answered with ``"ok": true`` are listed by
:meth:`FakeBotAPI.calls`; calls refused (injected faults, blocked chats, rate limit, wrong
token, validation errors) by :meth:`FakeBotAPI.failed_calls`, so tests can count accepted
deliveries exactly. Methods the bot does not call get the generic ``{"ok": true, "result":
true}``, and multipart uploads are recorded as :class:`UploadedFile`.

Files go both ways as on Telegram: :meth:`FakeBotAPI.upload_document` is a user sending a
document (``getFile`` then gives its ``file_path``, served under ``base_file_url``), and a
``sendDocument`` upload is stored as a document message whose bytes a test reads from the
call (``call.params["document"].data``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import dataclasses
import email.parser
import email.policy
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Final, TypeAlias, TypeVar

import pytest
from aiohttp import web

from bot.playground.botapi import (
    ADMINISTRATOR_RIGHTS,
    DEFAULT_USER_ID,
    BotApiError,
    ChatId,
    JSONDict,
    LocalBotAPI,
    bad_request,
    decode_form_value,
    decode_params,
    normalize_chat_id,
)
from bot.playground.telegram_html import TelegramHTMLError, parse_html, utf16_length

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_USER_ID",
    "ApiError",
    "Call",
    "ChatId",
    "FakeBotAPI",
    "StoredFile",
    "UploadedFile",
    "fake_bot_api",
    "fake_bot_api_factory",
]

CallPredicate: TypeAlias = Callable[["Call"], bool]
_T = TypeVar("_T")

#: Shaped like a real token (``<bot id>:<35 chars>``) so code that splits it keeps working.
DEFAULT_TOKEN: Final[str] = "5550001234:AAFakeTokenForLoopbackTestsOnly_0000"
#: Methods that deliver something into a chat, hence fail with 403 once the user blocked the bot.
_DELIVERY_METHOD_PREFIXES: Final[tuple[str, ...]] = ("send", "copy", "forward")
#: The largest file a bot may download with getFile (Telegram's "file is too big" past it).
MAX_DOWNLOAD_BYTES: Final[int] = 20 * 1024 * 1024
#: The largest file a bot may upload with sendDocument (Telegram answers 413 past it).
MAX_UPLOAD_BYTES: Final[int] = 50 * 1024 * 1024
#: A caption's limit, counted in UTF-16 code units after entity parsing.
MAX_CAPTION_LENGTH: Final[int] = 1024


@dataclasses.dataclass(frozen=True, slots=True)
class ApiError:
    """A Telegram error answer as data, so faults can be queued and recorded alike."""

    error_code: int
    description: str
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None

    @classmethod
    def of(cls, error: BotApiError) -> ApiError:
        """The recorded form of a refusal."""
        return cls(error.error_code, error.description, error.retry_after, error.migrate_to_chat_id)

    def to_exception(self) -> BotApiError:
        """The refusal to raise inside the server."""
        return BotApiError(
            self.error_code,
            self.description,
            self.retry_after,
            migrate_to_chat_id=self.migrate_to_chat_id,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class UploadedFile:
    """A multipart file part, recorded instead of being JSON-decoded."""

    field_name: str
    filename: str | None
    content_type: str
    data: bytes = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class StoredFile:
    """A file Telegram keeps: sent by a user or uploaded by the bot, downloadable by path."""

    file_id: str
    file_unique_id: str
    file_path: str
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
        return None if raw is None else normalize_chat_id(raw)


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
            params[name] = decode_form_value(name, text)
        else:
            params[name] = UploadedFile(name, filename, part.get_content_type(), data)
    return params


class FakeBotAPI(LocalBotAPI):
    """The local Bot API on its own thread, recording calls and answering with injected faults."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "newsbot_test_bot",
        bot_first_name: str = "NewsBot",
        latency: float = 0.0,
    ) -> None:
        super().__init__(token, bot_username=bot_username, bot_first_name=bot_first_name)
        #: Seconds every call waits before being answered; may be changed while running.
        self.latency: float = latency
        # Handlers run on the server thread, helpers on the test thread, and predicates
        # passed to waiters may call back into the fake: the lock is re-entrant.
        self._changed = threading.Condition(self._lock)
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

        self._calls: list[Call] = []
        self._calls_by_method: dict[str, list[Call]] = collections.defaultdict(list)
        self._failed: list[Call] = []
        self._generation = 0

        self._webhook_url = ""
        self._faults: list[_Fault] = []
        self._blocked_chats: set[ChatId] = set()
        self._my_status: dict[int, str] = {}  # the bot's own status per chat
        self._migrated: dict[ChatId, int] = {}  # group id -> the supergroup it became
        self._rate_limit: int | None = None
        self._rate_window: collections.deque[float] = collections.deque()
        self._files: dict[str, StoredFile] = {}  # by file_id
        self._file_paths: dict[str, StoredFile] = {}  # by file_path
        self._downloads: list[str] = []  # file paths served, in order

        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._server_loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
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
        thread, loop, stop_event = self._thread, self._server_loop, self._stop_event
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
        """Value for ``ApplicationBuilder().base_file_url()``: files getFile named are served."""
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

    def downloads(self) -> list[str]:
        """The file paths the bot downloaded, in order: what ``base_file_url`` served."""
        with self._lock:
            return list(self._downloads)

    def sent_messages(self, chat_id: ChatId | None = None) -> list[Call]:
        """Accepted ``sendMessage`` calls: the messages Telegram would have delivered."""
        return self.calls("sendMessage", chat_id=chat_id)

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
            chat_id=None if chat_id is None else normalize_chat_id(chat_id),
            remaining=times,
        )
        with self._lock:
            self._faults.append(fault)

    # ------------------------------------------------------------------ more of Telegram's life

    def share_chat(
        self, user_id: int, request_id: int, chat_id: int, *, title: str, chat_type: str = "channel"
    ) -> JSONDict:
        """Inject the ``chat_shared`` message a user sends by picking a chat in the chat picker."""
        with self._lock:
            self._chats.setdefault(chat_id, {"id": chat_id, "type": chat_type, "title": title})
            user = self._remember_user(user_id, None, None, "en")
            chat = self._register_chat(user_id, "private", False, user, None)
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

    def upload_document(
        self,
        chat_id: int,
        data: bytes,
        *,
        file_name: str,
        mime_type: str = "application/octet-stream",
        user_id: int | None = None,
        chat_type: str = "private",
        chat_title: str | None = None,
        caption: str | None = None,
        language_code: str | None = "en",
        report_size: bool = True,
    ) -> JSONDict:
        """Inject a user's document message, the file kept for getFile and download.

        ``report_size=False`` leaves out ``file_size``, which the Bot API marks optional.
        """
        with self._lock:
            user = self._remember_user(
                self._default_user_id(chat_id, user_id), None, None, language_code
            )
            chat = self._register_chat(chat_id, chat_type, False, user, chat_title)
            stored = self._store_file(data, folder="documents", file_name=file_name)
            document: JSONDict = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": file_name,
                "mime_type": mime_type,
            }
            if report_size:
                document["file_size"] = len(data)
            message: JSONDict = {
                "message_id": self._next_message_id(chat_id),
                "from": user,
                "chat": dict(chat),
                "date": int(time.time()),
                "document": document,
            }
            if caption:
                message["caption"] = caption
            self._messages[(chat_id, message["message_id"])] = message
            update = {"message": copy.deepcopy(message)}
        return self.inject(update)

    def _store_file(self, data: bytes, *, folder: str, file_name: str | None) -> StoredFile:
        """Keep a file under a fresh id and path, as Telegram keeps what it is sent."""
        number = len(self._files) + 1
        suffix = file_name.rsplit(".", 1)[-1] if file_name and "." in file_name else ""
        stored = StoredFile(
            file_id=f"BQACAgIAAxkBAAI{number:06d}",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"{folder}/file_{number}" + (f".{suffix}" if suffix else ""),
            data=bytes(data),
        )
        self._files[stored.file_id] = stored
        self._file_paths[stored.file_path] = stored
        return stored

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
                length = utf16_length(text.split(maxsplit=1)[0])
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
            else:
                message.pop("entities", None)
            self._messages[key] = message
            update = {"edited_message": copy.deepcopy(message)}
        return self.inject(update)

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
            chat = self._chats.get(chat_id) or self._register_chat(
                chat_id, chat_type, False, user, None
            )
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
            member |= {**ADMINISTRATOR_RIGHTS, "can_post_messages": True, "can_edit_messages": True}
        elif status == "creator":
            member["is_anonymous"] = False
        return member

    def upgrade_group(self, old_id: int, new_id: int, *, announce: bool = True) -> None:
        """Turn a group into a supergroup, as Telegram does: sends to the old id fail with
        ``migrate_to_chat_id``, and (if ``announce``) both service messages are delivered."""
        with self._lock:
            self._migrated[normalize_chat_id(old_id)] = new_id
            old_chat = dict(self._chats.get(old_id) or {"id": old_id}, type="group")
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
            self._blocked_chats.add(normalize_chat_id(chat_id))

    def unblock_chat(self, chat_id: ChatId) -> None:
        """Undo :meth:`block_chat`."""
        with self._lock:
            self._blocked_chats.discard(normalize_chat_id(chat_id))

    def rate_limit(self, per_second: int | None = 30) -> None:
        """Enforce Telegram's global sendMessage limit (sliding 1 s window); ``None`` disables."""
        with self._lock:
            self._rate_limit = per_second
            self._rate_window.clear()

    # ------------------------------------------------------------------ methods only tests call

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        """Polling while a webhook is set conflicts, exactly as on Telegram."""
        with self._lock:
            if self._webhook_url:
                raise BotApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
        return await super()._get_updates(params)

    def _delete_webhook(self, params: JSONDict) -> bool:
        """Back to polling."""
        self._webhook_url = ""
        return super()._delete_webhook(params)

    def _set_webhook(self, params: JSONDict) -> bool:
        """Remember the webhook URL so getUpdates conflicts exactly as on Telegram."""
        self._webhook_url = str(params.get("url") or "")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        """The webhook state PTB inspects when switching modes."""
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        """What setMyCommands stored for the same scope and language."""
        return [dict(command) for command in self._commands.get(self._commands_key(params), [])]

    def _delete_my_commands(self, params: JSONDict) -> bool:
        """Forget the command list for one scope and language."""
        self._commands.pop(self._commands_key(params), None)
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

    def _get_chat_administrators(self, params: JSONDict) -> list[JSONDict]:
        """Creator first, then administrators; private chats have none, as on Telegram."""
        chat = self._chat_for(self._require_chat_id(params))
        if chat["type"] == "private":
            raise bad_request("there are no administrators in the private chat")
        creator = self._creators.get(chat["id"])
        user_ids = ([creator] if creator is not None else []) + sorted(
            self._admins.get(chat["id"], set()) - {creator}
        )
        return [self._chat_member(chat["id"], user_id) for user_id in user_ids]

    def _send_chat_action(self, params: JSONDict) -> bool:
        """Typing indicators have no lasting effect; only the chat is checked."""
        self._require_chat_id(params)
        return True

    def _delete_message(self, params: JSONDict) -> bool:
        """Delete a stored message; unknown ids fail like on Telegram."""
        message = self._stored_message(params, "message to delete not found")
        del self._messages[(message["chat"]["id"], message["message_id"])]
        return True

    def _get_file(self, params: JSONDict) -> JSONDict:
        """A file's path for download; bots may not download files over 20 MB."""
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    async def _handle_file_request(self, request: web.Request) -> web.Response:
        """Serve a file getFile named, to the bot's token only, as Telegram's file server does."""
        path = request.match_info["path"]
        with self._lock:
            stored = self._file_paths.get(path)
            if request.match_info["token"] != self.token or stored is None:
                return web.json_response(BotApiError(404, "Not Found").to_payload(), status=404)
            self._downloads.append(path)
            self._notify_locked()
        return web.Response(body=stored.data, content_type="application/octet-stream")

    def _send_document(self, params: JSONDict) -> JSONDict:
        """A document message from an upload (or a known file_id), with its caption."""
        chat = self._chat_for(self._require_chat_id(params))
        sent = params.get("document")
        if isinstance(sent, UploadedFile):
            if len(sent.data) > MAX_UPLOAD_BYTES:
                raise BotApiError(413, "Request Entity Too Large")
            if not sent.data:
                raise bad_request("file must be non-empty")
            stored = self._store_file(sent.data, folder="documents", file_name=sent.filename)
            document: JSONDict = {"file_name": sent.filename, "mime_type": sent.content_type}
        elif isinstance(sent, str) and sent in self._files:
            stored = self._files[sent]
            document = {}
        elif sent in (None, ""):
            raise bad_request("there is no document in the request")
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        document |= {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        message: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": self._bot_user(),
            "chat": dict(chat),
            "date": int(time.time()),
            "document": {k: v for k, v in document.items() if v is not None},
        }
        self._add_caption(message, params)
        self._add_thread_fields(message, chat, params.get("message_thread_id"))
        self._messages[(chat["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    @staticmethod
    def _add_caption(message: JSONDict, params: JSONDict) -> None:
        """A caption as Telegram keeps it: HTML parsed to text and entities, within 1024."""
        caption = params.get("caption")
        if not caption:
            return
        entities: list[JSONDict] = []
        if str(params.get("parse_mode") or "").upper() == "HTML":
            try:
                caption, entities = parse_html(str(caption))
            except TelegramHTMLError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        if utf16_length(str(caption)) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        message["caption"] = caption
        if entities:
            message["caption_entities"] = entities

    _HANDLERS = {
        **LocalBotAPI._HANDLERS,
        "getFile": "_get_file",
        "sendDocument": "_send_document",
        "setWebhook": "_set_webhook",
        "getWebhookInfo": "_get_webhook_info",
        "getMyCommands": "_get_my_commands",
        "deleteMyCommands": "_delete_my_commands",
        "getChat": "_get_chat",
        "getChatAdministrators": "_get_chat_administrators",
        "sendChatAction": "_send_chat_action",
        "deleteMessage": "_delete_message",
    }

    # ------------------------------------------------------------------ server thread

    def _run_server_thread(self, sock: socket.socket, ready: threading.Event) -> None:
        """Own a private event loop so the bot's loop can block or stop without affecting us."""
        loop = asyncio.new_event_loop()
        self._server_loop = loop
        try:
            loop.run_until_complete(self._serve(sock, ready))
        except BaseException as exc:
            if ready.is_set():
                raise  # Crashed while serving: let threading.excepthook report it.
            self._startup_error = exc  # Re-raised by start() in the caller's thread.
            ready.set()
        finally:
            loop.close()
            self._server_loop = None

    async def _serve(self, sock: socket.socket, ready: threading.Event) -> None:
        """Serve until :meth:`stop` sets the stop event, then release pending long polls."""
        self._stop_event = asyncio.Event()
        self.bind_loop()
        app = web.Application(client_max_size=64 * 1024 * 1024)  # Uploads can be large.
        self.attach(app)
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
            self.release_long_polls()
            await runner.cleanup()

    async def handle_request(self, request: web.Request) -> web.Response:
        """Decode, fault-check, answer and record one Bot API call."""
        arrived_at = time.monotonic()
        body = await request.read()
        method = self.canonical_method(request.match_info["method"])
        if request.content_type == "multipart/form-data":
            params = _decode_multipart(request.headers["Content-Type"], body)
        else:
            params = decode_params(request, body)
        headers = dict(request.headers)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        try:
            if request.match_info["token"] != self.token:
                raise BotApiError(401, "Unauthorized")
            result = await self.call(method, params)
        except BotApiError as error:
            failed = ApiError.of(error)
            self._record(Call(method, params, arrived_at, None, failed, headers, body))
            return web.json_response(error.to_payload(), status=error.error_code)
        self._record(Call(method, params, arrived_at, result, None, headers, body))
        return web.json_response({"ok": True, "result": result})

    def answer(self, method: str, params: JSONDict) -> Any:
        """Injected faults, blocks and the rate limit first, then the local Bot API."""
        with self._lock:
            self._check_faults(method, params)
            result = super().answer(method, params)
            if method == "sendMessage" and self._rate_limit is not None:
                self._rate_window.append(time.monotonic())
            return result

    def unmodelled(self, method: str, params: JSONDict) -> Any:
        """Methods the bot does not call answer with the generic success."""
        return True

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
        super()._notify_locked()
        self._changed.notify_all()
        for loop, event in self._async_waiters:
            # A closed waiter loop means its wait_for is gone with it.
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

    @staticmethod
    def _filter_by_chat(calls: list[Call], chat_id: ChatId | None) -> list[Call]:
        """Copy, optionally keeping only calls aimed at one chat."""
        if chat_id is None:
            return list(calls)
        wanted = normalize_chat_id(chat_id)
        return [call for call in calls if call.chat_id == wanted]

    # ------------------------------------------------------------------ faults, per call

    def _check_faults(self, method: str, params: JSONDict) -> None:
        """Apply injected faults, blocked chats and the rate limit, in that order."""
        chat_id = normalize_chat_id(params["chat_id"]) if "chat_id" in params else None
        for fault in self._faults:
            if fault.method == method.lower() and fault.chat_id in (None, chat_id):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                raise fault.error.to_exception()
        if chat_id in self._migrated and method.startswith(_DELIVERY_METHOD_PREFIXES):
            raise BotApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=self._migrated[chat_id],
            )
        if chat_id in self._blocked_chats and method.startswith(_DELIVERY_METHOD_PREFIXES):
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        if method == "sendMessage" and self._rate_limit is not None:
            now = time.monotonic()
            while self._rate_window and self._rate_window[0] <= now - 1.0:
                self._rate_window.popleft()
            if len(self._rate_window) >= self._rate_limit:
                raise BotApiError(429, "Too Many Requests: retry after 1", retry_after=1)


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
