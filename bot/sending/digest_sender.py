"""Digests sent straight to the Bot API over aiohttp, the rest of the bot keeps PTB.

python-telegram-bot's `send_message` plus httpx cost 1.4-2.1 ms of CPU per message, most
of a fan-out's budget (bench/README.md). A digest is one known request, so it is posted
here as JSON to the same endpoint PTB uses, through the same rate limiter and retry
policy. Telegram's error answers become the very `telegram.error` exceptions PTB raises,
with the same messages, so the limiter, the retry policy and the dispatch read one kind
of failure whichever way a message went.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Protocol

import aiohttp
from telegram import InlineKeyboardMarkup, LinkPreviewOptions, TelegramObject
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ExtBot

from bot.sending.retry_policy import RetryPolicy

# Connections kept open to the Bot API: more than the sends dispatch runs at once.
POOL_SIZE = 64
# Keyboards and previews whose JSON is kept for the next message that carries them.
JSON_KEPT = 4_096
_JSON = {"Content-Type": "application/json"}


class SendMessage(Protocol):
    """The part of `ExtBot.send_message` a digest uses; DigestSender has the same shape."""

    async def __call__(
        self,
        chat_id: int,
        text: str,
        *,
        message_thread_id: int | None = None,
        reply_markup: InlineKeyboardMarkup | None = None,
        link_preview_options: LinkPreviewOptions | None = None,
        rate_limit_args: RetryPolicy | None = None,
        allow_paid_broadcast: bool | None = None,
        disable_notification: bool | None = None,
    ) -> object: ...


class DigestSender:
    """`sendMessage` over one aiohttp session, honouring the bot's defaults and limiter."""

    def __init__(self, bot: ExtBot[Any]) -> None:
        self._bot = bot
        self._url = f"{bot.base_url}/sendMessage"
        defaults = bot.defaults
        parse_mode = defaults.parse_mode if defaults else None
        self._parse_mode = f'"parse_mode":{json.dumps(parse_mode)}' if parse_mode else None
        self._preview = defaults.link_preview_options if defaults else None
        # PTB's read timeout (5 s unless configured) bounds connecting and reading alike.
        timeout = bot.request.read_timeout or 5.0
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._json: dict[int, tuple[TelegramObject, str]] = {}

    async def aclose(self) -> None:
        """Close the connections; the next send opens new ones."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send_message(
        self,
        chat_id: int,
        text: str,
        *,
        message_thread_id: int | None = None,
        reply_markup: InlineKeyboardMarkup | None = None,
        link_preview_options: LinkPreviewOptions | None = None,
        rate_limit_args: RetryPolicy | None = None,
        allow_paid_broadcast: bool | None = None,
        disable_notification: bool | None = None,
    ) -> None:
        """Send one message as `bot.send_message` would; returns once Telegram accepted it.

        The JSON body is written here, the keyboard's and preview's parts kept from earlier
        messages that carried the same objects: a digest is one known shape, and encoding
        the whole payload each time was a tenth of a send's CPU.
        """
        fields = [f'"chat_id":{json.dumps(chat_id)}', f'"text":{json.dumps(text)}']
        if self._parse_mode:
            fields.append(self._parse_mode)
        preview = link_preview_options or self._preview
        if preview is not None:
            fields.append(f'"link_preview_options":{self._json_of(preview)}')
        if message_thread_id is not None:
            fields.append(f'"message_thread_id":{int(message_thread_id)}')
        if reply_markup is not None:
            fields.append(f'"reply_markup":{self._json_of(reply_markup)}')
        if allow_paid_broadcast:
            fields.append('"allow_paid_broadcast":true')
        if disable_notification:
            fields.append('"disable_notification":true')
        body = ("{" + ",".join(fields) + "}").encode()
        limiter = self._bot.rate_limiter
        if limiter is None:
            await self._post(body)
            return
        # The limiter reads the target chat from the request's data; that is all it needs.
        await limiter.process_request(
            self._post, (body,), {}, "sendMessage", {"chat_id": chat_id}, rate_limit_args
        )

    def _json_of(self, value: TelegramObject) -> str:
        """`value.to_dict()` as JSON, once per object: a fan-out passes the same keyboards and
        previews for many chats, and PTB's to_dict costs more than the rest of a send."""
        known = self._json.get(id(value))
        if known is None or known[0] is not value:
            if len(self._json) >= JSON_KEPT:
                self._json.clear()
            # The object is kept with its JSON, so its id stays its own while it is here.
            known = self._json[id(value)] = (value, json.dumps(value.to_dict()))
        return known[1]

    async def _post(self, body: bytes) -> bool:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, connector=aiohttp.TCPConnector(limit=POOL_SIZE)
            )
        try:
            async with self._session.post(self._url, data=body, headers=_JSON) as response:
                status, answer = response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
        if HTTPStatus.OK <= status <= 299:
            # Accepted: the sent Message in the answer is of no use to a digest, so it is not
            # parsed (the answer is still read, so the connection can carry the next request).
            return True
        raise error_of(status, answer)


def error_of(status: int, body: bytes) -> TelegramError:
    """The exception PTB raises for this error answer (telegram/request/_baserequest.py)."""
    try:
        message = f"{HTTPStatus(status).phrase} ({status})"
    except ValueError:
        message = f"Unknown HTTPError ({status})"
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if isinstance(answer, Mapping):
        message = answer.get("description") or message
        parameters = answer.get("parameters")
        if parameters:
            if migrate_to := parameters.get("migrate_to_chat_id"):
                return ChatMigrated(migrate_to)
            if retry_after := parameters.get("retry_after"):
                return RetryAfter(retry_after)
            message += f". The server response contained unknown parameters: {parameters}"
    else:
        message += f". Parsing the server response {body!r} failed"
    if status == HTTPStatus.FORBIDDEN:
        return Forbidden(message)
    if status in (HTTPStatus.NOT_FOUND, HTTPStatus.UNAUTHORIZED):
        return InvalidToken(message)
    if status == HTTPStatus.BAD_REQUEST:
        return BadRequest(message)
    if status == HTTPStatus.CONFLICT:
        return Conflict(message)
    return NetworkError(message)
