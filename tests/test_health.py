"""Health, readiness and metrics as a supervisor and Prometheus see them, over HTTP."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Settings
from bot.services import NewsContext, services_of
from bot.store.db import Database
from bot.store.meta import record_heartbeat
from bot.store.sources import add_source
from jobs.ingest import poll_feeds
from tests.botharness import BotUser, running_bot
from tests.feedserver import SAMPLE_FEED, SAMPLE_ITEMS
from tests.support import POSTGRES_URL, FakeClock, postgres_admin
from tests.test_digests import add_items, digests_to, dispatch, subscribe_chats
from tests.test_ingest import settled


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def bot_with_health(
    settings: Settings, clock: FakeClock
) -> AsyncIterator[tuple[BotUser, str]]:
    port = free_port()
    settings = settings.model_copy(update={"health_port": port})
    async with running_bot(settings, clock) as user:
        yield user, f"http://127.0.0.1:{port}"


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by name and labels (prometheus_client's own parser)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, text = await get(f"{base}/metrics")
    assert status == 200
    return samples(text)


async def test_healthz_answers_while_the_bot_runs(settings, clock) -> None:
    async with bot_with_health(settings, clock) as (_user, base):
        assert await get(f"{base}/healthz") == (200, "ok\n")


async def test_health_is_not_served_unless_asked_for(settings, clock) -> None:
    port = free_port()
    async with running_bot(settings, clock):
        try:
            await get(f"http://127.0.0.1:{port}/healthz")
        except aiohttp.ClientConnectionError:
            pass
        else:
            raise AssertionError("something answered on a port nobody configured")


async def make_store_unreachable(database: Database) -> None:
    """The store stops answering: PostgreSQL refuses this database's connections, or the
    SQLite file is overwritten with bytes that are not a database."""
    if database.is_sqlite:
        path = Path(str(database.url.database))
        Path(f"{path}.saved").write_bytes(path.read_bytes())
        path.write_bytes(b"not a database " * 512)
        return
    name = database.url.database
    await postgres_admin(POSTGRES_URL, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    await postgres_admin(
        POSTGRES_URL,
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
    )


async def make_store_reachable(database: Database) -> None:
    if database.is_sqlite:
        path = Path(str(database.url.database))
        path.write_bytes(Path(f"{path}.saved").read_bytes())
        return
    name = database.url.database
    await postgres_admin(POSTGRES_URL, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


async def test_readyz_says_why_while_the_store_is_away_and_recovers(
    settings, clock, database
) -> None:
    async with bot_with_health(settings, clock) as (_user, base):
        assert await get(f"{base}/readyz") == (200, "ready\n")
        await make_store_unreachable(database)
        try:
            status, body = await get(f"{base}/readyz")
            assert status == 503
            assert body.startswith("not ready\nstore: ")
            # /healthz is about the process: it still answers.
            assert (await get(f"{base}/healthz"))[0] == 200
        finally:
            await make_store_reachable(database)
        for _ in range(20):  # a pooled connection the server ended is replaced on checkout
            if await get(f"{base}/readyz") == (200, "ready\n"):
                break
            await asyncio.sleep(0.1)
        assert await get(f"{base}/readyz") == (200, "ready\n")


async def test_readyz_names_a_stalled_job(settings, clock) -> None:
    async with bot_with_health(settings, clock) as (user, base):
        async with services_of(user.application).database.session() as session:
            await record_heartbeat(session, "poll", "", now=clock.now())
        clock.advance(hours=1)
        status, body = await get(f"{base}/readyz")
    assert status == 503
    assert "job stalled: poll (last pass 3600 s ago)" in body


async def test_metrics_parse_and_count_429s_and_the_wait_they_asked(settings, clock) -> None:
    async with bot_with_health(settings, clock) as (user, base):
        before = await scrape(base)
        user.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        await user.command("/help")
        after = await scrape(base)
    key = ("newsbot_telegram_429_total", ())
    assert after[key] - before.get(key, 0.0) == 1
    waited = ("newsbot_telegram_429_wait_seconds_total", ())
    assert after[waited] - before.get(waited, 0.0) == 1
    sent = ("newsbot_messages_sent_total", (("method", "sendMessage"),))
    assert after[sent] - before.get(sent, 0.0) == 1
    assert ("newsbot_store_articles", ()) in after


async def test_metrics_count_a_feed_fetch_and_the_items_it_stored(
    settings, clock, database, server
) -> None:
    async with database.session() as session:
        source = await add_source(
            session,
            server.add("/metrics-feed.xml", SAMPLE_FEED),
            now=clock.now(),
            allow_private=True,
        )
    async with bot_with_health(settings, clock) as (user, base):
        before = await scrape(base)
        await poll_feeds(NewsContext(user.application))
        await settled(database, source.id)
        after = await scrape(base)
        await poll_feeds(NewsContext(user.application))  # the feed is not due again yet
        again = await scrape(base)
    fetched = ("newsbot_feed_fetches_total", (("outcome", "new"),))
    stored = ("newsbot_items_stored_total", ())
    assert after[fetched] - before.get(fetched, 0.0) == 1
    assert after[stored] - before.get(stored, 0.0) == len(SAMPLE_ITEMS)
    assert again[stored] == after[stored]
    assert after[("newsbot_store_articles", ())] >= len(SAMPLE_ITEMS)


async def test_metrics_count_a_digest_due_and_sent_and_how_late_it_went(settings, clock) -> None:
    async with bot_with_health(settings, clock) as (user, base):
        await subscribe_chats(user, [7001], times=["10:00"], zone="UTC")
        await add_items(user, ["Harbour bridge reopens after a year of repairs"])
        before = await scrape(base)
        clock.set(datetime(2026, 11, 26, 10, 0, 40, tzinfo=UTC))  # 40 s after it was due
        await dispatch(user)
        after = await scrape(base)
    assert "Harbour bridge reopens" in digests_to(user.fake, 7001)[0]

    def moved(name: str, labels: tuple[tuple[str, str], ...] = ()) -> float:
        return after[(name, labels)] - before.get((name, labels), 0.0)

    assert moved("newsbot_digests_due_total") == 1
    assert moved("newsbot_digests_sent_total") == 1
    assert moved("newsbot_digest_lateness_seconds_count") == 1
    assert moved("newsbot_digest_lateness_seconds_sum") == 40
    bucket = "newsbot_digest_lateness_seconds_bucket"
    assert moved(bucket, (("le", "30.0"),)) == 0
    assert moved(bucket, (("le", "60.0"),)) == 1


@pytest.mark.parametrize(
    ("path", "outcome"),
    [
        ("/status/500", "error_http_status"),
        ("/fault/timeout", "error_timeout"),
        ("/fault/html", "error_parse"),
    ],
)
async def test_metrics_count_a_failed_fetch_by_why_it_failed(
    settings, clock, database, server, path: str, outcome: str
) -> None:
    async with database.session() as session:
        source = await add_source(session, server.url(path), now=clock.now(), allow_private=True)
    settings = settings.model_copy(update={"fetch_timeout": 1.0})
    async with bot_with_health(settings, clock) as (user, base):
        before = await scrape(base)
        await poll_feeds(NewsContext(user.application))
        await settled(database, source.id)
        after = await scrape(base)
    fetches = {
        dict(labels)["outcome"]: value - before.get((name, labels), 0.0)
        for (name, labels), value in after.items()
        if name == "newsbot_feed_fetches_total"
    }
    assert {label: n for label, n in fetches.items() if n} == {outcome: 1}


async def test_the_readme_documents_every_metric_an_instance_serves(settings, clock) -> None:
    async with bot_with_health(settings, clock) as (_user, base):
        status, text = await get(f"{base}/metrics")
    assert status == 200
    served = {
        # The parser names a counter's family without the _total its samples carry.
        family.name + ("_total" if family.type == "counter" else "")
        for family in text_string_to_metric_families(text)
        # Each counter's and histogram's start time parses as a family of its own.
        if family.name.startswith("newsbot_") and not family.name.endswith("_created")
    }
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Health and metrics") :]
    section = section[: section.index("\n## ")]
    documented = set(re.findall(r"^\| `(newsbot_\w+)` \|", section, re.MULTILINE))
    assert documented == served
