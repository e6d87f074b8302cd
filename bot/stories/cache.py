"""Story lines and rule matches of a set of headlines, worked out once for every digest.

When many digests fall due together most chats have the same unseen items, so the story
grouping (~90 ms over 300 headlines) and each rule's matches are the same for all of
them (and /latest reads the same window until the next ingest). Each is computed once
per distinct input, in a worker thread (so the event loop, and the sends it paces, never
stall behind it), and a few are kept.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

from bot.news.rules import FOLLOW, INCLUDE, MUTE, InvalidPattern, Pattern, Rule, item_test
from bot.store.articles import Headline, headlines_published_between
from bot.stories.lines import StoryLine, story_lines

# rule_counts reads at most this many of the chat's items of the last day.
COUNT_WINDOW = timedelta(hours=24)
COUNT_LIMIT = 3_000
T = TypeVar("T")
_MISSING = object()
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sifted:
    """What a chat's rules let through of a list, and which of its items they follow."""

    kept: tuple[Headline, ...]
    followed: frozenset[int]


class StoryCache:
    """The story lines of headline sets and the phrase matches within them, by input."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._results: OrderedDict[Hashable, Any] = OrderedDict()
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}
        self._headlines: weakref.WeakValueDictionary[int, Headline] = weakref.WeakValueDictionary()
        # By the windows' ids, each with the rows its headlines were made from.
        self._windows: OrderedDict[
            tuple[int, ...], tuple[tuple[tuple[Any, ...], ...], tuple[Headline, ...]]
        ] = OrderedDict()

    def shared(self, headline: Headline) -> Headline:
        """An equal headline already held in memory, else this one, kept while anything
        holds it: every claim batch of a fan-out reads the newest items afresh, and each
        copy would stay alive in the batches queued and in the entries kept here."""
        # By id, then compared whole: ids repeat across stores, and text can be mended.
        kept = self._headlines.get(headline.id)
        if kept is not None and kept == headline:
            return kept
        self._headlines[headline.id] = headline
        return headline

    def window(self, rows: tuple[tuple[Any, ...], ...]) -> tuple[Headline, ...]:
        """A list's headlines from its rows (each a Headline's fields, its id first): the
        very objects an equal read last gave, so its lines and matches are found without
        comparing 150 Headlines field by field (plain tuples compare in C). Found by the
        ids, then the rows compared whole (text can be mended): hashing every row's text
        cost as much again as comparing it."""
        ids = tuple(row[0] for row in rows)
        known = self._windows.get(ids)
        if known is not None and known[0] == rows:
            self._windows.move_to_end(ids)
            return known[1]
        headlines = tuple(Headline(*row) for row in rows)
        self._windows[ids] = (rows, headlines)
        self._windows.move_to_end(ids)
        while len(self._windows) > self._size:
            self._windows.popitem(last=False)
        return headlines

    async def story_lines(self, headlines: tuple[Headline, ...]) -> tuple[StoryLine, ...]:
        """The headlines folded to one line per story, newest first."""
        listed = _Listed(headlines)
        return await self._shared(("lines", listed), partial(_lines, headlines))

    async def matching(self, pattern: Pattern, headlines: tuple[Headline, ...]) -> frozenset[int]:
        """Ids of the headlines that match a rule's pattern."""
        listed = _Listed(headlines)
        return await self._shared(
            ("match", pattern, listed), partial(_matching, pattern, headlines)
        )

    async def sift(self, rules: Sequence[Rule], headlines: tuple[Headline, ...]) -> Sifted:
        """The headlines a chat's rules let through, in their order, and the followed ones.

        A mute wins over an include; with any include, only what one matches is kept.
        """
        if not rules:
            return Sifted(headlines, frozenset())
        found = {
            action: [await self.matching(r.pattern, headlines) for r in rules if r.action == action]
            for action in (FOLLOW, INCLUDE, MUTE)
        }
        muted = frozenset().union(*found[MUTE])
        included = frozenset().union(*found[INCLUDE]) if found[INCLUDE] else None
        kept = tuple(
            h for h in headlines if h.id not in muted and (included is None or h.id in included)
        )
        return Sifted(kept, frozenset().union(*found[FOLLOW]))

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


class _Listed:
    """Headlines as a cache key: hashed by their ids alone (equal lists have equal ids; a
    Headline's own hash reads every field), yet equal only with every field equal, as ids
    repeat across stores (a second database in one process, a test's fresh store)."""

    __slots__ = ("headlines", "_hash")

    def __init__(self, headlines: tuple[Headline, ...]) -> None:
        self.headlines = headlines
        self._hash = hash(tuple([h.id for h in headlines]))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        # The same objects (StoryCache.window's) compare by identity, item by item, in C.
        return isinstance(other, _Listed) and self.headlines == other.headlines


async def rule_counts(
    session: AsyncSession,
    stories: StoryCache,
    chat_id: int,
    patterns: Sequence[Pattern],
    *,
    now: datetime,
) -> list[int]:
    """How many of the chat's items of the last 24 hours each pattern matches: the items
    read once, each pattern matched once."""
    if not patterns:
        return []
    items = tuple(
        await headlines_published_between(
            session, now - COUNT_WINDOW, now, limit=COUNT_LIMIT, chat_id=chat_id
        )
    )
    found = await asyncio.gather(*(stories.matching(pattern, items) for pattern in patterns))
    return [len(ids) for ids in found]


def _lines(headlines: tuple[Headline, ...]) -> tuple[StoryLine, ...]:
    return tuple(story_lines(headlines))


def _matching(pattern: Pattern, headlines: tuple[Headline, ...]) -> frozenset[int]:
    try:
        test = item_test(pattern)
    except InvalidPattern as exc:
        # Checked when added; a newer RE2 may refuse what an older one took.
        log.error("rule pattern %r no longer compiles: %s", pattern.text, exc)
        return frozenset()
    source = pattern.source_id
    return frozenset(
        h.id
        for h in headlines
        if (source is None or h.source_id == source) and test(h.title, h.description, h.language)
    )
