"""What an item is stored with so it can be found and grouped: its language, search terms
and story words.

A pure function of the items' text. Ingest runs it in the parse worker processes, beside
feedparser: in the bot's own process it took ~170 us an item under the GIL that fetching
and storing need, and a cold pass waited on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import NamedTuple

from bot.news.grouping import story_words
from bot.news.language import detect_languages
from bot.news.text import search_document, terms


class ItemText(NamedTuple):
    """The text of one item to index (a tuple: it crosses to a worker process cheaply)."""

    title: str
    description: str
    body: str | None
    language: str | None
    """ISO code the feed declared; None: detected from the title and description."""


class Indexed(NamedTuple):
    """What an item is stored with beside its text."""

    language: str | None
    search_text: str
    title_terms: int
    """How many of search_text's leading terms are the title's."""
    story_words: str


def index_items(items: Sequence[ItemText]) -> list[Indexed]:
    """Each item's language (declared, else detected), search terms and story words.

    `items` are one feed's new items together: one too unclear to detect takes the
    language most of them are in (`detect_languages`).
    """
    texts = [() if item.language else (item.title, item.description) for item in items]
    detected = detect_languages(texts) if any(texts) else [None] * len(texts)
    return [
        index_in(item, item.language or guess) for item, guess in zip(items, detected, strict=True)
    ]


def index_in(item: ItemText, language: str | None) -> Indexed:
    """What an item is stored with, read in a language already settled (None: unknown)."""
    return Indexed(
        language,
        search_document(item.title, item.description, item.body, language=language),
        len(terms(item.title, language)),
        story_words(item.title, item.description, language),
    )


async def index_items_async(
    items: Sequence[ItemText], *, executor: Executor | None = None
) -> list[Indexed]:
    """`index_items` off the event loop: in `executor` (the parse pool) if given, else in a
    thread. Language detection loads its model once per process (about a second)."""
    if not items:
        return []
    if executor is None:
        return await asyncio.to_thread(index_items, list(items))
    return await asyncio.get_running_loop().run_in_executor(executor, index_items, list(items))
