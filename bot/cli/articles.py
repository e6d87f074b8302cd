"""`summary` and `article`: one article, summarised or whole."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.store import ready_store
from bot.config import Settings
from bot.services import make_abstractive, make_fetcher
from bot.store.articles import get_article
from bot.stories.summary import article_summary


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
