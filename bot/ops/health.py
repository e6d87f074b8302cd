"""Health, readiness and metrics over HTTP, for supervisors, load balancers and Prometheus.

`/healthz` answers while the process and its event loop do. `/readyz` answers 200 only
when the store answers within a second, its migrations are this code's, and no job has
stalled; otherwise 503 with one line per reason. `/metrics` is Prometheus' text format: the
counters each part of the bot keeps where its work happens (prometheus-client's default
registry), plus the store's size and the age of each job's heartbeat, read when scraped.
Each instance serves its own figures; Prometheus adds them up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, generate_latest

from bot.clock import Clock
from bot.ops.watchdog import stalled_jobs
from bot.store.articles import count_articles
from bot.store.db import Database
from bot.store.meta import heartbeats

log = logging.getLogger(__name__)

# How long the store may take to answer before the instance is not ready.
STORE_TIMEOUT_SECONDS = 1.0

STORED_ARTICLES = Gauge("newsbot_store_articles", "Articles in the store, counted when scraped")
HEARTBEAT_AGE = Gauge(
    "newsbot_job_heartbeat_age_seconds",
    "Seconds since each job last completed a pass (any instance), read when scraped",
    ["job"],
)


async def not_ready(
    database: Database, intervals: Mapping[str, int], *, now: datetime
) -> list[str]:
    """Why this instance should not be sent work now; empty when it is ready."""
    try:
        pending = await asyncio.wait_for(database.migrations_pending(), STORE_TIMEOUT_SECONDS)
    except TimeoutError:
        return [f"store: no answer within {STORE_TIMEOUT_SECONDS:g} s"]
    except Exception as error:  # noqa: BLE001 - whatever failed, the store is not usable
        return [f"store: {type(error).__name__}: {str(error).splitlines()[0][:200]}"]
    if pending:
        return ["store: migrations are not at this version's head (run `newsbot db upgrade`)"]
    return [f"job stalled: {job}" for job in await stalled_jobs(database, intervals, now=now)]


async def read_store_gauges(database: Database, *, now: datetime) -> None:
    """Set the gauges that are read from the store when Prometheus scrapes."""
    async with database.session() as session:
        STORED_ARTICLES.set(await count_articles(session))
        beats = await heartbeats(session)
    for job, last in beats.items():
        HEARTBEAT_AGE.labels(job=job).set(max(0.0, (now - last).total_seconds()))


class HealthServer:
    """The three endpoints on one aiohttp site, opened and closed with the bot."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        intervals: Mapping[str, int],
        *,
        host: str,
        port: int,
    ) -> None:
        self._database = database
        self._clock = clock
        self._intervals = dict(intervals)
        self._host = host
        self._port = port
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)
        self._runner = web.AppRunner(app, access_log=None)

    async def __aenter__(self) -> HealthServer:
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        log.info("Health and metrics on http://%s:%d/", self._host, self._port)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._runner.cleanup()

    async def healthz(self, _request: web.Request) -> web.Response:
        """The event loop ran this handler: the process is alive."""
        return web.Response(text="ok\n")

    async def readyz(self, _request: web.Request) -> web.Response:
        """200 when ready; 503 naming every reason when not."""
        reasons = await not_ready(self._database, self._intervals, now=self._clock.now())
        if reasons:
            return web.Response(status=503, text="not ready\n" + "".join(f"{r}\n" for r in reasons))
        return web.Response(text="ready\n")

    async def metrics(self, _request: web.Request) -> web.Response:
        """Every newsbot_ figure in Prometheus' text format; the store's are read now."""
        try:
            await asyncio.wait_for(
                read_store_gauges(self._database, now=self._clock.now()), STORE_TIMEOUT_SECONDS
            )
        except Exception as error:  # noqa: BLE001 - the counters are still worth serving
            log.warning("Metrics: the store's figures could not be read: %s", error)
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
