"""Instant alerts and quiet hours, through the real bot and the local Bot API.

The January 2017 feeds are served on loopback and ingested through the real path, all but
two outlets that reported the Fort Lauderdale airport shooting (The New York Times, Japan
Today); the chat sets an alert, then those outlets' feeds arrive. The alert job's pass
runs as the job runs it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from bot.config import Settings
from bot.digests.alerts import AlertsReport, alert_pass
from bot.digests.dispatch import dispatch_digests
from bot.digests.story_updates import story_update_pass
from bot.news.http.fetcher import SafeFetcher
from bot.news.rules import ALERT as ALERT_RULE
from bot.news.rules import MUTE, Pattern, Rule
from bot.schedule.reading import ScheduleError, parse_quiet_hours
from bot.schedule.times import quiet_until
from bot.services import services_of
from bot.store.chats import ChatDefaults, add_rule, chat_rules, ensure_chat, set_quiet_hours
from bot.store.db import Database
from tests.botharness import USER_ID, BotUser, button_data, buttons, running_bot
from tests.fakebot import Call, FakeBotAPI
from tests.feedserver import FeedServer
from tests.support import NEWS_FEEDS, FakeClock, serving_feeds
from tests.test_cli import newsbot
from tests.test_significance import FEEDS, SATURDAY_AFTERNOON
from tests.test_story_card import visible
from tests.test_story_follow import FIRST, JAPAN_TODAY, NYTIMES, Feeds, follow_shooting, updates

ALERT = "🔔 Alert:"
GATHERED = re.compile(r"🔔 (\d+) alerts while you were not disturbed")
INDIAN_EXPRESS = NEWS_FEEDS / "FeedReader__Rss20IndianExpress.xml"
# Thirty of the Indian Express's items, each headline marked "Breaking", published at once.
BURST = Path("/burst.xml")


def burst_feed(published: datetime) -> bytes:
    """Thirty real items of one outlet, titled "Breaking: ..." and published `published`."""
    text = INDIAN_EXPRESS.read_text(encoding="utf-8")
    head = text[: text.index("<item>")]
    items = re.findall(r"<item>.*?</item>", text, re.DOTALL)[:30]
    date = format_datetime(published)
    marked = [
        re.sub(r"<pubDate>[^<]*</pubDate>", f"<pubDate>{date}</pubDate>", item).replace(
            "<title>", "<title>Breaking: ", 1
        )
        for item in items
    ]
    return (head + "".join(marked) + "</channel></rss>").encode("utf-8")


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with serving_feeds([*FEEDS, INDIAN_EXPRESS]) as feed_server:
        feed_server.add(str(BURST), burst_feed(SATURDAY_AFTERNOON), content_type="text/xml")
        yield feed_server


@pytest.fixture
def quiet_settings(settings: Settings, tmp_path: Path) -> Settings:
    (tmp_path / "no-seeds").mkdir()
    return settings.model_copy(update={"seeds_dir": str(tmp_path / "no-seeds")})


@pytest.fixture
async def feeds(
    database: Database,
    fetcher: SafeFetcher,
    quiet_settings: Settings,
    server: FeedServer,
    clock: FakeClock,
) -> Feeds:
    clock.set(SATURDAY_AFTERNOON)
    ingested = Feeds(database, fetcher, quiet_settings, server, clock)
    await ingested.ingest(FIRST)
    return ingested


async def run_pass(user: BotUser) -> AlertsReport:
    """One pass of the alert job, as the job runs it."""
    return await alert_pass(services_of(user.application), user.application.bot)


def alerts(fake: FakeBotAPI, chat_id: int = USER_ID) -> list[Call]:
    return [c for c in fake.sent_messages(chat_id) if ALERT in c.params["text"]]


def gathered(fake: FakeBotAPI, chat_id: int = USER_ID) -> list[Call]:
    return [c for c in fake.sent_messages(chat_id) if GATHERED.search(c.params["text"])]


def alerts_sent_metric() -> float:
    return REGISTRY.get_sample_value("newsbot_alerts_sent_total", {"kind": "alone"}) or 0.0


async def test_an_alert_comes_once_a_story_within_one_pass(
    feeds: Feeds, quiet_settings: Settings, clock: FakeClock
) -> None:
    before = alerts_sent_metric()
    async with running_bot(quiet_settings, clock) as user:
        answer = await user.reply_to('/alert "fort lauderdale" in title')
        assert answer.startswith("Rule 1 added: alert on")
        assert (await run_pass(user)).sent == 0  # what was stored before asks nobody
        await feeds.ingest([NYTIMES])
        first = await run_pass(user)
        sent = alerts(user.fake)
        # Japan Today's report of the same shooting: the chat already knows of the story.
        await feeds.ingest([JAPAN_TODAY])
        second = await run_pass(user)
        again = alerts(user.fake)
    assert first.sent == 1 and len(sent) == 1
    assert second.found.same_story == 1 and again == sent
    assert alerts_sent_metric() == before + 1
    text = sent[0].params["text"]
    assert "Scenes From Fort Lauderdale Airport Shooting" in visible(text)
    assert re.search(r'<a href="https?://[^"]*nytimes\.com[^"]*">', text)
    labels = [label for row in buttons(sent[0]) for label, _data in row]
    assert labels == ["Summary", "Story card", "🔕 Stop this alert"]


async def test_a_burst_keeps_to_the_hours_cap_and_gathers_the_rest(
    database: Database,
    fetcher: SafeFetcher,
    quiet_settings: Settings,
    clock: FakeClock,
    server: FeedServer,
) -> None:
    clock.set(SATURDAY_AFTERNOON)
    feeds = Feeds(database, fetcher, quiet_settings, server, clock)
    settings = quiet_settings.model_copy(update={"alerts_per_hour": 10})
    async with running_bot(settings, clock) as user:
        await user.reply_to("/alert breaking")
        await feeds.ingest([BURST])
        report = await run_pass(user)
        assert report.found.alone == 10 and report.sent == 10
        caught = report.found.alone + report.found.gathered
        assert caught >= 25  # thirty items, a few of which may be one story
        clock.advance(minutes=59)
        await run_pass(user)
        assert len(alerts(user.fake)) == 10 and gathered(user.fake) == []
        clock.advance(minutes=2)
        later = await run_pass(user)
        await run_pass(user)
        (together,) = gathered(user.fake)
    assert later.sent == 1 and len(alerts(user.fake)) == 10
    count = int(GATHERED.search(together.params["text"]).group(1))  # type: ignore[union-attr]
    assert count == caught - 10
    assert visible(together.params["text"]).count("Breaking: ") == min(count, 20)


async def test_quiet_hours_hold_alerts_and_send_them_once_after(
    feeds: Feeds, quiet_settings: Settings, clock: FakeClock
) -> None:
    # 16:00 UTC is 01:00 in Tokyo, in the chat's quiet hours there; they end at 22:00 UTC.
    async with running_bot(quiet_settings, clock) as user:
        await user.reply_to("/timezone Asia/Tokyo")
        await user.reply_to('/alert "fort lauderdale" in title')
        answer = await user.reply_to("/quiet 22:00-07:00")
        assert "Quiet hours: 22:00–07:00 (Asia/Tokyo)." in answer
        await feeds.ingest([NYTIMES])
        held = await run_pass(user)
        assert held.found.held == 1 and held.sent == 0
        clock.advance(hours=5, minutes=59)  # 06:59 in Tokyo
        await run_pass(user)
        assert alerts(user.fake) == []
        clock.advance(minutes=2)
        told = await run_pass(user)
        await run_pass(user)
        sent = alerts(user.fake)
    assert told.sent == 1 and len(sent) == 1


async def test_an_alert_found_before_a_restart_is_sent_once_after_it(
    feeds: Feeds, quiet_settings: Settings, clock: FakeClock
) -> None:
    with FakeBotAPI() as fake:
        async with running_bot(quiet_settings, clock, fake=fake) as user:
            await user.reply_to('/alert "airport shooting"')
            await feeds.ingest([NYTIMES])
            fake.fail_next("sendMessage", 502, "Bad Gateway", chat_id=USER_ID, times=4)
            report = await run_pass(user)
        assert report.found.alone == 1 and report.retry == 1 and alerts(fake) == []
        clock.advance(minutes=1)
        async with running_bot(quiet_settings, clock, fake=fake) as restarted:
            await run_pass(restarted)
            await run_pass(restarted)
        assert len(alerts(fake)) == 1


async def test_stop_this_alert_ends_it(
    feeds: Feeds, quiet_settings: Settings, clock: FakeClock, database: Database
) -> None:
    async with running_bot(quiet_settings, clock) as user:
        await user.reply_to("/alert Fort Lauderdale")
        await feeds.ingest([NYTIMES])
        await run_pass(user)
        (alert,) = alerts(user.fake)
        answer = await user.press(alert, button_data(alert, "🔕 Stop this alert"))
        assert answer.params["text"] == "Alert stopped."
        (edited,) = await user.fake.wait_for("editMessageReplyMarkup", timeout=10)
        labels = [
            b["text"] for row in edited.params["reply_markup"]["inline_keyboard"] for b in row
        ]
        assert labels == ["Summary", "Story card"]
        async with database.session() as session:
            assert await chat_rules(session, USER_ID) == ()
        await feeds.ingest([JAPAN_TODAY])
        await run_pass(user)
        assert len(alerts(user.fake)) == 1


async def test_an_exclude_rule_keeps_an_alert_away(
    feeds: Feeds, quiet_settings: Settings, clock: FakeClock
) -> None:
    async with running_bot(quiet_settings, clock) as user:
        await user.reply_to('/alert "airport shooting"')
        await user.reply_to("/filter exclude lauderdale")
        await feeds.ingest([NYTIMES])
        report = await run_pass(user)
    assert report.sent == 0 and alerts(user.fake) == []


async def test_a_bad_alert_pattern_gets_a_clear_reply(
    quiet_settings: Settings, clock: FakeClock
) -> None:
    async with running_bot(quiet_settings, clock) as user:
        usage = await user.reply_to("/alert")
        broken = await user.reply_to("/alert /(unclosed/")
        long = await user.reply_to("/alert " + "word " * 60)
        rules = await user.reply_to("/alerts")
    assert usage.startswith("Usage: /alert PATTERN")
    assert broken.startswith("That regular expression cannot be used:")
    assert "missing )" in broken
    assert long == "That pattern is too long: at most 200 characters."
    assert "No alerts yet." in rules


async def test_alert_me_under_a_topic_adds_the_alert(
    feeds: Feeds, quiet_settings: Settings, clock: FakeClock
) -> None:
    async with running_bot(quiet_settings, clock) as user:
        (found,) = await user.command("/topic airport shooting")
        await user.press(found, button_data(found, "🔔 Alert me"))
        confirmed = await user.fake.wait_for(
            "sendMessage",
            lambda c: "alert on" in c.params.get("text", ""),
            timeout=10,
        )
        listing = await user.reply_to("/alerts")
        await feeds.ingest([NYTIMES])
        report = await run_pass(user)
    assert confirmed and "airport shooting" in visible(listing)
    assert report.sent == 1


async def test_digests_in_quiet_hours_arrive_silently_if_asked(
    feeds: Feeds, quiet_settings: Settings, clock: FakeClock
) -> None:
    clock.set(datetime(2017, 1, 7, 22, 50, tzinfo=UTC))
    other = USER_ID + 1  # another reader with the same quiet hours, who did not ask
    async with running_bot(quiet_settings, clock) as user:
        panels = {}
        for chat_id in (USER_ID, other):
            await user.reply_to("/subscribe 23:00", chat_id=chat_id, user_id=chat_id)
            (panels[chat_id],) = await user.command(
                "/quiet 22:00-07:00", chat_id=chat_id, user_id=chat_id
            )
            assert "arrive with a sound" in visible(panels[chat_id].params["text"])
        panel = panels[USER_ID]
        await user.press(panel, button_data(panel, "🔕 Digests silently in quiet hours"))
        clock.advance(minutes=11)
        await dispatch_digests(services_of(user.application), user.application.bot)
        asked = user.fake.sent_messages(USER_ID)[-1]
        not_asked = user.fake.sent_messages(other)[-1]
    assert asked.params["text"].startswith("<b>Your news digest")
    assert not_asked.params["text"].startswith("<b>Your news digest")
    assert asked.params.get("disable_notification") is True
    assert "disable_notification" not in not_asked.params


async def test_a_followed_storys_update_waits_for_the_end_of_quiet_hours(
    feeds: Feeds, quiet_settings: Settings, clock: FakeClock
) -> None:
    async with running_bot(quiet_settings, clock) as user:
        await user.reply_to("/timezone Asia/Tokyo")  # 16:00 UTC is 01:00 there
        await user.reply_to("/quiet 22:00-07:00")
        await follow_shooting(user)
        await feeds.ingest([NYTIMES])
        held = await story_update_pass(services_of(user.application), user.application.bot)
        assert held.found.updates == 1 and held.quiet == 1 and updates(user.fake) == []
        clock.advance(hours=6, minutes=1)  # 07:01 in Tokyo
        told = await story_update_pass(services_of(user.application), user.application.bot)
    assert told.sent == 1 and len(updates(user.fake)) == 1


async def test_the_cli_shows_a_chats_alerts_and_quiet_hours(
    settings: Settings, database: Database
) -> None:
    now = datetime.now(UTC)  # the CLI counts the day up to the real time
    async with database.session() as session:
        defaults = ChatDefaults("Europe/Berlin", ["08:00"], 10)
        chat = await ensure_chat(session, 7, kind="private", title="", defaults=defaults, now=now)
        await add_rule(session, chat, Rule(MUTE, Pattern("football")))
        await add_rule(session, chat, Rule(ALERT_RULE, Pattern("earthquake")))
        set_quiet_hours(chat, "22:00-07:00", now=now)
    shown = json.loads(newsbot(settings, "alerts", "--chat", "7", "--json").stdout)
    assert shown == {
        "alerts": [
            {
                "number": 2,
                "pattern": "earthquake",
                "type": "words",
                "source_id": None,
                "field": "both",
                "matches_24h": 0,
            }
        ],
        "quiet_hours": "22:00-07:00",
        "digests_silent_in_quiet_hours": False,
        "sent_24h": 0,
        "waiting": 0,
        "next_due": None,
    }
    text = newsbot(settings, "alerts", "--chat", "7").stdout
    assert " 2. earthquake  (0 in 24 h)" in text
    assert "Quiet hours: 22:00-07:00 (Europe/Berlin)" in text


def test_quiet_hours_across_midnight_end_in_the_chats_zone() -> None:
    night = "22:00-07:00"
    late = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 00:30 in Berlin (CET)
    assert quiet_until(night, "UTC", late) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    # Berlin moves its clocks on 29 March: 07:00 there is 05:00 UTC that morning.
    assert quiet_until(night, "Europe/Berlin", late) == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    assert quiet_until(night, "UTC", late.replace(hour=12)) is None
    assert quiet_until("13:00-14:00", "UTC", late.replace(hour=13, minute=59)) == late.replace(
        hour=14, minute=0
    )
    assert quiet_until(None, "UTC", late) is None
    assert quiet_until(night, "UTC", late + timedelta(hours=8)) is None


def test_quiet_hours_read_as_people_write_them() -> None:
    assert parse_quiet_hours("22:00-07:00") == "22:00-07:00"
    assert parse_quiet_hours("10pm - 7am") == "22:00-07:00"
    assert parse_quiet_hours("23:30 to 6:15") == "23:30-06:15"
    for bad in ("22:00", "22:00-22:00", "late-early", "25:00-07:00"):
        with pytest.raises(ScheduleError):
            parse_quiet_hours(bad)
