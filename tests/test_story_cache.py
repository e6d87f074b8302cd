"""StoryCache: what a fan-out's digests share, and what they must never share."""

from __future__ import annotations

import asyncio
from dataclasses import astuple
from datetime import UTC, datetime

from bot.news.rules import Pattern
from bot.store.articles import Headline
from bot.stories.cache import StoryCache

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def headlines(*titles: str) -> tuple[Headline, ...]:
    return tuple(
        Headline(n, title, f"https://wire.example/{n}", "Wire", NOW, "")
        for n, title in enumerate(titles, start=1)
    )


async def test_the_same_ids_in_another_store_get_their_own_stories() -> None:
    cache = StoryCache()
    first = await cache.story_lines(headlines("Storm Closes Alpine Passes", "Markets Rally"))
    # A second store numbers its articles from 1 too (the bug fixed in b7c2f62).
    other = await cache.story_lines(headlines("Central Bank Holds Rates", "Ferry Strike Ends"))
    assert [line.lead.title for line in first] == ["Storm Closes Alpine Passes", "Markets Rally"]
    assert [line.lead.title for line in other] == ["Central Bank Holds Rates", "Ferry Strike Ends"]


async def test_digests_asking_together_share_one_result() -> None:
    cache = StoryCache()
    items = headlines("Iran Talks Resume in Oman", "Storm Closes Alpine Passes")
    lines, again, followed, muted = await asyncio.gather(
        cache.story_lines(items),
        cache.story_lines(items),
        cache.matching(Pattern("iran"), items),
        cache.matching(Pattern("storm"), items),
    )
    assert lines is again
    assert (followed, muted) == (frozenset({1}), frozenset({2}))
    assert (
        await cache.matching(Pattern("!!"), items) == frozenset()
    )  # nothing searchable matches nothing


def test_an_equal_headline_read_again_is_the_one_held_and_a_changed_one_is_not() -> None:
    cache = StoryCache()
    (held,) = headlines("Storm Closes Alpine Passes")
    assert cache.shared(held) is held
    (again,) = headlines("Storm Closes Alpine Passes")
    assert cache.shared(again) is held
    (mended,) = headlines("Storm Closes Alpine Passes Again")
    assert cache.shared(mended) is mended


async def test_a_window_read_again_with_a_mended_title_shows_the_new_title() -> None:
    cache = StoryCache()
    rows = tuple(astuple(h) for h in headlines("ZÃ¼rich Votes", "Markets Rally"))
    first = cache.window(rows)
    assert cache.window(tuple(tuple(row) for row in rows)) is first  # an equal read
    mended = ((1, "Zürich Votes", *rows[0][2:]), rows[1])
    again = await cache.story_lines(cache.window(mended))
    assert [line.lead.title for line in again] == ["Zürich Votes", "Markets Rally"]
    assert [line.lead.title for line in await cache.story_lines(first)] == [
        "ZÃ¼rich Votes",
        "Markets Rally",
    ]
