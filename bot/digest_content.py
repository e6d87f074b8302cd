"""What goes into a chat's digest: new, unseen, unmuted stories, followed topics first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_, _, ngettext
from bot.render import headline_message, local_time_text
from bot.store.articles import Headline, in_languages
from bot.store.digests import ClaimedDigest, undelivered_headlines
from bot.story_cache import StoryCache
from bot.story_lines import StoryLine


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


async def build_digest(
    session: AsyncSession, digest: ClaimedDigest, stories: StoryCache
) -> DigestContent:
    """The digest a chat gets now: its unseen items since its last digest, composed.

    Items in news languages the chat left out and muted items go, followed stories lead,
    near-duplicates fold into one line. The grouping and the topic matches come from
    `stories`, shared by every digest of a pass.
    """
    unseen = tuple(await undelivered_headlines(session, digest.chat_id, since=digest.since))
    if digest.news_languages is not None:
        unseen = tuple(h for h in unseen if in_languages(h, digest.news_languages))
    muted = frozenset().union(*[await stories.matching(m, unseen) for m in digest.mutes])
    kept = tuple(h for h in unseen if h.id not in muted) if muted else unseen
    followed_ids = frozenset().union(*[await stories.matching(f, unseen) for f in digest.follows])
    lines = await stories.story_lines(kept)
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
    when = local_time_text(due_at, zone)
    # Translators: the digest's heading; {time} is when it was due, "Thu 27 Nov, 08:00".
    heading = (_("News digest · {time}") if channel else _("Your news digest · {time}")).format(
        time=when
    )
    footer = _("<i>Tap a number for the full summary.</i>")
    followed = sum(1 for s in content.stories if s.followed)
    if followed:
        footer = f"{_followed_note(followed, channel=channel)} {footer}"
    return headline_message(
        heading,
        [s.lead for s in content.stories],
        now=now,
        zone=zone,
        extra_sources={s.lead.id: s.extra_sources for s in content.stories if s.extra_sources},
        footer=footer,
    )


def _followed_note(count: int, *, channel: bool) -> str:
    """Why the first stories lead: they match topics the reader (or the channel) follows."""
    if channel:
        return ngettext(
            "<i>The first story matches topics this channel follows.</i>",
            "<i>The first {count} stories match topics this channel follows.</i>",
            count,
        ).format(count=count)
    return ngettext(
        "<i>The first story matches topics you follow.</i>",
        "<i>The first {count} stories match topics you follow.</i>",
        count,
    ).format(count=count)


NOTHING_NEW = N_("No new headlines since your last digest.")
