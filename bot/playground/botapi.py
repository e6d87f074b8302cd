"""A Telegram Bot API served locally: the methods newsbot calls, answered as Telegram answers.

python-telegram-bot talks to it over HTTP exactly as it talks to api.telegram.org, so the
playground runs the real application, and the tests drive the same code (tests/fakebot.py
adds call recording and fault injection on top). Messages are kept per chat with their
edits; HTML is parsed into text and entities the way Telegram parses it.

State is guarded by one re-entrant lock, so a caller on another thread (a test) may
inject updates while the server loop answers the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeAlias

from aiohttp import web

from bot.playground.files import (
    MAX_DOWNLOAD_BYTES,
    MAX_UPLOAD_BYTES,
    FileStore,
    UploadedFile,
)
from bot.playground.telegram_html import (
    TelegramHTMLError,
    parse_html,
    utf16_length,
    with_auto_entities,
)

log = logging.getLogger(__name__)

ChatId: TypeAlias = int | str
JSONDict: TypeAlias = dict[str, Any]

#: Telegram's per-message limit, counted in UTF-16 code units after entity parsing.
MAX_MESSAGE_LENGTH: Final[int] = 4096
MAX_CAPTION_LENGTH: Final[int] = 1024
#: Telegram's upper bound for ``getUpdates(limit=...)``.
MAX_UPDATES_LIMIT: Final[int] = 100
#: The sender of user messages in non-private chats when no ``user_id`` is given.
DEFAULT_USER_ID: Final[int] = 1001
#: Parameters Telegram defines as strings: never JSON-decode them, ``"123"`` is valid text.
STRING_PARAMS: Final[frozenset[str]] = frozenset(
    {
        "callback_query_id",
        "caption",
        "inline_query_id",
        "description",
        "inline_message_id",
        "language_code",
        "name",
        "next_offset",
        "parse_mode",
        "query",
        "secret_token",
        "short_description",
        "text",
        "title",
        "url",
    }
)
_COMMAND_NAME_LENGTH: Final[range] = range(1, 33)
#: What an administrator may do, with every field PTB requires of a ChatMemberAdministrator.
ADMINISTRATOR_RIGHTS: Final[JSONDict] = {
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
NOT_MODIFIED: Final[str] = (
    "message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class BotApiError(Exception):
    """A Telegram error answer, with the code and description PTB maps to its exceptions."""

    def __init__(
        self,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        *,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def to_payload(self) -> JSONDict:
        """The exact JSON body Telegram sends for this error."""
        payload: JSONDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        parameters: JSONDict = {}
        if self.retry_after is not None:
            parameters["retry_after"] = self.retry_after
        if self.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = self.migrate_to_chat_id
        if parameters:
            payload["parameters"] = parameters
        return payload


def bad_request(description: str) -> BotApiError:
    """Telegram's 400 answer, whose description PTB matches on."""
    return BotApiError(400, f"Bad Request: {description}")


def normalize_chat_id(value: Any) -> ChatId:
    """Make ``42``, ``"42"`` and ``"@channel"`` comparable the way Telegram resolves them."""
    if isinstance(value, bool):
        raise bad_request("chat_id is invalid")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return text


def decode_form_value(name: str, value: str) -> Any:
    """Undo PTB's form encoding, which JSON-dumps every non-string parameter value."""
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # usernames like "@channel" are plain strings, not JSON


def decode_params(request: web.Request, body: bytes) -> JSONDict:
    """Parameters from the query string and a JSON or form body, as PTB sends them."""
    params: JSONDict = {key: decode_form_value(key, value) for key, value in request.query.items()}
    if not body:
        return params
    if request.content_type == "application/json":
        decoded = json.loads(body)
        params.update(decoded if isinstance(decoded, dict) else {})
    else:
        form = urllib.parse.parse_qsl(
            body.decode(request.charset or "utf-8"), keep_blank_values=True
        )
        params.update({key: decode_form_value(key, value) for key, value in form})
    return params


async def decode_multipart(request: web.Request) -> JSONDict:
    """Parameters of a multipart upload (sendDocument): files kept as bytes, the rest as
    form values are."""
    params: JSONDict = {key: decode_form_value(key, value) for key, value in request.query.items()}
    for key, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            params[key] = UploadedFile(value.filename, value.content_type, value.file.read())
        else:
            params[key] = decode_form_value(key, str(value))
    return params


def inline_markup(params: JSONDict) -> JSONDict | None:
    """Telegram only echoes inline keyboards in returned messages, never reply keyboards."""
    markup = params.get("reply_markup")
    return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None


def _text_and_entities(params: JSONDict) -> tuple[str, list[JSONDict]]:
    """The message text as Telegram stores it: HTML parsed away, checked against the limit."""
    text = params.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("message text is empty")
    parse_mode = params.get("parse_mode")
    if parse_mode is None or parse_mode == "":
        entities = with_auto_entities(text, list(params.get("entities") or []))
    elif str(parse_mode).upper() == "HTML":
        try:
            text, entities = parse_html(text)
        except TelegramHTMLError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    else:
        raise bad_request(f"parse_mode {parse_mode!r} is not supported by the local Bot API")
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_length(text) > MAX_MESSAGE_LENGTH:
        raise bad_request("message is too long")
    return text, entities


class LocalBotAPI:
    """The Bot API methods newsbot calls, served by aiohttp and kept in memory."""

    def __init__(
        self,
        token: str,
        *,
        bot_username: str = "newsbot_local_bot",
        bot_first_name: str = "NewsBot",
    ) -> None:
        self.token: Final[str] = token
        self.bot_username: Final[str] = bot_username
        self.bot_first_name: Final[str] = bot_first_name
        bot_id_text = token.split(":", 1)[0]
        self.bot_id: Final[int] = int(bot_id_text) if bot_id_text.isdigit() else 5550001234

        self._lock = threading.RLock()
        self._version = 0
        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(10_000)
        self._allowed_updates: list[str] = []
        self._callback_query_ids = itertools.count(4_000_000_000_000_000)
        self._pending_callback_queries: set[str] = set()
        self._callback_answers: dict[str, JSONDict] = {}

        self._chats: dict[ChatId, JSONDict] = {}
        self._users: dict[int, JSONDict] = {}
        self._message_ids: dict[int, Iterator[int]] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._admins: dict[int, set[int]] = {}
        self._creators: dict[int, int] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.files = FileStore()

        self._loop: asyncio.AbstractEventLoop | None = None
        self._updates_event: asyncio.Event | None = None
        self._pending_long_polls = 0
        self._closing = False

    # ------------------------------------------------------------------ serving

    def attach(self, app: web.Application) -> None:
        """Serve the Bot API routes from `app`, with PTB's ``base_url`` at ``/bot``."""
        app.router.add_route("*", "/bot{token}/{method}", self.handle_request)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._handle_file_request)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)

    async def _on_startup(self, app: web.Application) -> None:
        self.bind_loop()

    async def _on_shutdown(self, app: web.Application) -> None:
        self.release_long_polls()

    def bind_loop(self) -> None:
        """Long polls park on the serving loop; injections from other threads wake it."""
        self._loop = asyncio.get_running_loop()
        self._updates_event = asyncio.Event()
        self._closing = False

    def release_long_polls(self) -> None:
        """Answer every parked getUpdates now, so the server can stop without waiting."""
        self._closing = True
        self._wake_long_polls()

    async def handle_request(self, request: web.Request) -> web.Response:
        """Decode one Bot API call, answer it, and log what Telegram would have refused."""
        method = self.canonical_method(request.match_info["method"])
        if request.content_type == "multipart/form-data":
            params = await decode_multipart(request)
        else:
            params = decode_params(request, await request.read())
        try:
            if request.match_info["token"] != self.token:
                raise BotApiError(401, "Unauthorized")
            result = await self.call(method, params)
        except BotApiError as error:
            log.warning("Bot API refused %s: %s", method, error.description)
            return web.json_response(error.to_payload(), status=error.error_code)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file_request(self, request: web.Request) -> web.Response:
        """A file getFile named, to the bot's token only, as Telegram's file server serves it."""
        with self._lock:
            stored = self.files.by_path(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None:
            return web.json_response(BotApiError(404, "Not Found").to_payload(), status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def call(self, method: str, params: JSONDict) -> Any:
        """The result of one method call, or BotApiError as Telegram would answer."""
        if method == "getUpdates":
            return await self._get_updates(params)
        return self.answer(method, params)

    def answer(self, method: str, params: JSONDict) -> Any:
        """Run a (non-polling) method on the state, atomically."""
        with self._lock:
            handler_name = self._HANDLERS.get(method)
            if handler_name is None:
                result = self.unmodelled(method, params)
            else:
                handler: Callable[[JSONDict], Any] = getattr(self, handler_name)
                result = handler(params)
            self._notify_locked()
            return result

    def unmodelled(self, method: str, params: JSONDict) -> Any:
        """A method newsbot does not call: Telegram's answer to an unknown method."""
        raise BotApiError(404, "Not Found")

    @classmethod
    def canonical_method(cls, method: str) -> str:
        """Telegram method names are case-insensitive; use the documented spelling."""
        for name in [*cls._HANDLERS, "getUpdates"]:
            if name.lower() == method.lower():
                return name
        return method

    def _notify_locked(self) -> None:
        """Something changed; the caller holds the lock."""
        self._version += 1

    # ------------------------------------------------------------------ reading state

    @property
    def version(self) -> int:
        """Grows with every change, so a reader can tell whether to look again."""
        with self._lock:
            return self._version

    @property
    def pending_long_polls(self) -> int:
        """How many getUpdates requests are parked waiting for an update right now."""
        with self._lock:
            return self._pending_long_polls

    def message(self, chat_id: int, message_id: int) -> JSONDict:
        """The current state of a message (after edits), as Telegram would return it."""
        with self._lock:
            try:
                return copy.deepcopy(self._messages[(chat_id, message_id)])
            except KeyError:
                raise LookupError(f"no message {message_id} in chat {chat_id}") from None

    def chat_messages(self, chat_id: int, thread_id: int | None = None) -> list[JSONDict]:
        """A chat's messages in order, or one forum topic's when ``thread_id`` is given."""
        with self._lock:
            found = [
                copy.deepcopy(message)
                for (chat, _), message in self._messages.items()
                if chat == chat_id
                and (thread_id is None or message.get("message_thread_id") == thread_id)
            ]
        return sorted(found, key=lambda message: message["message_id"])

    def commands(self, language: str = "") -> list[JSONDict]:
        """The command menu a user of that language sees in a private chat: the default
        scope's list for the language, else the one for every language, as Telegram does."""
        with self._lock:
            menu = self._commands.get(self._commands_key({"language_code": language}))
            if menu is None:
                menu = self._commands.get(self._commands_key({}), [])
            return [dict(c) for c in menu]

    def callback_answer(self, query_id: str) -> JSONDict | None:
        """What the bot answered to a pressed button (its toast), once it answered."""
        with self._lock:
            answer = self._callback_answers.get(query_id)
            return dict(answer) if answer is not None else None

    # ------------------------------------------------------------------ what users do

    def inject(self, update: JSONDict) -> JSONDict:
        """Queue a raw update for ``getUpdates``; assigns an increasing ``update_id`` if absent."""
        with self._lock:
            update = dict(update)
            if "update_id" in update:
                # Keep later ids above a hand-picked one: Telegram's ids only grow.
                next_id = max(next(self._update_ids), update["update_id"] + 1)
                self._update_ids = itertools.count(next_id)
            else:
                update["update_id"] = next(self._update_ids)
            self._updates.append(update)
            self._notify_locked()
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
        chat_title: str | None = None,
    ) -> JSONDict:
        """A user's ``/command`` message with the ``bot_command`` entity Telegram adds."""
        if not text.startswith("/"):
            raise ValueError(f"a command must start with '/', got {text!r}")
        command_token = text.split(maxsplit=1)[0]  # includes "@botname" when addressed
        entity = {"type": "bot_command", "offset": 0, "length": utf16_length(command_token)}
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
            chat_title=chat_title,
        )

    def send_document(
        self,
        chat_id: int,
        data: bytes,
        *,
        file_name: str,
        mime_type: str | None,
        user_id: int | None = None,
        chat_type: str = "private",
        message_thread_id: int | None = None,
        is_forum: bool = False,
        username: str | None = None,
        first_name: str | None = None,
        language_code: str | None = "en",
        chat_title: str | None = None,
    ) -> JSONDict:
        """A user's document message: the file kept for getFile and the file server."""
        with self._lock:
            stored = self.files.keep(data, file_name=file_name, mime_type=mime_type)
        return self._inject_user_message(
            chat_id,
            "",
            entities=None,
            document=stored.document(),
            user_id=user_id,
            chat_type=chat_type,
            message_thread_id=message_thread_id,
            is_forum=is_forum,
            username=username,
            first_name=first_name,
            language_code=language_code,
            chat_title=chat_title,
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
        chat_title: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """A user's plain text message (no entities; send_command adds those), optionally
        a reply to an earlier message of the chat (as when answering the bot's question)."""
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
            chat_title=chat_title,
            reply_to_message_id=reply_to_message_id,
        )

    def post_in_channel(self, chat_id: int, text: str, *, title: str | None = None) -> JSONDict:
        """A channel post: no sender user, the channel itself signs it."""
        with self._lock:
            known = self._chats.get(chat_id, {})
            name = title or known.get("title") or f"Channel {chat_id}"
            chat: JSONDict = {"id": chat_id, "type": "channel", "title": name}
            self._chats[chat_id] = chat
            message: JSONDict = {
                "message_id": self._next_message_id(chat_id),
                "sender_chat": dict(chat),
                "chat": dict(chat),
                "date": int(time.time()),
                "text": text,
            }
            if text.startswith("/"):
                length = utf16_length(text.split(maxsplit=1)[0])
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
            self._messages[(chat_id, message["message_id"])] = message
            update = {"channel_post": copy.deepcopy(message)}
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
        language_code: str | None = None,
    ) -> str:
        """A ``callback_query`` on a known message; returns the query id the bot must answer."""
        with self._lock:
            key = (chat_id, message_id)
            if key not in self._messages:
                raise LookupError(f"no message {message_id} in chat {chat_id} to press on")
            # The update shows the message as it was when the button was pressed.
            message = copy.deepcopy(self._messages[key])
            presser = self._default_user_id(chat_id, user_id)
            # Unless told, the same person keeps the language Telegram reported for them before.
            language = language_code or self._users.get(presser, {}).get("language_code", "en")
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

    # ------------------------------------------------------------------ long polling

    def _wake_long_polls(self) -> None:
        """Let getUpdates return now; safe from any thread and before serving."""
        loop, event = self._loop, self._updates_event
        if loop is not None and event is not None:
            # A closed serving loop means nobody is polling.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        """Answer as soon as an update is queued, or with ``[]`` after ``timeout``."""
        if self._updates_event is None:
            self.bind_loop()
        assert self._updates_event is not None
        limit = min(max(int(params.get("limit") or MAX_UPDATES_LIMIT), 1), MAX_UPDATES_LIMIT)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        with self._lock:
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
        """Wait for an update, counted so a caller can tell the bot is idle-polling."""
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

    # ------------------------------------------------------------------ methods

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
        """PTB's polling start; ``drop_pending_updates`` discards the queue like Telegram."""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        """Telegram keeps one command list per (scope, language) pair."""
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _set_my_commands(self, params: JSONDict) -> bool:
        """Store the menu, refusing names Telegram refuses so a typo fails here too."""
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("commands must be a JSON array")
        for command in commands:
            name = str(command.get("command", ""))
            valid_name = len(name) in _COMMAND_NAME_LENGTH and all(
                c.isascii() and (c.islower() or c.isdigit() or c == "_") for c in name
            )
            if not valid_name:
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._commands_key(params)] = [dict(command) for command in commands]
        return True

    def _send_message(self, params: JSONDict) -> JSONDict:
        """Validate like Telegram, store the message and return it with a fresh per-chat id."""
        chat = self._chat_for(self._require_chat_id(params))
        text, entities = _text_and_entities(params)
        message: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": self._bot_user(),
            "chat": dict(chat),
            "date": int(time.time()),
            "text": text,
        }
        self._add_thread_fields(message, chat, params.get("message_thread_id"))
        if entities:
            message["entities"] = entities
        if inline_markup(params) is not None:
            message["reply_markup"] = params["reply_markup"]
        if isinstance(params.get("link_preview_options"), dict):
            message["link_preview_options"] = params["link_preview_options"]
        self._add_reply_to(message, params.get("reply_parameters"))
        self._messages[(chat["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    def _get_file(self, params: JSONDict) -> JSONDict:
        """A file's path for download; bots may not download files over 20 MB."""
        stored = self.files.by_id(params.get("file_id"))
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return stored.file()

    def _send_document(self, params: JSONDict) -> JSONDict:
        """A document message from an upload (or a file id already kept), with its caption."""
        chat = self._chat_for(self._require_chat_id(params))
        sent = params.get("document")
        if isinstance(sent, UploadedFile):
            if len(sent.data) > MAX_UPLOAD_BYTES:
                raise BotApiError(413, "Request Entity Too Large")
            if not sent.data:
                raise bad_request("file must be non-empty")
            stored = self.files.keep(
                sent.data, file_name=sent.filename, mime_type=sent.content_type
            )
        elif (known := self.files.by_id(sent)) is not None:
            stored = known
        elif sent in (None, ""):
            raise bad_request("there is no document in the request")
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        message: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": self._bot_user(),
            "chat": dict(chat),
            "date": int(time.time()),
            "document": stored.document(),
        }
        if params.get("caption"):
            caption, entities = _text_and_entities({**params, "text": params["caption"]})
            if utf16_length(caption) > MAX_CAPTION_LENGTH:
                raise bad_request("message caption is too long")
            message["caption"] = caption
            if entities:
                message["caption_entities"] = entities
        self._add_thread_fields(message, chat, params.get("message_thread_id"))
        if inline_markup(params) is not None:
            message["reply_markup"] = params["reply_markup"]
        self._messages[(chat["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        """Edit a stored message; omitting reply_markup removes the keyboard, as on Telegram."""
        if params.get("inline_message_id"):
            return True  # inline messages aren't stored; Telegram answers True for them too
        message = self._stored_message(params, "message to edit not found")
        text, entities = _text_and_entities(params)
        new_markup = inline_markup(params)
        if (
            message.get("text") == text
            and message.get("entities", []) == entities
            and message.get("reply_markup") == new_markup
        ):
            raise bad_request(NOT_MODIFIED)
        message["text"] = text
        self._replace_optional(message, "entities", entities)
        self._replace_optional(message, "reply_markup", new_markup)
        self._replace_optional(message, "link_preview_options", params.get("link_preview_options"))
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        """Change a stored message's keyboard; omitting reply_markup removes it."""
        if params.get("inline_message_id"):
            return True
        message = self._stored_message(params, "message to edit not found")
        new_markup = inline_markup(params)
        if message.get("reply_markup") == new_markup:
            raise bad_request(NOT_MODIFIED)
        self._replace_optional(message, "reply_markup", new_markup)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _answer_callback_query(self, params: JSONDict) -> bool:
        """Accept each pressed button's query exactly once, like Telegram."""
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._pending_callback_queries:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._pending_callback_queries.discard(query_id)
        self._callback_answers[query_id] = {
            "text": str(params.get("text") or ""),
            "show_alert": bool(params.get("show_alert")),
        }
        return True

    def _get_chat_member(self, params: JSONDict) -> JSONDict:
        """Status from :meth:`set_admins`: creator, administrator, else member."""
        chat = self._chat_for(self._require_chat_id(params))
        user_id = int(params.get("user_id") or 0)
        if not user_id:
            raise bad_request("user_id is empty")
        return self._chat_member(chat["id"], user_id)

    # What newsbot calls, polling (PTB's start calls deleteWebhook) or handling updates.
    _HANDLERS: dict[str, str] = {
        "getMe": "_get_me",
        "deleteWebhook": "_delete_webhook",
        "setMyCommands": "_set_my_commands",
        "sendMessage": "_send_message",
        "editMessageText": "_edit_message_text",
        "editMessageReplyMarkup": "_edit_message_reply_markup",
        "answerCallbackQuery": "_answer_callback_query",
        "getChatMember": "_get_chat_member",
        "getFile": "_get_file",
        "sendDocument": "_send_document",
    }

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
        """A User, kept so getChatMember can describe the same person later."""
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
        """A known chat, or a plausible one inferred from the id like Telegram's id ranges."""
        if chat_id in self._chats:
            return self._chats[chat_id]
        chat: JSONDict
        if isinstance(chat_id, str):
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
        self, chat_id: int, chat_type: str, is_forum: bool, user: JSONDict, title: str | None
    ) -> JSONDict:
        """Record the chat a user's message came from so replies and getChat agree."""
        if chat_type not in ("private", "group", "supergroup"):
            raise ValueError(f"unknown chat_type {chat_type!r}")
        if chat_type == "private" and chat_id <= 0:
            raise ValueError("private chats have positive ids (the user's id)")
        chat: JSONDict = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = user["first_name"]
            chat["username"] = user["username"]
        else:
            chat["title"] = title or f"Chat {chat_id}"
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
        document: JSONDict | None = None,
        user_id: int | None,
        chat_type: str,
        message_thread_id: int | None,
        is_forum: bool,
        username: str | None,
        first_name: str | None,
        language_code: str | None,
        chat_title: str | None,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """A user's Message as Telegram delivers it, queued as an update."""
        with self._lock:
            user = self._remember_user(
                self._default_user_id(chat_id, user_id), username, first_name, language_code
            )
            chat = self._register_chat(chat_id, chat_type, is_forum, user, chat_title)
            message: JSONDict = {
                "message_id": self._next_message_id(chat_id),
                "from": user,
                "chat": dict(chat),
                "date": int(time.time()),
            }
            if document is not None:
                message["document"] = document
            if text:
                message["caption" if document is not None else "text"] = text
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
        """Attach the quoted message when the bot replies to a known one."""
        if not isinstance(reply_parameters, dict) or "message_id" not in reply_parameters:
            return
        chat_id = normalize_chat_id(reply_parameters.get("chat_id", message["chat"]["id"]))
        original = (
            self._messages.get((chat_id, int(reply_parameters["message_id"])))
            if isinstance(chat_id, int)
            else None
        )
        if original is not None:
            reply_to = copy.deepcopy(original)
            reply_to.pop("reply_to_message", None)  # Telegram never nests replies deeper
            message["reply_to_message"] = reply_to

    @staticmethod
    def _replace_optional(message: JSONDict, key: str, value: Any) -> None:
        """Set or drop an optional field, as an edit replaces content."""
        if value:
            message[key] = value
        else:
            message.pop(key, None)

    def _require_chat_id(self, params: JSONDict) -> ChatId:
        """Telegram's answer when chat_id is missing."""
        if params.get("chat_id") in (None, ""):
            raise bad_request("chat_id is empty")
        return normalize_chat_id(params["chat_id"])

    def _stored_message(self, params: JSONDict, not_found: str) -> JSONDict:
        """The message a call refers to by chat and message id."""
        chat = self._chat_for(self._require_chat_id(params))
        try:
            message_id = int(params.get("message_id") or 0)
        except (TypeError, ValueError):
            raise bad_request("message identifier is not specified") from None
        message = self._messages.get((chat["id"], message_id))
        if message is None:
            raise bad_request(not_found)
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
            return {"status": "administrator", "user": user, **ADMINISTRATOR_RIGHTS}
        return {"status": "member", "user": user}
