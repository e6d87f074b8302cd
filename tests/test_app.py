"""The application's wiring: webhook mode with its secret, liveness, start-up."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import httpx

from bot.app import webhook_options
from bot.config import Settings
from bot.digests.dispatch import dispatch_digests
from bot.ops.watchdog import stalled_jobs
from bot.services import SERVICES_KEY
from bot.store.meta import record_heartbeat
from jobs.watchdog import INTERVALS
from tests.botharness import ADMIN_ID, running_bot
from tests.fakebot import FakeBotAPI
from tests.support import FakeClock


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_checks_the_secret(settings: Settings, clock: FakeClock) -> None:
    port = free_port()
    settings = settings.model_copy(
        update={
            "webhook_url": f"http://127.0.0.1:{port}/telegram/hook",
            "webhook_listen": "127.0.0.1",
            "webhook_port": port,
            "webhook_secret": "s3cret_token-1",
        }
    )
    options = webhook_options(settings)
    with FakeBotAPI() as fake:
        async with running_bot(settings, clock, fake=fake, polling=False) as user:
            updater = user.application.updater
            assert updater is not None
            await updater.start_webhook(**options)
            (registered,) = fake.calls("setWebhook")
            assert registered.params["secret_token"] == "s3cret_token-1"
            assert registered.params["url"] == f"http://127.0.0.1:{port}/telegram/hook"
            update = {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "text": "/help",
                    "chat": {"id": 99, "type": "private"},
                    "from": {"id": 99, "is_bot": False, "first_name": "A"},
                    "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                },
            }
            async with httpx.AsyncClient() as client:
                forged = await client.post(
                    f"http://127.0.0.1:{port}/telegram/hook",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                )
                assert forged.status_code == 403
                genuine = await client.post(
                    f"http://127.0.0.1:{port}/telegram/hook",
                    content=json.dumps(update),
                    headers={
                        "X-Telegram-Bot-Api-Secret-Token": "s3cret_token-1",
                        "Content-Type": "application/json",
                    },
                )
                assert genuine.status_code == 200
            (reply,) = await fake.wait_for("sendMessage", lambda c: c.chat_id == 99)
            assert reply.params["text"].startswith("<b>Commands</b>")
            assert len(fake.sent_messages()) == 1


def test_a_generated_secret_when_none_is_configured(settings: Settings) -> None:
    options = webhook_options(
        settings.model_copy(update={"webhook_url": "https://bot.example/hook"})
    )
    assert options["url_path"] == "hook"
    assert len(options["secret_token"]) >= 32


async def test_stalled_jobs_are_reported_and_stats_show_heartbeats(
    settings: Settings, clock: FakeClock
) -> None:
    async with running_bot(settings, clock) as user:
        services = user.application.bot_data[SERVICES_KEY]
        await dispatch_digests(services, user.application.bot)
        async with services.database.session() as session:
            await record_heartbeat(session, "poll", "ok", now=clock.now() - timedelta(minutes=10))
        assert await stalled_jobs(services.database, INTERVALS, now=clock.now()) == [
            "poll (last pass 600 s ago)"
        ]
        stats = await user.reply_to("/stats", chat_id=ADMIN_ID, user_id=ADMIN_ID)
        assert "Last dispatch: just now" in stats and "Last poll: 10m ago" in stats
