"""Story lines and topic matches of a set of headlines, worked out once for every digest.

When many digests fall due together most chats have the same unseen items, so the story
grouping (~90 ms over 300 headlines) and each followed or muted phrase's matches are the
same for all of them. Each is computed once per distinct input, in a worker thread (so
the event loop, and the sends it paces, never stall behind it), and a few are kept.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import partial
from typing import Any, TypeVar, cast

from bot.news.query import matches, parse_query
from bot.store.articles import Headline
from bot.stories.lines import StoryLine, story_lines

T = TypeVar("T")
_MISSING = object()


class StoryCache:
    """The story lines of headline sets and the phrase matches within them, by input."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._results: OrderedDict[Hashable, Any] = OrderedDict()
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}

    async def story_lines(self, headlines: tuple[Headline, ...]) -> tuple[StoryLine, ...]:
        """The headlines folded to one line per story, newest first."""
        # Keyed by the headlines themselves (every field), not by ids alone: ids repeat
        # across stores (a second database in one process, a test's fresh store).
        return await self._shared(("lines", headlines), partial(_lines, headlines))

    async def matching(self, phrase: str, headlines: tuple[Headline, ...]) -> frozenset[int]:
        """Ids of the headlines that match a followed or muted phrase."""
        return await self._shared(
            ("match", phrase, headlines), partial(_matching, phrase, headlines)
        )

    async def _shared(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()` once per key however many digests ask at once, in a worker thread."""
        # One lookup and one move on a hit: hashing and comparing a /latest window's 150
        # headlines is a tenth of a millisecond each time.
        found = self._results.get(key, _MISSING)
        if found is not _MISSING:
            self._results.move_to_end(key)
            return cast(T, found)
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(asyncio.to_thread(compute))
            self._pending[key] = pending
            pending.add_done_callback(partial(self._keep, key))
        return await asyncio.shield(pending)

    def _keep(self, key: Hashable, done: asyncio.Future[Any]) -> None:
        self._pending.pop(key, None)
        if not done.cancelled() and done.exception() is None:
            self._results[key] = done.result()
            while len(self._results) > self._size:
                self._results.popitem(last=False)


def _lines(headlines: tuple[Headline, ...]) -> tuple[StoryLine, ...]:
    return tuple(story_lines(headlines))


def _matching(phrase: str, headlines: tuple[Headline, ...]) -> frozenset[int]:
    query = parse_query(phrase)
    if query.is_empty:
        return frozenset()
    return frozenset(h.id for h in headlines if matches(query, h.title, h.description, h.language))
