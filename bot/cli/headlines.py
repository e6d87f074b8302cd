"""`latest`, `topic`, `digest`, `topics` and `rules`: lists read from the store, as text or
JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime

from bot.cli.store import ready_store
from bot.clock import SystemClock
from bot.config import Settings
from bot.digests.content import build_digest
from bot.news.language import ENGLISH
from bot.news.query import parse_query
from bot.news.rules import ALERT, WORD_OF_ACTION
from bot.schedule.times import zone_info
from bot.store.alerts import alert_counts
from bot.store.articles import Headline, latest_articles
from bot.store.chats import get_chat, rules_of
from bot.store.digests import preview_digest
from bot.store.search import search_articles
from bot.stories.cache import StoryCache, rule_counts
from bot.stories.lines import story_lines
from bot.stories.trends import current_trends
from bot.ui.render import age_text, local_time_text, more_sources_text


def _headline_json(headline: Headline, outlets: int) -> dict[str, object]:
    return {
        "id": headline.id,
        "title": headline.title,
        "url": headline.url,
        "source": headline.source,
        "published_at": headline.published_at.isoformat(),
        "description": headline.description,
        "image": headline.image,
        "outlets": outlets,
    }


def _outlets_by_item(headlines: Sequence[Headline]) -> dict[int, int]:
    """How many independent outlets report each item's story, among these items."""
    return {m: line.outlets for line in story_lines(headlines) for m in line.member_ids}


def _print_headlines(
    headlines: Sequence[Headline],
    *,
    as_json: bool,
    now: datetime,
    notes: dict[int, str] | None = None,
) -> None:
    if as_json:
        outlets = _outlets_by_item(headlines)
        listed = [_headline_json(h, outlets.get(h.id, 1)) for h in headlines]
        print(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    width = len(str(len(headlines)))
    for number, headline in enumerate(headlines, 1):
        print(f"{number:>{width}}. {headline.title}")
        details = f"{headline.source} · {age_text(headline.published_at, now)} · id {headline.id}"
        if notes and headline.id in notes:
            details += f" · {notes[headline.id]}"
        print(f"{' ' * width}  {details}")
        if headline.url:
            print(f"{' ' * width}  {headline.url}")


async def cmd_latest(args: argparse.Namespace, settings: Settings) -> int:
    """Print the newest items."""
    database = await ready_store(settings)
    try:
        async with database.session() as session:
            headlines = await latest_articles(session, limit=args.n)
    finally:
        await database.dispose()
    _print_headlines(headlines, as_json=args.json, now=SystemClock().now())
    return 0


async def cmd_topic(args: argparse.Namespace, settings: Settings) -> int:
    """Print the best matches for some words."""
    query = parse_query(" ".join(args.words), languages=[*args.language, ENGLISH])
    now = SystemClock().now()
    database = await ready_store(settings)
    try:
        async with database.session() as session:
            result = await search_articles(session, query, limit=args.n, now=now)
    finally:
        await database.dispose()
    if not args.json:
        if query.is_empty:
            print("Nothing to search for: give some words.", file=sys.stderr)
        elif result.mode == "none":
            print(f"No headlines match {query.text!r}.", file=sys.stderr)
        elif result.mode == "any":
            print(
                f"No headline has all of {query.text!r}; these have some of the words:",
                file=sys.stderr,
            )
    _print_headlines(result.headlines, as_json=args.json, now=now)
    return 0


async def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    """Print the digest a chat would get now (or a new subscriber's); nothing is recorded."""
    now = SystemClock().now()
    database = await ready_store(settings)
    try:
        async with database.session() as session:
            chat = await get_chat(session, args.chat) if args.chat is not None else None
            if args.chat is not None and chat is None:
                print(f"newsbot: no chat {args.chat} in the store", file=sys.stderr)
                return 1
            snapshot = preview_digest(
                chat, now=now, size=settings.default_digest_size, zone=settings.default_timezone
            )
            content = await build_digest(session, snapshot, StoryCache())
    finally:
        await database.dispose()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        **_headline_json(s.lead, s.outlets),
                        "extra_sources": s.extra_sources,
                        "followed": s.followed,
                    }
                    for s in content.stories
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    who = f"chat {args.chat}" if args.chat is not None else "a new subscriber"
    print(f"Digest for {who} · {local_time_text(now, zone_info(snapshot.timezone))}")
    if not content.stories:
        print("No new headlines.")
        return 0
    _print_headlines(
        [s.lead for s in content.stories],
        as_json=False,
        now=now,
        notes={
            s.lead.id: more_sources_text(s.extra_sources)
            for s in content.stories
            if s.extra_sources
        },
    )
    return 0


async def cmd_topics(args: argparse.Namespace, settings: Settings) -> int:
    """Print the trending topics of the last hours with their counts."""
    database = await ready_store(settings)
    try:
        topics = await current_trends(database, settings, now=SystemClock().now())
    finally:
        await database.dispose()
    if args.json:
        print(
            json.dumps(
                [{"topic": t.label, "count": t.count, "query": t.query} for t in topics],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    if not topics:
        print(f"Nothing trending in the last {settings.trending_window_hours} hours.")
    for topic in topics:
        print(f"{topic.count:>4}  {topic.label}")
    return 0


async def cmd_rules(args: argparse.Namespace, settings: Settings) -> int:
    """Print a chat's rules in order, each with its matches among the last day's items."""
    database = await ready_store(settings)
    try:
        async with database.session() as session:
            chat = await get_chat(session, args.chat)
            if chat is None:
                print(f"newsbot: no chat {args.chat} in the store", file=sys.stderr)
                return 1
            rules = rules_of(chat)
            counts = await rule_counts(
                session, StoryCache(), chat.id, [r.pattern for r in rules], now=SystemClock().now()
            )
    finally:
        await database.dispose()
    listed = [
        {
            "number": number,
            "action": WORD_OF_ACTION[rule.action],
            "pattern": rule.pattern.text,
            "type": rule.pattern.kind,
            "source_id": rule.pattern.source_id,
            "field": rule.pattern.field,
            "matches_24h": count,
        }
        for number, (rule, count) in enumerate(zip(rules, counts, strict=True), start=1)
    ]
    if args.json:
        print(json.dumps(listed, ensure_ascii=False, indent=2))
        return 0
    if not listed:
        print(f"Chat {args.chat} has no rules.")
    for item in listed:
        source = "every source" if item["source_id"] is None else f"source {item['source_id']}"
        print(
            f"{item['number']:>2}. {item['action']:<7} {item['pattern']}  "
            f"({item['type']}, {item['field']}, {source}; {item['matches_24h']} in 24 h)"
        )
    return 0


async def cmd_alerts(args: argparse.Namespace, settings: Settings) -> int:
    """Print a chat's alerts with their day's matches, its quiet hours and what waits."""
    database = await ready_store(settings)
    now = SystemClock().now()
    try:
        async with database.session() as session:
            chat = await get_chat(session, args.chat)
            if chat is None:
                print(f"newsbot: no chat {args.chat} in the store", file=sys.stderr)
                return 1
            numbered = [
                (number, rule)
                for number, rule in enumerate(rules_of(chat), start=1)
                if rule.action == ALERT
            ]
            counts = await rule_counts(
                session, StoryCache(), chat.id, [r.pattern for _n, r in numbered], now=now
            )
            sent = await alert_counts(session, chat.id, now=now)
    finally:
        await database.dispose()
    report = {
        "alerts": [
            {
                "number": number,
                "pattern": rule.pattern.text,
                "type": rule.pattern.kind,
                "source_id": rule.pattern.source_id,
                "field": rule.pattern.field,
                "matches_24h": count,
            }
            for (number, rule), count in zip(numbered, counts, strict=True)
        ],
        "quiet_hours": chat.quiet_hours,
        "digests_silent_in_quiet_hours": chat.quiet_digests_silent,
        "sent_24h": sent.sent_today,
        "waiting": sent.waiting,
        "next_due": sent.next_due.isoformat() if sent.next_due else None,
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    if not numbered:
        print(f"Chat {args.chat} has no alerts.")
    for (number, rule), count in zip(numbered, counts, strict=True):
        print(f"{number:>2}. {rule.pattern.text}  ({count} in 24 h)")
    print(f"Quiet hours: {chat.quiet_hours or 'none'} ({chat.timezone})")
    waiting = f"{sent.waiting} waiting"
    if sent.next_due:
        waiting += f", the next due {sent.next_due:%Y-%m-%d %H:%M} UTC"
    print(f"Sent in 24 h: {sent.sent_today}; {waiting}")
    return 0
