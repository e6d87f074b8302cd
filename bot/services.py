"""What handlers and jobs share at run time, opened whole when the bot starts.

Services are opened in one step (`Services.open`) once the store is migrated, and closed
in reverse order through one AsyncExitStack, so no field is ever a placeholder waiting for
start-up. Handlers and jobs reach them as `context.services` (NewsContext).
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import Executor
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import uuid4

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.clock import Clock
from bot.config import Settings
from bot.ingest.poller import FeedPoller
from bot.news.abstractive import AbstractiveSummarizer
from bot.news.feeds.parse import make_parse_executor
from bot.news.http.fetcher import SafeFetcher
from bot.news.http.policy import Resolver
from bot.sending.digest_sender import DigestSender
from bot.store.chats import ChatDefaults
from bot.store.db import Database
from bot.stories.alerts import AlertRules
from bot.stories.cache import StoryCache
from bot.stories.trends import TrendsCache


@dataclass
class Services:
    """The bot's dependencies, kept in `application.bot_data` under SERVICES_KEY."""

    settings: Settings
    database: Database
    clock: Clock
    # Shared HTTP client for feeds and article pages.
    fetcher: SafeFetcher
    # Fetches feeds as they come due.
    feed_poller: FeedPoller
    # Process pool that parses feeds off the event loop; None means a thread per parse.
    parse_executor: Executor | None
    # Sends digests over aiohttp (TELEGRAM_LEAN_DIGESTS); None: through PTB like the rest.
    digest_sender: DigestSender | None
    # The optional abstractive summarizer (SUMMARY_API_URL); None means extractive only.
    abstractive: AbstractiveSummarizer | None
    # What `aclose` closes, in reverse order of opening.
    resources: AsyncExitStack = field(repr=False)
    # Trending topics, recomputed every few minutes rather than on every /topic.
    trends: TrendsCache = field(default_factory=TrendsCache)
    # Story lines and topic matches shared by the digests of a fan-out.
    stories: StoryCache = field(default_factory=StoryCache)
    # The alerting chats' rules, read again by the alert pass only when a rule changed.
    alert_rules: AlertRules = field(default_factory=AlertRules)
    # Set when the process is asked to stop: jobs claim nothing more and release what waits.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # Names this process in digest claims, so a crash's leftovers can be told apart.
    instance_id: str = field(default_factory=lambda: uuid4().hex[:12])

    @classmethod
    async def open(
        cls, settings: Settings, database: Database, clock: Clock, *, bot: ExtBot[Any]
    ) -> Services:
        """Every service opened, or none: a failure part-way closes what was opened.

        The database is closed with the rest, so `aclose` is the one way to let go of it.
        """
        async with AsyncExitStack() as stack:
            stack.push_async_callback(database.dispose)
            fetcher = make_fetcher(settings)
            stack.push_async_callback(fetcher.aclose)
            # Two workers keep a huge feed from stalling the bot; on one core threads must do.
            executor = make_parse_executor(min(2, os.cpu_count() or 1))
            if executor is not None:
                stack.callback(executor.shutdown, cancel_futures=True)
            abstractive = make_abstractive(settings)
            if abstractive is not None:
                stack.push_async_callback(abstractive.aclose)
            sender = DigestSender(bot) if settings.telegram_lean_digests else None
            if sender is not None:
                stack.push_async_callback(sender.aclose)
            poller = FeedPoller(database, fetcher, settings, executor=executor)
            await stack.enter_async_context(poller)
            services = cls(
                settings=settings,
                database=database,
                clock=clock,
                fetcher=fetcher,
                feed_poller=poller,
                parse_executor=executor,
                digest_sender=sender,
                abstractive=abstractive,
                resources=stack.pop_all(),
            )
        return services

    async def aclose(self) -> None:
        """Close everything `open` opened, the feed poller first and the database last."""
        await self.resources.aclose()

    async def __aenter__(self) -> Services:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def chat_defaults(self) -> ChatDefaults:
        """What a new chat starts with."""
        return ChatDefaults(
            timezone=self.settings.default_timezone,
            digest_times=list(self.settings.default_digest_times),
            digest_size=self.settings.default_digest_size,
        )


SERVICES_KEY = "newsbot.services"


def services_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    """The services a started application opened (outside a handler or job)."""
    return cast(Services, application.bot_data[SERVICES_KEY])


class NewsContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The context every handler and job is called with: PTB's, plus the bot's services."""

    @property
    def services(self) -> Services:
        """The services opened when the application started."""
        return services_of(self.application)


CONTEXT_TYPES = ContextTypes(context=NewsContext)


def make_fetcher(settings: Settings, *, resolver: Resolver | None = None) -> SafeFetcher:
    """The one HTTP client for feeds and article pages, with the configured limits
    (`resolver`: how host names become addresses; the system's unless given)."""
    return SafeFetcher(
        timeout=settings.fetch_timeout,
        max_bytes=settings.fetch_max_bytes,
        concurrency=settings.fetch_concurrency,
        per_host=settings.fetch_per_host,
        allow_private=settings.fetch_allow_private,
        resolver=resolver,
    )


def make_abstractive(settings: Settings) -> AbstractiveSummarizer | None:
    """The abstractive summarizer when an endpoint is configured, else None."""
    if not settings.summary_api_url:
        return None
    return AbstractiveSummarizer(
        settings.summary_api_url,
        api_key=settings.summary_api_key,
        model=settings.summary_model,
        timeout=settings.summary_api_timeout,
    )
