"""Feed ingestion throughput: cold pass, warm (304) pass and memory, against feedparser alone.

Run: ``.venv/bin/python -m bench.ingest``

* The data set: 500 feeds x 50 items (RSS 2.0 and Atom, about 1.3 KB an item, like the
  real news feeds in the shared corpus), generated here from real headline and article
  vocabulary with a fixed seed, served with ETag/Last-Modified by an aiohttp server on
  loopback running in a process of its own (a feed server is another machine; here it
  must not share our GIL). 100 outlets of 5 feeds each, each outlet its own host name
  (a resolver maps them all to 127.0.0.1), so the fetcher's per-host cap applies as it
  would in production.
* Yardstick: raw ``feedparser.parse(io.BytesIO(bytes))`` over the same 500 documents in
  this process, one after another (single process, single core). ``parse_feed`` (our
  normalisation on top of it) is timed too, for information.
* Cold pass: ``bot.ingest.poller.ingest_all`` into a fresh SQLite store (Database + upgrade), with
  the same parse executor the bot makes (a process pool of min(2, cores) workers) and the
  fetcher limits of the default settings: fetch, parse, normalise, store, record.
* Warm pass: ``ingest_all`` again; every feed answers 304 to its stored validators.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import io
import multiprocessing
import os
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import feedparser

from bench.common import (
    SEEDS,
    cpu_seconds,
    machine,
    peak_rss_mb,
    print_table,
    real_data,
    summary_line,
    verdict,
)

if TYPE_CHECKING:
    from bot.ingest.poller import IngestReport

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SEED = 20261126
FEEDS = 500
ITEMS = 50
FEEDS_PER_HOST = 5
WARM_PASSES = 3
# Feeds parsed before the clock starts, so the parse workers are up.
WARM_UP_FEEDS = 4

TARGET_COLD_RATIO = 1.5
TARGET_WARM_SOURCES_PER_S = 4000.0
TARGET_PEAK_RSS_MB = 150.0

# ----------------------------------------------------------------- vocabulary

_FALLBACK_TITLES = [
    "Parliament passes the budget after a late-night vote",
    "Storm warning issued for the coast as gales close schools",
    "Central bank holds interest rates steady amid inflation worries",
    "Tech giant unveils new phone with a folding screen",
    "Floods force thousands from their homes in the north",
    "Striking rail workers reject the latest pay offer",
    "Scientists find water ice near the lunar south pole",
    "Football club sacks manager after a run of defeats",
]
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\u2018\u201c'\"])")
_AUTHORS = [
    "Anna Keller",
    "James Okafor",
    "Maria Rossi",
    "Chen Wei",
    "Sophie Martin",
    "David Cohen",
    "Priya Natarajan",
    "Lucas Silva",
    "Emma Johansson",
    "Ahmed Hassan",
    "Olivia Brown",
    "Tomasz Nowak",
    "Yuki Tanaka",
    "Isabel Fernandes",
    "Noah Williams",
    "Fatima Zahra",
    "Reuters",
    "AP",
    "AFP",
    "Staff reporter",
]
_SECTIONS = [
    "World",
    "Politics",
    "Business",
    "Technology",
    "Science",
    "Health",
    "Sport",
    "Culture",
    "Climate",
    "Europe",
    "Asia",
    "Americas",
    "Africa",
    "Opinion",
]


@dataclass(frozen=True)
class Vocabulary:
    """Real headlines and real article sentences to build items from."""

    titles: list[str]
    sentences: list[str]


def load_vocabulary() -> Vocabulary:
    """Headlines from the corpus news feeds and CNN/DM highlights; sentences from the
    CNN/DM articles and the seed documents. Falls back to the seeds alone."""
    titles: list[str] = []
    sentences: list[str] = []
    data = real_data()
    for path in data.feed_files():
        parsed = feedparser.parse(io.BytesIO(path.read_bytes()))
        for entry in parsed.entries:
            title = " ".join(str(entry.get("title", "")).split())
            if 20 <= len(title) <= 160:
                titles.append(title)
    for record in data.cnndm_rows():
        for highlight in _SENTENCE.split(record.get("reference", "")):
            if 30 <= len(highlight) <= 140:
                titles.append(highlight.rstrip(". "))
        for sentence in _SENTENCE.split(" ".join(record.get("article", "").split())):
            if 40 <= len(sentence) <= 320:
                sentences.append(sentence)
    for path in sorted(SEEDS.glob("*.txt")):
        for paragraph in path.read_text(encoding="utf-8").splitlines():
            paragraph = paragraph.strip()
            if len(paragraph) > 60:
                sentences.extend(s for s in _SENTENCE.split(paragraph) if len(s) >= 40)
            elif 20 <= len(paragraph) <= 160:
                titles.append(paragraph)
    titles = list(dict.fromkeys(titles)) or list(_FALLBACK_TITLES)
    sentences = list(dict.fromkeys(sentences)) or [t + "." for t in titles]
    return Vocabulary(titles, sentences)


def _headline(rng: random.Random, vocabulary: Vocabulary) -> str:
    title = rng.choice(vocabulary.titles)
    if rng.random() < 0.35:
        # Splice two real headlines at a word boundary: new text, same vocabulary and shape.
        other = rng.choice(vocabulary.titles).split()
        head = title.split()
        title = " ".join(head[: max(2, len(head) // 2)] + other[len(other) // 2 :])
    return title


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "story"


# ---------------------------------------------------------------------- feeds


@dataclass(frozen=True)
class GeneratedFeed:
    """One generated feed document and where it is served."""

    host: str
    path: str
    kind: str  # "rss" | "atom"
    body: bytes
    items: int

    @property
    def content_type(self) -> str:
        kind = "atom" if self.kind == "atom" else "rss"
        return f"application/{kind}+xml; charset=utf-8"


def generate_feeds(
    count: int,
    *,
    items: int | tuple[int, int] = ITEMS,
    seed: int = SEED,
    now: datetime = NOW,
    feeds_per_host: int = FEEDS_PER_HOST,
    vocabulary: Vocabulary | None = None,
) -> list[GeneratedFeed]:
    """`count` feeds, about 60 % RSS 2.0 and 40 % Atom; `items` per feed or a (low, high) range."""
    vocabulary = vocabulary or load_vocabulary()
    rng = random.Random(seed)
    feeds = []
    for index in range(count):
        outlet = index // feeds_per_host
        host = f"news{outlet:03d}.bench.test"
        section = _SECTIONS[index % len(_SECTIONS)]
        kind = "atom" if rng.random() < 0.4 else "rss"
        size = items if isinstance(items, int) else rng.randint(*items)
        entries = [_item(rng, vocabulary, host, index, n, now) for n in range(size)]
        title = f"{section} | News {outlet:03d}"
        body = (_atom if kind == "atom" else _rss)(rng, title, host, section, entries, now)
        feeds.append(GeneratedFeed(host, f"/{_slug(section)}/{index}.xml", kind, body, size))
    return feeds


def _item(
    rng: random.Random, vocabulary: Vocabulary, host: str, feed: int, n: int, now: datetime
) -> dict[str, object]:
    title = _headline(rng, vocabulary)
    published = now - timedelta(seconds=rng.randint(60, 72 * 3600))
    story = f"{feed * 1000 + n}"
    link = f"https://{host}/{published:%Y/%m/%d}/{_slug(title)}-{story}"
    if rng.random() < 0.3:
        link += "?utm_source=rss&utm_medium=feed"
    lead = rng.sample(vocabulary.sentences, rng.randint(2, 4))
    content = rng.sample(vocabulary.sentences, rng.randint(4, 8)) if rng.random() < 0.15 else None
    return {
        "title": title,
        "link": link,
        "guid": f"https://{host}/a/{story}",
        "summary": "<p>" + " ".join(escape(s) for s in lead) + "</p>",
        "content": "".join(f"<p>{escape(s)}</p>" for s in content) if content else None,
        "published": published,
        "author": rng.choice(_AUTHORS) if rng.random() < 0.8 else None,
        "categories": rng.sample(_SECTIONS, rng.randint(0, 3)),
    }


def _rss(
    rng: random.Random,
    title: str,
    host: str,
    section: str,
    entries: list[dict[str, object]],
    now: datetime,
) -> bytes:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>{escape(title)}</title>\n<link>https://{host}/</link>\n"
        f'<atom:link href="https://{host}/{_slug(section)}/rss" rel="self" '
        'type="application/rss+xml"/>\n'
        f"<description>Latest {escape(section)} news</description>\n<language>en</language>\n"
        f"<lastBuildDate>{format_datetime(now, usegmt=True)}</lastBuildDate>\n<ttl>15</ttl>\n"
    ]
    for e in entries:
        out.append("<item>\n")
        out.append(f"<title>{escape(str(e['title']))}</title>\n")
        out.append(f"<link>{escape(str(e['link']))}</link>\n")
        out.append(f'<guid isPermaLink="false">{escape(str(e["guid"]))}</guid>\n')
        out.append(f"<description><![CDATA[{e['summary']}]]></description>\n")
        if e["content"]:
            out.append(f"<content:encoded><![CDATA[{e['content']}]]></content:encoded>\n")
        out.append(f"<pubDate>{format_datetime(e['published'], usegmt=True)}</pubDate>\n")  # type: ignore[arg-type]
        if e["author"]:
            out.append(f"<dc:creator>{escape(str(e['author']))}</dc:creator>\n")
        for category in e["categories"]:  # type: ignore[attr-defined]
            out.append(f"<category>{escape(category)}</category>\n")
        out.append("</item>\n")
    out.append("</channel>\n</rss>\n")
    return "".join(out).encode("utf-8")


def _atom(
    rng: random.Random,
    title: str,
    host: str,
    section: str,
    entries: list[dict[str, object]],
    now: datetime,
) -> bytes:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">\n'
        f"<title>{escape(title)}</title>\n<id>https://{host}/{_slug(section)}</id>\n"
        f'<link rel="alternate" href="https://{host}/"/>\n'
        f'<link rel="self" href="https://{host}/{_slug(section)}/atom"/>\n'
        f"<updated>{now.isoformat()}</updated>\n"
    ]
    for e in entries:
        published = e["published"]
        out.append("<entry>\n")
        out.append(f'<title type="html">{escape(str(e["title"]))}</title>\n')
        out.append(f'<link rel="alternate" type="text/html" href="{escape(str(e["link"]))}"/>\n')
        out.append(f"<id>{escape(str(e['guid']))}</id>\n")
        out.append(f"<published>{published.isoformat()}</published>\n")  # type: ignore[attr-defined]
        out.append(f"<updated>{published.isoformat()}</updated>\n")  # type: ignore[attr-defined]
        if e["author"]:
            out.append(f"<author><name>{escape(str(e['author']))}</name></author>\n")
        out.append(f'<summary type="html">{escape(str(e["summary"]))}</summary>\n')
        if e["content"]:
            out.append(f'<content type="html">{escape(str(e["content"]))}</content>\n')
        for category in e["categories"]:  # type: ignore[attr-defined]
            out.append(f'<category term="{escape(category)}"/>\n')
        out.append("</entry>\n")
    out.append("</feed>\n")
    return "".join(out).encode("utf-8")


# --------------------------------------------------------------------- server


def _serve(
    feeds: dict[str, tuple[bytes, str]], ready: multiprocessing.connection.Connection
) -> None:
    """The feed server process: each path's bytes, ETag and Last-Modified; 304 on a match."""
    from aiohttp import web

    last_modified = format_datetime(NOW, usegmt=True)
    served = {
        path: (body, content_type, '"' + hashlib.sha1(body).hexdigest()[:20] + '"')
        for path, (body, content_type) in feeds.items()
    }

    async def handler(request: web.Request) -> web.StreamResponse:
        found = served.get(request.path)
        if found is None:
            return web.Response(status=404, text="not found")
        body, content_type, etag = found
        validators = {"ETag": etag, "Last-Modified": last_modified, "Cache-Control": "max-age=300"}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=validators)
        return web.Response(body=body, headers={"Content-Type": content_type, **validators})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        ready.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


class FeedServerProcess:
    """The generated feeds on loopback, from a process of its own."""

    def __init__(self, feeds: list[GeneratedFeed]) -> None:
        context = multiprocessing.get_context("spawn")
        receive, send = context.Pipe(duplex=False)
        table = {feed.path: (feed.body, feed.content_type) for feed in feeds}
        self._process = context.Process(
            target=_serve, args=(table, send), daemon=True, name="bench-feedserver"
        )
        self._process.start()
        if not receive.poll(60):
            raise RuntimeError("the feed server did not start")
        self.port: int = receive.recv()
        self.pid: int = self._process.pid or 0

    def url(self, feed: GeneratedFeed) -> str:
        return f"http://{feed.host}:{self.port}{feed.path}"

    def stop(self) -> None:
        self._process.terminate()
        self._process.join(5)


async def loopback_resolver(host: str, port: int) -> list[str]:
    """Every generated outlet lives on this machine."""
    return ["127.0.0.1"]


# ---------------------------------------------------------------- measurements


def yardstick_feedparser(bodies: list[bytes]) -> tuple[float, int]:
    """Seconds and entries for raw feedparser over the documents, one process."""
    entries = 0
    started = time.perf_counter()
    for body in bodies:
        entries += len(feedparser.parse(io.BytesIO(body)).entries)
    return time.perf_counter() - started, entries


def time_parse_feed(feeds: list[GeneratedFeed]) -> tuple[float, int]:
    """Seconds and entries for our parse_feed (feedparser + normalisation), one process."""
    from bot.news.feeds.parse import parse_feed

    entries = 0
    started = time.perf_counter()
    for feed in feeds:
        parsed = parse_feed(
            feed.body,
            url=f"https://{feed.host}{feed.path}",
            headers={"Content-Type": feed.content_type},
            now=NOW,
        )
        entries += len(parsed.entries)
    return time.perf_counter() - started, entries


def _vm_hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@dataclass
class PassFigures:
    seconds: float
    sources: int
    new: int
    failed: int
    not_modified: int
    cpu: dict[str, float] | None = None
    """CPU seconds spent in the pass by the ingesting process, the parse workers, the server."""


async def run_passes(
    server: FeedServerProcess,
    feeds: list[GeneratedFeed],
    directory: Path,
) -> tuple[PassFigures, list[PassFigures], list[float]]:
    """A fresh store, the feeds added, then one cold and WARM_PASSES warm ingest passes."""
    from bot.config import Settings
    from bot.gc_tuning import limit_malloc_arenas
    from bot.ingest.poller import ingest_all
    from bot.news.feeds.parse import make_parse_executor, parse_feed_async
    from bot.news.http.fetcher import SafeFetcher
    from bot.services import make_fetcher
    from bot.store.db import Database
    from bot.store.sources import add_source

    limit_malloc_arenas()  # as the bot's process has them (run_bot), before any thread starts
    database_url = f"sqlite+aiosqlite:///{directory / 'ingest.db'}"
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    database = Database(database_url)
    await database.upgrade()
    async with database.session() as session:
        for feed in feeds:
            await add_source(
                session,
                server.url(feed),
                now=NOW,
                allow_private=True,
                interval_seconds=settings.feed_poll_interval,
            )

    executor = make_parse_executor(min(2, os.cpu_count() or 1))
    worker_rss: list[float] = []

    def new_fetcher() -> SafeFetcher:
        return make_fetcher(settings, resolver=loopback_resolver)

    fetcher = new_fetcher()
    try:
        # The bot's pool is long-lived: start its workers before the clock does.
        await asyncio.gather(
            *(
                parse_feed_async(feeds[i].body, url="https://warm.up/", now=NOW, executor=executor)
                for i in range(WARM_UP_FEEDS)
            )
        )
        processes = {
            "ingesting process": [os.getpid()],
            "parse workers": list(getattr(executor, "_processes", {}) or []),
            "feed server": [server.pid],
        }

        def cpu() -> dict[str, float]:
            return {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in processes.items()}

        before = cpu()
        started = time.perf_counter()
        report = await ingest_all(database, fetcher, settings, now=NOW, executor=executor)
        cold = _figures(report, time.perf_counter() - started)
        cold.cpu = {name: spent - before[name] for name, spent in cpu().items()}
        warm = []
        for n in range(WARM_PASSES):
            later = NOW + timedelta(minutes=15 * (n + 1))
            # Polls 15 minutes apart find no connection kept from the pass before (kept
            # 30 s): each pass opens its own, reused only within the pass.
            await fetcher.aclose()
            fetcher = new_fetcher()
            before = cpu()
            started = time.perf_counter()
            report = await ingest_all(database, fetcher, settings, now=later, executor=executor)
            warm.append(_figures(report, time.perf_counter() - started))
            warm[-1].cpu = {name: spent - before[name] for name, spent in cpu().items()}
        if executor is not None:
            worker_rss = [_vm_hwm_mb(pid) for pid in getattr(executor, "_processes", {})]
    finally:
        await fetcher.aclose()
        if executor is not None:
            executor.shutdown()
        await database.dispose()
    return cold, warm, worker_rss


def _figures(report: IngestReport, seconds: float) -> PassFigures:
    return PassFigures(
        seconds=seconds,
        sources=len(report.sources),
        new=report.new,
        failed=len(report.failed),
        not_modified=sum(1 for s in report.sources if s.outcome == "not_modified"),
    )


LOAD_BEFORE = ""


def main() -> int:
    global LOAD_BEFORE
    LOAD_BEFORE = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"bench.ingest on {machine()}")
    started = time.perf_counter()
    vocabulary = load_vocabulary()
    feeds = generate_feeds(FEEDS, items=ITEMS, vocabulary=vocabulary)
    total_bytes = sum(len(f.body) for f in feeds)
    total_items = sum(f.items for f in feeds)
    atom = sum(1 for f in feeds if f.kind == "atom")
    print(
        f"data: {len(feeds)} feeds ({len(feeds) - atom} RSS 2.0, {atom} Atom) x {ITEMS} items "
        f"= {total_items:,} items, {total_bytes / 1e6:.1f} MB "
        f"({total_bytes / total_items:,.0f} B/item), {len(vocabulary.titles):,} real headlines "
        f"and {len(vocabulary.sentences):,} real sentences "
        f"as vocabulary, seed {SEED}; generated in {time.perf_counter() - started:.1f} s"
    )
    server = FeedServerProcess(feeds)
    try:
        gc.collect()
        yard_s, yard_entries = yardstick_feedparser([f.body for f in feeds])
        ours_s, ours_entries = time_parse_feed(feeds)
        # The documents are the feed server's: the ingesting process keeps only the few
        # its warm-up parses, as the bot holds no feed but those it is reading.
        feeds = [
            feed if i < WARM_UP_FEEDS else replace(feed, body=b"") for i, feed in enumerate(feeds)
        ]
        gc.collect()
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
            cold, warm, worker_rss = asyncio.run(run_passes(server, feeds, Path(tmp)))
    finally:
        server.stop()

    yard_rate = yard_entries / yard_s
    ours_rate = ours_entries / ours_s
    cold_rate = cold.new / cold.seconds
    ratio = cold_rate / yard_rate
    warm_rates = sorted(w.sources / w.seconds for w in warm)
    warm_rate = warm_rates[len(warm_rates) // 2]
    rss = peak_rss_mb()
    warm_ok = all(w.not_modified == w.sources == FEEDS for w in warm)
    cold_ok = cold.failed == 0 and cold.new == total_items

    rows = [
        [
            "yardstick: feedparser.parse(BytesIO), 1 process",
            f"{yard_s:.2f} s",
            f"{yard_rate:,.0f} items/s",
            "1.00x",
            "",
            "",
        ],
        [
            "our parse_feed (feedparser + normalise), 1 process",
            f"{ours_s:.2f} s",
            f"{ours_rate:,.0f} items/s",
            f"{ours_rate / yard_rate:.2f}x",
            "",
            "",
        ],
        [
            f"cold ingest_all ({cold.new:,} new, {cold.failed} failed)",
            f"{cold.seconds:.2f} s",
            f"{cold_rate:,.0f} items/s",
            f"{ratio:.2f}x",
            f">= {TARGET_COLD_RATIO}x",
            verdict(ratio, TARGET_COLD_RATIO, higher_is_better=True),
        ],
        [
            f"warm ingest_all, all 304 (median of {WARM_PASSES})",
            " / ".join(f"{w.seconds:.2f}" for w in warm) + " s",
            f"{warm_rate:,.0f} sources/s",
            "",
            f">= {TARGET_WARM_SOURCES_PER_S:,.0f}/s",
            verdict(warm_rate, TARGET_WARM_SOURCES_PER_S, higher_is_better=True),
        ],
        [
            "peak RSS, ingesting process",
            "",
            f"{rss:.0f} MB",
            "",
            f"<= {TARGET_PEAK_RSS_MB:.0f} MB",
            verdict(rss, TARGET_PEAK_RSS_MB, higher_is_better=False),
        ],
    ]
    if worker_rss:
        rows.append(
            [
                f"peak RSS, each of {len(worker_rss)} parse workers",
                "",
                " / ".join(f"{r:.0f}" for r in worker_rss) + " MB",
                "",
                "",
                "",
            ]
        )
    print_table(
        "Feed ingestion (500 feeds x 50 items, loopback, SQLite)",
        ["figure", "time", "rate", "vs yardstick", "target", "verdict"],
        rows,
    )
    median_warm = sorted(warm, key=lambda w: w.seconds)[len(warm) // 2]
    cpu_rows = []
    for label, figures, per, unit in (
        ("cold pass", cold, cold.new, "item"),
        ("warm pass (median)", median_warm, median_warm.sources, "source"),
    ):
        assert figures.cpu is not None
        total = sum(figures.cpu.values())
        cpu_rows.append(
            [label, f"{figures.seconds:.2f} s", f"{total / figures.seconds:.2f}"]
            + [
                f"{spent:.2f} s ({spent / per * 1e6:,.0f} us/{unit})"
                for spent in figures.cpu.values()
            ]
        )
    print_table(
        f"Where the CPU went ({os.cpu_count()} cores; load average before the run {LOAD_BEFORE})",
        ["pass", "wall", "cores busy", *(cold.cpu or {})],
        cpu_rows,
    )
    if not (cold_ok and warm_ok):
        print(
            f"\nWARNING: cold pass stored {cold.new}/{total_items} items "
            f"with {cold.failed} failures; "
            f"warm passes answered 304 for {[w.not_modified for w in warm]} of {FEEDS}"
        )
    summary_line(
        "ingest",
        {
            "yardstick feedparser": f"{yard_rate:,.0f} items/s",
            "cold": f"{cold_rate:,.0f} items/s ({ratio:.2f}x, target >= {TARGET_COLD_RATIO}x)",
            "warm": f"{warm_rate:,.0f} sources/s (target >= {TARGET_WARM_SOURCES_PER_S:,.0f})",
            "peak RSS": f"{rss:.0f} MB (target <= {TARGET_PEAK_RSS_MB:.0f})",
        },
    )
    return 0 if cold_ok and warm_ok else 1


if __name__ == "__main__":
    sys.exit(main())
