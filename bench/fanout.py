"""Digest fan-out: thousands of chats due at once, through the real dispatch job.

Run: ``.venv/bin/python -m bench.fanout``

* The store: a fresh SQLite file prepared exactly as the bot prepares it on start (migrations,
  the shipped seeds and source list), plus 300 generated feed items (real headline and
  article vocabulary, bench.ingest's generator) fetched in the last 18 hours. Then N chats
  subscribed and due now: 90 % private chats and 10 % groups, in a dozen zones, one in ten
  following a topic and one in twenty muting one.
* The application is the real one (``bot.app.build_application``, initialised as
  ``newsbot run`` does), talking to the loopback fake Bot API (``tests.fakebot.FakeBotAPI``)
  run in a process of its own, as Telegram is another machine. The job function itself,
  ``bot.dispatch.dispatch_digests``, is timed; each chat's messages are then counted from the
  fake's record of accepted calls (missed chats, duplicates).
* (a) No limit anywhere (TELEGRAM_RATE_LIMIT=0, the fake unthrottled): digests per second,
  and where the time goes: building (claim + compose + render), sending, recording. The
  phases overlap (the job sends several digests at once): each is the time spent inside
  it summed over deliveries, so the shares are what matters; the CPU per digest is there too.
* (b) The fake enforces Telegram's 30 messages/s (sliding 1 s window, 429 with
  retry_after past it) and the bot's limiter is at its default: achieved rate against 30/s.
  Run on fewer chats than (a) to keep the bench short (the figure is a rate).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from bench.common import (
    ROOT,
    SEEDS,
    cpu_seconds,
    machine,
    peak_rss_mb,
    print_table,
    summary_line,
    verdict,
)

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SEED = 20261127
CHATS_UNLIMITED = int(os.environ.get("BENCH_FANOUT_CHATS", "10000"))
CHATS_LIMITED = int(os.environ.get("BENCH_FANOUT_LIMITED_CHATS", "2000"))
GENERATED_ITEMS = 300
TELEGRAM_RATE = 30

TARGET_DIGESTS_PER_S = 400.0
TARGET_RATE_FRACTION = 0.97

_ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Africa/Lagos",
]
_FOLLOWS = [
    "election",
    "climate",
    "football",
    "bank",
    "police",
    "china",
    "ukraine",
    "trump",
    "health",
    "court",
    "storm",
    "oil",
]


# ------------------------------------------------------------------- fake Bot API


def _fake_process(conn: Any, rate_limit: int | None) -> None:
    """The fake Bot API in its own process; answers the parent's questions over a pipe."""
    from tests.fakebot import FakeBotAPI

    fake = FakeBotAPI().start()
    fake.rate_limit(rate_limit)
    conn.send((fake.token, fake.base_url))
    while True:
        command = conn.recv()
        if command == "clear":
            fake.clear()
            conn.send(None)
        elif command == "report":
            accepted = [(call.chat_id, call.at) for call in fake.calls("sendMessage")]
            failed = [
                (call.chat_id, call.error.error_code if call.error else 0)
                for call in fake.failed_calls("sendMessage")
            ]
            conn.send((accepted, failed))
        else:
            fake.stop()
            conn.send(None)
            return


class FakeBotProcess:
    """tests.fakebot.FakeBotAPI, served from a child process."""

    def __init__(self, *, rate_limit: int | None) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_fake_process, args=(child, rate_limit), daemon=True, name="bench-fakebot"
        )
        self._process.start()
        if not self._conn.poll(60):
            raise RuntimeError("the fake Bot API did not start")
        self.token, self.base_url = self._conn.recv()
        self.pid = self._process.pid or 0

    def ask(self, command: str) -> Any:
        self._conn.send(command)
        return self._conn.recv()

    def stop(self) -> None:
        try:
            self.ask("stop")
        finally:
            self._process.join(10)
            if self._process.is_alive():
                self._process.terminate()


# --------------------------------------------------------------------- the store


async def seed_generated_items(database: Any, count: int) -> int:
    """`count` feed items from bench.ingest's generator, fetched over the last 18 hours."""
    from bench.ingest import generate_feeds
    from bot.ingest import _article
    from bot.news.feeds.parse import parse_feed
    from bot.store.articles import add_articles
    from bot.store.sources import add_source

    per_feed = 50
    feeds = generate_feeds(-(-count // per_feed), items=per_feed, seed=SEED, now=NOW)
    stored = 0
    async with database.session() as session:
        for n, feed in enumerate(feeds):
            parsed = parse_feed(
                feed.body,
                url=f"https://{feed.host}{feed.path}",
                headers={"Content-Type": feed.content_type},
                now=NOW,
            )
            source = await add_source(
                session, f"https://{feed.host}{feed.path}", now=NOW, title=parsed.title
            )
            entries = parsed.entries[: count - stored]
            fetched = NOW - timedelta(hours=18) + timedelta(hours=3 * n)
            stored += len(
                await add_articles(
                    session, source.id, map(_article, entries), now=min(fetched, NOW)
                )
            )
    return stored


async def add_due_chats(database: Any, count: int, *, first_id: int) -> list[int]:
    """`count` subscribed chats whose digest is due now; returns their ids."""
    from sqlalchemy import Table, insert

    from bot.store.models import Chat, ChatTopic

    # Core inserts of plain rows: the ORM's per-object work would dominate the set-up.
    chat_table = cast(Table, Chat.__table__)
    topic_table = cast(Table, ChatTopic.__table__)
    rng = random.Random(SEED + count)
    chats, topics, ids = [], [], []
    for n in range(count):
        group = rng.random() < 0.1
        chat_id = -(1_000_000_000_000 + first_id + n) if group else first_id + n
        ids.append(chat_id)
        due = NOW - timedelta(seconds=rng.randint(0, 600))
        chats.append(
            {
                "id": chat_id,
                "kind": "group" if group else "private",
                "title": f"chat {n}",
                "thread_id": None,
                "timezone": rng.choice(_ZONES),
                "digest_times": ",".join(
                    sorted(
                        rng.sample(["07:00", "08:00", "12:30", "18:00", "21:00"], rng.randint(1, 3))
                    )
                ),
                "digest_size": rng.choice([5, 10, 10, 10, 15]),
                "only_followed": False,
                "notify_empty": False,
                "subscribed": True,
                "active": True,
                "next_digest_at": due,
                "last_digest_at": None,
                "created_at": NOW - timedelta(days=3),
                "updated_at": NOW,
            }
        )
        if rng.random() < 0.1:
            topics.append({"chat_id": chat_id, "kind": "follow", "phrase": rng.choice(_FOLLOWS)})
        if rng.random() < 0.05:
            topics.append({"chat_id": chat_id, "kind": "mute", "phrase": rng.choice(_FOLLOWS)})
    async with database.session() as session:
        for start in range(0, len(chats), 1000):
            await session.execute(insert(chat_table), chats[start : start + 1000])
        if topics:
            await session.execute(insert(topic_table), topics)
    return ids


# ------------------------------------------------------------------ measurement


@dataclass
class Phases:
    """Time summed over concurrent deliveries, per phase of the dispatch job."""

    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: Counter[str] = field(default_factory=Counter)

    def wrap(self, module: Any, name: str, phase: str) -> Callable[[], None]:
        original = getattr(module, name)

        if asyncio.iscoroutinefunction(original):

            async def timed(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    self.seconds[phase] += time.perf_counter() - started
                    self.calls[name] += 1
        else:

            def timed(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]  # one name, two shapes
                started = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    self.seconds[phase] += time.perf_counter() - started
                    self.calls[name] += 1

        setattr(module, name, timed)
        return lambda: setattr(module, name, original)


@dataclass
class RunFigures:
    chats: int
    seconds: float
    report: Any
    accepted: list[tuple[int, float]]
    failed: list[tuple[int, int]]
    phases: Phases
    cpu_bot: float
    cpu_fake: float

    def per_chat(self, ids: list[int]) -> tuple[int, int]:
        """(chats that got nothing, chats that got more than one message)."""
        counts = Counter(chat_id for chat_id, _ in self.accepted)
        missed = sum(1 for chat_id in ids if counts[chat_id] == 0)
        duplicated = sum(1 for chat_id in ids if counts[chat_id] > 1)
        return missed, duplicated


async def run(chats: int, *, limited: bool, directory: Path) -> tuple[RunFigures, list[int]]:
    """One fresh store and application, `chats` due digests, one dispatch run timed."""
    import bot.dispatch as dispatch
    from bot.app import build_application
    from bot.config import Settings
    from bot.services import SERVICES_KEY
    from tests.support import FakeClock

    fake = FakeBotProcess(rate_limit=TELEGRAM_RATE if limited else None)
    name = "limited" if limited else "unlimited"
    database_url = f"sqlite+aiosqlite:///{directory / name}.db"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=fake.token,
        telegram_api_base_url=fake.base_url,
        database_url=database_url,
        seeds_dir=str(SEEDS),
        sources_opml=str(ROOT / "seeds" / "sources.opml"),
        telegram_rate_limit=TELEGRAM_RATE if limited else 0,
    )
    application = build_application(settings, clock=FakeClock(NOW), jobs=False)
    phases = Phases()
    restore: list[Callable[[], None]] = []
    try:
        async with application:
            await application.post_init(application)  # type: ignore[misc]
            services = application.bot_data[SERVICES_KEY]
            await seed_generated_items(services.database, GENERATED_ITEMS)
            ids = await add_due_chats(services.database, chats, first_id=10_000_000)
            fake.ask("clear")
            restore += [
                phases.wrap(dispatch, "claim_due_digests", "claim"),
                phases.wrap(dispatch, "build_digest", "compose"),
                phases.wrap(dispatch, "digest_message", "render"),
                phases.wrap(dispatch, "headline_keyboard", "render"),
                phases.wrap(dispatch, "_send", "send"),
                phases.wrap(dispatch, "record_sent", "record"),
                phases.wrap(dispatch, "record_retry", "record"),
            ]

            cpu_bot, cpu_fake = time.process_time(), cpu_seconds(fake.pid)
            started = time.perf_counter()
            report = await dispatch.dispatch_digests(services, application.bot)
            seconds = time.perf_counter() - started
            cpu_bot, cpu_fake = time.process_time() - cpu_bot, cpu_seconds(fake.pid) - cpu_fake
            accepted, failed = fake.ask("report")
            await application.post_shutdown(application)  # type: ignore[misc]
    finally:
        for undo in restore:
            undo()
        fake.stop()
    return RunFigures(chats, seconds, report, accepted, failed, phases, cpu_bot, cpu_fake), ids


def main() -> int:
    print(
        f"bench.fanout on {machine()}; load average before the run "
        + " / ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        free, free_ids = asyncio.run(run(CHATS_UNLIMITED, limited=False, directory=Path(tmp)))
        capped, capped_ids = asyncio.run(run(CHATS_LIMITED, limited=True, directory=Path(tmp)))

    ok = True
    rows = []
    free_rate = len(free.accepted) / free.seconds
    free_missed, free_dup = free.per_chat(free_ids)
    building = ("claim", "compose", "render")
    split = {
        "build": sum(free.phases.seconds[p] for p in building),
        "send": free.phases.seconds["send"],
        "record": free.phases.seconds["record"],
    }
    total = sum(split.values()) or 1.0
    rows.append(
        [
            f"(a) no limit, {free.chats:,} chats",
            f"{free.seconds:.1f} s",
            f"{free_rate:,.0f} digests/s",
            f">= {TARGET_DIGESTS_PER_S:,.0f}/s",
            verdict(free_rate, TARGET_DIGESTS_PER_S, higher_is_better=True),
            f"{free_missed} / {free_dup}",
        ]
    )
    capped_rate = len(capped.accepted) / capped.seconds
    fraction = capped_rate / TELEGRAM_RATE
    capped_missed, capped_dup = capped.per_chat(capped_ids)
    status_429 = sum(1 for _, code in capped.failed if code == 429)
    rows.append(
        [
            f"(b) fake at {TELEGRAM_RATE}/s, {capped.chats:,} chats",
            f"{capped.seconds:.1f} s",
            f"{capped_rate:.2f} msg/s = {fraction:.3f} of {TELEGRAM_RATE}/s",
            f">= {TARGET_RATE_FRACTION}",
            verdict(fraction, TARGET_RATE_FRACTION, higher_is_better=True),
            f"{capped_missed} / {capped_dup}",
        ]
    )
    print_table(
        "Digest fan-out (real application, loopback fake Bot API, SQLite)",
        ["run", "dispatch time", "rate", "target", "verdict", "missed / duplicated"],
        rows,
    )
    print_table(
        f"Where (a)'s time goes: seconds spent inside each phase, summed over the "
        f"{_concurrency()} deliveries that run at once (so they add up to more than the "
        "dispatch time; the shares are what matters)",
        ["phase", "summed s", "share", "per digest"],
        [
            [
                name,
                f"{free.phases.seconds[name]:.1f}",
                f"{free.phases.seconds[name] / total:.0%}",
                f"{free.phases.seconds[name] / max(1, len(free.accepted)) * 1e3:.1f} ms",
            ]
            for name in ("claim", "compose", "render", "send", "record")
        ]
        + [
            [
                f"= {name}",
                f"{seconds:.1f}",
                f"{seconds / total:.0%}",
                f"{seconds / max(1, len(free.accepted)) * 1e3:.1f} ms",
            ]
            for name, seconds in split.items()
        ],
    )
    print_table(
        "Process CPU during dispatch",
        ["run", "bot process", "fake Bot API process", "429 answers", "report"],
        [
            [
                f"(a) {free.chats:,} chats",
                f"{free.cpu_bot:.1f} s "
                f"({free.cpu_bot / max(1, len(free.accepted)) * 1e3:.2f} ms/digest)",
                f"{free.cpu_fake:.1f} s",
                sum(1 for _, c in free.failed if c == 429),
                _report_text(free.report),
            ],
            [
                f"(b) {capped.chats:,} chats",
                f"{capped.cpu_bot:.1f} s",
                f"{capped.cpu_fake:.1f} s",
                status_429,
                _report_text(capped.report),
            ],
        ],
    )
    if capped.chats < CHATS_UNLIMITED:
        print(
            f"\n(b) runs {capped.chats:,} chats, not {CHATS_UNLIMITED:,}: "
            f"at {TELEGRAM_RATE}/s that is {capped.chats / TELEGRAM_RATE:.0f} s "
            f"instead of {CHATS_UNLIMITED / TELEGRAM_RATE:.0f} s; "
            "the figure is a rate (BENCH_FANOUT_LIMITED_CHATS changes it)."
        )
    print(f"peak RSS of the bot process: {peak_rss_mb():.0f} MB")
    for figures, missed, dup in (
        (free, free_missed, free_dup),
        (capped, capped_missed, capped_dup),
    ):
        if missed or dup or figures.report.errors:
            ok = False
            print(
                f"WARNING: {figures.chats} chats: {missed} missed, {dup} duplicated, "
                f"errors {figures.report.errors[:3]}"
            )
    summary_line(
        "fanout",
        {
            "unlimited": f"{free_rate:,.0f} digests/s over {free.chats:,} chats "
            f"(time split: build {split['build'] / total:.0%}, send "
            f"{split['send'] / total:.0%}, record {split['record'] / total:.0%}; "
            f"{free.cpu_bot / max(1, len(free.accepted)) * 1e3:.1f} ms CPU per digest; "
            f"target >= {TARGET_DIGESTS_PER_S:,.0f})",
            f"at {TELEGRAM_RATE}/s": f"{fraction:.3f} of the limit over {capped.chats:,} chats, "
            f"{status_429} x 429 (target >= {TARGET_RATE_FRACTION})",
            "missed/duplicated": f"{free_missed + capped_missed}/{free_dup + capped_dup}",
        },
    )
    return 0 if ok else 1


def _concurrency() -> int:
    import bot.dispatch

    return bot.dispatch.SEND_CONCURRENCY


def _report_text(report: Any) -> str:
    return (
        f"{report.sent} sent, {report.empty} empty, {report.retry} retry, "
        f"{report.undeliverable} undeliverable"
    )


if __name__ == "__main__":
    sys.exit(main())
