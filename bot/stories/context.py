"""What the store knows around one story: its other reports, and items on the same topic.

A headline with no text of its own is still not a dead end: other outlets may have told
the same story with a description, and the store may hold more on its subject.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.news.grouping import DEFAULT_WINDOW, group_stories
from bot.news.query import parse_query
from bot.news.text import STOP_WORDS, stem, words
from bot.store.articles import Headline, headlines_published_between
from bot.store.db import Database
from bot.store.search import search_articles

# How many neighbours are read to find the story's other reports, and how many are shown.
NEIGHBOURS = 300
MAX_OTHER_REPORTS = 4
MAX_RELATED = 3
# A related item shares at least this many of the headline's words: one shared word
# ("new", "says") relates nothing.
MIN_SHARED_TERMS = 2


@dataclass(frozen=True)
class StoryContext:
    """Other reports of the same story, and related items found by its headline's words."""

    other_reports: list[Headline] = field(default_factory=list)
    related: list[Headline] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """Whether the store knows nothing more than the item itself."""
        return not self.other_reports and not self.related


async def story_context(
    database: Database, article_id: int, title: str, published_at: datetime, *, now: datetime
) -> StoryContext:
    """The story's other reports (grouped as lists group them) and the best related items."""
    async with database.session() as session:
        neighbours = await headlines_published_between(
            session,
            published_at - DEFAULT_WINDOW,
            published_at + DEFAULT_WINDOW,
            limit=NEIGHBOURS,
        )
        query = parse_query(title)
        found = await search_articles(session, query, limit=MAX_RELATED + 8, now=now, any_term=True)
    story = await story_around(neighbours, article_id)
    members = story.reports if story is not None else []
    others = [h for h in members if h.id != article_id][:MAX_OTHER_REPORTS]
    skip = {h.id for h in members} | {article_id}
    wanted = _topic_terms(title)
    enough = min(MIN_SHARED_TERMS, len(wanted))
    related = [
        h
        for h in found.headlines
        if h.id not in skip and len(wanted & _topic_terms(f"{h.title} {h.description}")) >= enough
    ][:MAX_RELATED]
    return StoryContext(others, related)


@dataclass(frozen=True)
class StoryReports:
    """One story as lists show it: its best report, and every report in the input's order."""

    lead: Headline
    reports: list[Headline]


async def story_around(neighbours: Sequence[Headline], article_id: int) -> StoryReports | None:
    """The article's story among its neighbours (grouped as lists group them, off the
    event loop); None if the article is not among them."""
    stories = await asyncio.to_thread(group_stories, neighbours)
    story = next((s for s in stories if article_id in s.member_ids), None)
    if story is None:
        return None
    by_id = {h.id: h for h in neighbours}
    return StoryReports(by_id[story.lead_id], [by_id[m] for m in story.member_ids])


def _topic_terms(text: str) -> set[str]:
    return {stem(word) for word in words(text) if word not in STOP_WORDS}
