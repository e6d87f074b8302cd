"""A loopback pass-through in front of telegram-test-api for what that emulator cannot say.

telegram-test-api (4.2.1) queues only `message` and `callback_query` updates, knows nine Bot
API methods, never answers a send with an error, leaves `is_bot` out of getMe, and answers a
send with the request's own form fields echoed (`link_preview_options` as a JSON string) and a
date in milliseconds; python-telegram-bot rejects all three. Everything it can do goes to it;
this shim adds, mends and records exactly the rest:

- getMe's `is_bot`, and a sent message cut to Telegram's fields with its `date` in seconds;
- raw updates it cannot queue (`my_chat_member`, `channel_post`), merged into getUpdates;
- `setMyCommands` and `getChatMember`, answered here;
- the answers Telegram gives a send to a blocked user (403) or an upgraded group (400 with
  `migrate_to_chat_id`);
- every Bot API call the bot makes, so "no send was even attempted" can be checked.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx

from bot.playground.botapi import ADMINISTRATOR_RIGHTS

LONG_POLL_SECONDS = 1.0
"""How long an empty getUpdates is held: the emulator answers at once, which would spin."""


@dataclass(frozen=True)
class BotCall:
    """One Bot API request the bot made, as the shim saw it."""

    method: str
    chat_id: int | None
    text: str
    at: float
    answered: str


@dataclass
class GapState:
    """What the driver tells the shim to add, and what the shim saw."""

    emulator_url: str
    admins: set[tuple[int, int]] = field(default_factory=set)
    blocked: set[int] = field(default_factory=set)
    migrated: dict[int, int] = field(default_factory=dict)
    calls: list[BotCall] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    next_update_id: int = 1_000_000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(self, update: dict[str, Any]) -> None:
        """Queue a raw update the emulator cannot express; getUpdates hands it to the bot."""
        with self.lock:
            self.pending.append({"update_id": self.next_update_id, **update})
            self.next_update_id += 1

    def take_pending(self) -> list[dict[str, Any]]:
        """The injected updates not yet delivered, now marked delivered."""
        with self.lock:
            taken, self.pending = self.pending, []
        return taken

    def sends_to(self, chat_id: int) -> list[BotCall]:
        """Every sendMessage the bot attempted to this chat, answered or refused."""
        with self.lock:
            return [c for c in self.calls if c.method == "sendMessage" and c.chat_id == chat_id]

    def record(self, call: BotCall) -> None:
        """Keep one call for the checks."""
        with self.lock:
            self.calls.append(call)


def _params(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        loaded = json.loads(body)
        return loaded if isinstance(loaded, dict) else {}
    return dict(parse_qsl(body.decode()))


def _chat_id(params: dict[str, Any]) -> int | None:
    try:
        return int(params["chat_id"])
    except (KeyError, TypeError, ValueError):
        return None


SENT_MESSAGE_FIELDS = ("message_id", "date", "chat", "text", "reply_markup")


def _mend(method: str, result: Any) -> Any:
    """The emulator's answer in the shape Telegram gives it."""
    if not isinstance(result, dict):
        return result
    if method == "getMe":
        return {"is_bot": True, **result}
    if "message_id" not in result:
        return result
    message = {key: result[key] for key in SENT_MESSAGE_FIELDS if result.get(key) is not None}
    if isinstance(message.get("date"), int) and message["date"] > 10**11:
        message["date"] //= 1000  # milliseconds
    return message


def _refusal(state: GapState, method: str, chat_id: int | None) -> dict[str, Any] | None:
    if method != "sendMessage" or chat_id is None:
        return None
    if chat_id in state.blocked:
        return {
            "ok": False,
            "error_code": 403,
            "description": "Forbidden: bot was blocked by the user",
        }
    if chat_id in state.migrated:
        return {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: group chat was upgraded to a supergroup chat",
            "parameters": {"migrate_to_chat_id": state.migrated[chat_id]},
        }
    return None


def _local_answer(state: GapState, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
    if method == "setMyCommands":
        return {"ok": True, "result": True}
    if method == "getChatMember":
        chat_id, user_id = _chat_id(params), int(params.get("user_id", 0))
        admin = (chat_id, user_id) in state.admins
        user = {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"}
        member: dict[str, Any] = {"status": "member", "user": user}
        if admin:
            member = {"status": "administrator", "user": user, **ADMINISTRATOR_RIGHTS}
        return {"ok": True, "result": member}
    return None


def make_handler(state: GapState) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one GapState."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the driver prints its own lines."""

        def do_GET(self) -> None:
            self._handle(b"")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._handle(self.rfile.read(length))

        def _handle(self, body: bytes) -> None:
            method = self.path.rstrip("/").rsplit("/", 1)[-1]
            content_type = self.headers.get("Content-Type", "")
            params = _params(content_type, body)
            chat_id = _chat_id(params)
            answer = _refusal(state, method, chat_id) or _local_answer(state, method, params)
            if answer is not None:
                source = "shim"
                status = int(answer.get("error_code", 200))
            else:
                source = "emulator"
                status, answer = self._forward(method, body, content_type)
            state.record(BotCall(method, chat_id, str(params.get("text", "")), time.time(), source))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            # The bot hangs up on a pending long poll when it stops.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def _forward(self, method: str, body: bytes, content_type: str) -> tuple[int, Any]:
            url = state.emulator_url + self.path
            headers = {"Content-Type": content_type} if content_type else {}
            deadline = time.monotonic() + LONG_POLL_SECONDS
            with httpx.Client(timeout=10) as client:
                while True:
                    response = client.post(url, content=body, headers=headers)
                    answer = response.json()
                    if method != "getUpdates":
                        break
                    answer["result"] = state.take_pending() + list(answer.get("result", []))
                    if answer["result"] or time.monotonic() >= deadline:
                        break
                    time.sleep(0.2)
            if isinstance(answer, dict) and "result" in answer:
                answer["result"] = _mend(method, answer["result"])
            return response.status_code, answer

    return Handler


def start_shim(state: GapState) -> ThreadingHTTPServer:
    """Serve the shim on a free loopback port in a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
