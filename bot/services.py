"""What handlers and jobs share at run time: settings, the store, the clock."""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from dataclasses import dataclass, field
from uuid import uuid4

from bot.clock import Clock
from bot.config import Settings
from bot.ingest.poller import FeedPoller
from bot.news.abstractive import AbstractiveSummarizer
from bot.news.http.fetcher import SafeFetcher
from bot.news.http.policy import Resolver
from bot.sending.digest_sender import DigestSender
from bot.store.chats import ChatDefaults
from bot.store.db import Database
from bot.stories.cache import StoryCache
from bot.stories.trends import TrendsCache


@dataclass
class Services:
    """The bot's dependencies, kept in `application.bot_data` under SERVICES_KEY."""

    settings: Settings
    database: Database
    clock: Clock
    # Shared HTTP client for feeds and article pages; opened when the bot starts.
    fetcher: SafeFetcher | None = None
    # Fetches feeds as they come due, started when the bot starts (it needs the fetcher).
    feed_poller: FeedPoller | None = None
    # Process pool that parses feeds off the event loop; None means a thread per parse.
    parse_executor: Executor | None = None
    # Trending topics, recomputed every few minutes rather than on every /topic.
    trends: TrendsCache = field(default_factory=TrendsCache)
    # Story lines and topic matches shared by the digests of a fan-out.
    stories: StoryCache = field(default_factory=StoryCache)
    # Sends digests over aiohttp (TELEGRAM_LEAN_DIGESTS); None: through PTB like the rest.
    digest_sender: DigestSender | None = None
    # The optional abstractive summarizer (SUMMARY_API_URL); None means extractive only.
    abstractive: AbstractiveSummarizer | None = None
    # Set when the process is asked to stop: jobs claim nothing more and release what waits.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # Names this process in digest claims, so a crash's leftovers can be told apart.
    instance_id: str = field(default_factory=lambda: uuid4().hex[:12])

    @property
    def chat_defaults(self) -> ChatDefaults:
        """What a new chat starts with."""
        return ChatDefaults(
            timezone=self.settings.default_timezone,
            digest_times=list(self.settings.default_digest_times),
            digest_size=self.settings.default_digest_size,
        )


SERVICES_KEY = "newsbot.services"


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
