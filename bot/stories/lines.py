"""Headline lists with one line per story, ranked by how many outlets report it.

A story's significance is the sum, over the independent outlets reporting it, of how
recent each outlet's newest report is: each contributes 2^(-age / STORY_HALF_LIFE). A
story six outlets reported an hour ago outranks one outlet's report from a minute ago;
a single report loses half its weight every six hours. Because every term decays at the
same rate, the order does not depend on when it is read, so a ranked list is worked out
once per set of headlines (and cached) rather than on every read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.news.grouping import group_stories
from bot.news.outlets import outlet_of
from bot.news.text import as_utc
from bot.store.articles import Headline

STORY_HALF_LIFE = timedelta(hours=6)


@dataclass(frozen=True)
class StoryLine:
    """One line of a list: the story's best item, every item it stands for, where it starts,
    and how many independent outlets report it."""

    lead: Headline
    member_ids: list[int]
    first_position: int
    outlets: int = 1
    significance: float = 0.0
    """log2 of the story's weight at the epoch: only comparisons between lines mean anything."""

    @property
    def extra_sources(self) -> int:
        """How many more items told the same story."""
        return len(self.member_ids) - 1


def story_lines(headlines: Sequence[Headline], *, ranked: bool = True) -> list[StoryLine]:
    """Group a newest-first list into stories: the most significant first, or (not
    `ranked`) each placed where its newest item stood."""
    by_id = {h.id: h for h in headlines}
    position = {h.id: index for index, h in enumerate(headlines)}
    lines = []
    for story in group_stories(headlines):
        members = [by_id[m] for m in story.member_ids]
        newest = newest_report_by_outlet(members)
        lines.append(
            StoryLine(
                by_id[story.lead_id],
                list(story.member_ids),
                min(position[m] for m in story.member_ids),
                outlets=len(newest),
                significance=significance(newest.values()),
            )
        )
    ranked_lines = sorted(lines, key=lambda line: (-line.significance, line.first_position))
    return ranked_lines if ranked else list(in_chosen_order(ranked_lines, newest_first=True))


def in_chosen_order(lines: Sequence[StoryLine], *, newest_first: bool) -> Sequence[StoryLine]:
    """Ranked lines as a chat asked for them: as they are, or each where its newest item
    stood."""
    return sorted(lines, key=lambda line: line.first_position) if newest_first else lines


def significance(report_times: Iterable[datetime]) -> float:
    """log2 of Σ 2^(t / half-life) over each outlet's newest report time t (seconds since
    the epoch): the story's weight up to a factor every story shares at any moment."""
    half_life = STORY_HALF_LIFE.total_seconds()
    exponents = [as_utc(t).timestamp() / half_life for t in report_times]
    top = max(exponents)
    return top + math.log2(sum(2.0 ** (e - top) for e in exponents))


def newest_report_by_outlet(members: Sequence[Headline]) -> dict[str, datetime]:
    """When each independent outlet among a story's reports last reported it."""
    newest: dict[str, datetime] = {}
    for item in members:
        outlet = outlet_of(item.url, item.source)
        if outlet not in newest or item.published_at > newest[outlet]:
            newest[outlet] = item.published_at
    return newest


def extra_sources(lines: Sequence[StoryLine]) -> dict[int, int]:
    """The "+N sources" of each lead that has any, for rendering."""
    return {line.lead.id: line.extra_sources for line in lines if line.extra_sources}
