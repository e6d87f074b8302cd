"""`newsbot playground`: the real application against the local Bot API, and its chat page."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import socket
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from telegram import Update

from bot.app import build_application
from bot.config import Settings
from bot.playground.botapi import LocalBotAPI
from bot.playground.chats import BOT_ADMINS, CHATS
from bot.playground.page import PlaygroundPage

log = logging.getLogger(__name__)

# Shaped like a real token; it only ever opens this process's own Bot API.
PLAYGROUND_TOKEN = "1000000001:AAPlaygroundTokenValidOnlyOnThisHost"


class PlaygroundError(Exception):
    """The playground cannot start (e.g. the port is taken); the message says why."""


@dataclass(frozen=True)
class Playground:
    """A running playground: where its page is, and its Bot API for a caller to drive."""

    url: str
    api: LocalBotAPI


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach the address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _api_host(host: str) -> str:
    """Where the bot reaches its own Bot API: the bound address, loopback for a wildcard."""
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


@asynccontextmanager
async def running_playground(
    settings: Settings, *, host: str, port: int
) -> AsyncIterator[Playground]:
    """Serve the Bot API and the page on one port and run the bot against them until exit."""
    api = LocalBotAPI(PLAYGROUND_TOKEN, bot_username="newsbot_playground_bot")
    for chat in CHATS:
        if chat.admins and chat.kind != "private":
            api.set_admins(chat.id, [p.id for p in chat.admins], creator_id=chat.admins[0].id)
    # Bound before anything else: the bot's base_url needs the port, which may be 0 (any).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family)
    except OSError as exc:
        raise PlaygroundError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    base = f"http://{_api_host(host)}:{sock.getsockname()[1]}"
    admin_ids = sorted({*settings.admin_ids, *(p.id for p in BOT_ADMINS)})
    application = build_application(
        settings.model_copy(
            update={
                "telegram_bot_token": PLAYGROUND_TOKEN,
                "telegram_api_base_url": f"{base}/bot",
                "webhook_url": "",
                "admin_ids": admin_ids,
            }
        )
    )
    app = web.Application()
    api.attach(app)
    PlaygroundPage(api, application).attach(app)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        async with application:
            await application.post_init(application)  # type: ignore[misc]
            assert application.updater is not None
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES, timeout=10)
            await application.start()
            try:
                yield Playground(url=f"{base}/", api=api)
            finally:
                await application.updater.stop()
                await application.stop()
                await application.post_shutdown(application)  # type: ignore[misc]
    finally:
        api.release_long_polls()
        await runner.cleanup()


async def _serve_until_stopped(settings: Settings, *, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with running_playground(settings, host=host, port=port) as playground:
        print(f"newsbot playground: open {playground.url} (Ctrl-C stops it)", flush=True)
        await stop.wait()


def run_playground(settings: Settings, *, host: str, port: int, fresh: bool) -> int:
    """Run until interrupted; 2 if it cannot start."""
    if not is_loopback(host):
        print(
            f"newsbot: warning: listening on {host}, so anyone who can reach port {port} "
            "can use this bot and read what it stores.",
            file=sys.stderr,
        )
    with contextlib.ExitStack() as stack:
        if fresh:
            directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="newsbot-"))
            url = f"sqlite+aiosqlite:///{directory}/newsbot.db"
            settings = settings.model_copy(update={"database_url": url})
        try:
            asyncio.run(_serve_until_stopped(settings, host=host, port=port))
        except PlaygroundError as exc:
            print(f"newsbot: {exc}", file=sys.stderr)
            return 2
    return 0
