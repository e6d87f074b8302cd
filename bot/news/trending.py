"""Trending topics: the named things and short phrases most items are talking about.

Headlines are mostly Title Case, so capital letters there say nothing; a topic is
found by how many items mention a word or a two-word phrase (document frequency),
and capitalisation is read only where it carries meaning: in body text and in
sentence-case titles, away from the start of a sentence. Story grouping reads words
the same way (read_words, NameEvidence), so both agree on what a name is.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple, Protocol

from bot.news.language import capitalises_nouns
from bot.news.text import WORD, clean_text, fold, join_acronyms, stem, stop_words

# Words that headlines and wire copy use in every story, whatever it is about.
HEADLINE_FILLER = frozenset(
    stem(w)
    for w in """
    say says said saying tell tells told ask asks asked claim claims
    amid despite new news latest update updates live breaking exclusive analysis opinion
    report reports reported reportedly reporter source sources according
    set poised ahead likely expected
    make makes made get gets got take takes took go goes going went come comes came
    give gives gave put puts keep keeps use uses used see sees saw look looks find finds
    found show shows call calls called want wants need needs know knows think thinks
    seek seeks urge urges warn warns vow vows plan plans hit hits slam slams eye eyes
    face faces push pushes back backs move moves begin begins start starts continue
    continues offer offers hold holds help helps mark marks way ways thing things
    time times year years month months week weeks day days today tonight yesterday
    tomorrow morning evening night weekend
    monday tuesday wednesday thursday friday saturday sunday
    january february march april june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    mr mrs ms dr jr sr co inc ltd
    president presidents minister prime pm senator governor secretary chief official
    officials spokesman spokeswoman leader leaders
    people man woman men women big top major inside
    reuters ap afp photo photos picture pictures video videos watch
    """.split()
)

# Letters and digits of any script, as text.words() splits them; the group keeps the gaps.
_WORDS_AND_GAPS = re.compile(f"({WORD.pattern})")
# "Donald J. Trump" is "Donald Trump": a middle initial would split the name.
# (The space first: a scan for it is far faster than a look-behind at every character.)
_MIDDLE_INITIAL = re.compile(r" (?<=[a-z] )[A-Z]\.(?= [A-Z])")
# Between two words, these end a phrase: clause punctuation, brackets and quotes.
_PHRASE_BREAK = re.compile(r"[.,;:!?()\[\]{}\"“”‘’'«»|/…]|\s[-–—]\s")
_SENTENCE_START = re.compile(r"[.!?:\"“«]\s*$")
_DASHES = frozenset("-–—‐‑")

MIN_ITEMS = 2
# A phrase absorbs a word when it carries clearly most of the word's items.
PHRASE_SHARE = 0.6
# Two topics whose items overlap this much (Jaccard) are one topic seen twice.
SAME_ITEMS = 0.8
# Headlines say what an item is about; a mention only in the body counts this much.
BODY_MENTION = 0.5
# Said in the body of more than this share of items, and not in their titles: boilerplate.
BOILERPLATE_SHARE = 0.5
# How much a single word counts, by what capitalisation in body text says it is:
# names are topics; a plain common word ("talks") is only half of one.
_NAMED, _UNKNOWN, _COMMON = "named", "unknown", "common"
_WORD_WEIGHT = {_NAMED: 1.0, _UNKNOWN: 0.75, _COMMON: 0.5}


class TopicInput(Protocol):
    """An item as trending reads it."""

    @property
    def title(self) -> str | None: ...

    @property
    def description(self) -> str | None: ...

    @property
    def language(self) -> str | None: ...


@dataclass(frozen=True)
class Topic:
    """A trending topic: how to show it, how many items mention it, what to search for."""

    label: str
    count: int
    query: str


class Word(NamedTuple):
    """One word of a text, with what its capitals and neighbours tell."""

    key: str  # stem, so "Talks" and "Talk" are one topic
    form: str  # folded word, to label a topic with its commonest inflection
    surface: str
    filler: bool  # "New": never a topic alone, but may start a name ("New York")
    case_is_meaningful: bool
    intrinsic_name: bool  # "TrumpRx", "US": capitals no style rule explains
    dash_before: bool
    phrase_break_before: bool


@dataclass
class _WordStats:
    forms: Counter = field(default_factory=Counter)
    meaningful_surfaces: dict = field(default_factory=lambda: defaultdict(Counter))
    any_surfaces: dict = field(default_factory=lambda: defaultdict(Counter))
    occurrences: int = 0
    intrinsic: int = 0
    capitalised: int = 0
    lowercase: int = 0


def trending_topics(items: Sequence[TopicInput], *, limit: int = 10) -> list[Topic]:
    """The topics most items mention, count descending then label, for a digest header."""
    mentions = _Mentions()
    stats: dict[str, _WordStats] = defaultdict(_WordStats)
    phrase_orders: dict[tuple[str, str], Counter] = defaultdict(Counter)
    # Votes on whether a phrase with a filler word in it is written as a name ("New York");
    # where capitals mean nothing the vote is None, and a phrase needs more yes than no.
    phrase_names: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for index, item in enumerate(items):
        for text, is_title in ((item.title, True), (item.description, False)):
            previous: Word | None = None
            for token in read_words(text, is_title=is_title, language=item.language):
                _record(stats[token.key], token)
                if not token.filler:
                    mentions.add((token.key,), index, is_title)
                if (
                    previous is not None
                    and not token.phrase_break_before
                    and not (previous.filler and token.filler)
                ):
                    key, order = _phrase_key(previous, token)
                    mentions.add(key, index, is_title)
                    phrase_orders[key][order] += 1
                    if previous.filler or token.filler:
                        phrase_names[key][_written_as_name(previous, token)] += 1
                previous = token

    fillers = {key for key, votes in phrase_names.items() if votes[True] <= votes[False]}
    classes = {key: _word_class(word) for key, word in stats.items()}
    candidates = _candidates(mentions, classes, len(items), excluded=fillers)
    topics = []
    for topic_key, members in _select(candidates, classes, limit):
        if len(topic_key) == 1:
            word = topic_key[0]
            label = _spell(word, _commonest_form(stats[word]), stats)
            query = label
        else:
            label, query = _phrase_label(phrase_orders[(topic_key[0], topic_key[1])], stats)
        topics.append(Topic(label=label, count=len(members), query=query))
    return sorted(topics, key=lambda t: (-t.count, t.label.casefold(), t.label))


def read_words(text: str | None, *, is_title: bool, language: str | None = None) -> list[Word]:
    """The words of a text that may name a topic or a story: no stop words, numbers, initials.

    Stop words and stems are those of the text's language (unknown: English), so German
    "der" is never a topic and "Verhandlungen" counts with "Verhandlung".
    """
    text = clean_text(text)
    if not text:
        return []
    text = join_acronyms(text)
    text = _MIDDLE_INITIAL.sub("", text)
    # Alternating gap, word, gap, word...: one C-level split instead of a match per word.
    parts = _WORDS_AND_GAPS.split(text)
    gaps, surfaces = parts[0:-1:2], parts[1::2]
    shouting = _is_shouting(surfaces)
    case_is_meaningful = (
        not shouting
        and not (is_title and _is_title_case(surfaces))
        and not capitalises_nouns(language)
    )

    words: list[Word] = []
    broken = True
    # Word's own constructor takes a third of the loop's time (a description has ~70
    # words, read at every ingest): the tuple is made directly.
    new_word, analyse, read_gap = tuple.__new__, _analyse, _read_gap
    for index, (gap, surface) in enumerate(zip(gaps, surfaces, strict=True)):
        form, key, stop, filler, mixed, acronym = analyse(surface, language)
        if acronym and not shouting:
            key, stop, filler = form, False, form in HEADLINE_FILLER
        else:
            acronym = False
        if stop:
            broken = True
            continue
        sentence_start, phrase_break, dashed = read_gap(gap)
        words.append(
            new_word(
                Word,
                (
                    key,
                    form,
                    surface,
                    filler,
                    case_is_meaningful and not (sentence_start or index == 0),
                    acronym or mixed,
                    dashed,
                    broken or phrase_break,
                ),
            )
        )
        broken = False
    return words


@lru_cache(maxsize=10_000)
def _read_gap(gap: str) -> tuple[bool, bool, bool]:
    """Whether the text between two words starts a sentence, ends a phrase, is a dash."""
    return bool(_SENTENCE_START.search(gap)), bool(_PHRASE_BREAK.search(gap)), gap in _DASHES


@lru_cache(maxsize=200_000)
def _analyse(surface: str, language: str | None) -> tuple[str, str, bool, bool, bool, bool]:
    """Form, stem, and whether a written word is a stop word, filler, mixed case, an acronym."""
    form = fold(surface)
    key = stem(surface, language)
    stop = form.isdigit() or len(form) < 2 or form in stop_words(language)
    mixed = any(ch.isupper() for ch in surface[1:]) and any(ch.islower() for ch in surface)
    acronym = 2 <= len(surface) <= 5 and surface.isupper() and surface.isalpha()
    return form, key, stop, key in HEADLINE_FILLER, mixed, acronym


# What a word's capitals say, appended to its key in name_mark(): an unexplained capital
# ("TrumpRx", "US"), then a capital or a small letter where case means something.
_INTRINSIC_MARK, _CAPITAL_MARK, _SMALL_MARK = "!", "^", "_"
_UNMARK = str.maketrans("", "", _INTRINSIC_MARK + _CAPITAL_MARK + _SMALL_MARK)


def name_mark(word: Word) -> str:
    """A word's key with what its capitals say, the unit NameEvidence counts.

    Marks are plain strings so that a batch's evidence can be kept with each item and
    counted at C speed ("trump^": written with a capital where case means something).
    """
    mark = word.key + _INTRINSIC_MARK if word.intrinsic_name else word.key
    if word.case_is_meaningful:
        return mark + (_CAPITAL_MARK if word.surface[0].isupper() else _SMALL_MARK)
    return mark


def unmarked(marks: str) -> str:
    """The keys of a text of name marks: the marks without what they say of capitals."""
    return marks.translate(_UNMARK)


class NameEvidence:
    """How a batch of texts capitalises each word where capitals mean something."""

    def __init__(self, marks: Iterable[str]) -> None:
        self._marks = Counter(marks)
        self._named: dict[str, bool] = {}

    def is_named(self, key: str) -> bool:
        """Whether the batch writes this word as a name (decided on first asking)."""
        named = self._named.get(key)
        if named is None:
            marks = self._marks
            plain, capital, small = marks[key], marks[key + _CAPITAL_MARK], marks[key + _SMALL_MARK]
            intrinsic_key = key + _INTRINSIC_MARK
            intrinsic = (
                marks[intrinsic_key],
                marks[intrinsic_key + _CAPITAL_MARK],
                marks[intrinsic_key + _SMALL_MARK],
            )
            named = _is_named(
                plain + capital + small + sum(intrinsic),
                sum(intrinsic),
                capital + intrinsic[1],
                small + intrinsic[2],
            )
            self._named[key] = named
        return named


def _is_shouting(surfaces: list[str]) -> bool:
    """Whether a text is written in capitals throughout, so capitals say nothing."""
    longer = [w for w in surfaces if len(w) >= 2 and w.isalpha()]
    return bool(longer) and sum(map(str.isupper, longer)) > 0.6 * len(longer)


def _is_title_case(surfaces: list[str]) -> bool:
    """Whether most longer words start with a capital, as headline style demands."""
    longer = [w for w in surfaces if len(w) >= 4 and w.isalpha()]
    if len(longer) < 2:
        return True
    return sum(map(str.isupper, (w[0] for w in longer))) >= 0.7 * len(longer)


def _record(stats: _WordStats, token: Word) -> None:
    stats.forms[token.form] += 1
    stats.occurrences += 1
    stats.any_surfaces[token.form][token.surface] += 1
    if token.intrinsic_name:
        stats.intrinsic += 1
    if token.case_is_meaningful:
        stats.meaningful_surfaces[token.form][token.surface] += 1
        if token.surface[0].isupper():
            stats.capitalised += 1
        else:
            stats.lowercase += 1


def _written_as_name(first: Word, second: Word) -> bool | None:
    """Whether a phrase is capitalised as a name ("New York"); None where capitals mean nothing."""
    if not (first.case_is_meaningful and second.case_is_meaningful):
        return None
    return first.surface[0].isupper() and second.surface[0].isupper()


# How a two-word phrase was written: (stem, form) of each word and the separator between.
_PhraseOrder = tuple[tuple[str, str], str, tuple[str, str]]


def _phrase_key(first: Word, second: Word) -> tuple[tuple[str, str], _PhraseOrder]:
    """Key and written order of a two-word phrase; dashed pairs ("Russia-Ukraine") are unordered."""
    separator = "-" if second.dash_before else " "
    order = ((first.key, first.form), separator, (second.key, second.form))
    if second.dash_before:
        low, high = sorted((first.key, second.key))
        return (low, high), order
    return (first.key, second.key), order


def _word_class(stats: _WordStats) -> str:
    """Named, common or unknown, from the capitals a word wears where they mean something."""
    if _is_named(stats.occurrences, stats.intrinsic, stats.capitalised, stats.lowercase):
        return _NAMED
    if stats.lowercase > stats.capitalised:
        return _COMMON
    return _UNKNOWN


def _is_named(occurrences: int, intrinsic: int, capitalised: int, lowercase: int) -> bool:
    """Unexplained capitals in half its uses, or mostly capitals where case means something."""
    return intrinsic * 2 >= occurrences or capitalised > lowercase


def _commonest_form(stats: _WordStats) -> str:
    """The inflection a word is most often written in; the shorter one on a tie."""
    return min(stats.forms.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0]


def _spell(key: str, form: str, stats: dict[str, _WordStats]) -> str:
    """A word as body text spells it, or as titles do when body text never uses it."""
    word = stats[key]
    surfaces = word.meaningful_surfaces.get(form) or word.any_surfaces[form]
    return min(surfaces.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def _phrase_label(orders: Counter, stats: dict[str, _WordStats]) -> tuple[str, str]:
    """Label and search query of a phrase, in its commonest order and spelling."""
    order: _PhraseOrder = min(orders.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    (first_key, first_form), separator, (second_key, second_form) = order
    words = [_spell(first_key, first_form, stats), _spell(second_key, second_form, stats)]
    # Both words, unquoted: "Donald J. Trump" and "Ukraine-Russia" must still be found.
    return separator.join(words), " ".join(words)


class _Mentions:
    """Which items mention each word or phrase, in the title or only in the body."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, ...], set[int]] = defaultdict(set)
        self.in_titles: dict[tuple[str, ...], set[int]] = defaultdict(set)

    def add(self, key: tuple[str, ...], index: int, is_title: bool) -> None:
        self.items[key].add(index)
        if is_title:
            self.in_titles[key].add(index)

    def weight(self, key: tuple[str, ...]) -> float:
        in_titles = len(self.in_titles.get(key, ()))
        return in_titles + BODY_MENTION * (len(self.items[key]) - in_titles)

    def is_boilerplate(self, key: tuple[str, ...], item_count: int) -> bool:
        """Whether most items say it in the body but not the title: a feed's footer."""
        body_only = len(self.items[key]) - len(self.in_titles.get(key, ()))
        return body_only > BOILERPLATE_SHARE * item_count


def _candidates(
    mentions: _Mentions, classes: dict[str, str], item_count: int, *, excluded: set
) -> list[tuple[tuple[str, ...], set[int], float]]:
    """Words and phrases mentioned enough to trend, each with its items and its weight."""
    frequent = {
        key: members
        for key, members in mentions.items.items()
        if len(members) >= MIN_ITEMS
        and key not in excluded
        and not mentions.is_boilerplate(key, item_count)
    }
    absorbed = {
        word
        for key, members in frequent.items()
        if len(key) == 2
        for word in key
        if (word,) in mentions.items and len(members) > PHRASE_SHARE * len(mentions.items[(word,)])
    }
    candidates = []
    for key, members in frequent.items():
        if len(key) == 2:
            weight = mentions.weight(key)
        elif key[0] in absorbed:
            continue
        else:
            weight = mentions.weight(key) * _WORD_WEIGHT[classes[key[0]]]
        # Two middling mentions of a plain word are chance, not a trend.
        if weight >= MIN_ITEMS:
            candidates.append((key, members, weight))
    return candidates


def _select(
    candidates: list[tuple[tuple[str, ...], set[int], float]],
    classes: dict[str, str],
    limit: int,
) -> list[tuple[tuple[str, ...], set[int]]]:
    """The heaviest candidates, skipping any that only repeat a topic already chosen."""
    ranked = sorted(candidates, key=lambda c: (-c[2], -len(c[1]), c[0]))
    chosen: list[tuple[tuple[str, ...], set[int]]] = []
    for key, members, _weight in ranked:
        if len(chosen) >= limit:
            break
        if not any(_repeats(key, members, other, seen, classes) for other, seen in chosen):
            chosen.append((key, members))
    return chosen


def _repeats(
    key: tuple[str, ...],
    members: set[int],
    other: tuple[str, ...],
    seen: set[int],
    classes: dict[str, str],
) -> bool:
    """Whether a candidate adds nothing to a chosen topic."""
    shared = len(members & seen)
    if shared >= SAME_ITEMS * len(members | seen):
        return True
    # "Donald Trump" under "Trump", or "Lauderdale airport" under "Fort Lauderdale", says
    # nothing new; "nuclear talks" under "talks" does, as the shared word is a plain one.
    named_overlap = any(word in other and classes[word] != _COMMON for word in key)
    return named_overlap and shared >= SAME_ITEMS * len(members)
