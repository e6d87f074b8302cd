"""Telegram's HTML parse mode: markup in, plain text and entities out, as the Bot API does it.

Telegram never stores or returns the HTML a bot sent; it keeps the text with entities
(offsets in UTF-16 code units) and rejects markup outside its subset. The local Bot API
does the same, so the chat page renders entities over plain text and never bot HTML.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any, Final

Entity = dict[str, Any]

_SIMPLE_TAGS: Final[dict[str, str]] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
# What Telegram recognises by itself in plain text (outside code and links).
_AUTO_ENTITIES: Final[re.Pattern[str]] = re.compile(
    r"(?P<url>\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]'])"
    r"|(?P<bot_command>(?<!\S)/[A-Za-z0-9_]{1,32}(?:@\w+)?\b)"
)
_NOT_AUTO: Final[frozenset[str]] = frozenset({"code", "pre", "text_link", "url", "bot_command"})


class TelegramHTMLError(ValueError):
    """The markup is outside Telegram's subset or badly nested; the text says where."""


def utf16_length(text: str) -> int:
    """Telegram counts text and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.open: list[tuple[str, Entity]] = []
        # With the order they were opened in: of two entities on one span, the outer first.
        self.entities: list[tuple[int, Entity]] = []
        self.opened = 0

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.length += utf16_length(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        entity: Entity = {"offset": self.length}
        if tag in _SIMPLE_TAGS:
            entity["type"] = _SIMPLE_TAGS[tag]
        elif tag == "span" and attributes.get("class") == "tg-spoiler":
            entity["type"] = "spoiler"
        elif tag == "a":
            entity["type"] = "text_link"
            entity["url"] = (attributes.get("href") or "").strip()
        elif tag == "blockquote":
            expandable = "expandable" in attributes
            entity["type"] = "expandable_blockquote" if expandable else "blockquote"
        else:
            raise TelegramHTMLError(f'Unsupported start tag "{tag}"')
        entity["_opened"] = self.opened
        self.opened += 1
        if tag == "code" and self.open and self.open[-1][0] == "pre":
            # <pre><code class="language-x"> is one pre entity with a language, not two.
            language = (attributes.get("class") or "").removeprefix("language-")
            if language:
                self.open[-1][1]["language"] = language
            entity["type"] = "merged"
        self.open.append((tag, entity))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise TelegramHTMLError(f'Unsupported start tag "{tag}"')

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise TelegramHTMLError(f'Unmatched end tag "{tag}"')
        _, entity = self.open.pop()
        opened = entity.pop("_opened")
        entity["length"] = self.length - entity["offset"]
        empty_link = entity["type"] == "text_link" and not entity["url"]
        if entity["length"] > 0 and entity["type"] != "merged" and not empty_link:
            self.entities.append((opened, entity))


def parse_html(markup: str) -> tuple[str, list[Entity]]:
    """The text and entities Telegram makes of a message sent with parse_mode HTML."""
    parser = _Parser()
    parser.feed(markup)
    parser.close()
    if parser.open:
        tag = parser.open[-1][0]
        raise TelegramHTMLError(f'Can\'t find end tag corresponding to start tag "{tag}"')
    text = "".join(parser.parts)
    ordered = sorted(
        parser.entities, key=lambda pair: (pair[1]["offset"], -pair[1]["length"], pair[0])
    )
    return text, with_auto_entities(text, [entity for _, entity in ordered])


def with_auto_entities(text: str, entities: list[Entity]) -> list[Entity]:
    """Add the URLs and /commands Telegram detects in text no entity already claims."""
    claimed = [(e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] in _NOT_AUTO]
    spans = [(e["offset"], e["offset"] + e["length"]) for e in entities]
    found: list[Entity] = []
    for match in _AUTO_ENTITIES.finditer(text):
        kind = match.lastgroup or "url"
        start = utf16_length(text[: match.start()])
        end = start + utf16_length(match.group())
        inside_claimed = any(s < end and start < e for s, e in claimed)
        # An entity must nest, so one that straddles a bold edge is left as plain text.
        straddles = any(s < start < e < end or start < s < end < e for s, e in spans)
        if not inside_claimed and not straddles:
            found.append({"type": kind, "offset": start, "length": end - start})
    # A stable sort: on a shared span, the parsed entities stay outside the detected one.
    return sorted([*entities, *found], key=lambda e: (e["offset"], -e["length"]))
