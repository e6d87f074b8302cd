"""OPML, the format feed readers exchange source lists in.

Files come from strangers (a document sent to the bot), so they are read by expat with
no DTD processing: an entity declaration of any kind (the billion laughs, an external
entity naming a file or URL) refuses the whole file before anything is expanded, and
external DTD subsets are never loaded. Feed lists never need entities beyond XML's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn
from xml.parsers import expat
from xml.sax.saxutils import quoteattr


class OPMLError(Exception):
    """The document is not an OPML source list."""


class FileTooLarge(OPMLError):
    """The file is larger than the caller reads."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


class NotXML(OPMLError):
    """The bytes are not well-formed XML."""


class UnsafeXML(OPMLError):
    """The document declares entities, which an OPML list never needs."""


class NotOPML(OPMLError):
    """Well-formed XML whose root is not <opml> (an RSS feed, say)."""

    def __init__(self, root: str) -> None:
        super().__init__(f"not OPML: the document is <{root}>")
        self.root = root


class TooManyOutlines(OPMLError):
    """More feed outlines than the caller takes from one file."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"lists more than {limit} feeds")
        self.limit = limit


class NoFeeds(OPMLError):
    """An OPML document with no outline naming a feed (no xmlUrl)."""


@dataclass(frozen=True)
class OutlineFeed:
    """One feed of an OPML list."""

    url: str
    title: str


def read_outlines(content: bytes, *, max_feeds: int | None = None) -> list[OutlineFeed]:
    """Every outline with an xmlUrl, whatever its scheme, in document order with repeats:
    what a file lists, for a caller that reports on each. TooManyOutlines past `max_feeds`."""
    outlines: list[OutlineFeed] = []
    root = ""

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal root
        root = root or name
        # Not OPML is said once the whole is known to be XML: an HTML page is "not XML".
        if name != "outline" or root.lower() != "opml":
            return
        url = _attribute(attributes, "xmlurl").strip()
        if not url:
            return
        if max_feeds is not None and len(outlines) >= max_feeds:
            raise TooManyOutlines(max_feeds)
        title = (_attribute(attributes, "title") or _attribute(attributes, "text")).strip()
        outlines.append(OutlineFeed(url=url, title=title))

    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_entity
    # An entity left unexpanded means the file leans on a DTD that is never read.
    parser.SkippedEntityHandler = _refuse_entity
    parser.StartElementHandler = start
    try:
        parser.Parse(content, True)
    except expat.ExpatError as exc:
        raise NotXML(f"not valid OPML: {exc}") from None
    if root.lower() != "opml":
        raise NotOPML(root)
    return outlines


def feed_list(content: bytes, *, max_bytes: int, max_feeds: int) -> list[OutlineFeed]:
    """A file someone sent, read within limits: its feed outlines as `read_outlines` gives
    them, or the OPMLError that refuses the whole file (too large, not XML, entities, not
    OPML, too many feeds, none at all)."""
    if len(content) > max_bytes:
        raise FileTooLarge(max_bytes)
    outlines = read_outlines(content, max_feeds=max_feeds)
    if not outlines:
        raise NoFeeds("lists no feeds (no outline has an xmlUrl)")
    return outlines


def parse_opml(content: bytes) -> list[OutlineFeed]:
    """Every outline with an http(s) xmlUrl, in document order, without repeats."""
    feeds: dict[str, OutlineFeed] = {}
    for outline in read_outlines(content):
        if outline.url.startswith(("http://", "https://")) and outline.url not in feeds:
            feeds[outline.url] = outline
    return list(feeds.values())


def render_opml(feeds: list[OutlineFeed], *, title: str = "newsbot sources") -> str:
    """An OPML 2.0 document listing the feeds, for import into any feed reader."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{_escape(title)}</title></head>",
        "  <body>",
    ]
    for feed in feeds:
        name = quoteattr(_xml_chars(feed.title or feed.url))
        url = quoteattr(_xml_chars(feed.url))
        lines.append(f'    <outline type="rss" text={name} title={name} xmlUrl={url}/>')
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _attribute(attributes: dict[str, str], name: str) -> str:
    """An attribute by name in any case: exporters write xmlUrl, xmlurl and XMLURL."""
    for key, value in attributes.items():
        if key.lower() == name:
            return value
    return ""


def _refuse_entity(*args: object) -> NoReturn:
    raise UnsafeXML("declares XML entities, which an OPML list never needs")


# Characters XML 1.0 cannot carry even escaped: a feed title holding one would make the
# whole exported file unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_chars(value: str) -> str:
    return _NOT_XML.sub("", value)


def _escape(value: str) -> str:
    return _xml_chars(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
