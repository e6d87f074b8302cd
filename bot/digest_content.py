"""What goes into a chat's digest: new, unseen, unmuted stories, followed topics first."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.news.query import matches, parse_query
from bot.render import headline_message, local_time_text
from bot.store.articles import Headline
from bot.store.digests import ClaimedDigest, undelivered_headlines
from bot.story_lines import StoryLine, story_lines


@dataclass(frozen=True)
class DigestStory:
    """One line of a digest: the story's best article and how many more items told it."""

    lead: Headline
    extra_sources: int
    followed: bool


@dataclass(frozen=True)
class DigestContent:
    """The stories to show, and every article they stand for (all are marked delivered)."""

    stories: list[DigestStory]
    article_ids: list[int]


async def build_digest(session: AsyncSession, digest: ClaimedDigest) -> DigestContent:
    """The digest a chat gets now: its unseen items since its last digest, composed.

    Muted items go, followed stories lead, near-duplicates fold into one line. The costly
    parts are shared: when many digests fall due together most chats have the same unseen items,
    so the story grouping (~90 ms over 300 headlines) and each topic's matches are the
    same for all of them. Each is computed once per distinct input, in a worker thread
    (so the event loop, and the sends it paces, never stall behind it), and kept in a
    small cache keyed by the headlines.
    """
    unseen = tuple(await undelivered_headlines(session, digest.chat_id, since=digest.since))
    # Keyed by the headlines themselves (every field), not by ids alone: ids repeat
    # across stores (a second database in one process, a test's fresh store).
    muted = frozenset().union(
        *[await _shared(("match", m, unseen), partial(_matching, m, unseen)) for m in digest.mutes]
    )
    kept = tuple(h for h in unseen if h.id not in muted) if muted else unseen
    followed_ids = frozenset().union(
        *[
            await _shared(("match", f, unseen), partial(_matching, f, unseen))
            for f in digest.follows
        ]
    )
    lines = await _shared(("lines", kept), partial(_lines, kept))
    return _arrange(
        lines, followed_ids, only_followed=digest.only_followed, size=digest.digest_size
    )


def _arrange(
    lines: tuple[StoryLine, ...], followed_ids: frozenset[int], *, only_followed: bool, size: int
) -> DigestContent:
    stories: list[tuple[DigestStory, list[int]]] = []
    for line in lines:
        followed = any(m in followed_ids for m in line.member_ids)
        if only_followed and not followed:
            continue
        stories.append((DigestStory(line.lead, line.extra_sources, followed), line.member_ids))
    # Followed topics lead; otherwise newest first (a stable sort keeps the list's order).
    stories.sort(key=lambda pair: not pair[0].followed)
    chosen = [story for story, _ in stories[:size]]
    article_ids = [a for _, members in stories[:size] for a in members]
    return DigestContent(chosen, article_ids)


def _lines(headlines: tuple[Headline, ...]) -> tuple[StoryLine, ...]:
    return tuple(story_lines(headlines))


def _matching(phrase: str, headlines: tuple[Headline, ...]) -> frozenset[int]:
    """Ids of the headlines that match a followed or muted phrase."""
    query = parse_query(phrase)
    if query.is_empty:
        return frozenset()
    return frozenset(h.id for h in headlines if matches(query, h.title, h.description))


_SHARED_SIZE = 64
_shared_results: OrderedDict[Hashable, Any] = OrderedDict()
_shared_pending: dict[Hashable, asyncio.Future[Any]] = {}


async def _shared(key: Hashable, compute: Callable[[], Any]) -> Any:
    """`compute()` once per key however many digests ask at once, in a worker thread."""
    if key in _shared_results:
        _shared_results.move_to_end(key)
        return _shared_results[key]
    pending = _shared_pending.get(key)
    if pending is None:
        pending = asyncio.ensure_future(asyncio.to_thread(compute))
        _shared_pending[key] = pending
        pending.add_done_callback(partial(_keep_shared, key))
    return await asyncio.shield(pending)


def _keep_shared(key: Hashable, done: asyncio.Future[Any]) -> None:
    _shared_pending.pop(key, None)
    if not done.cancelled() and done.exception() is None:
        _shared_results[key] = done.result()
        while len(_shared_results) > _SHARED_SIZE:
            _shared_results.popitem(last=False)


def digest_message(
    content: DigestContent,
    *,
    due_at: datetime,
    now: datetime,
    zone: tzinfo,
    channel: bool = False,
) -> str:
    """The digest as Telegram HTML: a dated heading and one numbered line per story.

    A channel's digest is read by its whole audience, so it speaks to nobody in person.
    """
    heading = (
        f"{'News digest' if channel else 'Your news digest'} · {local_time_text(due_at, zone)}"
    )
    followed = sum(1 for s in content.stories if s.followed)
    footer = "<i>Tap a number for the full summary.</i>"
    if followed:
        lead = "The first story matches" if followed == 1 else f"The first {followed} stories match"
        who = "this channel follows" if channel else "you follow"
        footer = f"<i>{lead} topics {who}.</i> " + footer
    return headline_message(
        heading,
        [s.lead for s in content.stories],
        now=now,
        zone=zone,
        extra_sources={s.lead.id: s.extra_sources for s in content.stories if s.extra_sources},
        footer=footer,
    )


NOTHING_NEW = "No new headlines since your last digest."
