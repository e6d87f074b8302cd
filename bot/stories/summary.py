"""The full summary of one article: from its body, or from its page fetched on demand.

The summary is cached on the article with a hash of the text it was made from, so it
is computed once and again only when the body changes.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.i18n import _
from bot.news.abstractive import AbstractiveError, AbstractiveSummarizer
from bot.news.extract import extract_article
from bot.news.extractive import summarize
from bot.news.http.errors import FetchError
from bot.news.http.fetcher import SafeFetcher
from bot.news.language import detect_language
from bot.store.articles import get_article, store_body, store_summary
from bot.store.db import Database
from bot.stories.context import StoryContext, story_context

log = logging.getLogger(__name__)

HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"


@dataclass(frozen=True)
class SummaryView:
    """What the reader sees: the article's facts, its summary, a note on any gap, and,
    when the article's own text is missing, what the store knows around its story."""

    article_id: int
    title: str
    source: str
    published_at: datetime
    url: str | None
    summary: str
    note: str = ""
    context: StoryContext = field(default_factory=StoryContext)
    image: str | None = None
    """The article's picture (its feed's, else its page's), shown above the summary."""


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def article_summary(
    database: Database,
    article_id: int,
    *,
    fetcher: SafeFetcher | None,
    allow_private: bool = False,
    abstractive: AbstractiveSummarizer | None = None,
    now: datetime | None = None,
    chat_id: int | None = None,
) -> SummaryView | None:
    """The summary of an article, fetching its page first if only a headline is stored; None
    if there is no such article, or (with `chat_id`) it is another chat's own."""
    async with database.session() as session:
        article = await get_article(session, article_id, chat_id=chat_id)
        if article is None:
            return None
        title, url, body = article.title, article.url, article.body
        language = article.language
        description, source = article.description, article.source.title or article.source.url
        published_at = article.published_at
        cached, cached_hash = article.summary, article.summary_source
        image = article.image_url
    if not body and url and fetcher is not None:
        body, page_image = await _fetch_body(fetcher, url, allow_private=allow_private)
        image = image or page_image
        if body:
            async with database.session() as session:
                await store_body(session, article_id, body, image_url=page_image)
    if body:
        digest = _text_hash(body + (abstractive.cache_tag if abstractive else ""))
        if cached and cached_hash == digest:
            text = cached
        else:
            language = language or detect_language(body)
            text, digest = await _summarize(body, title, description, digest, abstractive, language)
            async with database.session() as session:
                await store_summary(session, article_id, text, digest)
        return SummaryView(article_id, title, source, published_at, url, text, image=image)
    context = await story_context(
        database, article_id, title, published_at, now=now or datetime.now(UTC)
    )
    note = _gap_note(linked=bool(url), described=bool(description), known=not context.is_empty)
    return SummaryView(
        article_id, title, source, published_at, url, description, note, context, image
    )


def _gap_note(*, linked: bool, described: bool, known: bool) -> str:
    """Why the article's own text is missing, in plain words (the technical reason is logged),
    and what is shown instead: its description, other reports, or nothing."""
    if described:
        if linked:
            return _("The full article could not be read here; here is its description.")
        return _("The source gave no link to a full article; here is its description.")
    if linked and known:
        return _(
            "The full article could not be read here, and its feed gave only the headline. "
            "Here is what else is known."
        )
    if linked:
        return _(
            "The full article could not be read here, and its feed gave only the headline. "
            "Nothing else in store tells this story yet; /latest has the newest headlines."
        )
    if known:
        return _(
            "The source gave only this headline: no text, and no link to a full article. "
            "Here is what else is known."
        )
    return _(
        "The source gave only this headline: no text, and no link to a full article. "
        "Nothing else in store tells this story yet; /latest has the newest headlines."
    )


async def _summarize(
    body: str,
    title: str,
    description: str,
    digest: str,
    abstractive: AbstractiveSummarizer | None,
    language: str | None,
) -> tuple[str, str]:
    """The abstractive summary when configured and working, else the extractive one."""
    if abstractive is not None:
        try:
            return await abstractive.summarize(body, title=title), digest
        except AbstractiveError as exc:
            log.warning("Abstractive summary failed (%s); using the extractive one", exc)
            # Cache the fallback under the extractive key, so the endpoint is asked again later.
            digest = _text_hash(body)
    return summarize(body, title=title, language=language) or description, digest


async def _fetch_body(
    fetcher: SafeFetcher, url: str, *, allow_private: bool
) -> tuple[str, str | None]:
    """The main text of an article page and its picture, or "" (and why, in the log) if
    the text could not be had."""
    try:
        response = await fetcher.fetch(url, allow_private=allow_private, accept=HTML_ACCEPT)
    except FetchError as exc:
        log.info("Article page %s not fetched: %s", url, exc)
        return "", None
    extracted = extract_article(response.content, url=response.final_url)
    if extracted is None or not extracted.text.strip():
        log.info("Article page %s holds no readable text", url)
        return "", None
    return extracted.text, extracted.image
