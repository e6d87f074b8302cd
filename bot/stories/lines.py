"""Headline lists with one line per story: near-duplicates folded under their best item."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.news.grouping import group_stories
from bot.store.articles import Headline


@dataclass(frozen=True)
class StoryLine:
    """One line of a list: the story's best item, every item it stands for, where it starts."""

    lead: Headline
    member_ids: list[int]
    first_position: int

    @property
    def extra_sources(self) -> int:
        """How many more items told the same story."""
        return len(self.member_ids) - 1


def story_lines(headlines: Sequence[Headline]) -> list[StoryLine]:
    """Group a newest-first list into stories, each placed where its newest item stood."""
    by_id = {h.id: h for h in headlines}
    position = {h.id: index for index, h in enumerate(headlines)}
    lines = [
        StoryLine(
            by_id[story.lead_id], list(story.member_ids), min(position[m] for m in story.member_ids)
        )
        for story in group_stories(headlines)
    ]
    return sorted(lines, key=lambda line: line.first_position)


def extra_sources(lines: Sequence[StoryLine]) -> dict[int, int]:
    """The "+N sources" of each lead that has any, for rendering."""
    return {line.lead.id: line.extra_sources for line in lines if line.extra_sources}
