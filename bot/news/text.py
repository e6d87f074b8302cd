"""Text normalisation shared by ingestion, search, trending and story matching.

Everything that turns human text into comparable terms lives here, so that what is
indexed and what is searched for go through exactly the same steps on every backend.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import Stemmer

from bot.news.language import ENGLISH, stemmer_of, stop_words_of

_TAG = re.compile(r"<[^>]*>")
# Inline tags sit inside words and sentences: removing them must not add a space.
_INLINE_TAG = re.compile(
    r"</?(?:a|abbr|b|bdi|bdo|cite|code|em|font|i|kbd|mark|q|s|small|span|strong|sub|sup|u|var)\b[^>]*>",
    re.IGNORECASE,
)
# Letters and digits of any script; everything else (dashes, apostrophes, dots) splits.
WORD = re.compile(r"[^\W_]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
# "U.S.", "U.N.": one word, so that "US" finds "U.S." and the other way round.
_DOTTED_ACRONYM = re.compile(r"(?<![\w.])(?:[^\W\d_]\.){2,}")
# In every dotted acronym, and found by a scan for dots: most text with a dot has none.
_DOTTED_LETTER = re.compile(r"\.[^\W\d_]\.")
_ENGLISH_STEMMER = Stemmer.Stemmer("english")

# A standard English stop-word list (other languages' come with bot.news.language):
# function words that never name a topic, never tell two stories apart and never make a
# sentence central. Folded, not stemmed.
STOP_WORDS = frozenset(
    """
    a about above across after afterwards again against ago all almost alone along
    already also although always am among amongst an and another any anybody anyhow
    anyone anything anyway anywhere are aren around as at be became because become
    becomes becoming been before beforehand behind being below beside besides between
    beyond both but by can cannot could couldn did didn do does doesn doing don done
    down during each either else elsewhere enough etc even ever every everybody everyone
    everything everywhere except few for former formerly from further had hadn has
    hasn have haven having he hence her here hereafter hereby herein hers herself him
    himself his how however i ie if in indeed into is isn it its itself just least less
    ll many may me meanwhile might mine more moreover most mostly much must my myself
    namely neither never nevertheless no nobody none nor not nothing now nowhere of off
    often on once only onto or other others otherwise our ours ourselves out over own
    per perhaps please quite rather re really same shall she should shouldn since so
    some somehow someone something sometime sometimes somewhere still such than that
    the their theirs them themselves then thence there thereafter thereby therefore
    therein thereupon these they this those though through throughout thru thus to
    together too toward towards under unless until up upon us very via vs was wasn we
    well were weren what whatever when whence whenever where whereas whereby wherever
    whether which while whither who whoever whole whom whose why will with within
    without won would wouldn yet you your yours yourself yourselves
    ain d ll m o s t ve y
    one two three four five six seven eight nine ten hundred thousand million billion
    first second third last next
    """.split()
)

_TRACKING_PARAMS = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "ocid", "cmpid")


def clean_text(value: str | None) -> str:
    """Strip tags and entities and collapse whitespace: feed text as a reader sees it."""
    if not value:
        return ""
    text = _TAG.sub(" ", _INLINE_TAG.sub("", value))
    text = html.unescape(text)
    # Entities may have encoded tags themselves (double-escaped feeds).
    if "<" in text and ">" in text:
        text = html.unescape(_TAG.sub(" ", _INLINE_TAG.sub("", text)))
    text = text.replace("\u00a0", " ").replace("\u200b", "")
    # str.split() and re's \s agree on what is whitespace; splitting is 4x faster.
    return " ".join(text.split())


def fold(value: str) -> str:
    """Lower-case and drop diacritics, so "José" and "jose" compare equal."""
    if value.isascii():
        # Nothing to decompose: the common case for English feeds, and a hot path.
        return value.lower()
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def join_acronyms(value: str) -> str:
    """Write dotted acronyms without their dots: "U.S." becomes "US"."""
    if "." not in value or _DOTTED_LETTER.search(value) is None:
        # Most text has no dotted acronym: a search ranks hundreds of titles per query.
        return value
    return _DOTTED_ACRONYM.sub(lambda m: m.group(0).replace(".", ""), value)


def words(value: str) -> list[str]:
    """The folded words of a text; dashes, dots and apostrophes separate words."""
    folded = fold(join_acronyms(value))
    # Folded ASCII text has only these letters and digits: the same words, found faster.
    return (_ASCII_WORD if folded.isascii() else WORD).findall(folded)


def rules_language(language: str | None) -> str:
    """The language whose rules apply: an unknown one is read as English, as it always was."""
    return language or ENGLISH


@lru_cache(maxsize=200_000)
def stem(word: str, language: str | None = None) -> str:
    """Folded Snowball stem of one word in its language ("drugs" -> "drug").

    English folds first and stems the folded word, which is how every row before
    languages was indexed. Other languages stem the word with its diacritics (Russian
    "й" is not "и"; French endings have accents) and fold the stem.
    """
    language = rules_language(language)
    if language == ENGLISH:
        return _ENGLISH_STEMMER.stemWord(fold(word))
    stemmer = _stemmer(language)
    if stemmer is None:
        return fold(word)
    return fold(stemmer.stemWord(unicodedata.normalize("NFC", word).casefold()))


@lru_cache(maxsize=64)
def _stemmer(language: str) -> Stemmer.Stemmer | None:
    return stemmer_of(language)


@lru_cache(maxsize=64)
def stop_words(language: str | None = None) -> frozenset[str]:
    """Folded function words of a language: never a topic, never what two stories share."""
    language = rules_language(language)
    if language == ENGLISH:
        return STOP_WORDS
    return frozenset(fold(word) for word in stop_words_of(language))


def terms(value: str, language: str | None = None) -> list[str]:
    """Search terms of a text in its language: folded, split and stemmed, in order."""
    language = rules_language(language)
    if language == ENGLISH:
        return [stem(w) for w in words(value)]
    # Split before folding: the stemmer needs the diacritics folding would drop.
    written = WORD.findall(unicodedata.normalize("NFC", join_acronyms(value)).casefold())
    return [stem(w, language) for w in written]


def search_document(*parts: str | None, language: str | None = None) -> str:
    """The text a search index stores for an article: its terms joined by spaces."""
    return " ".join(" ".join(terms(p, language)) for p in parts if p)


# A link canonical_url would give back unchanged: lower-case http(s) scheme and host, a
# path, no query, fragment, user or space.
_CANONICAL_ALREADY = re.compile(r"https?://[a-z0-9.\-]+(?::[0-9]+)?/[^?#\s]*\Z")


def canonical_url(url: str | None) -> str | None:
    """Drop tracking parameters and fragments so one story has one link."""
    if not url:
        return None
    url = url.strip()
    if _CANONICAL_ALREADY.match(url):
        return url  # a link read by the parser is canonical already: not split again
    try:
        parts = urlsplit(url)
    except ValueError:
        return url or None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return url or None
    query = parts.query and urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.lower().startswith(_TRACKING_PARAMS)
        ]
    )
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters: cut at a word boundary, with an ellipsis, when too long."""
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:-\u2013\u2014") + "\u2026"


def as_utc(moment: datetime) -> datetime:
    """An aware instant in UTC; a naive one is taken to be UTC already (feeds mix both)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
