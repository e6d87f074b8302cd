"""Retention: old articles go, recent ones stay, and nothing pruned ever comes back."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text
from telegram.ext import ExtBot

from bot.bootstrap import prepare_store
from bot.config import Settings
from bot.ingest.poller import ingest_due
from bot.ingest.retention import TOMBSTONE_MARGIN, prune
from bot.news.http.fetcher import SafeFetcher
from bot.news.query import parse_query
from bot.services import Services
from bot.store.articles import NewArticle, add_articles, count_articles
from bot.store.db import Database
from bot.store.meta import get_meta
from bot.store.models import Article, SeenKey
from bot.store.search import search_articles
from bot.store.sources import add_source
from bot.store.tombstones import prune_articles
from jobs.retention import prune_old_articles
from tests.feedserver import SAMPLE_FEED, SAMPLE_ITEMS, FeedServer, rss_feed
from tests.support import FakeClock


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with FeedServer() as feed_server:
        feed_server.add("/feed.xml", SAMPLE_FEED)
        yield feed_server


async def run_job(database: Database, settings: Settings, clock: FakeClock) -> None:
    bot = ExtBot(settings.telegram_bot_token)
    async with await Services.open(settings, database, clock, bot=bot) as services:
        await prune_old_articles(SimpleNamespace(services=services))  # type: ignore[arg-type]


async def stored_titles(database: Database) -> list[str]:
    async with database.session() as session:
        return list((await session.scalars(select(Article.title).order_by(Article.title))).all())


async def add_items(database: Database, clock: FakeClock, ages_in_days: Mapping[str, float]) -> int:
    now = clock.now()
    async with database.session() as session:
        source = await add_source(session, "https://news.example/feed.xml", now=now)
        items = [
            NewArticle(
                title=title,
                url=f"https://news.example/{title.replace(' ', '-')}",
                published_at=now - timedelta(days=age),
            )
            for title, age in ages_in_days.items()
        ]
        await add_articles(session, source.id, items, now=now)
    return source.id


async def test_old_articles_go_recent_ones_stay(database, settings, clock):
    source_id = await add_items(database, clock, {"last month": 40, "last week": 7, "today": 0})

    await run_job(database, settings, clock)

    assert await stored_titles(database) == ["last week", "today"]
    async with database.session() as session:
        tombstones = (await session.scalars(select(SeenKey))).all()
        heartbeat = await get_meta(session, "heartbeat:prune")
    assert [(t.source_id, t.key, t.pruned_at) for t in tombstones] == [
        (source_id, "u:https://news.example/last-month", clock.now())
    ]
    assert heartbeat is not None and heartbeat.updated_at == clock.now()


async def test_a_topic_search_finds_what_is_kept_and_nothing_pruned(database, settings, clock):
    await add_items(database, clock, {"harbour storm last month": 40, "harbour storm today": 0})

    await run_job(database, settings, clock)

    async with database.session() as session:
        found = await search_articles(session, parse_query("harbour"), limit=10, now=clock.now())
        if database.is_sqlite:  # the FTS5 index holds exactly the stored rows' terms
            await session.execute(
                text("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)")
            )
    assert [h.title for h in found.headlines] == ["harbour storm today"]


async def test_pruning_goes_in_batches(database, clock):
    await add_items(database, clock, {f"old {n}": 40 + n for n in range(5)} | {"new": 1})
    cutoff = clock.now() - timedelta(days=30)
    async with database.session() as session:
        assert await prune_articles(session, older_than=cutoff, now=clock.now(), limit=2) == 2
    assert await prune(database, older_than=cutoff, now=clock.now()) == 3
    assert await stored_titles(database) == ["new"]


async def test_a_pruned_item_still_in_its_feed_never_comes_back(database, settings, clock, server):
    async with database.session() as session:
        source = await add_source(
            session, server.url("/feed.xml"), now=clock.now(), allow_private=True
        )
    async with SafeFetcher(timeout=5) as fetcher:
        first = await ingest_due(database, fetcher, settings, now=clock.now())
        await run_job(database, settings, clock)  # the sample items date from 2024
        clock.advance(days=1)
        again = await ingest_due(database, fetcher, settings, now=clock.now())

    assert [(s.id, s.new) for s in first.sources] == [(source.id, 2)]
    assert [(s.id, s.new, s.unchanged) for s in again.sources] == [(source.id, 0, 2)]
    assert await stored_titles(database) == []


async def test_seed_articles_are_pruned_and_not_reloaded(database, settings, clock):
    await prepare_store(database, settings, now=clock.now())
    async with database.session() as session:
        assert await count_articles(session) == 17

    clock.advance(days=settings.retention_days + 1)
    await run_job(database, settings, clock)
    # An empty store is seeded on start; the tombstones keep the pruned seeds out.
    await prepare_store(database, settings, now=clock.now())

    assert await stored_titles(database) == []


async def tombstone_keys(database: Database) -> list[str]:
    async with database.session() as session:
        return sorted((await session.scalars(select(SeenKey.key))).all())


async def test_tombstones_go_once_their_feed_has_dropped_the_item_for_the_margin(
    database, settings, clock, server
):
    budget, storm = SAMPLE_ITEMS
    later = {
        "title": "Ferry service resumes",
        "link": "https://news.example/ferry",
        "guid": "ferry-1",
        "pubDate": "Wed, 03 Jan 2024 09:00:00 GMT",
    }
    server.add("/rolling.xml", rss_feed([budget, storm]))
    async with database.session() as session:
        await add_source(session, server.url("/rolling.xml"), now=clock.now(), allow_private=True)
    async with SafeFetcher(timeout=5) as fetcher:

        async def poll_and_prune(days: float) -> None:
            clock.advance(days=days)
            await ingest_due(database, fetcher, settings, now=clock.now())
            await run_job(database, settings, clock)

        await poll_and_prune(0)  # both items date from 2024: stored, then pruned
        assert len(await tombstone_keys(database)) == 2
        # The feed moves on: the budget story leaves it, the storm stays listed.
        server.add("/rolling.xml", rss_feed([storm, later]))
        await poll_and_prune(1)
        await poll_and_prune(TOMBSTONE_MARGIN.days - 2)
        assert len(await tombstone_keys(database)) == 3  # within the margin: all kept
        await poll_and_prune(3)  # past the margin since the feed dropped it
        kept = await tombstone_keys(database)
        # Listed again by the feed: still kept, and still never stored again.
        server.add("/rolling.xml", rss_feed([budget, storm, later]))
        await poll_and_prune(1)
    assert len(kept) == 2 and not any("budget" in key for key in kept)
    assert await stored_titles(database) == []
