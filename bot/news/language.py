"""Which language a text is in, and how words of each language are compared.

A feed usually says its language (`<language>`, `dc:language`, `xml:lang`); when it
does not, py3langid guesses from the text with a model shipped inside the package, so
nothing is downloaded at run time. Each language then gets its own Snowball stemmer
(PyStemmer) and stop words (the `stop-words` package), so "Verhandlungen" meets
"Verhandlung" and German "der" is never a trending topic.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import Stemmer
import stop_words

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

ENGLISH = "en"
# Shorter texts say too little: "Live" or "Brexit" alone is any language.
MIN_DETECT_CHARS = 20
# Below this probability a guess is no better than not knowing; unknown is indexed as English.
MIN_CONFIDENCE = 0.5
DETECT_CHARS = 1000
# A feed's language is the one this share of its confidently detected items are in.
FEED_MAJORITY = 0.8

# ISO 639-1 code -> Snowball algorithm in PyStemmer.
_STEMMERS = {
    "ar": "arabic",
    "hy": "armenian",
    "eu": "basque",
    "ca": "catalan",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "el": "greek",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "ga": "irish",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "no": "norwegian",
    "nb": "norwegian",
    "nn": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "es": "spanish",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
# ISO 639-1 code -> list name in the stop-words package (English keeps bot.news.text's).
_STOP_LISTS = {
    "ar": "arabic",
    "bg": "bulgarian",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "nl": "dutch",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "no": "norwegian",
    "nb": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sk": "slovak",
    "es": "spanish",
    "sv": "swedish",
    "tr": "turkish",
    "uk": "ukrainian",
    "el": "greek",
    "fa": "persian",
    "he": "hebrew",
}
# Languages that capitalise every noun: there a capital letter does not mark a name.
_NOUNS_CAPITALISED = frozenset({"de", "lb"})
_CODE = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*\s*$")


def normalise_language(value: object) -> str | None:
    """The primary ISO code of a language tag ("de-DE" -> "de"), or None if it is none."""
    if not isinstance(value, str):
        return None
    match = _CODE.match(value)
    return match.group(1).lower() if match else None


def detect_language(*parts: str | None) -> str | None:
    """The language a text is most likely in, or None when the text is too short or unclear."""
    text = " ".join(part for part in parts if part)[:DETECT_CHARS]
    if len(text.strip()) < MIN_DETECT_CHARS:
        return None
    language, confidence = _identifier().classify(text)
    return str(language) if confidence >= MIN_CONFIDENCE else None


def detect_languages(texts: Sequence[tuple[str | None, ...]]) -> list[str | None]:
    """The language of each of a feed's texts; one too short to tell takes the feed's own.

    A feed's items nearly always share a language, and a headline of four words says
    less than twenty of them: the language most of the confident guesses name fills in
    where a single item is unclear.
    """
    guesses = [detect_language(*parts) for parts in texts]
    counts = Counter(guess for guess in guesses if guess)
    if not counts:
        return guesses
    language, votes = counts.most_common(1)[0]
    if votes < FEED_MAJORITY * sum(counts.values()):
        return guesses
    return [guess or language for guess in guesses]


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    """The model, loaded once (about a second) and only when a feed does not say.

    Imported here too: py3langid brings numpy, 16 MB of a process that may never need it
    (the parse workers detect languages; the bot itself rarely does)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def capitalises_nouns(language: str | None) -> bool:
    """Whether the language writes every noun with a capital (German), hiding names."""
    return language in _NOUNS_CAPITALISED


def stemmer_of(language: str) -> Stemmer.Stemmer | None:
    """A Snowball stemmer for the language, or None when Snowball has none (Ukrainian)."""
    algorithm = _STEMMERS.get(language)
    return Stemmer.Stemmer(algorithm) if algorithm else None


def stop_words_of(language: str) -> list[str]:
    """Function words of a language as its speakers write them; empty if we have no list."""
    name = _STOP_LISTS.get(language)
    return list(stop_words.get_stop_words(name)) if name else []
