"""Text normalisation shared by ingestion, search, trending and story matching.

Everything that turns human text into comparable terms lives here, so that what is
indexed and what is searched for go through exactly the same steps on every backend.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import Stemmer

_TAG = re.compile(r"<[^>]*>")
# Inline tags sit inside words and sentences: removing them must not add a space.
_INLINE_TAG = re.compile(
    r"</?(?:a|abbr|b|bdi|bdo|cite|code|em|font|i|kbd|mark|q|s|small|span|strong|sub|sup|u|var)\b[^>]*>",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")
# Letters and digits of any script; everything else (dashes, apostrophes, dots) splits.
WORD = re.compile(r"[^\W_]+")
# "U.S.", "U.N.": one word, so that "US" finds "U.S." and the other way round.
_DOTTED_ACRONYM = re.compile(r"(?<![\w.])(?:[^\W\d_]\.){2,}")
_STEMMER = Stemmer.Stemmer("english")

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
    return _SPACE.sub(" ", text).strip()


def fold(value: str) -> str:
    """Lower-case and drop diacritics, so "José" and "jose" compare equal."""
    if value.isascii():
        # Nothing to decompose: the common case for English feeds, and a hot path.
        return value.lower()
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def join_acronyms(value: str) -> str:
    """Write dotted acronyms without their dots: "U.S." becomes "US"."""
    return _DOTTED_ACRONYM.sub(lambda m: m.group(0).replace(".", ""), value)


def words(value: str) -> list[str]:
    """The folded words of a text; dashes, dots and apostrophes separate words."""
    return WORD.findall(fold(join_acronyms(value)))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball English stem of one folded word ("drugs" -> "drug")."""
    return _STEMMER.stemWord(word)


def terms(value: str) -> list[str]:
    """Search terms of a text: folded, split and stemmed, in order."""
    return [stem(w) for w in words(value)]


def search_document(*parts: str | None) -> str:
    """The text a search index stores for an article: its terms joined by spaces."""
    return " ".join(" ".join(terms(p)) for p in parts if p)


def canonical_url(url: str | None) -> str | None:
    """Drop tracking parameters and fragments so one story has one link."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url or None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return url or None
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING_PARAMS)
    ]
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(query), "")
    )
