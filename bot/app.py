"""The Telegram application: python-telegram-bot wired to the store, handlers and jobs."""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
from collections.abc import Callable, Coroutine
from typing import Any, TypedDict
from urllib.parse import urlsplit

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, Defaults

import handlers
from bot.bootstrap import prepare_store
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.gc_tuning import limit_malloc_arenas, settle_after_start
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, _, using_language
from bot.sending.ratelimit import ChatFairRateLimiter
from bot.sending.shared_budget import SharedBudget
from bot.services import CONTEXT_TYPES, SERVICES_KEY, Services, services_of
from bot.store.db import Database
from handlers.start import COMMANDS
from jobs import schedule_jobs
from jobs.watchdog import INTERVALS

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def file_base_url(base_url: str) -> str:
    """The Bot API file endpoint beside a base_url (".../bot" becomes ".../file/bot")."""
    base = base_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    database: Database | None = None,
    jobs: bool = True,
) -> Application:
    """A ready-to-start application: handlers, jobs, rate limiter and HTML defaults.

    Its services are opened by post_init, once the store is migrated, and closed by
    post_shutdown; handlers and jobs run only in between.
    """
    database = database or Database(settings.database_url)
    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(file_base_url(settings.telegram_api_base_url))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
            )
        )
        .context_types(CONTEXT_TYPES)
        .rate_limiter(rate_limiter(settings, database))
        .concurrent_updates(8)
        .post_init(_starter(settings, database, clock or SystemClock()))
        .post_shutdown(_post_shutdown)
        .build()
    )
    handlers.register(application)
    if jobs:
        schedule_jobs(application)
    return application


def rate_limiter(settings: Settings, database: Database) -> ChatFairRateLimiter:
    """The bot's limits: shared through PostgreSQL by every instance, else this process's."""
    rate = settings.send_rate
    if database.is_sqlite or rate <= 0:
        return ChatFairRateLimiter(overall_per_second=rate)
    return ChatFairRateLimiter(shared=SharedBudget(database, per_second=rate))


def _starter(
    settings: Settings, database: Database, clock: Clock
) -> Callable[[Application], Coroutine[Any, Any, None]]:
    """The application's post_init: the store made ready, then the services opened on it."""

    async def start(application: Application) -> None:
        await database.upgrade()
        await prepare_store(database, settings, now=clock.now())
        services = await Services.open(settings, database, clock, bot=application.bot)
        application.bot_data[SERVICES_KEY] = services
        if settings.health_port is not None:
            # Imported here: its web server (aiohttp.web) is loaded only when it is served.
            from bot.ops.health import HealthServer

            # On the services' stack, so it stops first and the store closes after it.
            health = HealthServer(
                database, clock, INTERVALS, host=settings.health_host, port=settings.health_port
            )
            await services.resources.enter_async_context(health)
        await _set_command_menus(application)
        log.info("newsbot started as @%s", application.bot.username)

    return start


async def _set_command_menus(application: Application) -> None:
    """The command menu in every interface language: English for everyone else.

    Telegram shows a user the list set for their app's language, if there is one. A
    refused list is logged and the bot starts anyway: commands still work when typed.
    """
    for language in LANGUAGES:
        with using_language(language):
            menu = [BotCommand(name, _(about)[:256]) for name, about in COMMANDS]
        try:
            await application.bot.set_my_commands(
                menu, language_code=None if language == DEFAULT_LANGUAGE else language
            )
        except TelegramError as exc:
            log.error("The %s command menu was refused: %s", language, exc)


async def _post_shutdown(application: Application) -> None:
    services: Services | None = application.bot_data.get(SERVICES_KEY)
    if services is not None:  # None: start-up failed before the services were open
        await services.aclose()


class WebhookOptions(TypedDict):
    """The keyword arguments of PTB's run_webhook/start_webhook that newsbot sets."""

    listen: str
    port: int
    url_path: str
    webhook_url: str
    secret_token: str
    allowed_updates: list[str]


def webhook_options(settings: Settings) -> WebhookOptions:
    """Where PTB's webhook server listens and what Telegram is told to call, with the secret."""
    return WebhookOptions(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
        webhook_url=settings.webhook_url,
        # Without a configured secret, a fresh one per start still keeps forged posts out.
        secret_token=settings.webhook_secret or secrets.token_urlsafe(32),
        allowed_updates=list(Update.ALL_TYPES),
    )


def run_bot(settings: Settings) -> int:
    """Run until interrupted: long polling, a webhook server when WEBHOOK_URL is set, or
    jobs alone when RECEIVE_UPDATES is off."""
    limit_malloc_arenas()
    application = build_application(settings)
    if not settings.receive_updates:
        asyncio.run(_run_jobs_only(application))
        return 0
    application.post_init = _stopping_on_signals(application.post_init)
    # Our handlers, not PTB's: they tell the jobs to stop claiming before PTB waits for them.
    if settings.webhook_url:
        application.run_webhook(**webhook_options(settings), stop_signals=None)
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES, stop_signals=None)
    return 0


def _stopping_on_signals(
    start: Callable[[Application], Coroutine[Any, Any, None]] | None,
) -> Callable[[Application], Coroutine[Any, Any, None]]:
    """`start`, then the heap settled and SIGINT and SIGTERM routed to `_stop`."""

    async def start_and_watch(application: Application) -> None:
        if start is not None:
            await start(application)
        settle_after_start()
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, _stop, application)

    return start_and_watch


def _stop(application: Application) -> None:
    """SIGTERM or SIGINT: jobs stop claiming and release what waits, then PTB shuts down."""
    services = services_of(application)
    if not services.stopping.is_set():
        log.info("Stopping: no more claims; releasing what is not in flight")
        services.stopping.set()
    application.stop_running()


async def _run_jobs_only(application: Application) -> None:
    """Run the jobs without asking Telegram for updates.

    Telegram answers a second poller on one token with 409 Conflict, so of several
    instances on one database one receives updates and the others only run jobs.
    """
    assert application.post_init is not None
    async with application:
        await application.post_init(application)
        settle_after_start()
        stopping = services_of(application).stopping
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, stopping.set)
        await application.start()
        log.info("Not receiving updates (RECEIVE_UPDATES=false): running jobs only")
        try:
            await stopping.wait()
        finally:
            await application.stop()
    await _post_shutdown(application)
