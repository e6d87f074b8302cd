"""`summary`, `story` and `article`: one article summarised, its story, or the article whole."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.store import ready_store
from bot.clock import SystemClock
from bot.config import Settings
from bot.services import make_abstractive, make_fetcher
from bot.store.articles import get_article
from bot.stories.card import story_card
from bot.stories.summary import article_summary
from bot.ui.render import age_text


async def cmd_summary(args: argparse.Namespace, settings: Settings) -> int:
    """Print the full summary of one article, fetching its page if only a headline is stored."""
    database = await ready_store(settings)
    abstractive = make_abstractive(settings)
    try:
        async with make_fetcher(settings) as fetcher:
            summary = await article_summary(
                database,
                args.id,
                fetcher=fetcher,
                allow_private=settings.fetch_allow_private,
                abstractive=abstractive,
            )
    finally:
        if abstractive is not None:
            await abstractive.aclose()
        await database.dispose()
    if summary is None:
        print(f"newsbot: no article {args.id}", file=sys.stderr)
        return 1
    if args.json:
        print(
            json.dumps(
                {
                    "id": summary.article_id,
                    "title": summary.title,
                    "url": summary.url,
                    "source": summary.source,
                    "published_at": summary.published_at.isoformat(),
                    "summary": summary.summary,
                    "note": summary.note or None,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    print(summary.title)
    print(f"{summary.source} · {summary.published_at:%d %b %Y %H:%M} UTC")
    print()
    if summary.summary:
        print(summary.summary)
    if summary.note:
        print(f"({summary.note})")
    if summary.url:
        print(summary.url)
    return 0


async def cmd_article(args: argparse.Namespace, settings: Settings) -> int:
    """Print a stored article with its whole body and its summary."""
    database = await ready_store(settings)
    try:
        summary = await article_summary(database, args.id, fetcher=None)
        async with database.session() as session:
            article = await get_article(session, args.id)
            source = (article.source.title or article.source.url) if article else ""
    finally:
        await database.dispose()
    if article is None or summary is None:
        print(f"newsbot: no article {args.id}", file=sys.stderr)
        return 1
    if args.json:
        print(
            json.dumps(
                {
                    "id": article.id,
                    "title": article.title,
                    "url": article.url,
                    "source": source,
                    "published_at": article.published_at.isoformat(),
                    "language": article.language,
                    "description": article.description,
                    "body": article.body,
                    "summary": summary.summary,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    print(article.title)
    print(f"{source} · {article.published_at:%d %b %Y %H:%M} UTC · id {article.id}")
    if article.url:
        print(article.url)
    print()
    print(article.body or article.description or "(no text stored)")
    return 0


async def cmd_story(args: argparse.Namespace, settings: Settings) -> int:
    """Print the story an article belongs to: every outlet's report and a summary."""
    database = await ready_store(settings)
    try:
        card = await story_card(database, args.id)
    finally:
        await database.dispose()
    if card is None:
        print(f"newsbot: no article {args.id}", file=sys.stderr)
        return 1
    reports = [
        {
            "id": h.id,
            "source": h.source,
            "title": h.title,
            "url": h.url,
            "published_at": h.published_at.isoformat(),
        }
        for h in card.reports
    ]
    if args.json:
        story = {"id": card.lead.id, "title": card.lead.title, "outlets": card.outlets}
        story |= {"image": card.picture}
        story |= {"summary": card.summary, "reports": reports, "unlisted": card.unlisted}
        print(json.dumps(story, ensure_ascii=False, indent=2))
        return 0
    print(card.lead.title)
    print(f"{card.outlets} outlet(s), {len(card.reports) + card.unlisted} report(s)")
    if card.summary:
        print(f"\n{card.summary}\n")
    now = SystemClock().now()
    for number, report in enumerate(card.reports, 1):
        print(f"{number:>2}. {report.title}")
        print(f"    {report.source} · {age_text(report.published_at, now)} · id {report.id}")
        if report.url:
            print(f"    {report.url}")
    return 0
