"""The picture of a news item: the URL of its largest image, if a public web address.

Feeds name an item's picture in several ways, and many name it more than once at
different sizes: Media RSS `<media:content medium="image">` and `<media:thumbnail>` (with
width and height), an `<enclosure>` of an image type, or only an `<img>` in the item's
HTML. The largest declared one wins; an `<img>` counts only when nothing declares one,
and one that says it is tiny (a 1x1 tracking pixel) never does. Telegram fetches the
picture itself, so only http(s) URLs to hosts that can be public are kept: never a
private or loopback address, never `localhost` or a name that cannot be on the internet.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit

MAX_URL_CHARS = 2048
# An <img> this small or smaller in either dimension is an icon or a tracking pixel.
MIN_IMG_SIDE = 50
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".bmp")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home", ".test", ".invalid")
# Images in item HTML that are buttons or counters, not pictures of the story
# (FeedBurner's "flare" share buttons and its view-counting pixel, ad servers).
_NOT_A_PICTURE = re.compile(r"feedburner\.com/~(?:ff|r|a)/|doubleclick\.net/|/pixel\.", re.I)
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([a-zA-Z_:][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")


def entry_image(raw: Mapping[str, Any], base: str | None) -> str | None:
    """The picture of a feedparser entry, as an absolute public http(s) URL, or None."""
    declared = sorted(_declared(raw), key=lambda found: -found[0])
    for _area, url in declared:
        if kept := public_image_url(url, base):
            return kept
    for html in _html_parts(raw):
        for url in _img_sources(html):
            if kept := public_image_url(url, base):
                return kept
    return None


def public_image_url(url: object, base: str | None = None) -> str | None:
    """`url` made absolute against `base`, if it is http(s) to a possibly public host."""
    if not isinstance(url, str) or not url.strip():
        return None
    text = unescape(url.strip())
    if text.startswith("//"):
        text = "https:" + text
    absolute = urljoin(base, text) if base else text
    try:
        parts = urlsplit(absolute)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not _public_host(host):
        return None
    if len(absolute) > MAX_URL_CHARS or any(c.isspace() for c in absolute):
        return None
    return absolute


def _public_host(host: str) -> bool:
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        name = host.lower()
        return "." in name and not name.endswith(_LOCAL_SUFFIXES)
    return address.is_global


def _declared(raw: Mapping[str, Any]) -> Iterable[tuple[int, str]]:
    """(area, url) of each image the entry declares; area 0 where no size is given."""
    for media in raw.get("media_content") or []:
        if _is_image(media.get("medium"), media.get("type"), media.get("url")):
            yield _area(media), media.get("url")
    for thumbnail in raw.get("media_thumbnail") or []:
        yield _area(thumbnail), thumbnail.get("url")
    for link in raw.get("links") or []:
        if link.get("rel") == "enclosure" and _is_image(None, link.get("type"), link.get("href")):
            yield 0, link.get("href")
    for enclosure in raw.get("enclosures") or []:
        if _is_image(None, enclosure.get("type"), enclosure.get("href")):
            yield 0, enclosure.get("href")


def _is_image(medium: object, mime: object, url: object) -> bool:
    if medium == "image" or (isinstance(mime, str) and mime.lower().startswith("image/")):
        return True
    if medium or mime:
        return False  # declared as a video, audio or document
    path = urlsplit(url).path.lower() if isinstance(url, str) else ""
    return path.endswith(_IMAGE_SUFFIXES)


def _area(media: Mapping[str, Any]) -> int:
    """Width times height; a side not given is taken to equal the other (many feeds give
    only a width)."""
    try:
        width, height = int(media.get("width") or 0), int(media.get("height") or 0)
    except (TypeError, ValueError):
        return 0
    return (width or height) * (height or width)


def _html_parts(raw: Mapping[str, Any]) -> Iterable[str]:
    for content in raw.get("content") or []:
        if isinstance(content, Mapping) and isinstance(content.get("value"), str):
            yield content["value"]
    summary = raw.get("summary")
    if isinstance(summary, str):
        yield summary


def _img_sources(html: str) -> Iterable[str]:
    for tag in _IMG.findall(html):
        attributes = {
            name.lower(): double or single or bare
            for name, double, single, bare in _ATTRIBUTE.findall(tag)
        }
        if _tiny(attributes.get("width")) or _tiny(attributes.get("height")):
            continue
        source = attributes.get("src")
        if source and not _NOT_A_PICTURE.search(source):
            yield source


def _tiny(side: str | None) -> bool:
    return side is not None and side.isdigit() and int(side) <= MIN_IMG_SIDE
