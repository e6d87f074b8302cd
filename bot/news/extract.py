"""Main text and metadata of a news article page, offline, with trafilatura.

The caller fetches; this module only parses what it is given, so it can run in a
worker, a test or a benchmark without network access.

Measured on the shared corpus of 61 real pages (`python -m bench.summary_quality`):
trafilatura's ``favor_precision`` removes a few more boilerplate lines but also drops
real paragraphs on some pages (more than two points of expected snippets lost), so it
stays off. Comments are dropped (they are not the article), and the remaining site
furniture that trafilatura keeps ("Read more: ...", "Subscribe now ...", copyright
lines, picture captions) is removed line by line below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.news.images import public_image_url

if TYPE_CHECKING:
    from trafilatura.settings import Document

__all__ = ["ExtractedArticle", "extract_article"]

# Lines of site furniture that survive main-text extraction. Each is a whole short
# paragraph that *starts* with an instruction or credit, so article sentences that
# merely mention a newsletter or a copyright case are kept.
_FURNITURE_LINE = re.compile(
    r"^(?:read\s+(?:more|also|next)|see\s+also|related\s*(?:articles?|stories)?\s*:"
    r"|more\s+on\s+this"
    r"|(?:le\s+)?puede\s+interesar|lee\s+(?:también|más)|más\s+sobre|mehr\s+zum\s+thema"
    r"|lesen\s+sie\s+(?:auch|mehr)|weiterlesen|(?:à\s+)?lire\s+aussi|dowiedz\s+się\s+więcej"
    r"|subscribe\b|sign\s+up\b|never\s+miss\b|don[’']t\s+miss\b|get\s+the\s+\S+(?:\s+\S+){0,4}\s+"
    r"(?:app|newsletter|daily)|for\s+the\s+latest\b.{0,80}\bdownload\b|download\s+(?:the|our)\b"
    r"|follow\s+(?:us|@|the\s+\S+(?:\s+\S+)?\s+on\b)|share\s+(?:this|on|via)\b|click\s+here\b"
    r"|advertisement\s*$|\(?(?:photo|image|picture)?\s*credits?\s*:|copyright\b|©"
    r"|all\s+rights\s+reserved|this\s+article\s+is\s+the\s+copyrighted|written\s+permission"
    r"|to\s+view\s+the\s+full\s+story|if\s+you[’']re\s+seeing\s+this\s+message"
    r"|contact\s+us\s+at\b|first-time\s+subscribers)"
    r"|^\S+(?:\s+\S+){0,3}\s+newsletter\s*$",
    re.IGNORECASE,
)
# Picture captions kept as paragraphs point at the picture: "Jane Doe (left) speaks".
_CAPTION_LINE = re.compile(
    r"\((?:left|right|centre|center|top|bottom|above|below|inset|l|r|c|"
    r"(?:second|third|far|top|bottom)\s+(?:left|right))\)",
    re.IGNORECASE,
)
_MIN_WORDS = 5
_MAX_FURNITURE_CHARS = 300  # longer paragraphs are prose even when they start alike
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_MARKUP = re.compile(
    rb"<\s*(?:!doctype\s+html|html|head|body|article|main|div|p|section|meta|title)\b", re.I
)
_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class ExtractedArticle:
    """What an article page says: main text (paragraphs joined by newlines) and metadata."""

    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None  # ISO "YYYY-MM-DD" as found in the page, not a guess
    url: str | None = None  # the page's canonical URL if it declares one, else the given one
    image: str | None = None  # its og:image (or twitter:image), a public http(s) URL

    @property
    def paragraphs(self) -> list[str]:
        """The main text split back into its paragraphs."""
        return self.text.split("\n")


def _looks_like_html(document: bytes | str) -> bool:
    """Cheap sniff so plain text, JSON and binary blobs are not fed to the parser."""
    head = document[:_SNIFF_BYTES]
    if isinstance(head, str):
        head = head.encode("utf-8", "replace")
    # Binary data has NUL bytes; HTML (in any ASCII-compatible encoding) does not.
    return b"\x00" not in head and _MARKUP.search(head) is not None


def _drop_furniture(text: str) -> str:
    """Remove whole lines that are subscription prompts, link teasers or credits."""
    kept = []
    for line in text.split("\n"):
        line = _CONTROL.sub("", line).strip()
        if not line:
            continue
        if len(line) <= _MAX_FURNITURE_CHARS and (
            _FURNITURE_LINE.search(line) or _CAPTION_LINE.search(line)
        ):
            continue
        kept.append(line)
    return "\n".join(kept)


def _clean_field(value: str | None) -> str | None:
    """Metadata as a single trimmed line, or None when absent or blank."""
    if not value:
        return None
    value = " ".join(value.split())
    return value or None


def _bare_extraction(html: bytes | str, url: str | None) -> Document | None:
    """trafilatura's reading of a page, or None if it finds nothing it can read.

    Imported on first use: trafilatura and its helpers (lxml, justext, htmldate, courlan)
    are a quarter of the bot's memory at start, and only summaries of pages need them.
    """
    import trafilatura
    from trafilatura.settings import Document

    try:
        document = trafilatura.bare_extraction(
            html,
            url=url,
            include_comments=False,
            include_tables=True,
            with_metadata=True,
        )
    except (ValueError, TypeError, UnicodeError):
        # Malformed input that slips past the sniff; treat like "no article here".
        return None
    # bare_extraction answers a Document (a dict only with as_dict=True).
    return document if isinstance(document, Document) else None


def extract_article(html: bytes | str, *, url: str | None = None) -> ExtractedArticle | None:
    """Main text, title, author and date of an article page; None when it is not one.

    Returns None for empty input, input that is not HTML (plain text, JSON, binary
    data) and pages where no main text is found. Never fetches anything: ``url`` only
    helps trafilatura resolve metadata.
    """
    if not html or not _looks_like_html(html):
        return None
    document = _bare_extraction(html, url)
    if document is None or not document.text:
        return None
    text = _drop_furniture(document.text)
    if len(text.split()) < _MIN_WORDS:
        return None  # a menu label or a lone caption is not an article
    return ExtractedArticle(
        text=text,
        title=_clean_field(document.title),
        author=_clean_field(document.author),
        date=_clean_field(document.date),
        url=_clean_field(document.url) or url,
        image=public_image_url(document.image, url),
    )
