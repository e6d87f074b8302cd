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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations, pairwise
from typing import Protocol

from bot.news.text import as_utc, clean_text
from bot.news.trending import NameEvidence, name_mark, read_words, unmarked

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
# story_words(): a version line (a change to how words are read makes stored words stale,
# and those are read afresh), then the headline's and the description's words.
STORY_WORDS_VERSION = "1"
# Between two headline words that make no phrase ("|" is never part of a word).
_NO_PHRASE = "|"


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

    @property
    def story_words(self) -> str | None:
        """What story_words() made of the item when it was stored; None: read it now."""
        ...


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


def story_words(title: str | None, description: str | None, language: str | None) -> str:
    """What grouping reads of an item, kept with it when stored so that lists do not read
    long descriptions again: its headline's and its description's words as name marks
    (trending.name_mark), fillers left out, "|" where no headline phrase goes on."""
    headline: list[str] = []
    after_filler = False
    for word in read_words(title, is_title=True, language=language):
        # A filler ("says") is never a story word, and no phrase spans it.
        if word.filler:
            after_filler = True
            continue
        if headline and (after_filler or word.phrase_break_before):
            headline.append(_NO_PHRASE)
        headline.append(name_mark(word))
        after_filler = False
    body = [
        name_mark(word)
        for word in read_words(description, is_title=False, language=language)
        if not word.filler
    ]
    return "\n".join((STORY_WORDS_VERSION, " ".join(headline), " ".join(body)))


def _stored_words(item: StoryInput) -> list[str]:
    """The item's story words as stored, or read now when they are missing or stale."""
    stored = item.story_words
    if stored is None or not stored.startswith(STORY_WORDS_VERSION + "\n"):
        stored = story_words(item.title, item.description, item.language)
    return stored.split("\n")[1:]


def group_stories(
    items: Sequence[StoryInput], *, window: timedelta = DEFAULT_WINDOW
) -> list[Story]:
    """Group items that tell the same story, for one digest line per story."""
    read = []
    marks: list[str] = []
    for item in items:
        headline, body = _stored_words(item)
        tokens = unmarked(headline).split()
        title_keys = set(tokens) - {_NO_PHRASE}
        read.append(
            _Item(
                title_keys=title_keys,
                title_phrases={
                    (first, second)
                    for first, second in pairwise(tokens)
                    if first != _NO_PHRASE and second != _NO_PHRASE
                },
                body_keys=set(unmarked(body).split()) - title_keys,
                published_at=as_utc(item.published_at) if item.published_at else None,
                language=item.language,
            )
        )
        marks += (headline, body)
    names = NameEvidence(" ".join(marks).split())
    document_frequency: Counter[str] = Counter()
    for entry in read:
        document_frequency.update(entry.title_keys)
        document_frequency.update(entry.body_keys)
    vectors = _Vectors(read, document_frequency)

    links = []
    for first, second in _candidate_pairs(read, document_frequency, window):
        similarity = _cosine(vectors[first], vectors[second])
        if _same_story(read[first], read[second], similarity, names):
            links.append((similarity, first, second))
    leads = [(_lead(items, members), members) for members in _merge(read, vectors, links, window)]
    return [_story(items, lead, members) for lead, members in sorted(leads)]


class _Vectors:
    """Each item's TF-IDF vector, made only for the items a candidate pair asks about."""

    def __init__(self, read: list[_Item], document_frequency: Counter[str]) -> None:
        self._read = read
        self._document_frequency = document_frequency
        # A word's weight depends only on how many items have it: one logarithm per count.
        self._idf = {
            count: math.log((len(read) + IDF_PRIOR) / (count + 1))
            for count in set(document_frequency.values())
        }
        self._made: dict[int, dict[str, float]] = {}

    def __getitem__(self, index: int) -> dict[str, float]:
        vector = self._made.get(index)
        if vector is None:
            vector = self._made[index] = self._vector(self._read[index])
        return vector

    def _vector(self, entry: _Item) -> dict[str, float]:
        idf, frequency = self._idf, self._document_frequency
        weights = {key: idf[frequency[key]] for key in entry.title_keys}
        weights.update({key: BODY_WEIGHT * idf[frequency[key]] for key in entry.body_keys})
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
        rare = [key for key in entry.title_keys if document_frequency[key] <= limit]
        if len(rare) < RAREST_WORDS:
            # Fewer rare words than RAREST_WORDS: the rarest are posted all the same.
            by_rarity = sorted(entry.title_keys, key=lambda key: (document_frequency[key], key))
            rare = by_rarity[: max(RAREST_WORDS, len(rare))]
        for key in rare:
            postings[key].append(index)
    pairs: set[tuple[int, int]] = set()
    moments = [entry.published_at for entry in read if entry.published_at is not None]
    if not moments or max(moments) - min(moments) <= window:
        # Every item is within the window of every other (a list of the newest items
        # always is): all members of a posting pair, in index order as posted.
        for members in postings.values():
            pairs.update(combinations(members, 2))
        return pairs
    for members in postings.values():
        if len(members) < 2:
            continue
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


def _same_story(first: _Item, second: _Item, similarity: float, names: NameEvidence) -> bool:
    """Whether two items tell one story, by wording first and headline evidence second."""
    if similarity >= NEAR_DUPLICATE:
        return True
    shared = first.title_keys & second.title_keys
    if _languages_differ(first, second):
        # Translated wording never matches; the names it reports on do ("Merkel", "Macron").
        shared_names = {key for key in shared if names.is_named(key)}
        shared_phrases = {
            phrase
            for phrase in first.title_phrases & second.title_phrases
            if names.is_named(phrase[0]) and names.is_named(phrase[1])
        }
        return len(shared_names) - len(shared_phrases) >= SHARED_NAMES
    # The same subject doing different things ("Netanyahu ...") is not one story.
    if all(names.is_named(key) for key in shared):
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
    read: list[_Item], vectors: _Vectors, links: list[tuple[float, int, int]], window: timedelta
) -> list[list[int]]:
    """Strongest links first; two groups join only if all their items are alike and close."""
    group_of = list(range(len(read)))
    groups: dict[int, list[int]] = {index: [index] for index in range(len(read))}
    for _similarity, first, second in sorted(links, key=lambda link: (-link[0], link[1], link[2])):
        left, right = group_of[first], group_of[second]
        if left == right:
            continue
        if not all(
            _cosine(vectors[a], vectors[b]) >= CHAIN_FLOOR
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
