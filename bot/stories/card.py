"""A story card: every outlet's report of one story, and a summary drawn from them all.

"+2 sources" under a headline opens it: the reader sees who reported the story, when,
and what their reports say together, without opening each. Reports are found as the
article's own summary finds them (its story among the items published within two days of
it, from the chat's sources), so the card and the list agree on what one story is.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.news.extractive import summarize, summarize_reports
from bot.news.grouping import DEFAULT_WINDOW
from bot.store.articles import Headline, get_article, headlines_published_between
from bot.store.db import Database
from bot.store.models import Article
from bot.stories.context import NEIGHBOURS, story_around
from bot.stories.lines import newest_report_by_outlet

# A card lists this many reports, the newest first; the rest are counted.
MAX_REPORTS = 10


@dataclass(frozen=True)
class StoryCard:
    """One story: its headline, its reports (newest first), how many outlets, a summary."""

    lead: Headline
    reports: list[Headline]
    outlets: int
    summary: str
    unlisted: int = 0
    """Reports beyond MAX_REPORTS, counted but not listed."""
    article_id: int = 0
    """The article the card was opened from: following the card follows it."""

    @property
    def picture(self) -> str | None:
        """The lead's picture, else the newest report's that has one."""
        return self.lead.image or next((h.image for h in self.reports if h.image), None)


@dataclass(frozen=True)
class _Story:
    """What the card is made of: the article, its own text, and every report of its story."""

    itself: Headline
    stored_summary: str | None
    own_text: str | None
    lead: Headline
    reports: list[Headline]
    """Newest first."""


async def _read_story(database: Database, article_id: int, chat_id: int | None) -> _Story | None:
    async with database.session() as session:
        article = await get_article(session, article_id, chat_id=chat_id)
        if article is None:
            return None
        itself = _headline(article)
        stored_summary = article.summary
        own_text = article.body or article.description
        neighbours = await headlines_published_between(
            session,
            article.published_at - DEFAULT_WINDOW,
            article.published_at + DEFAULT_WINDOW,
            limit=NEIGHBOURS,
            chat_id=chat_id,
        )
    story = await story_around(neighbours, article_id)
    lead, reports = (story.lead, story.reports) if story is not None else (itself, [itself])
    reports = sorted(reports, key=lambda h: (h.published_at, h.id), reverse=True)
    return _Story(itself, stored_summary, own_text, lead, reports)


async def story_reports(
    database: Database, article_id: int, *, chat_id: int | None = None
) -> tuple[Headline, list[Headline]] | None:
    """The lead and every report (newest first) of the story an article belongs to, as its
    card finds them; None if there is no such article for the chat."""
    story = await _read_story(database, article_id, chat_id)
    return None if story is None else (story.lead, story.reports)


async def story_card(
    database: Database, article_id: int, *, chat_id: int | None = None
) -> StoryCard | None:
    """The card of the story an article belongs to; None if there is no such article (or,
    with `chat_id`, it is another chat's own)."""
    story = await _read_story(database, article_id, chat_id)
    if story is None:
        return None
    itself, lead, reports = story.itself, story.lead, story.reports
    summary = ""
    if len(reports) > 1:
        summary = summarize_reports(
            [lead.description, *(h.description for h in reports if h.id != lead.id)],
            title=lead.title,
            language=lead.language,
        )
    if not summary:
        # One report, or reports without sentences: the article's own summary.
        summary = story.stored_summary or (
            summarize(story.own_text, title=itself.title, language=itself.language)
            if story.own_text
            else ""
        )
    return StoryCard(
        lead,
        reports[:MAX_REPORTS],
        outlets=len(newest_report_by_outlet(reports)),
        summary=summary,
        unlisted=max(0, len(reports) - MAX_REPORTS),
        article_id=article_id,
    )


def _headline(article: Article) -> Headline:
    return Headline(
        id=article.id,
        title=article.title,
        url=article.url,
        source=article.source.title or article.source.url,
        published_at=article.published_at,
        description=article.description,
        language=article.language,
        story_words=article.story_words,
        image=article.image_url,
    )
