"""What goes into a chat's digest: new, unseen, unmuted stories, followed topics first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache

from bot.news.query import matches, parse_query
from bot.render import headline_message, local_time_text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.articles import Headline
from bot.story_list import StoryLine, story_lines
from bot.store.digests import ClaimedDigest, undelivered_headlines


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


def compose_digest(
    candidates: Sequence[Headline], *, follows: Sequence[str], mutes: Sequence[str],
    only_followed: bool, size: int,
) -> DigestContent:
    """Pick and order a digest from the chat's unseen items (newest first)."""
    unseen = tuple(candidates)
    muted = frozenset().union(*(_matching(m, unseen) for m in mutes))
    kept = tuple(h for h in unseen if h.id not in muted) if muted else unseen
    followed_ids = frozenset().union(*(_matching(f, unseen) for f in follows))
    stories: list[tuple[DigestStory, list[int]]] = []
    for line in _story_lines(kept):
        followed = any(m in followed_ids for m in line.member_ids)
        if only_followed and not followed:
            continue
        stories.append((DigestStory(line.lead, line.extra_sources, followed), line.member_ids))
    # Followed topics lead; otherwise newest first (a stable sort keeps the list's order).
    stories.sort(key=lambda pair: not pair[0].followed)
    chosen = [story for story, _ in stories[:size]]
    article_ids = [a for _, members in stories[:size] for a in members]
    return DigestContent(chosen, article_ids)


# When many digests fall due together, most chats have the same unseen items, so the
# story grouping and each topic's matches are the same for all of them: computed once,
# not once per chat (they cost tens of milliseconds over a few hundred headlines). The
# keys are the headlines themselves, so different items never share an entry.


@lru_cache(maxsize=32)
def _story_lines(headlines: tuple[Headline, ...]) -> tuple[StoryLine, ...]:
    return tuple(story_lines(headlines))


@lru_cache(maxsize=256)
def _matching(phrase: str, headlines: tuple[Headline, ...]) -> frozenset[int]:
    """Ids of the headlines that match a followed or muted phrase."""
    query = parse_query(phrase)
    if query.is_empty:
        return frozenset()
    return frozenset(h.id for h in headlines if matches(query, h.title, h.description))


async def build_digest(session: AsyncSession, digest: ClaimedDigest) -> DigestContent:
    """The digest a chat gets now: its unseen items since its last digest, composed."""
    candidates = await undelivered_headlines(session, digest.chat_id, since=digest.since)
    return compose_digest(candidates, follows=digest.follows, mutes=digest.mutes,
                          only_followed=digest.only_followed, size=digest.digest_size)


def digest_message(content: DigestContent, *, due_at: datetime, now: datetime, zone: tzinfo) -> str:
    """The digest as Telegram HTML: a dated heading and one numbered line per story."""
    heading = f"Your news digest · {local_time_text(due_at, zone)}"
    followed = sum(1 for s in content.stories if s.followed)
    footer = "<i>Tap a number for the full summary.</i>"
    if followed:
        footer = f"<i>The first {followed} match topics you follow.</i> " + footer
    return headline_message(
        heading, [s.lead for s in content.stories], now=now, zone=zone,
        extra_sources={s.lead.id: s.extra_sources for s in content.stories if s.extra_sources},
        footer=footer,
    )


NOTHING_NEW = "No new headlines since your last digest."
