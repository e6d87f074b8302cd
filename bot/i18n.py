"""The interface's languages: one gettext catalog per language, picked per reply or digest.

Catalogs are the `.po` files under `bot/locales/`, compiled in memory on first use, so a
checkout runs without a build step. The language of the code running now is a context
variable: an update's handlers and a digest's rendering each set it for their chat, and
every `gettext` call below reads it, the way gettext-based web frameworks do per request.
"""

from __future__ import annotations

import gettext as gnu_gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT_LANGUAGE = "en"
# Interface languages in the order /language offers them; each but English has a catalog.
LANGUAGES: tuple[str, ...] = ("en", "ru", "uk", "de", "fr", "es", "pt", "it")
# Each language's own name for itself, as its speakers would look for it on a button.
NATIVE_NAMES: dict[str, str] = {
    "en": "English",
    "ru": "Русский",
    "uk": "Українська",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "it": "Italiano",
}
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("interface_language", default=DEFAULT_LANGUAGE)


def supported_language(code: str | None) -> str | None:
    """Our interface language for a Telegram `language_code` ("pt-br" -> "pt"), if we have it."""
    if not code:
        return None
    base = code.replace("_", "-").split("-", 1)[0].strip().lower()
    return base if base in LANGUAGES else None


def catalog_path(language: str) -> Traversable:
    """Where a language's catalog lives inside the installed package."""
    return resources.files("bot") / "locales" / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gnu_gettext.NullTranslations:
    """The compiled catalog of one language; English (the source text) needs none."""
    if language == DEFAULT_LANGUAGE or language not in LANGUAGES:
        return gnu_gettext.NullTranslations()
    with catalog_path(language).open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out: English until reviewed
    compiled.seek(0)
    return gnu_gettext.GNUTranslations(compiled)


def current_language() -> str:
    """The interface language of the reply or digest being written now."""
    return _current.get()


def set_language(language: str) -> None:
    """Speak `language` for the rest of this task (an update's handlers run in one task)."""
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


@contextmanager
def using_language(language: str) -> Iterator[None]:
    """Speak `language` inside the block only (one digest among many chats)."""
    token = _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """`message` in the current language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a counted message that the current language uses for `count`."""
    return translations(_current.get()).ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """`message` in the current language where the same English has two meanings."""
    return translations(_current.get()).pgettext(context, message)


def N_(message: str) -> str:
    """Mark a module-level string for the catalog; translate it with `gettext` where shown."""
    return message


_ = gettext
