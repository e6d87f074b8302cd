"""The big store the query and memory benches run on: 1,000,000 articles from 2,000 sources.

Run ``.venv/bin/python -m bench.dataset`` to build (or find) the cached SQLite store and
print where it is; the benches call :func:`sqlite_store`, which does the same in a child
process so that building never counts toward a bench's own memory figures.

Shape (deterministic, seed ``SEED``):

* 2,000 sources, each written in the style of one of the real news feeds of the shared
  corpus (``../shared/corpus/feeds/news``; the 20 feeds of ``tests/data`` when it is absent),
  chosen in proportion to the feed's item count, so about 3 in 5 are English and the
  rest German, French, Portuguese, Spanish, Italian, Slovak, Urdu... like the corpus.
  Sources differ in how much they publish (log-normal weights), like real feeds.
* Each article's title is two real titles of its source's feed spliced at word
  boundaries (the head of one, the tail of another), its description likewise from two
  real descriptions (empty where the feed gives none, long where it carries whole
  articles); in half of them one capitalised word is swapped for a name drawn from a
  Zipf law over every capitalised word of the corpus, which gives the long tail of rare
  names a real store has. No body (feeds carry headlines and teasers).
* 30 days of news up to ``NOW`` (the default retention), ids in arrival order,
  ``fetched_at`` a steady arrival clock and ``published_at`` up to 20 minutes before it.
* Every row goes in through the real schema (the Alembic migrations of ``bot.store``)
  with its ``search_text`` made by ``bot.news.text.search_document``, so the FTS5 index
  (and on PostgreSQL the generated tsvector and its GIN index) is the product's own, and
  its ``story_words`` by ``bot.news.grouping.story_words`` and its ``title_terms`` (how
  many of those terms are the title's), as ingest stores them.
  For speed the rows are written with raw ``executemany`` (COPY on PostgreSQL) and the
  B-tree indexes on ``articles`` are dropped during the load and then re-created from
  their own DDL as the migrations wrote it.

The store is cached under ``$NEWSBOT_BENCH_CACHE`` (default ``<tmp>/newsbot-bench``) in a
file named by ``DATASET_VERSION``, the size, the schema head and a fingerprint of what
``search_document`` and ``story_words`` make of a probe text, so a change to any of them
builds a fresh one.
A sidecar JSON holds the query mix chosen from the store's own term statistics.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from urllib.parse import urlsplit

from bench.common import SEEDS, real_data

DATASET_VERSION = "1"
# The /topic query mix chosen from a store (a sidecar file, remade without rebuilding the store).
MIX_VERSION = "2"
SEED = 20261126
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SPAN = timedelta(days=30)
ARTICLES = 1_000_000
SOURCES = 2_000
# The private chat the query bench talks as; it exists in the cached store so that
# /latest and /topic read it (as the handlers do) without writing to the cache.
BENCH_CHAT_ID = 424242
BENCH_CHAT_NAME = "Bench Reader"

_CHUNK = 20_000
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's SQLite DateTime stores a value
_PROBE = (
    "U.S. Senators Debate the Economy’s “Soft Landing” in Zürich",
    "José Seguro's running mates: drug prices, e-mail & 25% tariffs — São Paulo.",
)
_SECTIONS = [
    "World",
    "Politics",
    "Business",
    "Markets",
    "Technology",
    "Science",
    "Health",
    "Sport",
    "Culture",
    "Opinion",
    "Local",
    "Climate",
    "Europe",
    "Asia",
    "Americas",
    "Africa",
    "Middle East",
    "Economy",
    "Travel",
    "Education",
]
_NO_HIT_WORDS = [
    "platypus",
    "xylophone",
    "marmalade",
    "kumquat",
    "narwhal",
    "quokka",
    "trombone",
    "origami",
    "yodeling",
    "zeppelin",
    "armadillo",
    "sassafras",
    "kaleidoscope",
    "wombat",
    "accordion",
    "chinchilla",
]
_STOP = frozenset(
    """about after again against also among because been before being below
between both could does doing down during each from further have having here into itself
more most once only other over same should some such than that their them then there
these they this those through under until very were what when where which while will
with would your says said will year years just like make made""".split()
)


# ----------------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class Style:
    """How one real feed writes: its outlet, host, titles and descriptions as word lists."""

    outlet: str
    host: str
    titles: tuple[tuple[str, ...], ...]
    descriptions: tuple[tuple[str, ...], ...]
    authors: tuple[str, ...]


@dataclass(frozen=True)
class Corpus:
    """Every style, the capitalised words of the corpus by frequency, and surface forms."""

    styles: tuple[Style, ...]
    names: tuple[str, ...]
    name_weights: tuple[float, ...]  # cumulative Zipf weights over `names`
    tail: tuple[str, ...]  # lower-case words of the prose, commonest first
    tail_weights: tuple[float, ...]
    surfaces: dict[str, str]  # stem -> the commonest lower-case word with that stem


def _feed_styles() -> list[Style]:
    import feedparser

    from bot.news.text import clean_text

    folder = real_data().news_feeds
    index_file = folder / "index.json"
    if not index_file.exists():
        return []
    index = json.loads(index_file.read_text(encoding="utf-8"))
    styles = []
    for name in sorted(index):
        parsed = feedparser.parse((folder / name).read_bytes())
        titles, descriptions, authors = [], [], []
        for entry in parsed.entries:
            title = clean_text(entry.get("title"))
            if len(title.split()) < 3:
                continue
            titles.append(tuple(title.split()))
            description = clean_text(entry.get("summary"))
            descriptions.append(tuple(description.split()) if description != title else ())
            if entry.get("author"):
                authors.append(clean_text(entry.get("author"))[:100])
        if len(titles) < 5:
            continue
        host = (
            urlsplit(parsed.feed.get("link") or "").netloc
            or f"{name.split('.')[0].lower()}.example"
        )
        outlet = index[name].get("outlet") or parsed.feed.get("title") or host
        styles.append(
            Style(outlet, host.lower(), tuple(titles), tuple(descriptions), tuple(authors))
        )
    return styles


def _seed_style() -> Style:
    from bot.news.seeds import load_seed_file, seed_files

    titles, descriptions = [], []
    for path in seed_files(SEEDS):
        document = load_seed_file(path)
        titles += [tuple(h.split()) for h in document.headlines]
        if document.article is not None:
            titles.append(tuple(document.article.title.split()))
            descriptions += [tuple(p.split()) for p in document.article.paragraphs]
    return Style(
        "newsbot seeds",
        "seeds.example",
        tuple(t for t in titles if len(t) >= 3),
        tuple(descriptions) or ((),),
        (),
    )


def _prose() -> list[str]:
    """Article text beyond the feeds: CNN/DailyMail articles and real news pages."""
    import lxml.html

    data = real_data()
    texts = [row["article"] for row in data.cnndm_rows()]
    for page in sorted(data.page_expectations()):
        try:
            document = lxml.html.fromstring(data.page_html(page))
        except (ValueError, lxml.etree.ParserError):
            continue
        texts += [p.text_content() for p in document.iter("p")]
    return texts


_PUNCTUATION = ".,:;!?\"'“”‘’()[]«»"


def _zipf(counter: Counter[str]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    ranked = tuple(word for word, _ in counter.most_common())
    return ranked, tuple(accumulate(1.0 / rank for rank in range(1, len(ranked) + 1)))


@lru_cache(maxsize=1)
def corpus() -> Corpus:
    """The vocabulary the generator draws from (read once per process)."""
    from bot.news.text import stem, words

    styles = _feed_styles() or [_seed_style()]
    prose = [tuple(text.split()) for text in _prose()]
    capitalised: Counter[str] = Counter()
    tail: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    for tokens in [t for s in styles for t in s.titles + s.descriptions] + prose:
        for position, token in enumerate(tokens):
            core = token.strip(_PUNCTUATION)
            if position and len(core) >= 3 and core[0].isupper() and core.isalpha():
                capitalised[core] += 1
            for word in words(token):
                lower[word] += 1
    for tokens in prose:
        for token in tokens:
            core = token.strip(_PUNCTUATION)
            if len(core) >= 4 and core.isalpha() and core.islower():
                tail[core] += 1
    names, name_weights = _zipf(capitalised)
    tail_words, tail_weights = _zipf(tail)
    surfaces: dict[str, str] = {}
    for word, _ in lower.most_common():
        surfaces.setdefault(stem(word), word)
    return Corpus(tuple(styles), names, name_weights, tail_words, tail_weights, surfaces)


# ----------------------------------------------------------------------- generation


@dataclass(frozen=True)
class SourceRow:
    """A generated source: its id, style, feed URL, title and how much it publishes."""

    id: int
    style: int
    url: str
    title: str
    host: str
    uses_guid: bool


@lru_cache(maxsize=4)
def sources(count: int = SOURCES) -> tuple[tuple[SourceRow, ...], tuple[float, ...]]:
    """The sources and their cumulative publishing weights."""
    data = corpus()
    rng = random.Random(f"{SEED}:sources")
    style_weights = list(accumulate(len(s.titles) for s in data.styles))
    rows, weights = [], []
    for source_id in range(1, count + 1):
        style = bisect_left(style_weights, rng.random() * style_weights[-1])
        section = _SECTIONS[source_id % len(_SECTIONS)]
        host = data.styles[style].host
        slug = section.lower().replace(" ", "-")
        rows.append(
            SourceRow(
                id=source_id,
                style=style,
                url=f"https://{host}/rss/{slug}-{source_id}.xml",
                title=f"{data.styles[style].outlet} · {section}",
                host=host,
                uses_guid=source_id % 2 == 0,
            )
        )
        weights.append(rng.lognormvariate(0.0, 1.0))
    return tuple(rows), tuple(accumulate(weights))


def _splice(rng: random.Random, texts: tuple[tuple[str, ...], ...]) -> list[str]:
    first, second = rng.choice(texts), rng.choice(texts)
    if len(first) < 2 or len(second) < 2:
        return list(first)
    return list(first[: rng.randint(1, len(first) - 1)] + second[rng.randint(1, len(second) - 1) :])


def _swap(
    rng: random.Random,
    tokens: list[str],
    words: tuple[str, ...],
    weights: tuple[float, ...],
    *,
    capitalised: bool,
) -> None:
    """Put a Zipf-drawn word in place of one capitalised (or long lower-case) word."""
    if capitalised:
        spots = [i for i in range(1, len(tokens)) if tokens[i][:1].isupper()]
    else:
        spots = [i for i, t in enumerate(tokens) if len(t) >= 5 and t.isalpha() and t.islower()]
    if not spots:
        return
    spot = rng.choice(spots)
    old = tokens[spot]
    core = old.rstrip(_PUNCTUATION)
    tokens[spot] = words[bisect_left(weights, rng.random() * weights[-1])] + old[len(core) :]


_SLUG_WORD = re.compile(r"[a-z0-9]+")
_TERMS: dict[str, str] = {}


def _slug(title: str) -> str:
    return "-".join(_SLUG_WORD.findall(title.lower())[:7]) or "story"


def _search_text(*parts: list[str]) -> str:
    """search_document(*texts) for texts given as their whitespace-separated tokens.

    search_document folds, splits and stems word by word, and a space always splits
    words, so its result is the terms of each token in turn; memoising per token makes
    a million rows affordable. `generate_chunk` checks this against search_document
    itself on every 16th row and falls back to calling it for every row on a mismatch.
    """
    from bot.news.text import terms

    cache = _TERMS
    joined = []
    for tokens in parts:
        if tokens:
            for token in tokens:
                if token not in cache:
                    cache[token] = " ".join(terms(token))
            joined.append(" ".join(filter(None, map(cache.__getitem__, tokens))))
    return " ".join(joined)


def generate_chunk(
    chunk: int, total: int = ARTICLES, source_count: int = SOURCES, *, memoise: bool = True
) -> list[tuple]:
    """Rows (SQLite column order of `_ARTICLE_COLUMNS`) of articles chunk*_CHUNK onwards."""
    from bot.news.grouping import story_words
    from bot.news.text import search_document
    from bot.store.articles import article_key

    data = corpus()
    source_rows, source_weights = sources(source_count)
    rng = random.Random(f"{SEED}:articles:{chunk}")
    start_time = NOW - SPAN
    step = SPAN / total
    rows = []
    for index in range(chunk * _CHUNK, min(total, (chunk + 1) * _CHUNK)):
        source = source_rows[bisect_left(source_weights, rng.random() * source_weights[-1])]
        style = data.styles[source.style]
        title_tokens = _splice(rng, style.titles)
        description_tokens = _splice(rng, style.descriptions)
        if rng.random() < 0.6:
            _swap(rng, title_tokens, data.names, data.name_weights, capitalised=True)
        if description_tokens and rng.random() < 0.7:
            _swap(rng, description_tokens, data.names, data.name_weights, capitalised=True)
        if description_tokens and data.tail and rng.random() < 0.7:
            _swap(rng, description_tokens, data.tail, data.tail_weights, capitalised=False)
        title, description = " ".join(title_tokens), " ".join(description_tokens)
        fetched = start_time + step * (index + 1)
        published = fetched - timedelta(seconds=rng.uniform(0, 1200))
        url = f"https://{source.host}/{published:%Y/%m/%d}/{_slug(title)}-{index + 1}"
        guid = url if source.uses_guid else None
        author = rng.choice(style.authors) if style.authors and rng.random() < 0.6 else None
        if memoise:
            title_text = _search_text(title_tokens)
            search_text = _search_text(title_tokens, description_tokens)
            if index % 16 == 0 and search_text != search_document(title, description):
                return generate_chunk(chunk, total, source_count, memoise=False)
        else:
            title_text = search_document(title)
            search_text = search_document(title, description)
        rows.append(
            (
                index + 1,
                source.id,
                article_key(source.id, guid, url, title),
                guid,
                url,
                title,
                description,
                None,
                author,
                published.strftime(_SQLITE_TIME),
                fetched.strftime(_SQLITE_TIME),
                search_text,
                len(title_text.split()),
                story_words(title, description, None),
            )
        )
    return rows


_ARTICLE_COLUMNS = (
    "id",
    "source_id",
    "key",
    "guid",
    "url",
    "title",
    "description",
    "body",
    "author",
    "published_at",
    "fetched_at",
    "search_text",
    "title_terms",
    "story_words",
)
_SOURCE_COLUMNS = (
    "id",
    "url",
    "title",
    "kind",
    "active",
    "allow_private",
    "interval_seconds",
    "next_fetch_at",
    "error_count",
    "created_at",
)


def _source_records(count: int) -> list[tuple]:
    rows, _ = sources(count)
    created = (NOW - SPAN - timedelta(days=1)).strftime(_SQLITE_TIME)
    records = []
    for row in rows:
        next_fetch = NOW + timedelta(seconds=(row.id * 7919) % 900)
        records.append(
            (
                row.id,
                row.url,
                row.title,
                "feed",
                1,
                0,
                900,
                next_fetch.strftime(_SQLITE_TIME),
                0,
                created,
            )
        )
    return records


# ----------------------------------------------------------------------- cache


def schema_head() -> str:
    """The Alembic head revision the store is migrated to."""
    from bot.store.db import SCHEMA_HEAD

    return SCHEMA_HEAD


def cache_dir() -> Path:
    """Where generated stores are kept between runs."""
    return Path(
        os.environ.get("NEWSBOT_BENCH_CACHE") or Path(tempfile.gettempdir()) / "newsbot-bench"
    )


def store_name(count: int = ARTICLES) -> str:
    """The cache key: dataset version, size, schema head and a fingerprint of what
    search_document and story_words make of a probe."""
    from bot.news.grouping import story_words
    from bot.news.text import search_document

    probe = search_document(*_PROBE) + story_words(*_PROBE, None)
    fingerprint = hashlib.sha1(probe.encode()).hexdigest()[:8]
    return f"articles-v{DATASET_VERSION}-{count}-{SOURCES}-{schema_head()}-{fingerprint}"


def store_path(count: int = ARTICLES) -> Path:
    """The cached SQLite file for a store of `count` articles (may not exist yet)."""
    return cache_dir() / f"{store_name(count)}.sqlite"


def queries_path(count: int = ARTICLES) -> Path:
    """The sidecar holding the query mix chosen for that store."""
    return cache_dir() / f"{store_name(count)}.queries-v{MIX_VERSION}.json"


def sqlite_store(count: int = ARTICLES) -> tuple[Path, float]:
    """The cached store's path, building it in a child process first if needed.

    Returns the path and the seconds spent building (0.0 when it was cached).
    """
    path = store_path(count)
    if path.exists() and queries_path(count).exists():
        return path, 0.0
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "bench.dataset", str(count)], check=True)
    return path, time.monotonic() - started


def query_mix(count: int = ARTICLES) -> list[dict[str, str]]:
    """The fixed mix of /topic queries for the store: [{"text":..., "kind":...}, ...]."""
    return json.loads(queries_path(count).read_text(encoding="utf-8"))


def _build(count: int) -> None:
    from bot.store.db import Database

    final = store_path(count)
    final.parent.mkdir(parents=True, exist_ok=True)
    building = final.with_name(f"{final.stem}.building-{os.getpid()}.sqlite")
    for leftover in final.parent.glob(f"{final.stem}.building-*"):
        leftover.unlink(missing_ok=True)
    started = time.monotonic()

    async def migrate() -> None:
        database = Database(f"sqlite+aiosqlite:///{building}")
        await database.upgrade()
        await database.dispose()

    asyncio.run(migrate())
    connection = sqlite3.connect(building, isolation_level=None)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-262144")
    connection.execute("BEGIN")
    connection.executemany(
        f"INSERT INTO sources ({', '.join(_SOURCE_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(_SOURCE_COLUMNS))})",
        _source_records(SOURCES),
    )
    # Indexes are cheaper to build once than to keep up row by row: the B-tree indexes of
    # articles (and an FTS5 insert trigger, which stores before migration 0019 have) are
    # dropped and re-created from their own DDL; the FTS5 index is filled by its 'rebuild'
    # command from search_text.
    ddl = connection.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name='articles' AND sql IS NOT NULL "
        "AND (type='index' OR (type='trigger' AND sql LIKE '%AFTER INSERT%'))"
    ).fetchall()
    for kind, name, _ in ddl:
        connection.execute(f'DROP {kind.upper()} "{name}"')
    insert = (
        f"INSERT INTO articles ({', '.join(_ARTICLE_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(_ARTICLE_COLUMNS))})"
    )
    chunks = math.ceil(count / _CHUNK)
    workers = max(1, min(2, os.cpu_count() or 1))
    done = 0
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for rows in pool.imap(_chunk_job, [(c, count) for c in range(chunks)]):
            connection.executemany(insert, rows)
            done += len(rows)
            if done % 200_000 < _CHUNK:
                print(f"  {done:,} articles in {time.monotonic() - started:.0f} s", flush=True)
    print(f"  rows in after {time.monotonic() - started:.0f} s; indexing", flush=True)
    connection.execute("INSERT INTO articles_fts(articles_fts) VALUES('rebuild')")
    for _, _, sql in ddl:
        connection.execute(sql)
    connection.execute("COMMIT")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()

    async def bench_chat() -> None:
        from bot.store.chats import ChatDefaults, ensure_chat

        database = Database(f"sqlite+aiosqlite:///{building}")
        async with database.session() as session:
            await ensure_chat(
                session,
                BENCH_CHAT_ID,
                kind="private",
                title=BENCH_CHAT_NAME,
                defaults=ChatDefaults("UTC", ["08:00"], 10),
                now=NOW,
            )
        await database.dispose()

    asyncio.run(bench_chat())
    building.replace(final)
    print(
        f"built {final} ({final.stat().st_size / 1e6:,.0f} MB) in "
        f"{time.monotonic() - started:.0f} s",
        flush=True,
    )


def _chunk_job(job: tuple[int, int]) -> list[tuple]:
    chunk, count = job
    return generate_chunk(chunk, count)


def _choose_queries(connection: sqlite3.Connection, count: int) -> list[dict[str, str]]:
    """1-3 word queries from the store's own document frequencies (stems -> user words)."""
    from bot.news.query import QueryTerm, parse_query

    data = corpus()
    connection.execute(
        "CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, 'articles_fts', 'row')"
    )
    frequency = dict(connection.execute("SELECT term, doc FROM temp.vocab"))
    connection.execute("DROP TABLE temp.vocab")

    def usable(term: str) -> str | None:
        word = data.surfaces.get(term)
        if (
            word
            and word.isascii()
            and word.isalpha()
            and len(word) >= 4
            and word not in _STOP
            and parse_query(word).terms == (QueryTerm(((term,),)),)
        ):
            return word
        return None

    def pick(
        low: float, high: float, n: int, rng: random.Random, among: set[str] | None = None
    ) -> list[str]:
        found = sorted(
            w
            for t, d in frequency.items()
            if low <= d <= high and (w := usable(t)) and (among is None or w in among)
        )
        return rng.sample(found, min(n, len(found)))

    rng = random.Random(f"{SEED}:queries")
    common = pick(count * 0.005, count * 0.05, 12, rng)
    # Rare words people look up are mostly names: a person, a place, a firm.
    names = {name.lower() for name in data.names}
    rare = pick(3, 60, 10, rng, among=names)
    if len(rare) < 10:  # a small store: widen the band
        rare = pick(1, max(60, count // 2000), 10, rng, among=names)
    absent = [w for w in _NO_HIT_WORDS if parse_query(w).terms[0].spellings[0][0] not in frequency]
    absent = absent[:8]
    mix = (
        [(w, "common") for w in common[:6]]
        + [(f"{common[i]} {common[i + 1]}", "common") for i in (6, 8, 10)]
        + [(f"{common[0]} {common[7]} {common[9]}", "common")]
        + [(w, "rare") for w in rare[:6]]
        + [
            (f"{rare[6]} {common[1]}", "rare"),
            (f"{common[2]} {rare[7]}", "rare"),
            (f"{rare[8]} {rare[9]}", "rare"),
            (f"{rare[0]} {rare[1]} {common[3]}", "rare"),
        ]
        + [(w, "no-hit") for w in absent[:2]]
        + [
            (f"{absent[2]} {absent[3]}", "no-hit"),
            (f"{absent[4]} {absent[5]} {absent[6]}", "no-hit"),
        ]
        + [(f"{common[4]} {absent[1]}", "partial"), (f"{rare[2]} {absent[2]}", "partial")]
    )
    return [{"text": text, "kind": kind} for text, kind in mix]


# ----------------------------------------------------------------------- PostgreSQL


async def load_postgres(
    url: str, sqlite_path: Path, *, limit: int | None = None, progress: bool = True
) -> int:
    """Fill an empty PostgreSQL database (migrated here) with the cached store's rows.

    COPY through asyncpg in batches, the articles' secondary indexes (B-tree and the GIN
    index on the generated tsvector) dropped during the load and re-created from their
    own definitions, then VACUUM ANALYZE as autovacuum would, and a CHECKPOINT: the load
    leaves gigabytes of pages to write, and the checkpointer writing them while reads are
    timed put runs of /latest at 10-30 ms, which a store long in service never sees.
    Returns the article count.
    """
    import asyncpg
    from sqlalchemy.engine import make_url

    from bot.store.db import Database

    database = Database(url)
    await database.upgrade()
    await database.dispose()
    parsed = make_url(url)

    async def connect() -> asyncpg.Connection:
        connection = await asyncpg.connect(
            host=parsed.host,
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            database=parsed.database,
        )
        await connection.execute("SET maintenance_work_mem = '512MB'")
        await connection.execute("SET synchronous_commit = off")
        return connection

    # Two COPY streams: the server's work per row (the generated tsvector) is the cost.
    connections = [await connect() for _ in range(2)]
    connection = connections[0]
    source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    started = time.monotonic()
    try:
        source_rows = [
            _pg_source(row)
            for row in source.execute(
                f"SELECT {', '.join(_SOURCE_COLUMNS)} FROM sources ORDER BY id"
            )
        ]
        await connection.copy_records_to_table(
            "sources", records=source_rows, columns=list(_SOURCE_COLUMNS)
        )
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'articles' AND indexname "
            "NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'articles'::regclass)"
        )
        for index in indexes:
            await connection.execute(f'DROP INDEX "{index["indexname"]}"')
        where = f" WHERE id <= {int(limit)}" if limit else ""
        cursor = source.execute(
            f"SELECT {', '.join(_ARTICLE_COLUMNS)} FROM articles{where} ORDER BY id"
        )
        queue: asyncio.Queue[list[tuple] | None] = asyncio.Queue(maxsize=2)
        total = 0

        async def copier(stream: asyncpg.Connection) -> None:
            while (batch := await queue.get()) is not None:
                await stream.copy_records_to_table(
                    "articles", records=batch, columns=list(_ARTICLE_COLUMNS)
                )

        copiers = [asyncio.create_task(copier(c)) for c in connections]
        while batch := cursor.fetchmany(25_000):
            await queue.put([_pg_article(row) for row in batch])
            total += len(batch)
            if progress and total % 250_000 == 0:
                print(
                    f"  PostgreSQL: {total:,} articles copied "
                    f"in {time.monotonic() - started:.0f} s",
                    flush=True,
                )
        for _ in copiers:
            await queue.put(None)
        await asyncio.gather(*copiers)
        # Re-create the indexes two at a time, as the two streams loaded the rows.
        pending = [index["indexdef"] for index in indexes]

        async def indexer(stream: asyncpg.Connection) -> None:
            while pending:
                await stream.execute(pending.pop())

        await asyncio.gather(*(indexer(c) for c in connections))
        for table in ("articles", "sources"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        await connection.execute("VACUUM ANALYZE")
        # A role that may not checkpoint leaves it to the server's own, in their time.
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            await connection.execute("CHECKPOINT")
    finally:
        source.close()
        for stream in connections:
            await stream.close()
    await _postgres_bench_chat(url)
    return total


async def _postgres_bench_chat(url: str) -> None:
    from bot.store.chats import ChatDefaults, ensure_chat
    from bot.store.db import Database

    database = Database(url)
    async with database.session() as session:
        await ensure_chat(
            session,
            BENCH_CHAT_ID,
            kind="private",
            title=BENCH_CHAT_NAME,
            defaults=ChatDefaults("UTC", ["08:00"], 10),
            now=NOW,
        )
    await database.dispose()


def _aware(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def _pg_source(row: tuple) -> tuple:
    return (
        row[0],
        row[1],
        row[2],
        row[3],
        bool(row[4]),
        bool(row[5]),
        row[6],
        _aware(row[7]),
        row[8],
        _aware(row[9]),
    )


def _pg_article(row: tuple) -> tuple:
    return row[:9] + (_aware(row[9]), _aware(row[10]), *row[11:])


def copy_store(source: Path, target: Path) -> None:
    """A private copy of a cached store (the cache itself is never written by a bench)."""
    target.unlink(missing_ok=True)
    try:
        subprocess.run(["cp", "--reflink=auto", str(source), str(target)], check=True)
    except (OSError, subprocess.CalledProcessError):
        shutil.copyfile(source, target)


def _write_mix(count: int) -> None:
    connection = sqlite3.connect(f"file:{store_path(count)}?mode=ro", uri=True)
    try:
        mix = _choose_queries(connection, count)
    finally:
        connection.close()
    queries_path(count).write_text(json.dumps(mix, indent=1), encoding="utf-8")


def main() -> int:
    """Build the cached store of `argv[1]` articles (default 1,000,000) unless it exists."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else ARTICLES
    path = store_path(count)
    if path.exists():
        print(f"cached: {path}")
    else:
        print(f"building {count:,} articles from {SOURCES:,} sources into {path} ...", flush=True)
        _build(count)
    if not queries_path(count).exists():
        _write_mix(count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
