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
  ``bot.digests.dispatch.dispatch_digests``, is timed; each chat's messages are then counted
  from the fake's record of accepted calls (missed chats, duplicates).
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
CHATS_COMPARED = int(os.environ.get("BENCH_FANOUT_COMPARED_CHATS", "3000"))
CHATS_INSTANCES = int(os.environ.get("BENCH_FANOUT_INSTANCE_CHATS", "4000"))
CHATS_INSTANCES_LIMITED = int(os.environ.get("BENCH_FANOUT_INSTANCE_LIMITED_CHATS", "1000"))
GENERATED_ITEMS = 300
TELEGRAM_RATE = 30

TARGET_DIGESTS_PER_S = 400.0
TARGET_RATE_FRACTION = 0.97
TARGET_SCALING = 1.7

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
    from bot.ingest.poller import _article
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


async def run(
    chats: int, *, limited: bool, directory: Path, lean: bool = True
) -> tuple[RunFigures, list[int]]:
    """One fresh store and application, `chats` due digests, one dispatch run timed.
    `lean`: digests over bot.sending.digest_sender (aiohttp), else through PTB's send_message."""
    import bot.digests.dispatch as dispatch
    from bot.app import build_application
    from bot.config import Settings
    from bot.digests.render import DigestComposer
    from bot.services import SERVICES_KEY
    from tests.support import FakeClock

    fake = FakeBotProcess(rate_limit=TELEGRAM_RATE if limited else None)
    name = f"{'limited' if limited else 'unlimited'}-{chats}-{'lean' if lean else 'ptb'}"
    database_url = f"sqlite+aiosqlite:///{directory / name}.db"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=fake.token,
        telegram_api_base_url=fake.base_url,
        database_url=database_url,
        seeds_dir=str(SEEDS),
        sources_opml=str(ROOT / "seeds" / "sources.opml"),
        telegram_rate_limit=TELEGRAM_RATE if limited else 0,
        telegram_lean_digests=lean,
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
                phases.wrap(dispatch, "read_batch_items", "compose"),
                phases.wrap(dispatch, "unseen_alone", "compose"),
                phases.wrap(DigestComposer, "compose", "compose"),
                phases.wrap(DigestComposer, "render", "render"),
                phases.wrap(dispatch, "_send", "send"),
                phases.wrap(dispatch, "record_deliveries", "record"),
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


# ------------------------------------------------------- instances on PostgreSQL


@dataclass
class InstanceFigures:
    """Several application processes dispatching one PostgreSQL store's due digests."""

    instances: int
    chats: int
    seconds: float
    accepted: list[tuple[int, float]]
    failed: list[tuple[int, int]]
    cpu_bots: float
    reports: list[str]
    errors: list[str]
    ids: list[int]

    @property
    def rate(self) -> float:
        return len(self.accepted) / self.seconds

    @property
    def peak_second(self) -> int:
        """The most messages Telegram (the fake) accepted in any window of one second."""
        times = sorted(at for _, at in self.accepted)
        peak, first = 0, 0
        for last, at in enumerate(times):
            while times[first] <= at - 1.0:
                first += 1
            peak = max(peak, last - first + 1)
        return peak

    @property
    def status_429(self) -> int:
        return sum(1 for _, code in self.failed if code == 429)

    def per_chat(self) -> tuple[int, int]:
        counts = Counter(chat_id for chat_id, _ in self.accepted)
        return (
            sum(1 for chat_id in self.ids if counts[chat_id] == 0),
            sum(1 for chat_id in self.ids if counts[chat_id] > 1),
        )


def _instance_settings(fake: FakeBotProcess, url: str, *, limited: bool) -> dict[str, Any]:
    return {
        "telegram_bot_token": fake.token,
        "telegram_api_base_url": fake.base_url,
        "database_url": url,
        "seeds_dir": str(SEEDS),
        "sources_opml": str(ROOT / "seeds" / "sources.opml"),
        "telegram_rate_limit": TELEGRAM_RATE if limited else 0,
    }


async def _prepared_store(values: dict[str, Any], chats: int) -> list[int]:
    """The store every instance starts from: migrated, seeded, `chats` digests due."""
    from bot.app import build_application
    from bot.config import Settings
    from bot.services import SERVICES_KEY
    from tests.support import FakeClock

    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    application = build_application(settings, clock=FakeClock(NOW), jobs=False)
    async with application:
        await application.post_init(application)  # type: ignore[misc]
        services = application.bot_data[SERVICES_KEY]
        await seed_generated_items(services.database, GENERATED_ITEMS)
        ids = await add_due_chats(services.database, chats, first_id=10_000_000)
        await application.post_shutdown(application)  # type: ignore[misc]
    return ids


def _instance_process(conn: Any, values: dict[str, Any]) -> None:
    """One newsbot instance: start as `newsbot run` does, then one dispatch pass when told."""
    asyncio.run(_instance(conn, values))


async def _instance(conn: Any, values: dict[str, Any]) -> None:
    from bot.app import build_application
    from bot.config import Settings
    from bot.digests.dispatch import dispatch_digests
    from bot.gc_tuning import settle_after_start
    from bot.services import SERVICES_KEY
    from tests.support import FakeClock

    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    application = build_application(settings, clock=FakeClock(NOW), jobs=False)
    async with application:
        await application.post_init(application)  # type: ignore[misc]
        settle_after_start()
        services = application.bot_data[SERVICES_KEY]
        conn.send("ready")
        conn.recv()
        cpu, started = time.process_time(), time.time()
        report = await dispatch_digests(services, application.bot)
        conn.send((started, time.time(), time.process_time() - cpu, _report_text(report)))
        conn.send(report.errors[:3])
        await application.post_shutdown(application)  # type: ignore[misc]


def run_instances(count: int, chats: int, *, limited: bool) -> InstanceFigures:
    """`count` instance processes on a fresh PostgreSQL database, one fake Bot API process."""
    from sqlalchemy.engine import make_url

    from tests.support import POSTGRES_URL, postgres_admin

    name = f"newsbot_bench_fanout_{os.getpid()}_{count}_{int(limited)}"
    asyncio.run(postgres_admin(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
    fake = FakeBotProcess(rate_limit=TELEGRAM_RATE if limited else None)
    context = multiprocessing.get_context("spawn")
    try:
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        values = _instance_settings(fake, url, limited=limited)
        ids = asyncio.run(_prepared_store(values, chats))
        fake.ask("clear")
        pipes, processes = [], []
        for n in range(count):
            parent, child = context.Pipe()
            process = context.Process(
                target=_instance_process, args=(child, values), name=f"bench-instance-{n}"
            )
            process.start()
            pipes.append(parent)
            processes.append(process)
        for pipe in pipes:
            if pipe.recv() != "ready":
                raise RuntimeError("an instance did not start")
        for pipe in pipes:
            pipe.send("go")
        results = [pipe.recv() for pipe in pipes]
        errors = [e for pipe in pipes for e in pipe.recv()]
        for process in processes:
            process.join(60)
        accepted, failed = fake.ask("report")
    finally:
        fake.stop()
        asyncio.run(postgres_admin(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    seconds = max(end for _, end, _, _ in results) - min(start for start, _, _, _ in results)
    return InstanceFigures(
        instances=count,
        chats=chats,
        seconds=seconds,
        accepted=accepted,
        failed=failed,
        cpu_bots=sum(cpu for _, _, cpu, _ in results),
        reports=[text for _, _, _, text in results],
        errors=errors,
        ids=ids,
    )


def postgres_reachable() -> bool:
    """Whether the test PostgreSQL answers (the instance runs need it)."""
    from tests.support import POSTGRES_URL, postgres_admin

    try:
        asyncio.run(postgres_admin(POSTGRES_URL, "SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means: not here
        return False
    return True


def main() -> int:
    print(
        f"bench.fanout on {machine()}; load average before the run "
        + " / ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        free, free_ids = asyncio.run(run(CHATS_UNLIMITED, limited=False, directory=Path(tmp)))
        # The two send paths back to back, on the same number of chats.
        via_ptb, ptb_ids = asyncio.run(
            run(CHATS_COMPARED, limited=False, directory=Path(tmp), lean=False)
        )
        via_lean, lean_ids = asyncio.run(run(CHATS_COMPARED, limited=False, directory=Path(tmp)))
        capped, capped_ids = asyncio.run(run(CHATS_LIMITED, limited=True, directory=Path(tmp)))
    instance_runs: list[InstanceFigures] = []
    if postgres_reachable():
        instance_runs = [
            run_instances(1, CHATS_INSTANCES, limited=False),
            run_instances(2, CHATS_INSTANCES, limited=False),
            run_instances(2, CHATS_INSTANCES_LIMITED, limited=True),
        ]
    else:
        print("PostgreSQL does not answer at the test URL: the instance runs are left out.")

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
    compared = [(name, f) for name, f in (("PTB + httpx", via_ptb), ("aiohttp", via_lean))]
    print_table(
        f"Send paths back to back: {CHATS_COMPARED:,} chats, no limit, SQLite",
        ["digests sent with", "rate", "bot CPU per digest", "fake CPU per message"],
        [
            [
                name,
                f"{len(f.accepted) / f.seconds:,.0f} digests/s",
                f"{_cpu_per_digest(f.cpu_bot, f.accepted):.2f} ms",
                f"{_cpu_per_digest(f.cpu_fake, f.accepted):.2f} ms",
            ]
            for name, f in compared
        ],
    )
    lean_cpu = _cpu_per_digest(via_lean.cpu_bot, via_lean.accepted)
    ptb_cpu = _cpu_per_digest(via_ptb.cpu_bot, via_ptb.accepted)
    lean_rate = len(via_lean.accepted) / via_lean.seconds
    ptb_rate = len(via_ptb.accepted) / via_ptb.seconds
    print(
        f"aiohttp vs PTB: {lean_rate / ptb_rate:.2f}x the rate, "
        f"{ptb_cpu / lean_cpu:.2f}x less bot CPU per digest"
    )
    instances_text: dict[str, str] = {}
    if instance_runs:
        one, two, two_capped = instance_runs
        print_table(
            "Instances on one PostgreSQL, one fake Bot API process (every process on the same "
            f"{os.cpu_count()} cores)",
            [
                "run",
                "dispatch time",
                "rate",
                "peak msg in any second",
                "429 answers",
                "bot CPU per digest",
                "missed / duplicated",
                "reports",
            ],
            [
                [
                    f"{f.instances} x {_limit_text(f is two_capped)}, {f.chats:,} chats",
                    f"{f.seconds:.1f} s",
                    f"{f.rate:,.1f} msg/s",
                    f.peak_second,
                    f.status_429,
                    f"{_cpu_per_digest(f.cpu_bots, f.accepted):.2f} ms",
                    "{} / {}".format(*f.per_chat()),
                    " | ".join(f.reports),
                ]
                for f in instance_runs
            ],
        )
        scaling = two.rate / one.rate
        print(
            f"2 instances vs 1: {scaling:.2f}x (target >= {TARGET_SCALING}); at {TELEGRAM_RATE}/s "
            f"the peak second held {two_capped.peak_second} messages"
        )
        for f in instance_runs:
            missed, dup = f.per_chat()
            if missed or dup or f.errors:
                ok = False
                print(
                    f"WARNING: {f.instances} instances, {f.chats} chats: {missed} missed, "
                    f"{dup} duplicated, errors {f.errors[:3]}"
                )
        missed_all = sum(f.per_chat()[0] for f in instance_runs)
        dup_all = sum(f.per_chat()[1] for f in instance_runs)
        instances_text = {
            f"2 instances at {TELEGRAM_RATE}/s:": f"peak {two_capped.peak_second} msg in any "
            f"second, {two_capped.status_429} x 429",
            "2 instances unlimited:": f"{scaling:.2f}x one ({two.rate:,.0f} vs "
            f"{one.rate:,.0f} digests/s on PostgreSQL; target >= {TARGET_SCALING}x)",
        }
    else:
        missed_all = dup_all = 0
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
            "aiohttp sends": f"{ptb_cpu / lean_cpu:.2f}x less CPU per digest than PTB "
            f"({lean_cpu:.2f} vs {ptb_cpu:.2f} ms over {CHATS_COMPARED:,} chats)",
            f"at {TELEGRAM_RATE}/s": f"{fraction:.3f} of the limit over {capped.chats:,} chats, "
            f"{status_429} x 429 (target >= {TARGET_RATE_FRACTION})",
            **instances_text,
            "missed/duplicated": f"{free_missed + capped_missed + missed_all}/"
            f"{free_dup + capped_dup + dup_all}",
        },
    )
    return 0 if ok else 1


def _limit_text(limited: bool) -> str:
    return f"at {TELEGRAM_RATE}/s" if limited else "no limit"


def _cpu_per_digest(cpu_seconds: float, accepted: list[tuple[int, float]]) -> float:
    return cpu_seconds / max(1, len(accepted)) * 1e3


def _concurrency() -> int:
    import bot.digests.dispatch

    return bot.digests.dispatch.SEND_CONCURRENCY


def _report_text(report: Any) -> str:
    return (
        f"{report.sent} sent, {report.empty} empty, {report.retry} retry, "
        f"{report.undeliverable} undeliverable"
    )


if __name__ == "__main__":
    sys.exit(main())
