"""/latest and /topic latency on a store of 1,000,000 articles, against a LIKE scan.

Run: ``.venv/bin/python -m bench.query`` (``--articles N``, ``--pg-articles N`` or
``--no-pg`` to change the sizes; ``NEWSBOT_BENCH_POSTGRES_URL`` names the server, default
the local ``test`` database, beside which a database of this run's own is made and dropped).

* The store: ``bench.dataset`` (1,000,000 articles from 2,000 sources over 30 days, real
  headline vocabulary, the product's schema and full-text index), cached between runs.
  PostgreSQL gets the same rows by COPY into a fresh database when a server answers.
* /latest and /topic are timed as the handlers build their reply: the handlers' own
  ``latest_page`` / ``topic_page`` (chat row read, store query, ranking, the HTML message
  and the inline keyboard) and ``split_message``, as a private chat that already exists;
  only the HTTP request to Telegram is left out. /latest shows 10 items; /topic runs a
  fixed mix of 1-3 word queries (chosen from the store's own term statistics: common
  words in 0.5-5 % of items, rare names in 3-60 items, words in none, and a known word
  with an unknown one, which falls back to "any word"), in a shuffled order each round.
* Yardstick: the same queries as the naive search, every word as ``LIKE '%word%'`` on
  title or description (``ILIKE`` on PostgreSQL, as SQLite's LIKE ignores case), fetching
  every match as a ranking search must see them all; run once in this process for one
  query of each kind and length (a full scan costs about the same whatever it finds).
  The speed-up is the scan's median over the /topic median.
* A query that finds nothing is answered with what is trending (``bot.stories.trends``), which
  takes seconds; such queries run twice instead of 25 times and count as 25 runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import dataset
from bench.common import machine, p50_p95_p99, print_table, summary_line, verdict

if TYPE_CHECKING:
    from bot.services import Services

TARGET_LATEST_P99_MS = 5.0
TARGET_TOPIC_P99_MS = 30.0
TARGET_SPEEDUP = 100.0
LATEST_CALLS = 1000
TOPIC_ROUNDS = 25
# A query whose runs have taken this long stops after SLOW_RUNS runs (the no-match reply
# computes what is trending, which takes seconds); its runs then stand for all rounds.
SLOW_QUERY_BUDGET_MS = 1500.0
SLOW_RUNS = 2
POSTGRES_URL = os.environ.get(
    "NEWSBOT_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


class FixedClock:
    """The bench's "now": the end of the generated 30 days."""

    def now(self) -> datetime:
        return dataset.NOW


@dataclass
class Figures:
    """What one backend measured."""

    backend: str
    articles: int
    bytes_on_disk: int
    latest_ms: list[float] = field(default_factory=list)
    topic_ms: dict[str, list[float]] = field(default_factory=dict)
    scan_ms: list[float] = field(default_factory=list)
    hits: dict[str, list[int]] = field(default_factory=dict)
    load_seconds: float = 0.0
    runs: int = 0

    @property
    def all_topic_ms(self) -> list[float]:
        return [v for values in self.topic_ms.values() for v in values]

    @property
    def matched_topic_ms(self) -> list[float]:
        return [v for kind, values in self.topic_ms.items() if kind != "no-hit" for v in values]


async def _handler_context(database_url: str) -> tuple[Services, Any, Any]:
    """What latest_page/topic_page read from PTB: the services and the chat."""
    from telegram import Chat
    from telegram.ext import ExtBot

    from bot.config import Settings
    from bot.services import Services
    from bot.store.db import Database

    settings = Settings(
        _env_file=None,
        database_url=database_url,  # type: ignore[call-arg]
        telegram_bot_token="123456:BENCH",
    )
    services = await Services.open(
        settings, Database(database_url), FixedClock(), bot=ExtBot(settings.telegram_bot_token)
    )
    context = SimpleNamespace(services=services, args=[])
    update = SimpleNamespace(
        effective_chat=Chat(
            id=dataset.BENCH_CHAT_ID, type="private", first_name=dataset.BENCH_CHAT_NAME
        )
    )
    return services, context, update


async def _measure(figures: Figures, database_url: str, mix: list[dict[str, str]]) -> None:
    from bot.gc_tuning import settle_after_start
    from bot.ui.callbacks import LatestPage
    from bot.ui.render import split_message
    from handlers.headlines import latest_page, topic_page

    services, context, update = await _handler_context(database_url)
    sqlite = services.database.is_sqlite

    async def latest() -> float:
        started = time.perf_counter()
        message, keyboard = await latest_page(context, update, LatestPage(0, 10))
        split_message(message)
        assert keyboard is not None
        return (time.perf_counter() - started) * 1000

    async def topic(words: str) -> float:
        started = time.perf_counter()
        message, _ = await topic_page(context, update, words, offset=0, size=10)
        split_message(message)
        return (time.perf_counter() - started) * 1000

    try:
        # One unmeasured round: connections opened, statements prepared, caches warm.
        for _ in range(20):
            await latest()
        for query in mix:
            await topic(query["text"])
        # As `newsbot run` does once it is ready to serve.
        settle_after_start()
        figures.latest_ms = [await latest() for _ in range(LATEST_CALLS)]
        rng = random.Random(dataset.SEED)
        samples: dict[str, list[float]] = {q["text"]: [] for q in mix}
        for _ in range(TOPIC_ROUNDS):
            order = list(mix)
            rng.shuffle(order)
            for query in order:
                done = samples[query["text"]]
                if len(done) >= SLOW_RUNS and sum(done) > SLOW_QUERY_BUDGET_MS:
                    continue
                done.append(await topic(query["text"]))
        for query in mix:
            done = samples[query["text"]]
            # A slow query run fewer times still weighs as much as the others in the mix.
            figures.topic_ms.setdefault(query["kind"], []).extend(
                done[i % len(done)] for i in range(TOPIC_ROUNDS)
            )
            figures.runs += len(done)
        async with services.database.session() as session:
            from bot.news.query import parse_query
            from bot.store.search import search_articles

            for query in mix:
                result = await search_articles(
                    session, parse_query(query["text"]), limit=10, now=dataset.NOW
                )
                figures.hits.setdefault(query["kind"], []).append(result.total_candidates)
        like = "LIKE" if sqlite else "ILIKE"
        for query in _yardstick_queries(mix):
            words = query["text"].split()
            where = " AND ".join(
                f"(title {like} :w{i} OR description {like} :w{i})" for i in range(len(words))
            )
            params = {f"w{i}": f"%{w}%" for i, w in enumerate(words)}
            async with services.database.session() as session:
                started = time.perf_counter()
                (
                    await session.execute(text(f"SELECT id FROM articles WHERE {where}"), params)
                ).all()
                figures.scan_ms.append((time.perf_counter() - started) * 1000)
    finally:
        await services.aclose()


def _yardstick_queries(mix: list[dict[str, str]]) -> list[dict[str, str]]:
    """One query of each kind and length: a full scan costs about the same whatever it finds."""
    chosen: dict[tuple[str, int], dict[str, str]] = {}
    for query in mix:
        chosen.setdefault((query["kind"], len(query["text"].split())), query)
    return list(chosen.values())


def _rows(figures: Figures) -> list[list[object]]:
    latest = p50_p95_p99(figures.latest_ms)
    topic = p50_p95_p99(figures.all_topic_ms)
    matched = p50_p95_p99(figures.matched_topic_ms)
    scan = p50_p95_p99(figures.scan_ms)
    rows: list[list[object]] = [
        [
            f"/latest (10 items), {len(figures.latest_ms)} runs",
            *latest,
            f"p99 <= {TARGET_LATEST_P99_MS:g}",
            verdict(latest[2], TARGET_LATEST_P99_MS, higher_is_better=False),
        ],
        [
            f"/topic, whole mix ({figures.runs} runs)",
            *topic,
            f"p99 <= {TARGET_TOPIC_P99_MS:g}",
            verdict(topic[2], TARGET_TOPIC_P99_MS, higher_is_better=False),
        ],
        [
            "/topic, queries with matches",
            *matched,
            f"p99 <= {TARGET_TOPIC_P99_MS:g}",
            verdict(matched[2], TARGET_TOPIC_P99_MS, higher_is_better=False),
        ],
    ]
    for kind in ("common", "rare", "partial", "no-hit"):
        values = figures.topic_ms.get(kind, [])
        if not values:
            continue
        hits = figures.hits.get(kind, [])
        rows.append(
            [
                f"  {kind}: {len(values) // TOPIC_ROUNDS} queries, "
                f"~{sum(hits) // max(1, len(hits))} cand.",
                *p50_p95_p99(values),
                "",
                "",
            ]
        )
    rows.append([f"LIKE scan, {len(figures.scan_ms)} queries (yardstick)", *scan, "", ""])
    for label, mine in (("whole mix", topic), ("with matches", matched)):
        speedup = scan[0] / mine[0]
        rows.append(
            [
                f"speed-up, {label}: scan p50 / topic p50",
                f"{speedup:,.0f}x",
                "",
                "",
                f">= {TARGET_SPEEDUP:g}x",
                verdict(speedup, TARGET_SPEEDUP, higher_is_better=True),
            ]
        )
    return rows


def _report(figures: Figures) -> dict[str, str]:
    per_article = figures.bytes_on_disk / max(1, figures.articles)
    print_table(
        f"{figures.backend}: {figures.articles:,} articles, {figures.bytes_on_disk / 1e6:,.0f} "
        "MB on "
        f"disk = {per_article:,.0f} bytes/article (latency in ms)",
        ["figure", "p50", "p95", "p99", "target", "verdict"],
        _rows(figures),
    )
    latest = p50_p95_p99(figures.latest_ms)
    topic = p50_p95_p99(figures.all_topic_ms)
    matched = p50_p95_p99(figures.matched_topic_ms)
    scan = p50_p95_p99(figures.scan_ms)[0]
    key = figures.backend.split()[0].lower()
    return {
        f"{key} latest p99": f"{latest[2]:.1f} ms",
        f"{key} topic p99": f"{topic[2]:.1f} ms (with matches {matched[2]:.1f})",
        f"{key} speed-up": f"{scan / topic[0]:,.0f}x (with matches {scan / matched[0]:,.0f}x)",
        f"{key} bytes/article": f"{per_article:,.0f}",
    }


async def _postgres_admin(statement: str) -> None:
    import asyncpg

    url = make_url(POSTGRES_URL)
    connection = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
        timeout=5,
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _postgres_size(url: str) -> int:
    from bot.store.db import Database

    database = Database(url)
    try:
        async with database.session() as session:
            return int(await session.scalar(text("SELECT pg_database_size(current_database())")))
    finally:
        await database.dispose()


async def _run_postgres(store: Path, articles: int, mix: list[dict[str, str]]) -> Figures | str:
    name = f"newsbot_bench_{uuid.uuid4().hex[:8]}"
    try:
        await _postgres_admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - no server: say so and carry on
        return f"PostgreSQL not measured: no server at {POSTGRES_URL} ({type(exc).__name__})"
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        started = time.monotonic()
        count = await dataset.load_postgres(url, store, limit=articles)
        figures = Figures(
            f"PostgreSQL {count:,}",
            count,
            await _postgres_size(url),
            load_seconds=time.monotonic() - started,
        )
        await _measure(figures, url, mix)
        return figures
    finally:
        await _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    """Build or find the store, measure SQLite (and PostgreSQL), print tables and the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=dataset.ARTICLES)
    parser.add_argument(
        "--pg-articles",
        type=int,
        default=dataset.ARTICLES,
        help="rows of the store copied into PostgreSQL (at most --articles)",
    )
    parser.add_argument("--no-pg", action="store_true")
    options = parser.parse_args()
    started = time.monotonic()
    print(f"bench.query on {machine()}")
    store, built = dataset.sqlite_store(options.articles)
    print(f"store: {store} ({f'built in {built:.0f} s' if built else 'cached'})", flush=True)
    mix = dataset.query_mix(options.articles)
    print(
        f"/topic mix ({len(mix)} queries): " + ", ".join(f"{q['text']} [{q['kind']}]" for q in mix)
    )

    figures: list[Figures] = []
    sqlite = Figures(
        "SQLite",
        options.articles,
        sum(p.stat().st_size for p in store.parent.glob(store.name + "*")),
    )
    asyncio.run(_measure(sqlite, f"sqlite+aiosqlite:///{store}", mix))
    figures.append(sqlite)
    notes = []
    if not options.no_pg:
        outcome = asyncio.run(_run_postgres(store, min(options.pg_articles, options.articles), mix))
        if isinstance(outcome, str):
            notes.append(outcome)
        else:
            figures.append(outcome)
    summary: dict[str, str] = {}
    for item in figures:
        summary.update(_report(item))
    for note in notes:
        print(f"\n{note}")
    summary["store build"] = f"{built:.0f} s" if built else "cached"
    if len(figures) > 1:
        summary["pg load"] = f"{figures[1].load_seconds:.0f} s"
    summary["bench total"] = f"{time.monotonic() - started:.0f} s"
    summary_line("query", summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
