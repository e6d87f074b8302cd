"""The chat page's HTTP side: static files, and a small JSON API over the local Bot API.

The page never receives bot HTML: messages come as Telegram keeps them, plain text with
entities, and the page builds its DOM from those with text nodes only.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram.ext import Application

from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, NATIVE_NAMES
from bot.news.rules import WORD_OF_ACTION, Rule
from bot.ops.admin import admin_report
from bot.playground.botapi import MAX_MESSAGE_LENGTH, JSONDict, LocalBotAPI
from bot.playground.chats import CHATS, Person, PlaygroundChat, chat_by_key
from bot.playground.digest_now import send_digest_now
from bot.schedule.times import quiet_until, zone_info
from bot.services import Services, services_of
from bot.store.alerts import AlertCounts, alert_counts
from bot.store.chats import chat_rules, get_chat
from bot.store.models import Chat

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
CALLBACK_ANSWER_TIMEOUT = 10.0
# Files the page attaches: the 20 MB a bot may download, and a little over so a larger
# file reaches the bot and gets its refusal.
MAX_ATTACHED_BYTES = 25 * 1024 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class PageError(Exception):
    """A request the page API refuses; the message is shown to the person using the page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@web.middleware
async def _page_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refusals become a JSON error the page shows; nothing escapes as a bare 500."""
    try:
        return await handler(request)
    except PageError as exc:
        return web.json_response({"error": str(exc)}, status=exc.status)


def _preview(message: JSONDict) -> JSONDict | None:
    """The link preview card Telegram would show, unless the bot turned previews off."""
    options = message.get("link_preview_options") or {}
    if options.get("is_disabled"):
        return None
    url = options.get("url")
    if not url:
        for entity in message.get("entities", []):
            if entity["type"] == "text_link":
                url = entity["url"]
            elif entity["type"] == "url":
                url = _utf16_slice(message["text"], entity["offset"], entity["length"])
            if url:
                break
    if not url:
        return None
    # A large preview above the text is how the bot shows a picture: the page draws it.
    large = bool(options.get("prefer_large_media"))
    return {
        "url": url,
        "site": urlsplit(url).hostname or url,
        "picture": large,
        "above": bool(options.get("show_above_text")),
    }


def _document(message: JSONDict) -> JSONDict | None:
    """A document message's file as the page shows it: name, size, where to download it."""
    document = message.get("document")
    if not isinstance(document, dict):
        return None
    return {
        "name": document.get("file_name") or "file",
        "size": document.get("file_size", 0),
        "url": f"/api/files/{urllib.parse.quote(document['file_id'])}",
    }


def _utf16_slice(text: str, offset: int, length: int) -> str:
    """Entity offsets count UTF-16 code units."""
    units = text.encode("utf-16-le")
    return units[offset * 2 : (offset + length) * 2].decode("utf-16-le")


def message_view(message: JSONDict, bot_id: int) -> JSONDict:
    """A stored message as the page draws it: sender, text, entities, buttons, preview."""
    sender = message.get("from") or message.get("sender_chat") or {}
    markup = message.get("reply_markup") or {}
    return {
        "id": message["message_id"],
        "from_bot": sender.get("id") == bot_id,
        "sender": sender.get("first_name") or sender.get("title") or "",
        "text": message.get("text", ""),
        "entities": message.get("entities", []),
        "buttons": [
            [
                {"text": b.get("text", ""), "data": b.get("callback_data"), "url": b.get("url")}
                for b in row
            ]
            for row in markup.get("inline_keyboard", [])
        ],
        "edited": "edit_date" in message,
        "preview": _preview(message),
        "document": _document(message),
        "caption": message.get("caption", ""),
        "date": message.get("date", 0),
    }


def rule_view(number: int, rule: Rule) -> JSONDict:
    """One of a chat's rules as /filters numbers it, with the action word users type."""
    pattern = rule.pattern
    return {
        "number": number,
        "action": WORD_OF_ACTION.get(rule.action, rule.action),
        "pattern": pattern.text,
        "kind": pattern.kind,
        "source_id": pattern.source_id,
        "field": pattern.field,
    }


def settings_view(
    chat: Chat | None, rules: tuple[Rule, ...], counts: AlertCounts | None, now: datetime
) -> JSONDict:
    """A chat's rules, quiet hours and alerts; times in the chat's own zone. A chat that
    never talked to the bot has no rules and nulls."""
    if chat is None or counts is None:
        return {
            "rules": [],
            "timezone": None,
            "quiet_hours": None,
            "quiet_now": False,
            "quiet_until": None,
            "digests_silent": None,
            "alerts": None,
        }
    zone = zone_info(chat.timezone)
    until = quiet_until(chat.quiet_hours, chat.timezone, now)
    return {
        "rules": [rule_view(number, rule) for number, rule in enumerate(rules, start=1)],
        "timezone": chat.timezone,
        "quiet_hours": chat.quiet_hours,
        "quiet_now": until is not None,
        "quiet_until": until.astimezone(zone).isoformat() if until else None,
        "digests_silent": chat.quiet_digests_silent,
        "alerts": {
            "sent_today": counts.sent_today,
            "waiting": counts.waiting,
            "next_due": counts.next_due.astimezone(zone).isoformat() if counts.next_due else None,
        },
    }


def _chat_view(chat: PlaygroundChat) -> JSONDict:
    return {
        "key": chat.key,
        "title": chat.title,
        "topic": chat.topic,
        "kind": chat.kind,
        "members": [{"key": p.key, "name": p.first_name} for p in chat.members],
        "admins": [p.first_name for p in chat.admins],
    }


class PlaygroundPage:
    """Serves the chat page and turns what its user does into Telegram updates."""

    def __init__(self, api: LocalBotAPI, application: Application) -> None:
        self.api = api
        self.application = application

    def attach(self, app: web.Application) -> None:
        """Add the page and its API to the app that also serves the Bot API."""
        app.middlewares.append(_page_errors)
        app.router.add_get("/", self.index)
        app.router.add_static("/static/", STATIC_DIR)
        app.router.add_get("/api/state", self.state)
        app.router.add_get("/api/status", self.status)
        app.router.add_get("/api/chats/{chat}/messages", self.messages)
        app.router.add_get("/api/chats/{chat}/rules", self.rules)
        app.router.add_post("/api/chats/{chat}/messages", self.send)
        app.router.add_post("/api/chats/{chat}/buttons", self.press)
        app.router.add_post("/api/chats/{chat}/digest", self.digest)
        app.router.add_post("/api/chats/{chat}/documents", self.send_document)
        app.router.add_get("/api/files/{file_id}", self.file)

    @property
    def services(self) -> Services:
        """The running application's services."""
        return services_of(self.application)

    async def index(self, request: web.Request) -> web.StreamResponse:
        """The chat page itself."""
        return web.FileResponse(STATIC_DIR / "index.html")

    async def state(self, request: web.Request) -> web.Response:
        """Who the bot is, the chats to switch between, the languages a user may speak, and
        the command menu in the language asked for."""
        language = _language(request.query.get("language"))
        return web.json_response(
            {
                "bot": {"name": self.api.bot_first_name, "username": self.api.bot_username},
                "chats": [_chat_view(chat) for chat in CHATS],
                "languages": [{"code": code, "name": NATIVE_NAMES[code]} for code in LANGUAGES],
                "commands": self.api.commands(language),
            }
        )

    async def status(self, request: web.Request) -> web.Response:
        """Store size, feeds and the last poll, for the status line."""
        report = await admin_report(self.services.database, now=self.services.clock.now())
        last_poll = dict(report.heartbeats).get("poll")
        return web.json_response(
            {
                "articles": report.articles,
                "sources": report.sources,
                "failing": report.failing,
                "last_poll": last_poll,
            }
        )

    async def messages(self, request: web.Request) -> web.Response:
        """A chat's messages, or only the version when nothing changed since ``since``."""
        chat = _chat(request)
        version = self.api.version
        if request.query.get("since") == str(version):
            return web.json_response({"version": version, "messages": None})
        stored = self.api.chat_messages(chat.id, chat.thread_id)
        views = [message_view(message, self.api.bot_id) for message in stored]
        return web.json_response({"version": version, "messages": views})

    async def rules(self, request: web.Request) -> web.Response:
        """The chat's rules in /filters order, its quiet hours (in force now or not) and what
        its alerts came to, as the bot stored them."""
        chat = _chat(request)
        now = self.services.clock.now()
        counts = None
        async with self.services.database.session() as session:
            stored = await get_chat(session, chat.id)
            rules = await chat_rules(session, chat.id)
            if stored is not None:
                counts = await alert_counts(session, chat.id, now=now)
        return web.json_response(settings_view(stored, rules, counts, now))

    async def send(self, request: web.Request) -> web.Response:
        """What the page's user typed, delivered to the bot as Telegram would deliver it."""
        chat = _chat(request)
        body = await _json_body(request)
        text = str(body.get("text") or "").strip()
        if not text:
            raise PageError("Type a message first.")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise PageError(f"Telegram messages are at most {MAX_MESSAGE_LENGTH} characters.")
        if chat.kind == "channel":
            self.api.post_in_channel(chat.id, text, title=chat.title)
            return web.json_response({"ok": True})
        person = _speaker(chat, body)
        deliver = self.api.send_command if text.startswith("/") else self.api.send_text
        deliver(
            chat.id,
            text,
            user_id=person.id,
            chat_type=chat.kind,
            message_thread_id=chat.thread_id,
            is_forum=chat.is_forum,
            username=person.username,
            first_name=person.first_name,
            language_code=_language(body.get("language")),
            chat_title=chat.title,
        )
        return web.json_response({"ok": True})

    async def send_document(self, request: web.Request) -> web.Response:
        """A file attached in the composer, delivered to the bot as a document message."""
        # A custom header needs a CORS preflight, so no other site can post a file here.
        if request.headers.get("X-Playground") != "1":
            raise PageError("Send files from the playground page.", status=403)
        chat = _chat(request)
        if chat.kind == "channel":
            raise PageError("The playground posts only text in the channel.")
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            raise PageError("Attach a file first.")
        data = upload.file.read(MAX_ATTACHED_BYTES + 1)
        if len(data) > MAX_ATTACHED_BYTES:
            raise PageError(f"The playground takes files up to {MAX_ATTACHED_BYTES // 2**20} MB.")
        if not data:
            raise PageError("The file is empty.")
        fields = {key: form.get(key) for key in ("sender", "language")}
        person = _speaker(chat, fields)
        self.api.send_document(
            chat.id,
            data,
            file_name=upload.filename or "file",
            mime_type=upload.content_type,
            user_id=person.id,
            chat_type=chat.kind,
            message_thread_id=chat.thread_id,
            is_forum=chat.is_forum,
            username=person.username,
            first_name=person.first_name,
            language_code=_language(fields["language"]),
            chat_title=chat.title,
        )
        return web.json_response({"ok": True})

    async def file(self, request: web.Request) -> web.StreamResponse:
        """A document of the chat page, downloaded under its own name."""
        stored = self.api.files.by_id(request.match_info["file_id"])
        if stored is None:
            raise PageError("No such file.", status=404)
        name = urllib.parse.quote(stored.file_name or "file")
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type or "application/octet-stream",
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
        )

    async def press(self, request: web.Request) -> web.Response:
        """Press an inline button; answer with the bot's toast once it answered the query."""
        chat = _chat(request)
        body = await _json_body(request)
        data = body.get("data")
        message_id = body.get("message_id")
        if not isinstance(data, str) or not isinstance(message_id, int):
            raise PageError("A button press needs the message and the button's data.")
        person = chat.admins[0] if chat.kind == "channel" else _speaker(chat, body)
        try:
            query_id = self.api.press_button(
                chat.id,
                message_id,
                data,
                user_id=person.id,
                username=person.username,
                first_name=person.first_name,
                language_code=_language(body.get("language")),
            )
        except LookupError:
            raise PageError("That message is gone.", status=404) from None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CALLBACK_ANSWER_TIMEOUT
        while (answer := self.api.callback_answer(query_id)) is None:
            if loop.time() > deadline:
                raise PageError("The bot did not answer the button in time.", status=504)
            await asyncio.sleep(0.05)
        return web.json_response(answer)

    async def digest(self, request: web.Request) -> web.Response:
        """The real digest dispatch, with this chat due now."""
        chat = _chat(request)
        try:
            report = await send_digest_now(self.application, chat.id)
        except Exception:  # noqa: BLE001 - the page says so; the log has the traceback
            log.exception("Sending the digest of playground chat %s failed", chat.key)
            raise PageError("The digest could not be sent; the log says why.", 500) from None
        if report is None and chat.kind == "channel":
            note = "This channel gets no digests yet: post /subscribe in it first."
        elif report is None:
            note = "This chat gets no digests yet: send /subscribe first."
        elif report.sent:
            note = "Digest sent."
        elif report.empty:
            note = "Nothing new since the last digest, so none was sent."
        else:
            note = "The digest was not sent; the log says why."
        return web.json_response({"note": note})


def _chat(request: web.Request) -> PlaygroundChat:
    try:
        return chat_by_key(request.match_info["chat"])
    except KeyError:
        raise PageError("No such chat.", status=404) from None


def _language(value: object) -> str:
    """The Telegram language the page's user picked; English when none was sent."""
    if value is None or value == "":
        return DEFAULT_LANGUAGE
    if not isinstance(value, str) or value not in LANGUAGES:
        raise PageError(f"The playground speaks {', '.join(LANGUAGES)}; not {value!r}.")
    return value


def _speaker(chat: PlaygroundChat, body: dict[str, Any]) -> Person:
    sender = body.get("sender")
    try:
        return chat.member(sender if isinstance(sender, str) else None)
    except KeyError:
        raise PageError(f"{sender!r} is not in this chat.") from None


async def _json_body(request: web.Request) -> dict[str, Any]:
    # Requiring JSON makes a cross-site form post need a CORS preflight, which fails.
    if request.content_type != "application/json":
        raise PageError("Send JSON.", status=415)
    try:
        body = await request.json()
    except ValueError:
        raise PageError("The request is not valid JSON.") from None
    if not isinstance(body, dict):
        raise PageError("The request must be a JSON object.")
    return body
