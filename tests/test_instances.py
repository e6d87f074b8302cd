"""Several instances on one PostgreSQL database, in the shape Telegram allows: one receives
updates, the others run with RECEIVE_UPDATES=false and only run the jobs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from bot.config import Settings
from bot.store.db import Database
from bot.store.meta import heartbeats
from tests.botharness import USER_ID, running_bot
from tests.fakebot import FakeBotAPI
from tests.support import BACKENDS, ROOT, FakeClock

UPDATE_METHODS = ("getUpdates", "setWebhook", "deleteWebhook")


def start_job_only_instance(settings: Settings, fake: FakeBotAPI) -> subprocess.Popen[str]:
    """`newsbot run` with RECEIVE_UPDATES=false, as a second instance would be started."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))},
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATABASE_URL": settings.database_url,
        "SEEDS_DIR": settings.seeds_dir,
        "SOURCES_OPML": settings.sources_opml,
        "RECEIVE_UPDATES": "false",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=environment,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def wait_for_heartbeat(database: Database, job: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with database.session() as session:
            if job in await heartbeats(session):
                return
        await asyncio.sleep(0.2)
    raise AssertionError(f"no {job} heartbeat within {timeout} s")


@pytest.fixture
def backend() -> str:
    """Instances share a PostgreSQL database; this module runs on no other backend."""
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL disabled by NEWSBOT_TEST_BACKENDS")
    return "postgresql"


async def test_a_job_only_instance_runs_jobs_and_never_asks_for_updates(
    settings: Settings, clock: FakeClock, database: Database
) -> None:
    with FakeBotAPI() as fake:
        jobs_only = start_job_only_instance(settings, fake)
        try:
            await fake.wait_for("setMyCommands", timeout=30)
            await wait_for_heartbeat(database, "poll", timeout=30)  # its first feed pass
            assert [c.method for c in fake.all_calls() if c.method in UPDATE_METHODS] == []

            # The receiving instance answers commands while the other keeps running.
            async with running_bot(settings, clock, fake=fake) as user:
                assert "/subscribe" in await user.reply_to("/help", chat_id=USER_ID)
            assert jobs_only.poll() is None
        finally:
            jobs_only.send_signal(signal.SIGTERM)
            output, _ = jobs_only.communicate(timeout=20)
        assert jobs_only.returncode == 0, output
        assert "running jobs only" in output
