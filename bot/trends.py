"""What is trending: topic statistics over the items of the last hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import Settings
from bot.news.trending import Topic, trending_topics
from bot.store.articles import recent_texts
from bot.store.db import Database


async def current_trends(database: Database, settings: Settings, *, now: datetime) -> list[Topic]:
    """The topics most present in the trending window, with their item counts."""
    since = now - timedelta(hours=settings.trending_window_hours)
    async with database.session() as session:
        texts = await recent_texts(session, since=since)
    return trending_topics(texts, limit=settings.trending_topics)
