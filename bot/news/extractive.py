"""Offline extractive summaries of news articles: a few lead-aware sentences, no model.

News is written lead-first, so the ranking starts from the opening sentences and only
lets a later sentence in when it is central to the story and says something new. All
functions are pure and fast (a few milliseconds per article), so a handler can call
them inline.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.news.language import ENGLISH
from bot.news.text import clean_text, rules_language, stop_words, terms, truncate

__all__ = ["split_sentences", "summarize"]

# --------------------------------------------------------------------------------------
# Sentence splitting
#
# A hand-written splitter rather than pysbd: pysbd takes ~12 ms on a 2,000-character
# article (too slow to call inline for every story of a digest) and still mis-splits
# the detached quotes common in scraped text. The rules below cover what news prose
# needs: titles ("Mr."), dotted acronyms ("U.S."), initials ("J. D. Vance"), numbers
# ("No. 5", "Jan. 6"), and closing quotes that belong to the sentence before.
# --------------------------------------------------------------------------------------

# Abbreviations that precede a name and never end a sentence.
_TITLES = frozenset(
    """mr mrs ms messrs mme mlle dr prof rev fr sr sra srta st mt ft gen col lt maj capt
    cmdr adm sgt cpl pvt gov sen rep hon pres supt insp det amb atty vs v approx cf""".split()
)
# Abbreviations only before a number ("No. 5", "ca. 1900"); "the answer was no." ends.
_NUMBER_ABBREVIATIONS = frozenset("no nos vol pp p fig figs art sec ch ca".split())
# Abbreviations that can also end a sentence ("... Apple Inc. The company ...").
_SOFT_ABBREVIATIONS = frozenset(
    """inc corp co ltd llc plc bros jr esq etc al jan feb mar apr jun jul aug sep sept
    oct nov dec mon tue tues wed thu thur thurs fri sat sun ave blvd rd dept univ assn
    est dist govt intl natl""".split()
)
# Words that start sentences far more often than they follow an abbreviation: after
# "U.S." or "Inc." they mark a real boundary ("... in the U.S. The talks ...").
_SENTENCE_STARTERS = frozenset(
    """the a an he she it they we i you this that these those there here but and or so
    yet in on at for as if when while after before his her its their our my some many
    most one two three meanwhile however also still now then what who why how where no
    not all both each another other such since although though because with without
    from to more despite during under over until among instead even only earlier later
    last according officials police""".split()
)

# A candidate boundary: terminal punctuation, any closing quotes/brackets, whitespace.
_BOUNDARY = re.compile(r"""([.!?]+|…)(["'”’»)\]]*)(\s+)""")
# A quote mark standing alone between spaces, common in scraped and detokenised text
# ("... anybody. ' Paul ..."): curly ones say which side they belong to; a straight one
# closes the sentence before only if a quotation of the same kind is still open.
_DETACHED_QUOTE = re.compile(r"""["'”’»](?=\s)""")
_OPENING_STRAIGHT = {q: re.compile(r"(?:^|\s)" + q + r"\w") for q in ("'", '"')}
_DETACHED_STRAIGHT = {q: re.compile(r"\s" + q + r"(?=\s|$)") for q in ("'", '"')}
_OPENERS = "\"'“‘«([¿¡"
# Picture captions pasted into text without a full stop run into the next sentence:
# "... at the palace The incident took place ...". A lowercase word followed by a
# capitalised function word that starts clauses marks the missing boundary.
_MISSING_STOP = re.compile(
    r"(?<=[a-z0-9%)]) (?=(?:The|He|She|They|We|His|Her|Their|But|This|These|Those|There) [a-z])"
)
_DOTTED_ACRONYM = re.compile(r"^(?:[A-Za-z]\.){2,}$")
_INITIAL = re.compile(r"^[A-Z]\.$")
# Abbreviations of other languages that precede a name or a word and never end a sentence.
_OTHER_TITLES = {
    # "z. B.", "Nr. 5", "Dr. Weidel", "bzw.", "vgl.", "sog.", "Mio.", "Mrd."
    "de": "z bzw ca dr nr st str vgl sog ggf evtl inkl hr fr prof mio mrd jh abs bspw",
    # "MM. Macron et Scholz", "Mme", "av. J.-C.", "p. ex."
    "fr": "mm mme mlle me dr pr st ste av bd cf ex env",
    # "EE. UU.", "Sr.", "Dña.", "pág.", "núm."
    "es": "ee sr sra srta dr dra dña ud uds lic av avda pág núm",
    "it": "sig sigg dott dr prof avv ing on sen",
    "pt": "sr sra dr dra prof av",
    # "им. Ленина", "ул. Тверская", "т. е.", "млн", "млрд", "тыс."
    "ru": "им ул пр проф акад св т млн млрд тыс руб",
    "uk": "ім вул пр проф акад св т млн млрд тис грн",
}
# Languages that write ordinals as a number and a stop: "am 3. Oktober", "der 1. FC Köln".
_ORDINAL_STOP = frozenset("de da no nb nn fi is cs sk sl hr sr pl hu tr et lv".split())
_ORDINAL = re.compile(r"^\d{1,3}\.$")


@dataclass(frozen=True)
class _SentenceRules:
    """What may sit before a stop without ending the sentence, in one language."""

    titles: frozenset[str]
    ordinal_stop: bool
    any_script_initials: bool


@lru_cache(maxsize=64)
def _sentence_rules(language: str) -> _SentenceRules:
    if language == ENGLISH:
        return _SentenceRules(_TITLES, ordinal_stop=False, any_script_initials=False)
    extra = frozenset(_OTHER_TITLES.get(language, "").split())
    return _SentenceRules(
        _TITLES | extra, ordinal_stop=language in _ORDINAL_STOP, any_script_initials=True
    )


def _is_initial(token: str, rules: _SentenceRules) -> bool:
    """One capital and a stop: "J." anywhere, "В." in Cyrillic text."""
    if _INITIAL.match(token):
        return True
    return rules.any_script_initials and len(token) == 2 and token[0].isupper()


_PARAGRAPHS = re.compile(r"\s*\n\s*")
# Control characters come from broken decoding or binary junk; they are never text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _previous_token(text: str, end: int) -> str:
    """The whitespace-delimited token that ends at ``end`` (punctuation included)."""
    start = text.rfind(" ", 0, end) + 1
    return text[start:end].lstrip(_OPENERS)


def _next_word(text: str, start: int) -> str:
    """The first word after ``start``, opening quotes and brackets skipped."""
    i = start
    while i < len(text) and (text[i] in _OPENERS or text[i].isspace()):
        i += 1
    j = i
    while j < len(text) and (text[j].isalnum() or text[j] in "'’-"):
        j += 1
    return text[i:j]


def _starts_sentence(word: str) -> bool:
    """Whether a word can open a sentence: capitalised, a number, or from a caseless script."""
    if not word:
        return False
    first = word[0]
    return first.isupper() or first.isdigit() or (first.isalpha() and not first.islower())


def _is_boundary(
    text: str, punct_start: int, punct: str, next_start: int, rules: _SentenceRules
) -> bool:
    """Decide whether the punctuation at ``punct_start`` really ends a sentence."""
    following = _next_word(text, next_start)
    if not _starts_sentence(following):
        return False  # '"Stop!" he said' / "e.g. apples"
    if punct != ".":
        return True
    token = _previous_token(text, punct_start + 1)
    bare = token[:-1].casefold()
    starter = following.casefold() in _SENTENCE_STARTERS
    if _is_initial(token, rules):
        return False  # "J. D. Vance", "George W. Bush"
    if bare in rules.titles:
        return False
    if rules.ordinal_stop and _ORDINAL.match(token):
        return False  # "am 3. Oktober"
    if bare in _NUMBER_ABBREVIATIONS:
        return not following[0].isdigit()
    if _DOTTED_ACRONYM.match(token):
        return starter and bare not in ("e.g", "i.e")
    if bare in _SOFT_ABBREVIATIONS:
        return starter
    return True


def _closes(before: str, quote: str) -> bool:
    """Whether a detached quote mark after the text ``before`` closes an open quotation."""
    opening = _OPENING_STRAIGHT.get(quote)
    if opening is None:
        return True  # a curly closing mark
    opened = len(opening.findall(before))
    return opened > len(_DETACHED_STRAIGHT[quote].findall(before))


def _split_paragraph(paragraph: str, rules: _SentenceRules) -> list[str]:
    """Split one paragraph (no newlines) into sentences."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(paragraph):
        end = match.end(2)
        next_start = match.end()
        quote = _DETACHED_QUOTE.match(paragraph, next_start)
        if quote and _closes(paragraph[:end], quote.group()):
            end = quote.end()
            next_start = end
            while next_start < len(paragraph) and paragraph[next_start].isspace():
                next_start += 1
        if not _is_boundary(paragraph, match.start(), match.group(1), next_start, rules):
            continue
        sentence = paragraph[start:end].strip()
        if sentence:
            sentences.append(sentence)
        start = next_start
    tail = paragraph[start:].strip()
    if tail:
        sentences.append(tail)
    return [piece for sentence in sentences for piece in _MISSING_STOP.split(sentence)]


def split_sentences(text: str, language: str | None = None) -> list[str]:
    """Split text into sentences; newlines always end one (paragraphs, list items).

    Abbreviations and ordinals follow the text's language (unknown: English).
    """
    rules = _sentence_rules(rules_language(language))
    sentences: list[str] = []
    for paragraph in _PARAGRAPHS.split(_CONTROL.sub(" ", text or "")):
        paragraph = clean_text(paragraph)
        if paragraph:
            sentences.extend(_split_paragraph(paragraph, rules))
    return sentences


# --------------------------------------------------------------------------------------
# Boilerplate: lines a reader never wants in a summary
# --------------------------------------------------------------------------------------

# Wire-service datelines glued to the first sentence: "(CNN) --", "LONDON, England
# (CNN) --", "WASHINGTON (Reuters) -", "NEW YORK -- ". Stripped so the sentence itself
# survives.
_DATELINE = re.compile(
    r"^(?:(?:[A-Z][A-Za-z.'-]*(?:[ ,]+[A-Z][A-Za-z.'-]*){0,4}\s*)?"
    r"\((?:CNN|CNNMoney|Reuters|AP|AFP|Bloomberg|UPI|EW\.com|Mashable)\)\s*(?:--|[-–—:])?"
    r"|[A-Z][A-Z.'-]+(?:[ ,]+[A-Z][A-Za-z.'-]*){0,4}\s+(?:--|[—–]))\s*"
)
# Daily-Mail-style header: "By . Jane Doe . PUBLISHED: 12:01 EST, 1 May 2013 . | .
# UPDATED: 13:02 EST, 1 May 2013 ." - removed before splitting, it is all junk.
_PUBLISHED_HEADER = re.compile(
    r"(?:By\s*\.?\s*[^.|]{0,60}?\s*\.\s*)?(?:\|\s*\.?\s*)?"
    r"(?:PUBLISHED|UPDATED|Published|Updated|Last updated)\s*:\s*\d{1,2}:\d{2}\s*"
    r"(?:[AP]M\s*)?(?:[A-Z]{2,4}\s*)?,?\s*\d{1,2}\s+[A-Z][a-z]+\s+\d{4}\s*\.?\s*(?:\|\s*\.?\s*)?"
)
# "By Jane Doe, CNN", "By . Daily Mail Reporter .", "By JANE DOE For Dailymail.com":
# case-sensitive on purpose, so "By Tuesday, the storm had passed." is not a byline.
_BYLINE = re.compile(
    r"^By\s*[.:]?\s+[A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|and|&|de|van|von|da|del))*"
    r"\s*(?:[,|/–—-]\s*(?:the\s+)?[A-Z][\w.&'’ -]{0,40})?\s*\.?$"
)
# Whole sentences that are site furniture rather than story: instructions at the
# start, photo credits anywhere.
_FURNITURE = re.compile(
    r"^(?:scroll\s+down|read\s+more|read\s+the\s+full|click\s+here|sign\s+up|subscribe\b"
    r"|follow\s+(?:us|@|\w+\s+on\s+twitter)|share\s+(?:this|on|or)\b|like\s+us\s+on"
    r"|watch\s+(?:the\s+)?video|related\s*:|advertisement\b|image\s+(?:copyright|caption)"
    r"|(?:photo|picture|image|video)\s*(?:credit)?\s*:|credit\s*:|source\s*:"
    r"|copyright\s+(?:©|\(c\)|\d{4})|©|all\s+rights\s+reserved|published\s*:|updated\s*:"
    r"|last\s+updated|see\s+also|more\s*:|download\s+the|get\s+the\s+app"
    r"|comments?\s*(?:\(\d+\)|$)|email\s+(?:to\s+a\s+friend|us\b|this\b))"
    r"|\b(?:getty\s+images|ap\s+photo|afp\s+photo|reuters/|file\s+photo|photo\s+credit"
    r"|\((?:photo|picture|image)\b|click\s+here|scroll\s+down\s+for)",
    re.IGNORECASE,
)
# Picture captions pasted into the text point at the picture: "(pictured)", "(left)".
_CAPTION_MARK = re.compile(
    r"\((?:pictured|picture|photo|file|left|right|centre|center|top|bottom|above|below|"
    r"inset|second\s+left|second\s+right|far\s+left|far\s+right|front|back|circled|"
    r"highlighted|main|top\s+left|top\s+right|bottom\s+left|bottom\s+right)[^)]{0,40}\)",
    re.IGNORECASE,
)
# Story sentences end with a stop; headings, captions and link lists do not.
_TERMINATED = re.compile(r"""[.!?…](?:\s?["'”’»)\]])*$""")
_MIN_WORDS = 6
_MAX_WORDS = 70  # beyond this it is almost always captions run together without stops


def _strip_dateline(sentence: str) -> str:
    """Drop a leading wire-service dateline, keeping the sentence it was glued to."""
    return _DATELINE.sub("", sentence, count=1)


def _is_furniture(sentence: str) -> bool:
    """Whether a sentence is a byline, site furniture or a caption: never shown."""
    return bool(
        _BYLINE.match(sentence) or _FURNITURE.search(sentence) or _CAPTION_MARK.search(sentence)
    )


def _is_fragment(sentence: str) -> bool:
    """Whether a sentence is too short, a run-on of captions, or a heading without a stop."""
    n_words = len(sentence.split())
    return n_words < _MIN_WORDS or n_words > _MAX_WORDS or not _TERMINATED.search(sentence)


# --------------------------------------------------------------------------------------
# Ranking
#
# Position-augmented centrality (after PacSum, Zheng & Lapata 2019, with TF-IDF
# vectors): a sentence matters when the sentences *after* it keep returning to its
# words (it introduced what the article goes on to develop) and less when it repeats
# what came *before*. A position prior adds the reporter's own judgement: news puts
# the essentials first. Measured with `python -m bench.summary_quality`.
# --------------------------------------------------------------------------------------

# Function words carry no topic; without them similarity is "shares many 'the's". Every
# story is "said", "told" and "new": reporting words count as function words here too.
_REPORTING_WORDS = frozenset("said says told new year years like get got".split())
# Reported speech in the first or second person is a quote or an opinion, rarely the
# news itself ("'I was staggered,' he said").
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|I'd|I'll|my|me|we|we're|we've|our|us|you|your)\b")

_TF_SATURATION = 1.2  # BM25's k1: a word's second mention counts, its tenth barely does
_BACKWARD_WEIGHT = 2.0  # echoing earlier sentences costs twice what foreshadowing earns
_LEAD_WEIGHT = 0.1  # position prior = _LEAD_WEIGHT / (1 + position)
_FIRST_PERSON_PENALTY = 0.3 * _LEAD_WEIGHT
_TITLE_WEIGHT = 0.1  # the headline names the story: sentences sharing its words gain
_REDUNDANCY_CUTOFF = 0.5  # cosine above which a sentence repeats one already chosen
_MIN_SENTENCES = 3
# Past three sentences, add more only while the summary is under two thirds of the
# target: ROUGE against three-line highlights drops by about a point per extra
# sentence, so a fourth is only worth it when the first three were short.
_FILL_RATIO = 2 / 3
_CHAR_CAP = 800  # ceiling for the three core sentences when they are long


@dataclass(frozen=True)
class _Sentence:
    """One content sentence of the article, with its unit-length TF-IDF vector."""

    position: int  # index among the article's content sentences
    text: str
    vector: dict[str, float]


def _content_terms(sentence: str, language: str | None) -> list[str]:
    """Stemmed terms without function words (of the text's language) or bare numbers."""
    stops = stop_words(language)
    return [
        t
        for t in terms(sentence, language)
        if t not in stops and t not in _REPORTING_WORDS and not t.isdigit()
    ]


def _dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Dot product of two sparse vectors (cosine, as vectors are unit length)."""
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


def _readable_sentences(text: str, language: str | None) -> list[str]:
    """The article's sentences with datelines stripped and furniture dropped."""
    text = _PUBLISHED_HEADER.sub(" ", text)
    kept: list[str] = []
    for sentence in split_sentences(text, language):
        sentence = _strip_dateline(sentence).strip()
        if sentence and not _is_furniture(sentence):
            kept.append(sentence)
    return kept


def _unit(weights: dict[str, float]) -> dict[str, float]:
    """Scale a sparse vector to unit length (empty stays empty)."""
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {t: w / norm for t, w in weights.items()} if norm else {}


def _vectorise(sentences: list[str], language: str | None) -> list[_Sentence]:
    """Unit TF-IDF vectors with IDF taken over the article's own sentences."""
    bags = [Counter(_content_terms(s, language)) for s in sentences]
    df = Counter(t for bag in bags for t in bag)
    n = len(sentences)
    idf = {t: math.log(1.0 + n / d) for t, d in df.items()}
    k = _TF_SATURATION
    return [
        _Sentence(i, s, _unit({t: idf[t] * tf * (k + 1) / (tf + k) for t, tf in bag.items()}))
        for i, (s, bag) in enumerate(zip(sentences, bags, strict=True))
    ]


def _scores(sentences: list[_Sentence], title: str | None, language: str | None) -> list[float]:
    """Forward-minus-backward centrality plus a lead prior, one score per sentence."""
    # Sum of cosines to all later (earlier) sentences = dot with their vector sum, so
    # one pass with a running prefix sum keeps this linear in the article length.
    total: Counter[str] = Counter()
    for s in sentences:
        total.update(s.vector)
    before: Counter[str] = Counter()
    title_vector = _unit(dict.fromkeys(_content_terms(title, language), 1.0)) if title else {}
    n = max(1, len(sentences) - 1)
    scores = []
    for s in sentences:
        backward = _dot(s.vector, before)
        forward = _dot(s.vector, total) - backward - _dot(s.vector, s.vector)
        before.update(s.vector)
        score = (forward - _BACKWARD_WEIGHT * backward) / n + _LEAD_WEIGHT / (1 + s.position)
        if title_vector:
            score += _TITLE_WEIGHT * _dot(s.vector, title_vector)
        if _FIRST_PERSON.search(s.text):
            score -= _FIRST_PERSON_PENALTY
        scores.append(score)
    return scores


def _select(
    sentences: list[_Sentence], scores: list[float], max_sentences: int, target_chars: int
) -> list[_Sentence]:
    """Best-first selection within the length budget, skipping near-repeats."""
    core = min(_MIN_SENTENCES, max_sentences)
    chosen: list[_Sentence] = []
    length = 0
    for i in sorted(range(len(sentences)), key=lambda i: -scores[i]):
        if len(chosen) >= max_sentences:
            break
        if len(chosen) >= core and (length >= _FILL_RATIO * target_chars or scores[i] <= 0):
            # Three sentences that already read as a summary, or candidates that echo
            # more of what came before than they introduce: more would be padding.
            break
        s = sentences[i]
        if any(_dot(s.vector, c.vector) > _REDUNDANCY_CUTOFF for c in chosen):
            continue
        # The core sentences may stretch to the cap; extra ones must fit the target.
        budget = max(_CHAR_CAP, target_chars) if len(chosen) < core else target_chars
        if chosen and length + 1 + len(s.text) > budget:
            continue
        chosen.append(s)
        length += len(s.text) + (1 if length else 0)
    return sorted(chosen, key=lambda s: s.position)


def summarize(
    text: str,
    *,
    title: str | None = None,
    max_sentences: int = 5,
    target_chars: int = 600,
    language: str | None = None,
) -> str:
    """A few sentences that carry the story, in article order: a digest-sized preview.

    Sentence rules, stems and function words are those of `language` (unknown: English).
    """
    readable = _readable_sentences(text or "", language)
    sentences = [s for s in readable if not _is_fragment(s)]
    if not sentences:
        # Nothing reads as a full sentence (a teaser without stops, a one-liner): show
        # what there is rather than nothing, within the target.
        return truncate(" ".join(readable), target_chars)
    vectors = _vectorise(sentences, language)
    chosen = _select(
        vectors, _scores(vectors, title, language), max(1, max_sentences), target_chars
    )
    return " ".join(s.text for s in chosen)


def summarize_reports(
    reports: Sequence[str],
    *,
    title: str | None = None,
    max_sentences: int = 4,
    target_chars: int = 600,
    language: str | None = None,
) -> str:
    """A few sentences drawn from several outlets' reports of one story, no fact twice.

    A sentence that other reports echo carries the story's core, so it is scored by its
    similarity to the *other* reports' sentences plus each report's own lead prior; a
    sentence close to one already chosen repeats it and is skipped, so each added one
    brings something the others did not. Chosen sentences keep their reports' order.
    """
    pooled: list[tuple[int, str]] = []  # (report, sentence)
    for number, report in enumerate(reports):
        for sentence in _readable_sentences(report or "", language):
            if not _is_fragment(sentence):
                pooled.append((number, sentence))
    if not pooled:
        return ""
    vectors = _vectorise([sentence for _, sentence in pooled], language)
    by_report: dict[int, Counter[str]] = {}
    for (number, _sentence), vector in zip(pooled, vectors, strict=True):
        by_report.setdefault(number, Counter()).update(vector.vector)
    total: Counter[str] = Counter()
    for bag in by_report.values():
        total.update(bag)
    title_vector = _unit(dict.fromkeys(_content_terms(title, language), 1.0)) if title else {}
    first_in_report = {number: index for index, (number, _s) in reversed(list(enumerate(pooled)))}
    scores = []
    for index, ((number, sentence), vector) in enumerate(zip(pooled, vectors, strict=True)):
        echoed = _dot(vector.vector, total) - _dot(vector.vector, by_report[number])
        position = index - first_in_report[number]
        score = (
            echoed
            + _LEAD_WEIGHT / (1 + position)
            + _TITLE_WEIGHT * _dot(vector.vector, title_vector)
        )
        if _FIRST_PERSON.search(sentence):
            score -= _FIRST_PERSON_PENALTY
        scores.append(score)
    chosen = _select(vectors, scores, max(1, max_sentences), target_chars)
    return " ".join(s.text for s in chosen)


def new_sentences(text: str, known: Sequence[str], *, language: str | None = None) -> list[str]:
    """The sentences of `text` that none of the `known` texts already says: each is further
    from every known sentence than a summary allows between two it picks."""
    fresh = [s for s in _readable_sentences(text or "", language) if not _is_fragment(s)]
    if not fresh:
        return []
    said = [s for report in known for s in _readable_sentences(report or "", language)]
    vectors = _vectorise([*said, *fresh], language)
    known_vectors, fresh_vectors = vectors[: len(said)], vectors[len(said) :]
    return [
        s.text
        for s in fresh_vectors
        if s.vector and all(_dot(s.vector, k.vector) <= _REDUNDANCY_CUTOFF for k in known_vectors)
    ]
