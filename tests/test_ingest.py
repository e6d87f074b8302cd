"""Feed ingestion end to end: loopback feeds through the real fetch, parse and store path.

Each fault test asserts what an admin or a reader would notice: the source's error
text, its failure count and next fetch time, and which items reached the store.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.ingest.poller import IngestReport, SourceReport, ingest_all, ingest_due
from bot.news.http.fetcher import SafeFetcher
from bot.news.opml import parse_opml
from bot.news.text import terms
from bot.services import NewsContext
from bot.store.articles import count_articles
from bot.store.db import Database
from bot.store.meta import get_meta
from bot.store.models import Article, Source
from bot.store.sources import add_source, claim_due_sources, get_source
from jobs.ingest import poll_feeds
from tests.botharness import ADMIN_ID, running_bot
from tests.feedserver import ETAG, LAST_MODIFIED, SAMPLE_FEED, FeedServer, rss_feed
from tests.support import NEWS_FEEDS, ROOT, FakeClock
from tests.test_cli import newsbot

INTERVAL = 900  # add_source's default poll interval, in seconds


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with FeedServer(root=NEWS_FEEDS) as feed_server:
        yield feed_server


@pytest.fixture
async def fetcher() -> AsyncIterator[SafeFetcher]:
    # Public addresses only by default: the sources' own allow_private flag must open loopback.
    async with SafeFetcher(
        timeout=5, connect_timeout=2, read_timeout=2, max_bytes=1024 * 1024
    ) as client:
        yield client


async def add_feed(database: Database, url: str, clock: FakeClock, *, title: str = "") -> int:
    async with database.session() as session:
        return (await add_source(session, url, now=clock.now(), title=title, allow_private=True)).id


async def source_row(database: Database, source_id: int) -> Source:
    async with database.session() as session:
        source = await get_source(session, source_id)
    assert source is not None
    return source


async def articles_of(database: Database, source_id: int) -> list[Article]:
    async with database.session() as session:
        statement = select(Article).where(Article.source_id == source_id).order_by(Article.id)
        return list((await session.scalars(statement)).all())


async def poll(
    database: Database, fetcher: SafeFetcher, settings: Settings, clock: FakeClock
) -> IngestReport:
    return await ingest_due(database, fetcher, settings, now=clock.now())


def only(report: IngestReport, source_id: int) -> SourceReport:
    (found,) = [s for s in report.sources if s.id == source_id]
    return found


def waits(source: Source, now: datetime, seconds: float) -> bool:
    """Whether the next fetch is `seconds` away, give or take the source's stable jitter."""
    assert source.next_fetch_at is not None
    delay = source.next_fetch_at - now
    return timedelta(seconds=seconds) <= delay <= timedelta(seconds=seconds * 1.1)


async def fails_with(
    database: Database, fetcher: SafeFetcher, settings: Settings, clock: FakeClock, url: str
) -> tuple[SourceReport, Source]:
    source_id = await add_feed(database, url, clock)
    report = only(await poll(database, fetcher, settings, clock), source_id)
    source = await source_row(database, source_id)
    assert report.outcome == "error" and report.new == 0
    assert source.error_count == 1 and source.active
    assert source.last_error == report.error and source.last_error_at == clock.now()
    assert waits(source, clock.now(), 2 * INTERVAL)  # one failure doubles the interval
    assert await articles_of(database, source_id) == []
    return report, source


# ----------------------------------------------------------------- happy path


async def test_corpus_feeds_are_stored_once_in_one_concurrent_pass(
    database, fetcher, settings, clock, server
):
    # The 20 real feeds of tests/data: nine English outlets, German, French, Russian and Urdu
    # ones, RSS 1.0, Atom and an ISO-8859-1 feed.
    index = json.loads((NEWS_FEEDS / "index.json").read_text())
    files = sorted(p.name for p in NEWS_FEEDS.iterdir() if p.name != "index.json")
    assert len(files) == len(index) == 20
    ids = {await add_feed(database, server.url(name), clock): name for name in files}

    first = await poll(database, fetcher, settings, clock)

    assert {s.id for s in first.sources} == set(ids)
    for report in first.sources:
        assert report.outcome == "ok", (ids[report.id], report.error)
        assert report.new > 0
        expected = index.get(ids[report.id], {}).get("feedparser_entries")
        if expected is not None:
            assert report.new + report.unchanged + report.skipped == expected
        source = await source_row(database, report.id)
        assert source.error_count == 0 and source.last_ok_at == clock.now()
        assert source.title  # filled in from the feed, since it was added without one
        assert source.next_fetch_at is not None
        # A feed's <ttl> may stretch the interval, up to four times.
        assert INTERVAL <= (source.next_fetch_at - clock.now()).total_seconds() <= 4.4 * INTERVAL
        assert len(await articles_of(database, report.id)) == report.new
    async with database.session() as session:
        heartbeat = await get_meta(session, "heartbeat:poll")
    assert heartbeat is not None and heartbeat.updated_at == clock.now()

    clock.advance(hours=2)
    again = await poll(database, fetcher, settings, clock)
    assert len(again.sources) == len(ids) and again.new == 0
    async with database.session() as session:
        assert await count_articles(session) == first.new


async def test_reingesting_the_same_feed_adds_nothing(database, fetcher, settings, clock, server):
    source_id = await add_feed(database, server.add("/plain.xml", SAMPLE_FEED), clock)
    first = only(await poll(database, fetcher, settings, clock), source_id)
    clock.advance(hours=1)
    second = only(await poll(database, fetcher, settings, clock), source_id)
    assert (first.new, first.unchanged) == (2, 0)
    assert (second.outcome, second.new, second.unchanged) == ("ok", 0, 2)
    assert [a.title for a in await articles_of(database, source_id)] == [
        "Parliament passes the budget",
        "Storm warning for the coast",
    ]


async def test_only_due_feeds_are_polled_and_a_claim_is_not_taken_twice(
    database, fetcher, settings, clock, server
):
    source_id = await add_feed(database, server.add("/due.xml", SAMPLE_FEED), clock)
    async with database.session() as session:
        (claimed,) = await claim_due_sources(session, now=clock.now(), limit=10)
        assert claimed.id == source_id
        assert await claim_due_sources(session, now=clock.now(), limit=10) == []
    # Leased, so a poll pass now finds nothing due; a pass by hand takes it anyway.
    assert (await poll(database, fetcher, settings, clock)).sources == []
    report = await ingest_all(database, fetcher, settings, now=clock.now())
    assert [(s.id, s.new) for s in report.sources] == [(source_id, 2)]


async def test_a_feed_claimed_by_a_process_that_died_is_fetched_within_two_minutes(
    database, fetcher, settings, clock, server
):
    source_id = await add_feed(database, server.add("/orphan.xml", SAMPLE_FEED), clock)
    async with database.session() as session:  # a process claims it, then is killed
        assert [s.id for s in await claim_due_sources(session, now=clock.now(), limit=10)] == [
            source_id
        ]
    clock.advance(seconds=60)
    assert (await poll(database, fetcher, settings, clock)).sources == []  # still leased
    clock.advance(seconds=61)
    report = await poll(database, fetcher, settings, clock)
    assert [(s.id, s.new) for s in report.sources] == [(source_id, 2)]
    source = await source_row(database, source_id)
    assert source.claimed_until is None and source.last_ok_at == clock.now()


async def test_a_60_second_feed_is_fetched_by_every_60_second_pass(
    database, fetcher, settings, clock, server
):
    url = server.add("/minutely.xml", SAMPLE_FEED)
    async with database.session() as session:
        source = await add_source(session, url, now=clock.now(), allow_private=True)
        source.interval_seconds = 60  # FEED_POLL_INTERVAL=60
        source_id = source.id
    start = clock.now()
    fetched = []
    # Passes run every 60 s, each starting a little late by its own amount, as jobs do.
    for number, late in enumerate([0.2, 0.9, 0.1, 0.5, 0.05, 0.7, 0.3, 0.0, 0.8, 0.4]):
        clock.set(start + timedelta(seconds=60 * number + late))
        report = await poll(database, fetcher, settings, clock)
        fetched += [number for s in report.sources if s.id == source_id]
    assert fetched == list(range(10))


# ------------------------------------------------------------------- HTTP faults


async def test_server_error_500(database, fetcher, settings, clock, server):
    report, _ = await fails_with(database, fetcher, settings, clock, server.url("/status/500"))
    assert report.error == "HTTP 500 Internal Server Error"


async def test_not_found_404(database, fetcher, settings, clock, server):
    report, _ = await fails_with(database, fetcher, settings, clock, server.url("/status/404"))
    assert report.error == "HTTP 404 Not Found"


async def test_timeout(database, settings, clock, server):
    async with SafeFetcher(timeout=5, read_timeout=0.2) as fetcher:
        report, _ = await fails_with(
            database, fetcher, settings, clock, server.url("/fault/timeout")
        )
    assert report.error == "timed out after 0.2 s"


async def test_slow_drip(database, settings, clock, server):
    # Each byte comes well within the read timeout; only the total limit ends the fetch.
    async with SafeFetcher(timeout=0.3, read_timeout=2) as fetcher:
        report, _ = await fails_with(
            database, fetcher, settings, clock, server.url("/fault/slow?interval=0.05&size=5000")
        )
    assert report.error == "timed out after 0.3 s"


async def test_20_mb_body(database, fetcher, settings, clock, server):
    report, _ = await fails_with(database, fetcher, settings, clock, server.url("/fault/huge"))
    assert report.error == "body larger than 1 MB"


async def test_gzip_bomb(database, fetcher, settings, clock, server):
    report, _ = await fails_with(database, fetcher, settings, clock, server.url("/fault/gzip-bomb"))
    assert report.error == "body larger than 1 MB"


async def test_redirect_loop(database, fetcher, settings, clock, server):
    report, _ = await fails_with(
        database, fetcher, settings, clock, server.url("/fault/redirect-loop")
    )
    assert report.error == "redirect loop"


async def test_429_retry_after_sets_the_next_fetch(database, fetcher, settings, clock, server):
    source_id = await add_feed(database, server.url("/status/429?retry_after=7200"), clock)
    report = only(await poll(database, fetcher, settings, clock), source_id)
    source = await source_row(database, source_id)
    assert report.error == "HTTP 429 Too Many Requests (retry after 7200 s)"
    assert source.error_count == 1
    assert waits(source, clock.now(), 7200)  # not the 1800 s a plain failure would wait

    clock.advance(seconds=3600)
    assert (await poll(database, fetcher, settings, clock)).sources == []


async def test_304_not_modified_counts_as_ok(database, fetcher, settings, clock, server):
    source_id = await add_feed(database, server.url("/fault/etag"), clock)
    first = only(await poll(database, fetcher, settings, clock), source_id)
    clock.advance(hours=1)
    second = only(await poll(database, fetcher, settings, clock), source_id)

    assert (first.outcome, first.new) == ("ok", 2)
    assert (second.outcome, second.new, second.unchanged, second.error) == (
        "not_modified",
        0,
        0,
        None,
    )
    assert server.requests_to("/fault/etag")[-1].headers["if-none-match"] == '"v1-feed"'
    source = await source_row(database, source_id)
    assert source.error_count == 0 and source.last_ok_at == clock.now()
    assert source.etag == '"v1-feed"'
    assert waits(source, clock.now(), INTERVAL)
    assert len(await articles_of(database, source_id)) == 2


async def test_a_warm_pass_records_each_feeds_own_outcome_when_stored_together(
    database, fetcher, settings, clock, server
):
    # Twenty feeds that answer 304 the second time, stored in the same batches as a feed
    # that is new and two that fail: each keeps exactly its own state.
    warm = [await add_feed(database, server.url(f"/fault/etag?copy={n}"), clock) for n in range(20)]
    await poll(database, fetcher, settings, clock)
    clock.advance(hours=1)
    fresh = await add_feed(database, server.url("/feeds/moved.xml"), clock)
    broken = await add_feed(database, server.url("/status/500"), clock)
    missing = await add_feed(database, server.url("/status/404"), clock)
    server.clear()
    report = await poll(database, fetcher, settings, clock)

    assert len(report.sources) == 23 and report.new == 2
    for source_id in warm:
        assert only(report, source_id).outcome == "not_modified"
        source = await source_row(database, source_id)
        assert (source.etag, source.last_modified) == (ETAG, LAST_MODIFIED)
        assert source.error_count == 0 and source.claimed_until is None
        assert source.last_ok_at == source.last_fetched_at == clock.now()
        assert waits(source, clock.now(), INTERVAL)
        assert len(await articles_of(database, source_id)) == 2  # a 304 keeps what was stored
    assert len(server.requests_to("/fault/etag")) == 20
    assert all(r.headers["if-none-match"] == ETAG for r in server.requests_to("/fault/etag"))
    assert only(report, fresh).new == 2 and len(await articles_of(database, fresh)) == 2
    assert waits(await source_row(database, fresh), clock.now(), INTERVAL)

    # Failures are counted and backed off, pass after pass.
    for failures in (1, 2):
        if failures > 1:
            clock.advance(seconds=2.2 * INTERVAL)
            await poll(database, fetcher, settings, clock)
        for source_id, error in (
            (broken, "HTTP 500 Internal Server Error"),
            (missing, "HTTP 404 Not Found"),
        ):
            source = await source_row(database, source_id)
            assert (source.error_count, source.last_error) == (failures, error)
            assert source.last_error_at == clock.now() and source.claimed_until is None
            assert waits(source, clock.now(), 2**failures * INTERVAL)


async def test_301_move_updates_the_source_url(database, fetcher, settings, clock, server):
    source_id = await add_feed(database, server.url("/fault/moved"), clock)
    report = only(await poll(database, fetcher, settings, clock), source_id)
    source = await source_row(database, source_id)
    assert report.outcome == "ok" and report.new == 2
    assert source.url == report.url == server.url("/feeds/moved.xml")

    server.clear()
    clock.advance(hours=1)
    await poll(database, fetcher, settings, clock)
    assert server.requests_to("/fault/moved") == [] and server.requests_to("/feeds/moved.xml")


async def test_a_move_onto_a_feed_already_read_keeps_the_url(
    database, fetcher, settings, clock, server
):
    await add_feed(database, server.url("/feeds/moved.xml"), clock)
    source_id = await add_feed(database, server.url("/fault/moved"), clock)
    report = only(await poll(database, fetcher, settings, clock), source_id)
    assert report.outcome == "ok"
    assert (await source_row(database, source_id)).url == server.url("/fault/moved")


# ------------------------------------------------------------- content faults


async def test_html_page_instead_of_a_feed(database, fetcher, settings, clock, server):
    report, _ = await fails_with(database, fetcher, settings, clock, server.url("/fault/html"))
    assert report.error == "got an HTML page, not a feed"


async def test_invalid_xml(database, fetcher, settings, clock, server):
    report, _ = await fails_with(
        database, fetcher, settings, clock, server.url("/fault/invalid-xml")
    )
    assert report.error is not None
    assert report.error.startswith("feed is not well-formed XML")


async def test_wrong_encoding_is_recovered(database, fetcher, settings, clock, server):
    source_id = await add_feed(database, server.url("/fault/wrong-encoding"), clock)
    report = only(await poll(database, fetcher, settings, clock), source_id)
    assert report.outcome == "ok"
    assert [a.title for a in await articles_of(database, source_id)] == ["Café crème à la gare"]


async def test_an_item_stored_with_broken_text_is_mended_by_a_later_fetch(
    database, fetcher, settings, clock, server
):
    items = [
        {"title": "Zürich votes on the tram", "guid": "tram", "description": "Ja or nein."},
        {"title": "Genève festival", "guid": "fest", "description": "Crème brûlée."},
    ]
    good = rss_feed(items)
    broken = good.replace(b"Ja or", b"Ja \xff or")
    url = server.add("/zurich.xml", broken)
    source_id = await add_feed(database, url, clock)
    await poll(database, fetcher, settings, clock)
    first = await articles_of(database, source_id)
    assert [(a.title, a.description) for a in first] == [
        ("Zürich votes on the tram", "Ja \ufffd or nein."),
        ("Genève festival", "Crème brûlée."),
    ]
    # What the bot stored before it mended bytes itself: UTF-8 read as windows-1252.
    async with database.session() as session:
        festival = first[1]
        row = await session.get(Article, festival.id)
        assert row is not None
        row.title = "GenÃ¨ve festival"
        row.title_terms = len(terms(row.title))
        row.description = "Crème brûlée.".encode().decode("iso8859-15")  # chardet guessed

    server.add("/zurich.xml", good)
    clock.advance(hours=1)
    await poll(database, fetcher, settings, clock)
    assert [(a.id, a.title, a.description) for a in await articles_of(database, source_id)] == [
        (first[0].id, "Zürich votes on the tram", "Ja or nein."),
        (first[1].id, "Genève festival", "Crème brûlée."),
    ]
    async with database.session() as session:
        assert await count_articles(session) == 2
        mended = await session.get(Article, first[1].id)
        assert mended is not None
        assert mended.title_terms == len(terms("Genève festival")) != len(terms(row.title))


async def test_missing_dates_guids_and_links(database, fetcher, settings, clock, server):
    feed = rss_feed(
        [
            {"title": "No date and no guid", "link": "https://news.example/nodate"},
            {"title": "Only a title"},
            {"link": "https://news.example/untitled", "description": "A link without a headline."},
            {"description": "Neither a title nor a link"},
        ]
    )
    source_id = await add_feed(database, server.add("/sparse.xml", feed), clock)
    report = only(await poll(database, fetcher, settings, clock), source_id)
    stored = await articles_of(database, source_id)

    assert (report.outcome, report.new, report.skipped) == ("ok", 3, 1)
    assert [(a.title, a.url) for a in stored] == [
        ("No date and no guid", "https://news.example/nodate"),
        ("Only a title", None),
        ("A link without a headline.", "https://news.example/untitled"),
    ]
    assert all(a.published_at == clock.now() for a in stored)  # undated: when first seen
    clock.advance(hours=1)
    assert only(await poll(database, fetcher, settings, clock), source_id).new == 0


async def test_future_dates_are_clamped_to_now(database, fetcher, settings, clock, server):
    feed = rss_feed(
        [
            {
                "title": "From the future",
                "link": "https://news.example/future",
                "pubDate": "Fri, 01 Jan 2100 00:00:00 GMT",
            }
        ]
    )
    source_id = await add_feed(database, server.add("/future.xml", feed), clock)
    await poll(database, fetcher, settings, clock)
    (article,) = await articles_of(database, source_id)
    assert article.published_at == clock.now()


# -------------------------------------------------------- failures over time


async def test_a_fixed_feed_resets_its_failure_count(database, fetcher, settings, clock, server):
    url = server.add("/flaky.xml", b"down for maintenance", status=503, content_type="text/plain")
    source_id = await add_feed(database, url, clock)
    for _ in range(3):
        await poll(database, fetcher, settings, clock)
        clock.advance(days=1)
    failing = await source_row(database, source_id)
    assert failing.error_count == 3 and failing.last_error == "HTTP 503 Service Unavailable"

    server.add("/flaky.xml", SAMPLE_FEED)
    report = only(await poll(database, fetcher, settings, clock), source_id)
    fixed = await source_row(database, source_id)
    assert (report.outcome, report.new) == ("ok", 2)
    assert fixed.error_count == 0 and fixed.last_error is None and fixed.active
    assert waits(fixed, clock.now(), INTERVAL)


async def test_one_failing_feed_does_not_affect_another(database, fetcher, settings, clock, server):
    broken = await add_feed(database, server.url("/fault/invalid-xml"), clock)
    healthy = await add_feed(database, server.add("/healthy.xml", SAMPLE_FEED), clock)
    report = await poll(database, fetcher, settings, clock)
    assert only(report, broken).outcome == "error"
    assert (only(report, healthy).outcome, only(report, healthy).new) == ("ok", 2)
    assert (await source_row(database, healthy)).error_count == 0
    assert len(await articles_of(database, healthy)) == 2


async def test_a_feed_that_breaks_the_store_does_not_take_its_batch_with_it(
    database, fetcher, settings, clock, server, monkeypatch
):
    # Feeds are stored several to a transaction; one whose items make the store fail must
    # cost only itself: the batch is stored again feed by feed.
    import bot.ingest.poller

    healthy = [
        await add_feed(database, server.add(f"/batch-{n}.xml", SAMPLE_FEED), clock)
        for n in range(4)
    ]
    broken = await add_feed(database, server.add("/batch-broken.xml", SAMPLE_FEED), clock)
    real_add = bot.ingest.poller.add_known_articles

    async def add_known_articles(session, known, *, now):
        if known.source_id == broken and known.items:
            raise RuntimeError("store hiccup")
        return await real_add(session, known, now=now)

    monkeypatch.setattr(bot.ingest.poller, "add_known_articles", add_known_articles)
    report = await poll(database, fetcher, settings, clock)
    assert (only(report, broken).outcome, only(report, broken).error) == (
        "error",
        "internal error: RuntimeError",
    )
    assert (await source_row(database, broken)).error_count == 1
    assert await articles_of(database, broken) == []
    for source_id in healthy:
        assert (only(report, source_id).outcome, only(report, source_id).new) == ("ok", 2)
        assert (await source_row(database, source_id)).error_count == 0
        assert len(await articles_of(database, source_id)) == 2


async def test_a_feed_failing_too_often_is_turned_off_once(
    database, fetcher, settings, clock, server
):
    settings = settings.model_copy(update={"source_max_failures": 3})
    source_id = await add_feed(database, server.url("/status/500"), clock)
    server.clear()
    turned_off = []
    for _ in range(4):
        report = await poll(database, fetcher, settings, clock)
        turned_off += [s.id for s in report.deactivated]
        clock.advance(days=1)
    source = await source_row(database, source_id)
    assert turned_off == [source_id]
    assert not source.active and source.error_count == 3
    assert len(server.requests_to("/status/500")) == 3  # never fetched once turned off


async def settled(database: Database, source_id: int, timeout: float = 10) -> Source:
    """The source once no fetch of it is in flight (its claim is cleared when recorded)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        source = await source_row(database, source_id)
        if source.claimed_until is None:
            return source
        assert asyncio.get_running_loop().time() < deadline, "the fetch never finished"
        await asyncio.sleep(0.05)


async def test_a_slow_feed_never_holds_up_the_feeds_due_after_it(database, settings, clock, server):
    slow_id = await add_feed(database, server.url("/fault/slow?interval=1&size=60"), clock)
    async with running_bot(settings, clock) as user:
        context = NewsContext(user.application)
        # The tick starts the slow feed and returns; it does not wait for it.
        await asyncio.wait_for(poll_feeds(context), timeout=2)
        clock.advance(seconds=10)
        healthy_id = await add_feed(database, server.add("/healthy.xml", SAMPLE_FEED), clock)
        await asyncio.wait_for(poll_feeds(context), timeout=2)
        healthy = await settled(database, healthy_id, timeout=5)
        assert healthy.last_ok_at == clock.now()
        assert len(await articles_of(database, healthy_id)) == 2
        slow = await source_row(database, slow_id)
        assert slow.claimed_until is not None and slow.last_fetched_at is None  # still going


async def test_admins_hear_once_that_a_feed_was_turned_off(database, settings, clock, server):
    settings = settings.model_copy(update={"source_max_failures": 3})
    source_id = await add_feed(
        database, server.url("/status/500"), clock, title="Tom & Jerry <news>"
    )
    async with running_bot(settings, clock) as user:
        context = NewsContext(user.application)
        for _ in range(5):
            await poll_feeds(context)
            await settled(database, source_id)
            clock.advance(days=1)
        await poll_feeds(context)  # hears of the last fetch
        notices = user.fake.sent_messages(chat_id=ADMIN_ID)

    (notice,) = notices
    text = notice.params["text"]
    assert "Tom &amp; Jerry &lt;news&gt;" in text
    assert "HTTP 500 Internal Server Error" in text
    assert f"/removesource {source_id}" in text
    assert not (await source_row(database, source_id)).active


# --------------------------------------------------------------------------- CLI


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_cli_ingest_reports_dead_feeds_as_data(settings, server):
    dead = f"http://127.0.0.1:{closed_port()}/feed.xml"
    assert newsbot(settings, "sources", "add", dead).returncode == 0
    assert newsbot(settings, "sources", "add", server.add("/cli.xml", SAMPLE_FEED)).returncode == 0

    result = newsbot(settings, "ingest")
    assert result.returncode == 0, result.stderr
    header, *rows, total = result.stdout.strip().splitlines()
    assert header.split() == ["id", "source", "new", "unchanged", "error"]
    assert any("cannot connect: Connection refused" in row and dead in row for row in rows)
    assert any("Test feed" in row and row.split()[-2:] == ["2", "0"] for row in rows)
    assert total == "2 feeds: 2 new items, 1 failed."

    listed = json.loads(newsbot(settings, "ingest", "--json").stdout)
    assert sorted((s["outcome"], s["new"], s["unchanged"]) for s in listed) == [
        ("error", 0, 0),
        ("ok", 0, 2),
    ]


def test_ingesting_a_10_mb_feed_of_78000_items_stays_under_200_mb(settings, server):
    start = datetime(2024, 1, 1, tzinfo=UTC)
    items = [
        {
            "title": f"Item {n}",
            "link": f"https://news.example/{n}",
            "pubDate": (start + timedelta(seconds=n)).strftime("%a, %d %b %Y %H:%M:%S +0000"),
        }
        for n in range(78_000)
    ]
    feed = rss_feed(items)
    assert 9 * 2**20 < len(feed) < settings.fetch_max_bytes
    assert newsbot(settings, "sources", "add", server.add("/huge.xml", feed)).returncode == 0
    # VmHWM: the peak RSS of this program image (ru_maxrss would start at the size of the
    # test process it was forked from).
    measure = (
        "import re, sys; from bot.cli import main; code = main(sys.argv[1:]); "
        "status = open('/proc/self/status').read(); "
        "print('peak-kb', re.search(r'VmHWM:\\s*(\\d+)', status).group(1)); sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", measure, "ingest", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": settings.database_url, "FEED_MAX_ITEMS": "300"},
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report, peak = result.stdout.rsplit("peak-kb ", 1)
    ((feed_id, outcome, new),) = [(s["id"], s["outcome"], s["new"]) for s in json.loads(report)]
    assert (outcome, new) == ("ok", 300)
    assert int(peak) < 200 * 1024, f"peak RSS {int(peak) // 1024} MB"
    titles = asyncio.run(titles_from(settings.database_url, feed_id=feed_id))
    assert titles == [f"Item {n}" for n in range(77_700, 78_000)]


async def titles_from(url: str, *, feed_id: int) -> list[str]:
    database = Database(url)
    try:
        return [a.title for a in await articles_of(database, feed_id)]
    finally:
        await database.dispose()


def test_cli_sources_import_export_round_trip(settings, tmp_path: Path):
    opml = tmp_path / "mine.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        '<outline text="World &amp; more" xmlUrl="https://feeds.example.org/world.xml"/>'
        '<outline text="Tech" xmlUrl="https://feeds.example.org/tech.xml"/>'
        "</body></opml>",
        encoding="utf-8",
    )

    first = newsbot(settings, "sources", "import", str(opml))
    again = newsbot(settings, "sources", "import", str(opml))
    exported = newsbot(settings, "sources", "export")

    assert first.returncode == 0 and "2 new sources, 0 already known" in first.stdout
    assert again.returncode == 0 and "0 new sources, 2 already known" in again.stdout
    assert [(f.url, f.title) for f in parse_opml(exported.stdout.encode())] == [
        ("https://feeds.example.org/world.xml", "World & more"),
        ("https://feeds.example.org/tech.xml", "Tech"),
    ]


def test_cli_sources_import_of_a_bad_file_is_one_line(settings, tmp_path: Path):
    bad = tmp_path / "bad.opml"
    bad.write_text("<html><body>not a list</body></html>", encoding="utf-8")
    for path in (bad, tmp_path / "missing.opml"):
        result = newsbot(settings, "sources", "import", str(path))
        assert result.returncode == 1
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stderr.startswith("newsbot: ")


GERMAN_ITEMS = [
    {
        "title": "Die Regierung beschließt den Haushalt nach einer langen Nachtsitzung",
        "link": "https://news.example/de/haushalt",
        "description": "Der Bundestag hat am Abend über die Ausgaben des Jahres abgestimmt.",
    },
    {
        "title": "Sturmwarnung für die Küste: Schulen bleiben geschlossen",
        "link": "https://news.example/de/sturm",
        "description": "Der Wetterdienst erwartet in der Nacht schwere Böen an der Nordsee.",
    },
    # Too short to tell by itself: it takes the language of the feed's other new items.
    {"title": "Live", "link": "https://news.example/de/live"},
]


async def test_items_indexed_in_the_parse_workers_are_stored_as_the_store_indexes_them(
    database, fetcher, settings, clock, server, caplog
):
    # Ingest works out each new item's language, search terms and story words in the parse
    # worker processes; what it stores must be what the store itself works out.
    from bot.news.feeds.parse import make_parse_executor
    from bot.store.articles import NewArticle, add_articles

    url = server.add("/indexed-ahead.xml", rss_feed(GERMAN_ITEMS))
    source_id = await add_feed(database, url, clock)
    executor = make_parse_executor(2)
    try:
        report = await ingest_due(database, fetcher, settings, now=clock.now(), executor=executor)
    finally:
        assert executor is not None
        executor.shutdown()
    assert only(report, source_id).new == 3
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "WARNING")]
    ingested = await articles_of(database, source_id)

    async with database.session() as session:
        other = (await add_source(session, "https://elsewhere.example/feed", now=clock.now())).id
        items = [
            NewArticle(
                title=a.title,
                published_at=a.published_at,
                url=a.url,
                guid=a.guid,
                description=a.description,
            )
            for a in ingested
        ]
        await add_articles(session, other, items, now=clock.now())
    stored = await articles_of(database, other)

    def index(rows: list[Article]) -> list[tuple[str | None, str, int | None, str | None]]:
        return [(row.language, row.search_text, row.title_terms, row.story_words) for row in rows]

    assert index(ingested) == index(stored)
    assert [row.language for row in ingested] == ["de", "de", "de"]
