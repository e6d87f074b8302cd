"""What is trending: topic statistics over the items of the last hours."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.config import Settings
from bot.news.trending import Topic, trending_topics
from bot.store.articles import recent_texts
from bot.store.db import Database

# Trends move over hours; computing them over thousands of items takes a noticeable
# moment, so the bot reuses a result this long.
TRENDS_TTL = timedelta(minutes=5)


async def current_trends(database: Database, settings: Settings, *, now: datetime) -> list[Topic]:
    """The topics most present in the trending window, with their item counts."""
    since = now - timedelta(hours=settings.trending_window_hours)
    async with database.session() as session:
        texts = await recent_texts(session, since=since)
    # Off the event loop: replies to other users go on while the statistics run.
    return await asyncio.to_thread(trending_topics, texts, limit=settings.trending_topics)


class TrendsCache:
    """The bot's current trends, recomputed at most every TRENDS_TTL."""

    def __init__(self) -> None:
        self._topics: list[Topic] = []
        self._computed_at: datetime | None = None
        self._lock = asyncio.Lock()

    async def topics(self, database: Database, settings: Settings, *, now: datetime) -> list[Topic]:
        """Cached trends, or fresh ones when the cache is older than TRENDS_TTL."""
        async with self._lock:
            at = self._computed_at
            if at is None or not at <= now < at + TRENDS_TTL:
                self._topics = await current_trends(database, settings, now=now)
                self._computed_at = now
            return self._topics
