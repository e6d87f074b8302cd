"""What handlers and jobs share at run time: settings, the store, the clock."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field
from uuid import uuid4

from bot.clock import Clock
from bot.config import Settings
from bot.news.http import SafeFetcher
from bot.store.chats import ChatDefaults
from bot.store.db import Database


@dataclass
class Services:
    """The bot's dependencies, kept in `application.bot_data` under SERVICES_KEY."""

    settings: Settings
    database: Database
    clock: Clock
    # Shared HTTP client for feeds and article pages; opened when the bot starts.
    fetcher: SafeFetcher | None = None
    # Process pool that parses feeds off the event loop; None means a thread per parse.
    parse_executor: Executor | None = None
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
