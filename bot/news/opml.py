"""OPML, the format feed readers exchange source lists in."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr


class OPMLError(Exception):
    """The document is not an OPML source list."""


@dataclass(frozen=True)
class OutlineFeed:
    """One feed of an OPML list."""

    url: str
    title: str


def parse_opml(content: bytes) -> list[OutlineFeed]:
    """Every outline with an http(s) xmlUrl, in document order, without repeats."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise OPMLError(f"not valid OPML: {exc}") from None
    if root.tag.lower() != "opml":
        raise OPMLError(f"not OPML: the document is <{root.tag}>")
    feeds: dict[str, OutlineFeed] = {}
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url.startswith(("http://", "https://")) and url not in feeds:
            title = (outline.get("title") or outline.get("text") or "").strip()
            feeds[url] = OutlineFeed(url=url, title=title)
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
        name = quoteattr(feed.title or feed.url)
        lines.append(
            f'    <outline type="rss" text={name} title={name} xmlUrl={quoteattr(feed.url)}/>'
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
