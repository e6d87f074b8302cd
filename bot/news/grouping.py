"""One line per story: near-duplicate items from different feeds grouped, precision first.

Two items are one story when their headlines say the same thing about the same
subject within a couple of days. Words are weighted by how rare they are in the batch
(TF-IDF cosine over title and description terms), and a shared name alone never
makes a story: "Netanyahu questioned in graft probe" and "Netanyahu backs pardon" share
a subject, not an event. Merging two stories is worse than showing one twice, so every
rule errs towards keeping items apart. Thresholds were tuned on hand-checked pairs from
real feeds (tests/test_stories.py), not on the seed alone.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Protocol

from bot.news.text import as_utc, clean_text
from bot.news.trending import NameEvidence, Word, read_words

DEFAULT_WINDOW = timedelta(hours=48)
# Pairs this similar share most of their wording: the same report, whatever else holds.
NEAR_DUPLICATE = 0.6
# Otherwise headlines must share an event word and be this similar overall...
SAME_STORY = 0.45
# ...or share at least this many separate headline words at a lower similarity.
SHARED_WORDS = 4
RELATED = 0.3
# A story grows only by items at least this similar to every item already in it,
# so a chain of loosely linked items cannot join two different stories.
CHAIN_FLOOR = 0.2
# Body text describes, headlines decide: a word only in a description counts this much.
BODY_WEIGHT = 0.5
# A few dozen items say little about which words are common; this many imaginary
# items without the word keep a small batch from calling every word rare.
IDF_PRIOR = 50
# Headlines in two languages share names, not wording: they are one story when they
# name at least this many of the same things (a two-word name counts once).
SHARED_NAMES = 2
# Only pairs sharing a rare headline word are compared: a word in at most this share
# of items (or BLOCK_MIN items), or one of an item's RAREST_WORDS rarest headline words,
# so a headline made only of common words still meets its own copies.
BLOCK_SHARE = 0.02
BLOCK_MIN = 20
RAREST_WORDS = 2


class StoryInput(Protocol):
    """An item as story grouping reads it."""

    @property
    def id(self) -> int: ...

    @property
    def title(self) -> str | None: ...

    @property
    def description(self) -> str | None: ...

    @property
    def source(self) -> Hashable: ...

    @property
    def published_at(self) -> datetime | None: ...

    @property
    def language(self) -> str | None: ...


@dataclass(frozen=True)
class Story:
    """Items telling one story, in input order; sources in order of first appearance."""

    lead_id: int
    member_ids: list[int]
    sources: list


@dataclass
class _Item:
    title_keys: set[str]
    title_phrases: set[tuple[str, str]]
    body_keys: set[str]
    published_at: datetime | None
    language: str | None
    vector: dict[str, float] = field(default_factory=dict)


def group_stories(
    items: Sequence[StoryInput], *, window: timedelta = DEFAULT_WINDOW
) -> list[Story]:
    """Group items that tell the same story, for one digest line per story."""
    read = []
    evidence = NameEvidence()
    for item in items:
        title_words = read_words(item.title, is_title=True, language=item.language)
        body_words = read_words(item.description, is_title=False, language=item.language)
        evidence.add(title_words)
        evidence.add(body_words)
        title_keys = {w.key for w in title_words if not w.filler}
        read.append(
            _Item(
                title_keys=title_keys,
                title_phrases=_phrases(title_words),
                body_keys={w.key for w in body_words if not w.filler} - title_keys,
                published_at=as_utc(item.published_at) if item.published_at else None,
                language=item.language,
            )
        )
    names = evidence.names()
    document_frequency = Counter(key for e in read for key in e.title_keys | e.body_keys)
    idf = {
        key: math.log((len(read) + IDF_PRIOR) / (count + 1))
        for key, count in document_frequency.items()
    }
    for entry in read:
        entry.vector = _vector(entry, idf)

    links = []
    for first, second in _candidate_pairs(read, document_frequency, window):
        similarity = _cosine(read[first].vector, read[second].vector)
        if _same_story(read[first], read[second], similarity, names):
            links.append((similarity, first, second))
    leads = [(_lead(items, members), members) for members in _merge(read, links, window)]
    return [_story(items, lead, members) for lead, members in sorted(leads)]


def _phrases(words: list[Word]) -> set[tuple[str, str]]:
    """Adjacent word pairs of a headline, so "Donald Trump" counts once when shared."""
    return {
        (previous.key, word.key)
        for previous, word in pairwise(words)
        if not (word.phrase_break_before or word.filler or previous.filler)
    }


def _vector(entry: _Item, idf: dict[str, float]) -> dict[str, float]:
    weights = {key: idf[key] for key in entry.title_keys}
    weights.update({key: BODY_WEIGHT * idf[key] for key in entry.body_keys})
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {key: w / norm for key, w in weights.items()} if norm else {}


def _cosine(first: dict[str, float], second: dict[str, float]) -> float:
    return sum(first[key] * second[key] for key in first.keys() & second.keys())


def _candidate_pairs(
    read: list[_Item], document_frequency: Counter, window: timedelta
) -> set[tuple[int, int]]:
    """Pairs sharing a rare headline word within the window: the only ones worth scoring."""
    limit = max(BLOCK_MIN, BLOCK_SHARE * len(read))
    postings: dict[str, list[int]] = defaultdict(list)
    for index, entry in enumerate(read):
        by_rarity = sorted(entry.title_keys, key=lambda key: (document_frequency[key], key))
        for rank, key in enumerate(by_rarity):
            if rank < RAREST_WORDS or document_frequency[key] <= limit:
                postings[key].append(index)
    pairs: set[tuple[int, int]] = set()
    for members in postings.values():
        undated = [index for index in members if read[index].published_at is None]
        dated = sorted(
            (moment, index) for index in members if (moment := read[index].published_at) is not None
        )
        dated_indexes = [index for _, index in dated]
        # An unknown time rules nothing out; known times pair only within the window.
        for position, first in enumerate(undated):
            pairs.update(
                _ordered(first, other) for other in undated[position + 1 :] + dated_indexes
            )
        for position, (moment, first) in enumerate(dated):
            latest = moment + window
            for later, second in dated[position + 1 :]:
                if later > latest:
                    break
                pairs.add(_ordered(first, second))
    return pairs


def _ordered(first: int, second: int) -> tuple[int, int]:
    return (first, second) if first < second else (second, first)


def _within(first: datetime | None, second: datetime | None, window: timedelta) -> bool:
    """Whether two items are close enough in time; an unknown time rules nothing out."""
    return first is None or second is None or abs(first - second) <= window


def _same_story(first: _Item, second: _Item, similarity: float, names: set[str]) -> bool:
    """Whether two items tell one story, by wording first and headline evidence second."""
    if similarity >= NEAR_DUPLICATE:
        return True
    shared = first.title_keys & second.title_keys
    if _languages_differ(first, second):
        # Translated wording never matches; the names it reports on do ("Merkel", "Macron").
        shared_names = shared & names
        shared_phrases = {p for p in first.title_phrases & second.title_phrases if set(p) <= names}
        return len(shared_names) - len(shared_phrases) >= SHARED_NAMES
    # The same subject doing different things ("Netanyahu ...") is not one story.
    if not shared - names:
        return False
    if similarity >= SAME_STORY:
        return True
    # A shared multi-word name ("Donald Trump") is one piece of evidence, not two.
    separate_words = len(shared) - len(first.title_phrases & second.title_phrases)
    return similarity >= RELATED and separate_words >= SHARED_WORDS


def _languages_differ(first: _Item, second: _Item) -> bool:
    """Whether both items have a known language and the two differ (unknown is English)."""
    return (first.language or "en") != (second.language or "en")


def _merge(
    read: list[_Item], links: list[tuple[float, int, int]], window: timedelta
) -> list[list[int]]:
    """Strongest links first; two groups join only if all their items are alike and close."""
    group_of = list(range(len(read)))
    groups: dict[int, list[int]] = {index: [index] for index in range(len(read))}
    for _similarity, first, second in sorted(links, key=lambda link: (-link[0], link[1], link[2])):
        left, right = group_of[first], group_of[second]
        if left == right:
            continue
        if not all(
            _cosine(read[a].vector, read[b].vector) >= CHAIN_FLOOR
            and _within(read[a].published_at, read[b].published_at, window)
            for a in groups[left]
            for b in groups[right]
        ):
            continue
        for index in groups[right]:
            group_of[index] = left
        groups[left] += groups.pop(right)
    return [sorted(members) for members in groups.values()]


def _lead(items: Sequence[StoryInput], members: list[int]) -> int:
    """The item that says the most (longest description), then the earliest, then the first."""
    if len(members) == 1:
        return members[0]

    def rank(index: int) -> tuple:
        moment = items[index].published_at
        published = as_utc(moment) if moment else None
        return (
            -len(clean_text(items[index].description)),
            published is None,
            published or datetime.min.replace(tzinfo=UTC),
            index,
        )

    return min(members, key=rank)


def _story(items: Sequence[StoryInput], lead: int, members: list[int]) -> Story:
    sources = list(dict.fromkeys(items[index].source for index in members))
    return Story(
        lead_id=items[lead].id,
        member_ids=[items[index].id for index in members],
        sources=sources,
    )
