"""What goes into a chat's digest: new, unseen, unmuted stories, followed topics first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.news.query import matches, parse_query
from bot.render import headline_message, local_time_text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.articles import Headline
from bot.story_list import story_lines
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
    mute_queries = [q for q in (parse_query(m) for m in mutes) if not q.is_empty]
    follow_queries = [q for q in (parse_query(f) for f in follows) if not q.is_empty]
    kept = [h for h in candidates
            if not any(matches(q, h.title, h.description) for q in mute_queries)]
    followed_ids = {h.id for h in kept
                    if any(matches(q, h.title, h.description) for q in follow_queries)}
    stories: list[tuple[DigestStory, list[int]]] = []
    for line in story_lines(kept):
        followed = any(m in followed_ids for m in line.member_ids)
        if only_followed and not followed:
            continue
        stories.append((DigestStory(line.lead, line.extra_sources, followed), line.member_ids))
    # Followed topics lead; otherwise newest first (a stable sort keeps the list's order).
    stories.sort(key=lambda pair: not pair[0].followed)
    chosen = [story for story, _ in stories[:size]]
    article_ids = [a for _, members in stories[:size] for a in members]
    return DigestContent(chosen, article_ids)


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
