"""Main text of an article page (trafilatura), without navigation, ads and comments."""

from __future__ import annotations

from dataclasses import dataclass

import trafilatura


@dataclass(frozen=True)
class ExtractedArticle:
    """What an article page holds: its main text as paragraphs, and its metadata."""

    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None


def extract_article(html: bytes | str, *, url: str | None = None) -> ExtractedArticle | None:
    """The article in a page, or None when the page holds no readable article."""
    if not html or (isinstance(html, bytes) and b"\x00" in html[:1024]):
        return None
    document = trafilatura.bare_extraction(html, url=url, include_comments=False,
                                           include_tables=False, with_metadata=True)
    if document is None or not (document.text or "").strip():
        return None
    return ExtractedArticle(text=document.text.strip(), title=document.title,
                            author=document.author, date=document.date)
