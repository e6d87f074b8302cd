"""A feed read by feedparser-rs, shaped as feedparser's result, or None: feedparser reads it.

feedparser is the reference: parse.py normalises feedparser's reading of a feed.
feedparser-rs (Rust) reads a well-formed UTF-8 feed tens of times faster; its entries are
turned here into plain dicts with the keys and meanings parse.py reads of feedparser's
(links and guids resolved, text mended as feedparser does it), so a stored item does not
depend on which parser read it. Wherever the two could read a document differently,
feedparser reads it instead: not plain UTF-8; not well-formed (feedparser's recovery is
the behaviour the bot keeps); a count of items other than the document's <item>/<entry>
elements; an item whose bytes hold a link, guid or date feedparser-rs did not read; and
the markers below.
"""

from __future__ import annotations

import contextlib
import html
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import feedparser_rs

# feedparser's own mending and link resolving, so the two readings cannot drift apart.
from feedparser.mixin import _cp1252 as _CP1252
from feedparser.urls import _urljoin

from bot.news.feeds.encoding import declared_utf8

# Items as a reader finds them in the bytes: <item>, <entry>, with or without a prefix.
_ITEM_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s/>]")
# xml:base and xml:lang (feedparser inherits them down to every text it reads),
# base64 text (feedparser decodes it); and feedparser keeps the first description-like
# element of an item as its summary and the rest as its content, in document order,
# where feedparser-rs keeps media:description apart.
_FEEDPARSER_ONLY = (b"xml:base", b"base64", b"<media:description")
# The one xml:lang fast reading takes: on the root element, with no <language> or
# <dc:language> after it (feedparser lets that override it for the elements that follow).
_ROOT_LANG = re.compile(
    rb"""^(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*"""
    rb"""<(?:[A-Za-z_][\w.-]*:)?(?:feed|rss|RDF)\s[^>]*?\bxml:lang\s*=\s*["']([^"'<>]*)["']""",
    re.S,
)
_LANGUAGE_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?language[\s>]")
_LINK = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?link[\s/>]")
_GUID = re.compile(rb"<(?:guid|id)[\s>]")
_DATE = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?(?:pubDate|published|updated|date|issued|modified|created)[\s>]"
)
# The element an item's author text sits in: <author>, <name> (Atom), <dc:creator>.
_AUTHOR_TEXT = rb"(?:author|name|creator)>\s*(?:<!\[CDATA\[)?\s*%s"
_PERMALINK = re.compile(rb"""isPermaLink\s*=\s*["']([^"']*)""", re.I)
_ENTITY_IN_LINK = re.compile(r"&[A-Za-z0-9_]+;")
# UTF-8 text encoded as UTF-8 a second time, and C1 controls: feedparser mends both
# (Latin-1 back to UTF-8, C1 to windows-1252) value by value, after its sanitiser.
_MOJIBAKE = re.compile(rb"\xc2[\x80-\x9f]|\xc3[\x82-\xaf]\xc2[\x80-\xbf]")
# Elements whose text feedparser's sanitiser drops with them (clean_text would keep it).
# (Two patterns, each led by a literal: one pattern with alternatives scans 4x slower.)
_SANITISED = (
    re.compile(rb"<(?i:script|style|applet)"),
    re.compile(rb"&(?i:lt;(?:script|style|applet))"),
)
_XML_REFERENCE = re.compile(r"&(amp|lt|gt|quot|apos|#[0-9]+|#[xX][0-9A-Fa-f]+);")
_XML_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_LIMITS = feedparser_rs.ParserLimits()
# An absolute http(s) link that urllib's urljoin gives back unchanged: a lower-case scheme,
# one "//", an ASCII host, and no whitespace, path parameters, brackets, or empty query or
# fragment (urlunparse would drop the "?" or "#"). Most links are: resolving them costs more
# than the rest of reading an item.
_PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[^\s;?#\[\]]*)?(?:\?[^\s#\[\]]+)?(?:#[^\s\[\]]+)?\Z"
)
_C1 = re.compile("[\x80-\x9f]")  # the only characters feedparser's _cp1252 table maps
_DATE_KEYS = ("published_parsed", "updated_parsed", "created_parsed")


def read_fast(data: bytes, headers: Mapping[str, str], base: str) -> dict[str, Any] | None:
    """feedparser-shaped {"feed", "entries", "version"} of `data`, or None to use feedparser.

    `data` is the document as feedparser would get it (after mend_utf8), `headers` the
    response's (lower-case names), `base` the absolute URL relative links resolve against.
    """
    if not declared_utf8(data, headers) or not _plain_document(data):
        return None
    lang = _root_language(data)
    if lang is False:
        return None
    try:
        result = feedparser_rs.parse_with_limits(
            data, limits=_LIMITS, sanitize_html=False, resolve_relative_uris=False
        )
    except Exception:  # noqa: BLE001 - a Rust panic or any refusal: feedparser decides
        return None
    if result.bozo or not result.version or not result.entries:
        return None
    starts = [match.start() for match in _ITEM_TAG.finditer(data)]
    if len(result.entries) != len(starts):
        return None
    # feedparser-rs leaves the entity and character references of an Atom document's
    # attributes as written ("?a=1&amp;b=2"): its links and media URLs are decoded here.
    attribute = _xml_unescape if result.version.startswith("atom") else _same
    feed = _feed(result.feed, base, attribute)
    if lang:  # feedparser: the root's xml:lang is the feed's language and every text's
        feed["language"] = lang
    if _ENTITY_IN_LINK.search(feed["link"] or ""):
        return None  # feedparser rewrites "&name;" in links its own way
    entries = []
    for raw, start, end in zip(result.entries, starts, [*starts[1:], len(data)], strict=True):
        entry = _entry(raw, data[start:end], base, attribute)
        if entry is None:
            return None
        if lang and not entry["title_detail"]["language"]:
            entry["title_detail"]["language"] = lang
        entries.append(entry)
    return {"feed": feed, "entries": entries, "version": result.version}


def _plain_document(data: bytes) -> bool:
    """Valid UTF-8 with nothing feedparser-rs reads differently from feedparser."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if any(marker in data for marker in _FEEDPARSER_ONLY):
        return False
    if any(pattern.search(data) for pattern in _SANITISED):
        return False
    # feedparser's mending of a value depends on how character references split its text.
    return b"&#" not in data or _MOJIBAKE.search(data) is None


def _root_language(data: bytes) -> str | None | bool:
    """The root element's xml:lang as feedparser spells it, None if the document has no
    xml:lang, False if it has one elsewhere or a language element that would override it."""
    if b"xml:lang" not in data:
        return None
    match = _ROOT_LANG.match(data[:4096])
    if match is None or data.count(b"xml:lang") != 1 or _LANGUAGE_ELEMENT.search(data):
        return False
    # An empty xml:lang declares none; feedparser writes "en_GB" as "en-GB".
    return match.group(1).decode("utf-8").replace("_", "-") or None


def _feed(feed: Any, base: str, attribute: Callable[[Any], Any]) -> dict[str, Any]:
    return {
        "title": _text(feed.get("title")),
        "link": _link(base, attribute(feed.get("link"))),
        "language": feed.get("language"),
        "ttl": feed.get("ttl"),
    }


def _entry(
    raw: Any, item: bytes, base: str, attribute: Callable[[Any], Any]
) -> dict[str, Any] | None:
    """The keys parse._entry and images.entry_image read, as feedparser gives them, or None
    when `item` (the item's bytes) holds a link, id or date feedparser-rs did not read."""
    entry: dict[str, Any] = {
        "title": _text(raw.get("title")),
        "link": _link(base, attribute(raw.get("link"))),
        "summary": _text(raw.get("summary")),
        "content": [{"value": _text(part.get("value"))} for part in raw.get("content") or []],
        "id": _id(raw, item, base),
        "author": _own_author(raw, item),
        "title_detail": {"language": (raw.get("title_detail") or {}).get("language")},
        "media_content": [_media(media, attribute) for media in raw.get("media_content") or []],
        "media_thumbnail": [_media(thumb, attribute) for thumb in raw.get("media_thumbnail") or []],
        "links": [_href(link, attribute) for link in raw.get("links") or []],
        "enclosures": [_href(enclosure, attribute) for enclosure in raw.get("enclosures") or []],
    }
    for key in _DATE_KEYS:
        if parsed := raw.get(key):
            entry[key] = time.struct_time(parsed)
    if _ENTITY_IN_LINK.search(entry["link"] or ""):
        return None  # feedparser rewrites "&name;" in links its own way
    if not entry["link"] and _LINK.search(item):
        return None
    if not entry["id"] and _GUID.search(item):
        return None
    if not any(key in entry for key in _DATE_KEYS) and _DATE.search(item):
        return None
    return entry


def _xml_unescape(value: Any) -> Any:
    """An attribute's value with XML's entity and character references decoded."""
    if not isinstance(value, str) or "&" not in value:
        return value
    return _XML_REFERENCE.sub(_xml_character, value)


def _xml_character(match: re.Match[str]) -> str:
    name = match.group(1)
    if name[0] != "#":
        return _XML_ENTITIES[name]
    try:
        return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))
    except (ValueError, OverflowError):
        return match.group(0)


def _same(value: Any) -> Any:
    return value


def _text(value: str | None) -> str | None:
    """`value` mended as feedparser mends every value of a UTF-8 document."""
    if not value or value.isascii():  # most values: nothing to mend, and mending is slow
        return value
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        value = value.encode("iso-8859-1").decode("utf-8")
    return value.translate(_CP1252) if _C1.search(value) else value


def _link(base: str, value: str | None) -> str | None:
    """A link resolved against the base as feedparser resolves it."""
    text = _text(value)
    return _resolved(base, text) if text else text


def _resolved(base: str, value: str) -> str:
    """feedparser's _urljoin(base, value), which leaves a plain absolute link as it is."""
    return value if _PLAIN_URL.match(value) else _urljoin(base, value)


def _id(raw: Any, item: bytes, base: str) -> str | None:
    """feedparser resolves a guid against the base unless it says isPermaLink="false"."""
    value = _text(raw.get("id"))
    permalink = _PERMALINK.search(item) if b"ispermalink" in item.lower() else None
    if value and (permalink is None or permalink.group(1) == b"true"):
        return _resolved(base, value)
    return value


def _own_author(raw: Any, item: bytes) -> str | None:
    """The item's author if the item itself names it: feedparser-rs also gives an item the
    feed's author, and after an empty element it can give the next element's text."""
    author = raw.get("author")
    if not author:
        return None
    escaped = html.escape(author, quote=False).encode("utf-8")
    if re.search(_AUTHOR_TEXT % re.escape(escaped), item) is None:
        return None
    detail = raw.get("author_detail")
    # Like feedparser's, its name without the e-mail address of "mail@host (Name)".
    return _text((detail.get("name") if detail else None) or author)


def _href(link: Any, attribute: Callable[[Any], Any]) -> dict[str, Any]:
    return {"rel": link.get("rel"), "type": link.get("type"), "href": attribute(link.get("href"))}


def _media(media: Any, attribute: Callable[[Any], Any]) -> dict[str, Any]:
    return {
        "url": attribute(media.get("url")),
        "medium": media.get("medium"),
        "type": media.get("type"),
        "width": media.get("width"),
        "height": media.get("height"),
    }
