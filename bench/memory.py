"""Memory of the bot process with 1,000,000 articles, 100,000 chats and 2,000 sources.

Run: ``.venv/bin/python -m bench.memory`` (``python -m bench`` runs it in a process of its own).

* The store: a private copy of ``bench.dataset``'s cached SQLite store (1,000,000
  articles from 2,000 sources over 30 days), plus 100,000 chats written in bulk: 70 %
  subscribed, in a dozen time zones, one in ten following or muting a topic or two,
  2 % inactive, and ``DUE_CHATS`` of them due for their daily digest now.
* The outside world runs in a helper process, so none of its memory is counted: the
  fake Telegram Bot API of ``tests/fakebot.py`` (no rate limit) and a loopback feed
  server from ``tests/feedserver.py`` standing in for the 2,000 feeds. Each feed is an
  RSS 2.0 document (about 12 KB) of its source's newest stored items of the last four
  days, up to 20, plus up to 2 it has not stored yet (quiet sources have fewer), the
  steady state of a poller that reads a feed every 15 minutes; every feed answers 200
  with the whole document (no ETag, no 304), which costs more than a quiet hour does.
  Sources with nothing in those four days get no feed and are switched off.
* The bot: malloc's arenas limited, ``build_application`` + ``initialize`` + ``post_init``
  (migrations, store checks, fetcher, the feed-parsing process pool) + ``start`` with long
  polling against the fake API, as ``newsbot run`` does, but without the repeating jobs so that the
  stages below happen one at a time, driven here through the same functions the jobs
  call; the clock is fixed at the end of the generated 30 days.
* Stages: started; after an ingest pass (``bot.ingest.poller.ingest_due`` poll passes of 100
  feeds until no feed is due: all 2,000 fetched, parsed, deduplicated, stored); after a
  fan-out (``bot.digests.dispatch.dispatch_digests``: every due chat claimed, composed, sent and
  recorded). RSS of this process at each stage and its peak (``ru_maxrss``); the parse
  workers are separate processes and reported beside it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import random
import sqlite3
import tempfile
import time
from concurrent.futures import Executor
from datetime import datetime, timedelta
from email.utils import format_datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

from bench import dataset
from bench.common import current_rss_mb, machine, peak_rss_mb, print_table, summary_line, verdict

if TYPE_CHECKING:
    from bot.config import Settings

TARGET_PEAK_RSS_MB = 150.0
CHATS = 100_000
DUE_CHATS = 2_000
FEED_ITEMS = 20
NEW_PER_FEED = 2
_ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Australia/Sydney",
]
_TIMES = ["07:00", "08:00", "08:00,18:00", "09:30", "12:00", "07:30,19:30", "18:00"]
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


class FixedClock:
    """The bench's "now": the end of the generated 30 days."""

    def now(self) -> datetime:
        return dataset.NOW


# ----------------------------------------------------------------------- the outside world


def _stamp(moment: datetime) -> str:
    return moment.strftime(_SQLITE_TIME)


def _add_chats(connection: sqlite3.Connection, topics: list[str]) -> None:
    rng = random.Random(f"{dataset.SEED}:chats")
    now = dataset.NOW
    chats, chat_topics = [], []
    due = set(rng.sample(range(CHATS), DUE_CHATS))
    for index in range(CHATS):
        group = rng.random() < 0.1
        chat_id = -1_001_000_000_000 - index if group else 10_000_000 + index
        subscribed = index in due or rng.random() < 0.7
        active = index in due or rng.random() > 0.02
        if index in due:
            next_at = now - timedelta(seconds=rng.uniform(0, 600))
        elif subscribed:
            next_at = now + timedelta(seconds=rng.uniform(60, 86_400))
        else:
            next_at = None
        last_at = now - timedelta(hours=24) if subscribed else None
        chats.append(
            (
                chat_id,
                "supergroup" if group else "private",
                f"Group {index}" if group else f"Reader {index}",
                None,
                rng.choice(_ZONES),
                rng.choice(_TIMES),
                rng.choice([5, 10, 10, 10, 15]),
                0,
                0,
                int(subscribed),
                int(active),
                _stamp(next_at) if next_at else None,
                _stamp(last_at) if last_at else None,
                _stamp(now - timedelta(days=20)),
                _stamp(now - timedelta(days=1)),
            )
        )
        if rng.random() < 0.1:
            for phrase in rng.sample(topics, rng.randint(1, 2)):
                chat_topics.append((chat_id, "follow", phrase))
        if rng.random() < 0.03:
            chat_topics.append((chat_id, "mute", rng.choice(topics)))
    connection.executemany(
        "INSERT INTO chats (id, kind, title, thread_id, timezone, digest_times, digest_size, "
        "only_followed, notify_empty, subscribed, active, next_digest_at, last_digest_at, "
        "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        chats,
    )
    connection.executemany(
        "INSERT OR IGNORE INTO chat_topics (chat_id, kind, phrase) VALUES (?,?,?)", chat_topics
    )


def _feeds(connection: sqlite3.Connection) -> dict[int, bytes]:
    """Per source: its newest stored items and two it has not stored yet, as RSS 2.0."""
    from tests.feedserver import rss_feed

    since = _stamp(dataset.NOW - timedelta(days=4))
    rows = connection.execute(
        "SELECT source_id, guid, url, title, description, published_at FROM ("
        " SELECT source_id, guid, url, title, description, published_at, ROW_NUMBER() OVER "
        " (PARTITION BY source_id ORDER BY published_at DESC, id DESC) AS rank"
        " FROM articles WHERE published_at > ?) WHERE rank <= ?",
        (since, FEED_ITEMS + NEW_PER_FEED),
    ).fetchall()
    by_source: dict[int, list[tuple]] = {}
    for row in rows:
        by_source.setdefault(row[0], []).append(row)
    titles = dict(connection.execute("SELECT id, title FROM sources"))
    feeds = {}
    for source_id, items in by_source.items():
        entries = []
        for position, (_, guid, url, title, description, published) in enumerate(items):
            when = dataset._aware(published)
            assert when is not None, "generated items all have a publication time"
            if position >= FEED_ITEMS:  # not in the store under this identity: new
                url = f"{url}-live"
                guid = url if guid else None
                when = dataset.NOW - timedelta(minutes=3 * (position - FEED_ITEMS + 1))
            entry = {
                "title": title,
                "link": url,
                "description": description,
                "pubDate": format_datetime(when),
            }
            if guid:
                entry["guid"] = guid
            entries.append(entry)
        entries.sort(key=lambda e: e["pubDate"], reverse=True)
        feeds[source_id] = rss_feed(entries, title=titles.get(source_id, ""))
    return feeds


def _world(store: str, pipe: Connection) -> None:
    """Helper process: prepare the store copy, then serve the feeds and the Bot API."""
    from tests.fakebot import FakeBotAPI
    from tests.feedserver import FeedServer

    started = time.monotonic()
    server = FeedServer().start()
    connection = sqlite3.connect(store, isolation_level=None)
    connection.execute("BEGIN")
    feeds = _feeds(connection)
    for source_id, body in feeds.items():
        path = f"/feeds/{source_id}.xml"
        server.add(path, body)
        connection.execute(
            "UPDATE sources SET url = ?, next_fetch_at = ? WHERE id = ?",
            (server.url(path), _stamp(dataset.NOW - timedelta(minutes=1)), source_id),
        )
    connection.execute("UPDATE sources SET active = 0 WHERE url NOT LIKE 'http://127.0.0.1:%'")
    topics = [q["text"] for q in dataset.query_mix() if q["kind"] == "common"][:8]
    _add_chats(connection, topics)
    connection.execute("COMMIT")
    connection.close()
    fake = FakeBotAPI().start()
    pipe.send(
        {
            "token": fake.token,
            "base_url": fake.base_url,
            "feeds": len(feeds),
            "feed_bytes": sum(map(len, feeds.values())),
            "seconds": time.monotonic() - started,
        }
    )
    while True:
        command = pipe.recv()
        if command == "count":
            pipe.send((len(fake.calls("sendMessage")), len(server.requests)))
        elif command == "stop":
            fake.stop()
            server.stop()
            pipe.send("stopped")
            return


# ----------------------------------------------------------------------- the bot


def _children_rss_mb(executor: Executor) -> float:
    total = 0.0
    for pid in list(getattr(executor, "_processes", None) or {}):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


async def _run_bot(
    settings: Settings, pipe: Connection
) -> tuple[list[list[object]], dict[str, object]]:
    from bot.app import build_application
    from bot.digests.dispatch import dispatch_digests
    from bot.gc_tuning import limit_malloc_arenas
    from bot.ingest.poller import ingest_due
    from bot.services import SERVICES_KEY

    limit_malloc_arenas()  # as run_bot does, before any thread starts

    rows: list[list[object]] = []
    facts: dict[str, object] = {}
    workers = None

    def stage(name: str, seconds: float, what: str) -> None:
        rows.append(
            [
                name,
                current_rss_mb(),
                peak_rss_mb(),
                _children_rss_mb(workers) if workers else 0.0,
                f"{seconds:.1f}",
                what,
            ]
        )

    stage("imported", 0.0, "Python, PTB, SQLAlchemy, the bot's modules")
    started = time.monotonic()
    application = build_application(settings, clock=FixedClock(), jobs=False)
    await application.initialize()
    await application.post_init(application)  # type: ignore[misc]
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=5)
    await application.start()
    services = application.bot_data[SERVICES_KEY]
    workers = services.parse_executor
    stage("started", time.monotonic() - started, "initialize + post_init + start, long polling")
    try:
        started = time.monotonic()
        passes = fetched = new = 0
        while True:
            report = await ingest_due(
                services.database,
                services.fetcher,
                settings,
                now=dataset.NOW,
                executor=services.parse_executor,
            )
            if not report.sources:
                break
            passes += 1
            fetched += len(report.sources)
            new += report.new
            facts["ingest failed"] = facts.get("ingest failed", 0) + len(report.failed)  # type: ignore[operator]
        facts.update(passes=passes, fetched=fetched, new=new)
        stage(
            "after ingest",
            time.monotonic() - started,
            f"{passes} poll passes: {fetched:,} feeds, {new:,} new items",
        )
        started = time.monotonic()
        dispatched = await dispatch_digests(application.bot_data[SERVICES_KEY], application.bot)
        pipe.send("count")
        sent_calls, _ = pipe.recv()
        facts.update(
            sent=dispatched.sent,
            empty=dispatched.empty,
            messages=sent_calls,
            undeliverable=dispatched.undeliverable,
            retry=dispatched.retry,
        )
        stage(
            "after fan-out",
            time.monotonic() - started,
            f"{dispatched.sent:,} digests sent ({sent_calls:,} messages), {dispatched.empty} empty",
        )
    finally:
        if application.updater.running:
            await application.updater.stop()
        await application.stop()
        await application.post_shutdown(application)  # type: ignore[misc]
        await application.shutdown()
    return rows, facts


def main() -> int:
    """Prepare the store and the world, run the bot through its stages, print the figures."""
    logging.basicConfig(level=logging.WARNING)
    total_started = time.monotonic()
    print(f"bench.memory on {machine()}")
    # Build or find the store in a child process, copy it, and let the helper fill it:
    # nothing of that work lands in this process's memory figures.
    cached, built = dataset.sqlite_store()
    workdir = Path(tempfile.mkdtemp(prefix="newsbot-memory-"))
    store = workdir / "newsbot.db"
    copy_started = time.monotonic()
    dataset.copy_store(cached, store)
    copied = time.monotonic() - copy_started
    empty_opml = workdir / "no-sources.opml"
    empty_opml.write_text('<opml version="2.0"><head/><body/></opml>', encoding="utf-8")

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    world = context.Process(target=_world, args=(str(store), theirs), daemon=True)
    world.start()
    try:
        ready = ours.recv()
        print(
            f"store: {dataset.ARTICLES:,} articles ({f'built in {built:.0f} s, ' if built else ''}"
            f"copied in {copied:.0f} s); {CHATS:,} chats ({DUE_CHATS:,} due) and "
            f"{ready['feeds']:,} feeds ({ready['feed_bytes'] / ready['feeds'] / 1024:.0f} KB each) "
            f"prepared in {ready['seconds']:.0f} s by the helper process",
            flush=True,
        )
        from bot.config import Settings

        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=f"sqlite+aiosqlite:///{store}",
            telegram_bot_token=ready["token"],
            telegram_api_base_url=ready["base_url"],
            telegram_rate_limit=0,
            fetch_allow_private=True,
            fetch_per_host=16,
            sources_opml=str(empty_opml),
            log_level="WARNING",
        )
        rows, facts = asyncio.run(_run_bot(settings, ours))
        ours.send("stop")
        ours.recv()
    finally:
        world.join(timeout=10)
        if world.is_alive():
            world.terminate()
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()

    peak = peak_rss_mb()
    print_table(
        f"Bot process memory: {dataset.ARTICLES:,} articles, {CHATS:,} chats, "
        f"{dataset.SOURCES:,} sources "
        "(MB; parse workers are separate processes)",
        ["stage", "RSS", "peak so far", "parse workers", "seconds", "what happened"],
        rows,
    )
    print_table(
        "Peak",
        ["figure", "measured MB", "target MB", "verdict"],
        [
            [
                "peak RSS of the bot process",
                peak,
                f"<= {TARGET_PEAK_RSS_MB:g}",
                verdict(peak, TARGET_PEAK_RSS_MB, higher_is_better=False),
            ]
        ],
    )
    by_stage = {row[0]: row for row in rows}
    summary_line(
        "memory",
        {
            "peak RSS": f"{peak:.0f} MB (target <= {TARGET_PEAK_RSS_MB:g}, "
            f"{verdict(peak, TARGET_PEAK_RSS_MB, higher_is_better=False)})",
            "started": f"{by_stage['started'][1]:.0f} MB",
            "after ingest": f"{by_stage['after ingest'][1]:.0f} MB",
            "after fan-out": f"{by_stage['after fan-out'][1]:.0f} MB",
            "parse workers": f"{by_stage['after fan-out'][3]:.0f} MB",
            "ingest": f"{facts['fetched']:,} feeds/{facts['new']:,} new",
            "fan-out": f"{facts['sent']:,} digests",
            "bench total": f"{time.monotonic() - total_started:.0f} s",
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
