"""The newest items of an oversized feed, chosen before feedparser builds every one of them.

feedparser keeps the whole document as Python objects: a 10 MB feed of 65,000 items took
300 MB to parse, and its items would then all be stored. A feed that lists more items
than the cap is cut down on its bytes first: each item is found as an <item> or <entry>
element, ranked by its date, and only the newest stay in the document, in their order.
"""

from __future__ import annotations

import heapq
import re
from array import array
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_ITEM = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?(?:item|entry))\b[^>]*?(?:/>|>.*?</\1\s*>)", re.S)
_DATE = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?(?:pubDate|published|updated|date|issued|modified)\b[^>]*>"
    rb"\s*(?:<!\[CDATA\[)?\s*([^<\]]{1,80})"
)
_UNDATED = float("-inf")


def keep_newest_items(data: bytes, max_items: int) -> tuple[bytes, int]:
    """The document with at most `max_items` items, its newest; and how many were dropped."""
    if data.count(b"item") + data.count(b"entry") <= max_items:
        return data, 0  # cannot hold more items than that: the common case, no scan
    # Compact arrays and a bounded heap: the scan of a 10 MB feed stays a few MB.
    starts, ends = array("q"), array("q")
    for match in _ITEM.finditer(data):
        starts.append(match.start())
        ends.append(match.end())
    if len(starts) <= max_items:
        return data, 0
    # Newest first; items without a readable date rank last, in document order.
    newest = heapq.nlargest(
        max_items,
        range(len(starts)),
        key=lambda index: (_item_time(data, starts[index], ends[index]), -index),
    )
    parts: list[bytes] = []
    position = 0
    for index in sorted(newest):
        parts.append(_between_items(data, position, starts[index]))
        parts.append(data[starts[index] : ends[index]])
        position = ends[index]
    parts.append(_between_items(data, position, len(data)))
    return b"".join(parts), len(starts) - max_items


def _between_items(data: bytes, start: int, end: int) -> bytes:
    """What lies between two kept items, less the dropped items in it."""
    kept: list[bytes] = []
    for match in _ITEM.finditer(data, start, end):
        kept.append(data[start : match.start()])
        start = match.end()
    kept.append(data[start:end])
    return b"".join(kept)


def _item_time(data: bytes, start: int, end: int) -> float:
    match = _DATE.search(data, start, end)
    if match is None:
        return _UNDATED
    text = match.group(1).decode("ascii", "replace").strip()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return _UNDATED
    try:
        return (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).timestamp()
    except (OverflowError, ValueError):
        return _UNDATED
