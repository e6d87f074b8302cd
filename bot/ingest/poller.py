"""Feed ingestion: fetch the feeds that are due, store their new items, schedule the next poll.

Plain async Python, no Telegram: the poll job and `newsbot ingest` both call it. Every
feed is fetched concurrently through the one SafeFetcher (its caps apply). Fetched feeds are
stored by a BatchWriter, several to a transaction, so one broken feed never touches another.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from datetime import datetime

from prometheus_client import Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.news.feeds.fetch import ErrorKind, FeedResult, Outcome, fetch_feed
from bot.news.feeds.parse import FeedEntry
from bot.news.http.fetcher import SafeFetcher
from bot.news.indexing import index_items_async
from bot.store.articles import KnownItems, NewArticle, add_known_articles, known_items
from bot.store.batching import BatchWriter
from bot.store.db import Database
from bot.store.meta import record_heartbeat
from bot.store.sources import (
    ClaimedSource,
    Fetch,
    claim_all_feeds,
    claim_due_sources,
    record_fetches,
)
from bot.store.tombstones import note_listed_items

log = logging.getLogger(__name__)
FETCHES = Counter(
    "newsbot_feed_fetches_total",
    "Feed fetches by outcome: new (items stored), unchanged, not_modified, or error_<kind> "
    "(error_timeout, error_http_status, error_parse...)",
    ["outcome"],
)
FETCH_SECONDS = Histogram(
    "newsbot_feed_fetch_seconds",
    "Seconds one feed's fetch and parse took",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 60),
)
ITEMS_STORED = Counter("newsbot_items_stored_total", "Feed items stored for the first time")

# Feeds taken per poll pass; at the fetcher's default caps a pass of dead feeds still
# ends well within the claim lease.
DUE_LIMIT = 100
# How often the poll job ticks: each tick starts the feeds that came due since the last.
POLL_PASS_SECONDS = 10


@dataclass(frozen=True)
class SourceReport:
    """What one feed gave in a pass."""

    id: int
    url: str
    title: str
    outcome: Outcome
    new: int = 0
    unchanged: int = 0
    skipped: int = 0
    error: str | None = None
    error_kind: ErrorKind | None = None
    newly_deactivated: bool = False

    @property
    def name(self) -> str:
        """How people know the feed: its title, else its URL."""
        return self.title or self.url


# Called as each feed is done: its report, how many are done, how many were taken.
Progress = Callable[[SourceReport, int, int], None]


@dataclass(frozen=True)
class IngestReport:
    """What a pass did, one line per feed."""

    sources: list[SourceReport]

    @property
    def new(self) -> int:
        """Items stored for the first time."""
        return sum(source.new for source in self.sources)

    @property
    def failed(self) -> list[SourceReport]:
        """Feeds whose fetch failed."""
        return [source for source in self.sources if source.outcome == "error"]

    @property
    def deactivated(self) -> list[SourceReport]:
        """Feeds turned off in this pass, so admins are told once."""
        return [source for source in self.sources if source.newly_deactivated]

    def summary(self) -> str:
        """One line for logs and the heartbeat."""
        return (
            f"{len(self.sources)} feeds, {self.new} new items, {len(self.failed)} failed, "
            f"{len(self.deactivated)} turned off"
        )


async def ingest_due(
    database: Database,
    fetcher: SafeFetcher,
    settings: Settings,
    *,
    now: datetime,
    executor: Executor | None = None,
    limit: int = DUE_LIMIT,
    progress: Progress | None = None,
) -> IngestReport:
    """One poll pass: the feeds due now, then the heartbeat the watchdog looks for."""
    async with database.session() as session:
        claimed = await claim_due_sources(session, now=now, limit=limit)
    report = await _ingest(
        database, fetcher, settings, claimed, now=now, executor=executor, progress=progress
    )
    async with database.session() as session:
        await record_heartbeat(session, "poll", report.summary(), now=now)
    return report


async def ingest_all(
    database: Database,
    fetcher: SafeFetcher,
    settings: Settings,
    *,
    now: datetime,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Fetch every active feed now, due or not (`newsbot ingest`)."""
    async with database.session() as session:
        claimed = await claim_all_feeds(session, now=now)
    return await _ingest(
        database, fetcher, settings, claimed, now=now, executor=executor, progress=progress
    )


@dataclass(frozen=True)
class TickReport:
    """What one tick of the poller did: feeds started, still in flight, and finished since."""

    started: int
    in_flight: int
    finished: list[SourceReport]

    @property
    def deactivated(self) -> list[SourceReport]:
        """Feeds turned off since the last tick, so admins are told once."""
        return [source for source in self.finished if source.newly_deactivated]


class FeedPoller:
    """Fetches feeds as they come due, each on its own: a tick claims what is due and
    starts it, never waiting for feeds still in flight. A slow feed holds only its own
    claim (and its host's slots), never the feeds that come due after it."""

    def __init__(
        self,
        database: Database,
        fetcher: SafeFetcher,
        settings: Settings,
        *,
        executor: Executor | None = None,
        limit: int = DUE_LIMIT,
    ) -> None:
        self._database = database
        self._fetcher = fetcher
        self._settings = settings
        self._executor = executor
        self._limit = limit
        self._writer = _feed_writer(database, settings)
        self._reads = asyncio.Semaphore(AHEAD_READS)
        self._in_flight: set[asyncio.Task[SourceReport]] = set()
        self._finished: list[SourceReport] = []

    async def __aenter__(self) -> FeedPoller:
        await self._writer.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        # Feeds cut off here are due again once their claim's short lease runs out.
        for task in self._in_flight:
            task.cancel()
        await asyncio.gather(*self._in_flight, return_exceptions=True)
        await self._writer.__aexit__(*exc_info)

    async def tick(self, *, now: datetime) -> TickReport:
        """Start the feeds due by `now`, up to the limit in flight; record the heartbeat."""
        claimed: list[ClaimedSource] = []
        room = self._limit - len(self._in_flight)
        if room > 0:
            async with self._database.session() as session:
                claimed = await claim_due_sources(session, now=now, limit=room)
        for source in claimed:
            task = asyncio.create_task(self._fetch(source, now=now))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        finished, self._finished = self._finished, []
        report = TickReport(len(claimed), len(self._in_flight), finished)
        async with self._database.session() as session:
            await record_heartbeat(
                session,
                "poll",
                f"{report.started} feeds started, {report.in_flight} in flight, "
                f"{IngestReport(finished).summary()} done",
                now=now,
            )
        return report

    async def _fetch(self, source: ClaimedSource, *, now: datetime) -> SourceReport:
        report = await _ingest_source(
            self._database,
            self._fetcher,
            self._settings,
            source,
            now=now,
            executor=self._executor,
            writer=self._writer,
            reads=self._reads,
        )
        self._finished.append(report)
        return report


# A write transaction takes whatever feeds are ready, up to these many feeds or items: one
# commit per feed made a pass of small feeds (or of 304s) wait on the store, while a huge
# transaction would keep SQLite's single write lock from the bot's other writers too long.
BATCH_FEEDS = 64
BATCH_ITEMS = 2000
# Feeds one pass has in flight at once: fetched and parsed feeds wait for the writer with
# their items, and a cold pass parses faster than SQLite stores. Two batches' worth keeps
# the parse workers busy while a batch is written. (The poller has its own, DUE_LIMIT.)
FEEDS_IN_FLIGHT = 2 * BATCH_FEEDS
# Concurrent reads of which items are new: each holds a pooled connection (with SQLite,
# its own page cache and thread), and a read takes about a millisecond.
AHEAD_READS = 2


@dataclass(frozen=True)
class _Fetched:
    """A fetch to record, its items to store, and what the store held of them when read
    ahead (None: read in the write), the new ones indexed."""

    fetch: Fetch
    items: list[NewArticle]
    known: KnownItems | None = None


_FeedWriter = BatchWriter[_Fetched, SourceReport]


def _feed_writer(database: Database, settings: Settings) -> _FeedWriter:
    async def store_batch(session: AsyncSession, batch: list[_Fetched]) -> list[SourceReport]:
        return await _store(session, settings, batch)

    async def store(session: AsyncSession, fetched: _Fetched) -> SourceReport:
        return (await _store(session, settings, [fetched]))[0]

    return BatchWriter(
        database,
        store,
        write_many=store_batch,
        what="feeds",
        max_items=BATCH_FEEDS,
        weight=lambda fetched: len(fetched.items),
        max_weight=BATCH_ITEMS,
        # SQLite has one writer at a time: queueing here beats waiting in its busy timeout.
        workers=1 if database.is_sqlite else 4,
    )


async def _ingest(
    database: Database,
    fetcher: SafeFetcher,
    settings: Settings,
    claimed: Sequence[ClaimedSource],
    *,
    now: datetime,
    executor: Executor | None,
    progress: Progress | None,
) -> IngestReport:
    done = 0

    async def one(source: ClaimedSource, writer: _FeedWriter) -> SourceReport:
        nonlocal done
        async with in_flight:
            report = await _ingest_source(
                database,
                fetcher,
                settings,
                source,
                now=now,
                executor=executor,
                writer=writer,
                reads=reads,
            )
        done += 1
        if progress is not None:
            progress(report, done, len(claimed))
        return report

    in_flight = asyncio.Semaphore(FEEDS_IN_FLIGHT)
    reads = asyncio.Semaphore(AHEAD_READS)
    async with _feed_writer(database, settings) as writer:
        reports = await asyncio.gather(*(one(source, writer) for source in claimed))
    return IngestReport(list(reports))


async def _ingest_source(
    database: Database,
    fetcher: SafeFetcher,
    settings: Settings,
    source: ClaimedSource,
    *,
    now: datetime,
    executor: Executor | None,
    writer: _FeedWriter,
    reads: asyncio.Semaphore,
) -> SourceReport:
    """Fetch one feed and store it; whatever goes wrong is recorded as its error."""
    started = time.perf_counter()
    try:
        result = await fetch_feed(
            fetcher,
            source.url,
            etag=source.etag,
            last_modified=source.last_modified,
            allow_private=source.allow_private or settings.fetch_allow_private,
            now=now,
            max_items=settings.feed_max_items,
            executor=executor,
        )
    except Exception as exc:  # a bug must not stop the other feeds
        log.exception("Fetching source %d (%s) failed", source.id, source.url)
        result = _internal_failure(source, exc)
    FETCH_SECONDS.observe(time.perf_counter() - started)
    items = [_article(entry) for entry in result.entries]
    known = await _indexed_ahead(database, source, items, executor=executor, reads=reads)
    report = await _submit(writer, source, result, items, known, now=now)
    FETCHES.labels(outcome=_outcome_label(report)).inc()
    ITEMS_STORED.inc(report.new)
    if report.newly_deactivated:
        log.warning(
            "Source %d (%s) turned off after repeated failures: %s",
            source.id,
            source.url,
            report.error,
        )
    return report


async def _submit(
    writer: _FeedWriter,
    source: ClaimedSource,
    result: FeedResult,
    items: list[NewArticle],
    known: KnownItems | None,
    *,
    now: datetime,
) -> SourceReport:
    """Store a fetch through the writer; if that fails, record the failure instead."""
    try:
        return await writer.submit(_Fetched(Fetch(source, result, now), items, known))
    except Exception as exc:  # a bug or a store hiccup must not stop the other feeds
        log.exception("Ingesting source %d (%s) failed", source.id, source.url)
        failure = _internal_failure(source, exc)
        try:
            return await writer.submit(_Fetched(Fetch(source, failure, now), []))
        except Exception:
            # The claim lease runs out and a later pass tries the feed again.
            log.exception("Could not record the failure of source %d", source.id)
            return _report(source, failure)


async def _indexed_ahead(
    database: Database,
    source: ClaimedSource,
    items: list[NewArticle],
    *,
    executor: Executor | None,
    reads: asyncio.Semaphore,
) -> KnownItems | None:
    """What the store holds of the feed's items, the new ones indexed in the parse workers
    (`executor`): there the CPU it takes runs beside the parsing, not under the GIL fetching
    and storing need. If anything fails here, the write reads and indexes them itself."""
    if not items:  # a 304 or an error: nothing to read
        return None
    try:
        async with reads, database.session() as session:
            known = await known_items(session, source.id, items)
        new = known.new_items()
        indexed = await index_items_async([item.text() for _, item in new], executor=executor)
    except Exception:  # the store still indexes them: nothing is lost but time
        log.exception("Indexing the items of source %d ahead failed", source.id)
        return None
    return known.with_items(
        {key: replace(item, indexed=done) for (key, item), done in zip(new, indexed, strict=True)}
    )


async def _store(
    session: AsyncSession, settings: Settings, batch: list[_Fetched]
) -> list[SourceReport]:
    """Record a batch's outcomes in one statement, then store each feed's items."""
    records = await record_fetches(
        session,
        [fetched.fetch for fetched in batch],
        max_failures=settings.source_max_failures,
        pass_seconds=POLL_PASS_SECONDS,
    )
    reports = []
    for fetched, record in zip(batch, records, strict=True):
        fetch, items = fetched.fetch, fetched.items
        source, result = fetch.source, fetch.result
        if record is None:  # removed while it was being fetched
            reports.append(_report(source, result))
            continue
        known = fetched.known
        if known is None:
            known = await known_items(session, source.id, items)
        new_ids = await add_known_articles(session, known, now=fetch.at)
        await note_listed_items(session, known, now=fetch.at)
        reports.append(
            _report(
                source,
                result,
                new=len(new_ids),
                url=record.moved_to or source.url,
                newly_deactivated=record.newly_deactivated,
            )
        )
    return reports


def _report(
    source: ClaimedSource,
    result: FeedResult,
    *,
    new: int = 0,
    url: str | None = None,
    newly_deactivated: bool = False,
) -> SourceReport:
    return SourceReport(
        id=source.id,
        url=url or source.url,
        title=source.title or result.title,
        outcome=result.outcome,
        new=new,
        unchanged=len(result.entries) - new,
        skipped=result.skipped,
        error=result.error,
        error_kind=result.error_kind,
        newly_deactivated=newly_deactivated,
    )


def _internal_failure(source: ClaimedSource, exc: Exception) -> FeedResult:
    """A failure of ours (a bug, the store), recorded as the feed's error."""
    return FeedResult(
        "error", source.url, error=f"internal error: {type(exc).__name__}", error_kind="internal"
    )


def _outcome_label(report: SourceReport) -> str:
    """A fetch's outcome as a metric label: a few values, whatever the feed said."""
    if report.outcome == "ok":
        return "new" if report.new else "unchanged"
    if report.outcome == "error":
        return f"error_{report.error_kind or 'internal'}"
    return report.outcome


def _article(entry: FeedEntry) -> NewArticle:
    return NewArticle(
        title=entry.title,
        published_at=entry.published_at,
        url=entry.url,
        guid=entry.guid,
        description=entry.description,
        author=entry.author,
        language=entry.language,
        image_url=entry.image,
    )
