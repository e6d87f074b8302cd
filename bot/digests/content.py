"""What goes into a chat's digest: new, unseen stories its rules let through, followed first.

A fan-out reads the items of a whole claim batch in one query and leaves to each chat only
its own filters (its last digest, its sources, what it already got), in memory. Most chats
then see the same items with the same choices, so a pass composes each distinct digest once
and renders each distinct text once (DigestComposer); the keys hold everything the result
is made from, so two chats share a digest only where theirs would be the same.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.articles import Headline, in_languages
from bot.store.chat_sources import sources_by_chat
from bot.store.digests import (
    Candidate,
    ClaimedDigest,
    delivered_ids,
    digest_candidates,
    undelivered_headlines,
)
from bot.stories.cache import StoryCache
from bot.stories.lines import StoryLine, in_chosen_order

# A digest looks at most this many unseen items, newest first (as undelivered_headlines).
UNSEEN_LIMIT = 300
# Items read for a claim batch: enough that a chat finds its UNSEEN_LIMIT among them unless
# it filters out most of them; such a chat is read on its own.
CANDIDATE_LIMIT = 3_000


@dataclass(frozen=True)
class DigestStory:
    """One line of a digest: the story's best article and how many more items told it."""

    lead: Headline
    extra_sources: int
    followed: bool
    outlets: int = 1


@dataclass(frozen=True)
class DigestContent:
    """The stories to show, and every article they stand for (all are marked delivered)."""

    stories: list[DigestStory]
    article_ids: list[int]


async def build_digest(
    session: AsyncSession, digest: ClaimedDigest, stories: StoryCache
) -> DigestContent:
    """The digest a chat gets now: its unseen items since its last digest, composed."""
    unseen = tuple(await undelivered_headlines(session, digest.chat_id, since=digest.since))
    return await compose_digest(digest, unseen, stories)


async def compose_digest(
    digest: ClaimedDigest, unseen: tuple[Headline, ...], stories: StoryCache
) -> DigestContent:
    """The digest made of a chat's unseen items, the stories most outlets report first (or
    newest first, as the chat chose).

    Items in news languages the chat left out go, and so do those its rules leave out
    (muted, or matching no include); followed stories lead, near-duplicates fold into one
    line. The grouping and the rule matches come from `stories`, shared by every digest
    of a pass.
    """
    if digest.news_languages is not None:
        unseen = tuple(h for h in unseen if in_languages(h, digest.news_languages))
    sifted = await stories.sift(digest.rules, unseen)
    lines = in_chosen_order(
        await stories.story_lines(sifted.kept), newest_first=digest.newest_first
    )
    return _arrange(
        lines, sifted.followed, only_followed=digest.only_followed, size=digest.digest_size
    )


@dataclass(frozen=True)
class Unseen:
    """A chat's unseen items, and a key equal for every chat of the batch that has the same."""

    # The items' ids: within one pass (one database) equal ids are equal items.
    key: tuple[int, ...]
    headlines: tuple[Headline, ...]


class BatchItems:
    """The items of one claim batch, and each chat's own filters over them.

    Chats whose filters leave out the same items see the same list, built once: a chat's
    `since` leaves out the items fetched up to then, which are always the first so many
    in the order of fetching, so the count of them stands for the set.
    """

    def __init__(
        self,
        candidates: list[Candidate],
        *,
        complete: bool,
        hidden: dict[int, set[int]],
        own: dict[int, set[int]],
        delivered: dict[int, set[int]],
        read_at: datetime,
    ) -> None:
        # When the items were read: a chat that gets its digest has seen the news up to then.
        self.read_at = read_at
        self._candidates = candidates
        self._complete = complete
        self._hidden = hidden
        self._own = own
        self._delivered = delivered
        self._fetched = sorted(c.fetched_at for c in candidates)
        self._lists: dict[Hashable, Unseen | None] = {}

    def unseen(self, digest: ClaimedDigest) -> Unseen | None:
        """What `undelivered_headlines` gives this chat, or None if it must be asked alone."""
        chat_id = digest.chat_id
        filters = (
            bisect_right(self._fetched, digest.since),
            frozenset(self._hidden.get(chat_id, ())),
            frozenset(self._own.get(chat_id, ())),
            frozenset(self._delivered.get(chat_id, ())),
        )
        if filters not in self._lists:
            self._lists[filters] = self._select(digest.since, *filters[1:])
        return self._lists[filters]

    def _select(
        self,
        since: datetime,
        hidden: frozenset[int],
        own: frozenset[int],
        delivered: frozenset[int],
    ) -> Unseen | None:
        kept: list[Headline] = []
        for item in self._candidates:
            if len(kept) == UNSEEN_LIMIT:
                break
            if not (
                item.fetched_at <= since
                or item.source_id in hidden
                or (item.user_feed and item.source_id not in own)
                or item.headline.id in delivered
            ):
                kept.append(item.headline)
        if len(kept) < UNSEEN_LIMIT and not self._complete:
            return None
        return Unseen(tuple(h.id for h in kept), tuple(kept))


async def unseen_alone(session: AsyncSession, digest: ClaimedDigest) -> Unseen:
    """A chat's unseen items read for it alone (its batch's items did not reach far enough)."""
    unseen = tuple(await undelivered_headlines(session, digest.chat_id, since=digest.since))
    return Unseen(tuple(h.id for h in unseen), unseen)


async def read_batch_items(
    session: AsyncSession,
    digests: Sequence[ClaimedDigest],
    *,
    now: datetime,
    stories: StoryCache,
) -> BatchItems:
    """The items every digest of a claim batch is chosen from, read in four queries; an item
    another batch or a cached story holds is that same object (`stories.shared`)."""
    chat_ids = sorted({d.chat_id for d in digests})
    since = min(d.since for d in digests)
    candidates = await digest_candidates(
        session, chat_ids, since=since, limit=CANDIDATE_LIMIT, shared=stories.shared
    )
    hidden, own = await sources_by_chat(session, chat_ids)
    delivered: dict[int, set[int]] = {}
    if candidates:
        first_id = min(c.headline.id for c in candidates)
        delivered = await delivered_ids(session, chat_ids, from_article_id=first_id)
    return BatchItems(
        candidates,
        complete=len(candidates) < CANDIDATE_LIMIT,
        hidden=hidden,
        own=own,
        delivered=delivered,
        read_at=now,
    )


def _arrange(
    lines: Sequence[StoryLine], followed_ids: frozenset[int], *, only_followed: bool, size: int
) -> DigestContent:
    # Followed topics lead; otherwise the lines' order (ranked, or newest first). Only the
    # first `size` become stories: a pass arranges hundreds of lines for a digest of ten.
    followed_lines = [
        line for line in lines if followed_ids and not followed_ids.isdisjoint(line.member_ids)
    ]
    leading = {id(line) for line in followed_lines}
    rest = [] if only_followed else [line for line in lines if id(line) not in leading]
    picked = (followed_lines + rest)[:size]
    chosen = [
        DigestStory(line.lead, line.extra_sources, id(line) in leading, line.outlets)
        for line in picked
    ]
    article_ids = [a for line in picked for a in line.member_ids]
    return DigestContent(chosen, article_ids)
