"""Alerts' cost: the alert pass over new items with 10,000 chats holding 5 rules each.

Run: ``.venv/bin/python -m bench.alerts``

* The items: 100 feeds x 50 items from bench.ingest's generator (real headline and
  article vocabulary, fixed seed), parsed once beforehand.
* The chats: 10,000, each with 5 rules (two alerts, two excludes, one follow), their words
  drawn with a fixed seed from those feeds' longer title words, so patterns repeat across
  chats as people's do. Twice: from the 101st to the 1,100th commonest (a heavy case:
  every chat is alerted to dozens of the burst's items, most gathered by the hour's cap),
  and from the 1,101st to the 6,000th (names and subjects, what alerts are mostly on).
* Timed in one run: storing the items (``add_articles``, the store's share of an ingest),
  then the alert passes that look at them (``find_alerts`` until nothing is new: matching,
  grouping the caught items, the cap, the outbox rows); the same passes again on a store
  whose chats hold the same rules but no alert (what a pass costs when nobody asked for
  one); and an idle pass (nothing new). Per item stored, and the passes as a share of the
  store time in the same run. Printed, never asserted.
"""

from __future__ import annotations

import asyncio
import random
import re
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from bench.common import machine, print_table, summary_line

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SEED = 20261207
FEEDS = 100
ITEMS = 50
CHATS = 10_000
# Which of the title words by frequency rules are drawn from: a heavy case, a usual one.
COMMON = slice(100, 1100)
RARER = slice(1100, 6000)


def _parsed_feeds() -> list[tuple[str, Any]]:
    """The generated feeds parsed as ingest parses them: (url, ParsedFeed)."""
    from bench.ingest import generate_feeds
    from bot.news.feeds.parse import parse_feed

    parsed = []
    for feed in generate_feeds(FEEDS, items=ITEMS, seed=SEED, now=NOW):
        url = f"https://{feed.host}{feed.path}"
        headers = {"Content-Type": feed.content_type}
        parsed.append((url, parse_feed(feed.body, url=url, headers=headers, now=NOW)))
    return parsed


def _vocabulary(feeds: list[tuple[str, Any]], span: slice) -> list[str]:
    """Title words of six letters or more, in a span of their frequency ranks."""
    counts = Counter(
        word.lower()
        for _url, parsed in feeds
        for entry in parsed.entries
        for word in re.findall(r"[A-Za-z]{6,}", entry.title or "")
    )
    return [word for word, _n in counts.most_common()][span]


async def _add_chats(database: Any, words: list[str], *, alerts: bool) -> None:
    """CHATS chats with five rules each; with `alerts`, two of them alerts."""
    from sqlalchemy import Table, insert

    from bot.store.models import Chat, ChatTopic

    rng = random.Random(SEED)
    chats, topics = [], []
    for n in range(CHATS):
        chat_id = 1_000 + n
        chats.append(
            {
                "id": chat_id,
                "kind": "private",
                "title": "",
                "timezone": "UTC",
                "digest_times": "08:00",
                "digest_size": 10,
                "only_followed": False,
                "notify_empty": False,
                "subscribed": False,
                "active": True,
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
        picked = rng.sample(words, 5)
        kinds = ["alert", "alert", "mute", "mute", "follow"] if alerts else ["follow"] * 5
        topics += [
            {"chat_id": chat_id, "kind": kind, "phrase": word}
            for kind, word in zip(kinds, picked, strict=True)
        ]
    async with database.session() as session:
        for start in range(0, len(chats), 1000):
            await session.execute(insert(cast(Table, Chat.__table__)), chats[start : start + 1000])
        for start in range(0, len(topics), 5000):
            await session.execute(
                insert(cast(Table, ChatTopic.__table__)), topics[start : start + 5000]
            )


async def _store(database: Any, feeds: list[tuple[str, Any]]) -> tuple[int, float]:
    """Store every feed's items; how many and the seconds it took."""
    from bot.ingest.poller import _article
    from bot.store.articles import add_articles
    from bot.store.sources import add_source

    async with database.session() as session:
        sources = [
            (await add_source(session, url, now=NOW, title=parsed.title)).id
            for url, parsed in feeds
        ]
    stored = 0
    started = time.perf_counter()
    for source_id, (_url, parsed) in zip(sources, feeds, strict=True):
        async with database.session() as session:
            stored += len(
                await add_articles(session, source_id, map(_article, parsed.entries), now=NOW)
            )
    return stored, time.perf_counter() - started


async def _passes(database: Any) -> tuple[float, int, int]:
    """Alert passes until nothing is new: seconds, passes, alerts made."""
    from bot.stories.alerts import AlertRules, find_alerts

    rules = AlertRules()  # kept across passes, as the bot's Services keep it
    started = time.perf_counter()
    passes = made = 0
    while True:
        found = await find_alerts(database, now=NOW, per_hour=10, rules=rules)
        passes += 1
        made += found.alone + found.gathered + found.held
        if not found.items:
            break
    return time.perf_counter() - started, passes, made


async def _run(feeds: list[tuple[str, Any]], words: list[str], *, alerts: bool) -> dict[str, float]:
    from bot.store.db import Database
    from bot.stories.alerts import find_alerts, start_alerts

    with tempfile.TemporaryDirectory() as directory:
        database = Database(f"sqlite+aiosqlite:///{Path(directory) / 'alerts.db'}")
        await database.upgrade()
        try:
            await _add_chats(database, words, alerts=alerts)
            await start_alerts(database, now=NOW)
            stored, store_seconds = await _store(database, feeds)
            seconds, passes, made = await _passes(database)
            idle_started = time.perf_counter()
            await find_alerts(database, now=NOW + timedelta(seconds=15), per_hour=10)
            idle = time.perf_counter() - idle_started
        finally:
            await database.dispose()
    return {
        "stored": stored,
        "store_us": store_seconds / stored * 1e6,
        "pass_us": seconds / stored * 1e6,
        "passes": passes,
        "made": made,
        "idle_ms": idle * 1e3,
    }


def main() -> None:
    """Print the alert passes' cost per item beside the store's, with and without alerts."""
    print(f"bench.alerts on {machine()}: {FEEDS} feeds x {ITEMS} items, {CHATS:,} chats x 5 rules")
    feeds = _parsed_feeds()
    runs = {
        "2 alerts, 2 excludes, 1 follow; common words": asyncio.run(
            _run(feeds, _vocabulary(feeds, COMMON), alerts=True)
        ),
        "the same; rarer words": asyncio.run(_run(feeds, _vocabulary(feeds, RARER), alerts=True)),
        "5 follows, no alert": asyncio.run(_run(feeds, _vocabulary(feeds, COMMON), alerts=False)),
    }
    rows = [
        [
            label,
            int(run["stored"]),
            run["store_us"],
            run["pass_us"],
            run["pass_us"] / run["store_us"],
            int(run["made"]),
            run["pass_us"] * run["stored"] / max(run["made"], 1),
            run["idle_ms"],
        ]
        for label, run in runs.items()
    ]
    print_table(
        "alert passes over the items just stored (SQLite)",
        [
            "rules a chat",
            "items",
            "store µs/item",
            "passes µs/item",
            "passes/store",
            "alerts made",
            "µs/alert",
            "idle pass ms",
        ],
        rows,
    )
    heavy, usual, none = runs.values()
    summary_line(
        "alerts",
        {
            "passes per item stored, usual words": f"{usual['pass_us']:.0f} µs "
            f"({usual['pass_us'] / usual['store_us']:.2f}x the store's)",
            "heavy": f"{heavy['pass_us']:.0f} µs ({heavy['made']:,.0f} alerts)",
            "no alert rules": f"{none['pass_us']:.0f} µs",
            "idle pass": f"{usual['idle_ms']:.1f} ms",
        },
    )


if __name__ == "__main__":
    main()
