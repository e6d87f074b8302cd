"""The playground page in headless Chromium: the real bot, answered and rendered like Telegram."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import open_database
from bot.clock import SystemClock
from bot.config import Settings
from bot.news.rules import ALERT
from bot.playground.run import Playground, running_playground
from bot.store.alerts import NewAlert, add_alerts, claim_due_alerts, record_alerts_sent
from bot.store.articles import NewArticle, add_articles
from bot.store.chats import get_chat
from bot.store.sources import seed_source
from tests.support import ROOT, SEEDS

ARTIFACTS = ROOT / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE_TITLE = '<script>window.pwned = 1</script> <b>x</b> <img src=x onerror="window.pwned = 2">'


def _unavailable(reason: str) -> None:
    """No browser here: skip with the reason, except in CI, where the suite must be whole."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def chromium_executable() -> str:
    """Debian's chromium, which `.ci/run` installs; never a browser playwright downloads."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _unavailable("no chromium installed (apt-get install chromium)")
    assert path is not None
    return path


@pytest.fixture
def playground_settings(sqlite_template: Path, tmp_path: Path) -> Settings:
    """A store of the test's own with the shipped seeds and no feeds to poll."""
    path = tmp_path / "newsbot.db"
    shutil.copyfile(sqlite_template, path)
    no_sources = tmp_path / "no-sources.opml"
    no_sources.write_text('<opml version="2.0"><head/><body/></opml>', encoding="utf-8")
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{path}",
        seeds_dir=str(SEEDS),
        sources_opml=str(no_sources),
    )


@pytest.fixture
async def playground(playground_settings: Settings) -> AsyncIterator[Playground]:
    """The playground on a free loopback port, stopped after the test."""
    async with running_playground(playground_settings, host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
async def page(playground: Playground) -> AsyncIterator[Any]:
    """The chat page open in headless Chromium."""
    executable = chromium_executable()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            tab = await browser.new_page(viewport={"width": 1200, "height": 820})
            await tab.goto(playground.url)
            yield tab
        finally:
            await browser.close()


async def send(page: Any, text: str) -> None:
    """Type into the page's only text box and press Enter, as a person would."""
    box = page.get_by_role("textbox")
    await box.fill(text)
    await box.press("Enter")


def bot_says(page: Any, text: str) -> Any:
    """The bot's messages that contain the text."""
    return page.locator(".row.in .bubble", has_text=text)


async def add_hostile_headline(settings: Settings) -> None:
    """A feed item whose title is markup, stored as ingest would store it."""
    database = await open_database(settings)
    now = SystemClock().now()
    try:
        async with database.session() as session:
            source = await seed_source(session, "hostile-feed", now=now)
            item = NewArticle(
                title=HOSTILE_TITLE,
                published_at=now + timedelta(minutes=1),
                url="https://example.org/hostile",
            )
            await add_articles(session, source.id, [item], now=now)
    finally:
        await database.dispose()


async def test_latest_summary_digest_in_a_browser(page: Any, playground_settings: Settings) -> None:
    from playwright.async_api import expect

    await expect(page.get_by_role("textbox")).to_have_count(1)
    await send(page, "/latest")
    await expect(bot_says(page, "Latest headlines")).to_contain_text("1. North Korean authorities")
    # The header is bold, as Telegram draws <b>; the title is text, not markup.
    await expect(bot_says(page, "Latest headlines").locator("strong").first).to_have_text(
        "Latest headlines"
    )

    await page.get_by_role("button", name="1", exact=True).first.click()
    await expect(bot_says(page, "Unification Ministry")).to_have_count(1)

    await send(page, "/subscribe")
    await expect(bot_says(page, "Subscribed")).to_have_count(1)
    await page.get_by_role("button", name="Send the digest now").click()
    digest = bot_says(page, "Your news digest")
    await expect(digest).to_contain_text("North Korean authorities")
    await expect(page.locator("#toast")).to_have_text("Digest sent.")

    await add_hostile_headline(playground_settings)
    await send(page, "/latest")
    hostile = bot_says(page, "window.pwned")
    await expect(hostile).to_contain_text(HOSTILE_TITLE)
    await expect(page.locator("#messages script, #messages img, #messages b")).to_have_count(0)
    assert await page.evaluate("window.pwned") is None

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "playground.png"
    await page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


async def test_group_settings_follow_who_is_admin(page: Any) -> None:
    from playwright.async_api import expect

    await page.get_by_role("button", name="Newsroom").click()
    await expect(page.locator("#chat-about")).to_contain_text("admins: Ben")
    await page.get_by_label("as").select_option("ada")
    await send(page, "/subscribe")
    await expect(bot_says(page, "Only this chat's administrators")).to_have_count(1)

    await page.get_by_label("as").select_option("ben")
    await send(page, "/subscribe")
    await expect(bot_says(page, "Subscribed")).to_have_count(1)
    await expect(page.locator(".row.out .sender")).to_have_text(["Ada", "Ben"])


async def test_the_html_subset_edits_and_previews_render_like_telegram(
    page: Any, playground: Playground
) -> None:
    from playwright.async_api import expect
    from telegram import Bot, LinkPreviewOptions
    from telegram.constants import ParseMode

    from bot.playground.chats import ADA
    from bot.playground.run import PLAYGROUND_TOKEN

    markup = (
        "<b>bold</b> <i>italic</i> <code>code</code> <a href='https://example.org/a'>link</a> "
        "<tg-spoiler>secret</tg-spoiler> <a href='javascript:alert(1)'>bad</a>\n"
        "<blockquote>quoted</blockquote>"
    )
    async with Bot(PLAYGROUND_TOKEN, base_url=playground.url + "bot") as bot:
        sent = await bot.send_message(ADA.id, markup, parse_mode=ParseMode.HTML)
        await bot.send_message(
            ADA.id,
            "Read https://example.org/story",
            link_preview_options=LinkPreviewOptions(is_disabled=False),
        )
        bubble = bot_says(page, "secret")
        await expect(bubble.locator("strong")).to_have_text("bold")
        await expect(bubble.locator("em")).to_have_text("italic")
        await expect(bubble.locator("code")).to_have_text("code")
        await expect(bubble.locator("blockquote")).to_have_text("quoted")
        await expect(bubble.locator("a", has_text="link")).to_have_attribute(
            "href", "https://example.org/a"
        )
        # A script URL is not a link: its text stays, the href does not.
        await expect(bubble.locator("a", has_text="bad")).to_have_count(0)
        spoiler = bubble.locator(".spoiler")
        await expect(spoiler).not_to_have_class("spoiler revealed")
        await spoiler.click()
        await expect(spoiler).to_have_class("spoiler revealed")
        await expect(bot_says(page, "Read").locator(".preview .site")).to_have_text("example.org")

        await bot.edit_message_text(
            "<b>bold</b> changed", ADA.id, sent.message_id, parse_mode="HTML"
        )
        await expect(bot_says(page, "changed")).to_contain_text("edited")
        await expect(bot_says(page, "secret")).to_have_count(0)


async def test_the_page_speaks_to_the_bot_in_the_language_picked(
    page: Any, playground: Playground
) -> None:
    """A German Telegram app gets German replies and the German command menu."""
    from playwright.async_api import expect

    from bot.i18n import _, using_language
    from handlers.start import COMMANDS

    about_latest = dict(COMMANDS)["latest"]
    with using_language("de"):
        german_about = _(about_latest)
    assert german_about != about_latest

    await page.get_by_label("Telegram in").select_option("de")
    await send(page, "/start")
    await expect(bot_says(page, "Hallo, ich bin newsbot")).to_have_count(1)
    await page.locator("#menu").click()
    await expect(page.get_by_role("option", name="/latest")).to_contain_text(german_about)
    # The pick is kept for the next visit, as a Telegram app keeps its language.
    await page.reload()
    await expect(page.get_by_label("Telegram in")).to_have_value("de")

    status, body = await post_json(
        playground.url + "api/chats/ben/messages", {"text": "/start", "language": "xx"}
    )
    assert status == 400 and "not 'xx'" in body["error"]


async def post_json(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    """What the page's own script sends, without the page."""
    import aiohttp

    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        return response.status, await response.json()


# The smallest valid PNG: one transparent pixel.
ONE_PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


async def no_sideways_scroll(page: Any) -> None:
    """Nothing on the page is wider than the screen, nor than its own box in the chat."""
    widths = await page.evaluate(
        "() => [document.documentElement, ...['messages', 'rules', 'chat-header']"
        ".map((id) => document.getElementById(id))]"
        ".map((box) => [box.id || 'page', box.scrollWidth, box.clientWidth])"
    )
    assert all(scroll <= client for _box, scroll, client in widths), widths


async def test_on_a_phone_the_list_and_a_chat_take_turns(page: Any, playground: Playground) -> None:
    from playwright.async_api import expect
    from telegram import Bot

    from bot.playground.chats import ADA
    from bot.playground.run import PLAYGROUND_TOKEN

    await page.set_viewport_size({"width": 390, "height": 844})
    await page.reload()
    await expect(page.locator("#chats")).to_be_visible()
    await expect(page.locator("#chat")).to_be_hidden()
    await no_sideways_scroll(page)

    await page.get_by_role("button", name="Ada").click()
    await expect(page.locator("#sidebar")).to_be_hidden()
    await expect(page.locator("#back")).to_be_visible()
    await send(page, "/latest")
    await expect(bot_says(page, "Latest headlines")).to_have_count(1)
    # A story two reports tell opens its card from its "+1 source" button.
    await page.locator(".keyboard button", has_text="+1 source").first.click()
    await expect(bot_says(page, "Reported by")).to_have_count(1)
    async with Bot(PLAYGROUND_TOKEN, base_url=playground.url + "bot") as bot:
        await bot.send_message(
            ADA.id, "A long link https://example.org/" + "very-long-path-segment-" * 20 + "end"
        )
    await expect(bot_says(page, "A long link")).to_have_count(1)
    await no_sideways_scroll(page)
    box = await page.locator("#chat").bounding_box()
    assert box is not None and box["width"] == 390

    await page.locator("#back").click()
    await expect(page.locator("#chats")).to_be_visible()
    await expect(page.locator("#chat")).to_be_hidden()


async def test_a_feed_list_goes_in_as_a_file_and_comes_back_as_one(
    page: Any, playground: Playground
) -> None:
    from playwright.async_api import expect

    export = ROOT / "tests" / "data" / "opml" / "reader-export.opml"
    await page.locator("#file").set_input_files(str(export))
    await expect(bot_says(page, "Feed list imported")).to_have_count(1)
    await expect(page.locator(".row.out .document .name")).to_have_text("reader-export.opml")

    await send(page, "/export")
    sent = page.locator(".row.in .document")
    await expect(sent).to_have_count(1)
    response = await page.request.get(playground.url + (await sent.get_attribute("href"))[1:])
    assert response.ok
    exported = await response.text()
    assert "<opml" in exported and exported.count("xmlUrl=") >= 2


async def test_a_picture_shows_large_above_its_message(page: Any, playground: Playground) -> None:
    from playwright.async_api import expect
    from telegram import Bot

    from bot.playground.chats import ADA
    from bot.playground.run import PLAYGROUND_TOKEN
    from bot.sending.pictures import picture_preview
    from tests.feedserver import FeedServer

    with FeedServer() as images:
        picture = images.add("/story.png", ONE_PIXEL_PNG, content_type="image/png")
        async with Bot(PLAYGROUND_TOKEN, base_url=playground.url + "bot") as bot:
            await bot.send_message(
                ADA.id,
                "<b>Top story</b>",
                parse_mode="HTML",
                link_preview_options=picture_preview(picture),
            )
        bubble = bot_says(page, "Top story")
        image = bubble.locator(".preview.picture img")
        await expect(image).to_have_attribute("src", picture)
        await expect(image).to_have_js_property("complete", True)
        assert await image.evaluate("img => img.naturalWidth") == 1
        # Above the text, as Telegram draws a preview with show_above_text.
        order = await bubble.evaluate(
            "b => [...b.children].map(c => c.classList.contains('preview') ? 'p' : 't')"
        )
        assert order.index("p") < order.index("t")


def midnight_offset(now: datetime) -> str:
    """A UTC offset ("+09:00") at which it is now past midnight and before one: inside quiet
    hours of 22:00-07:00, and hours from either end of them."""
    hours = -now.hour % 24
    if hours > 14:
        hours -= 24
    return f"{hours:+03d}:00"


async def get_json(url: str) -> tuple[int, Any]:
    """What the page's own script fetches, without the page."""
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def bot_replies(playground: Playground, chat: str) -> list[dict[str, Any]]:
    """The bot's messages in a playground chat, as the page gets them."""
    status, body = await get_json(f"{playground.url}api/chats/{chat}/messages")
    assert status == 200, body
    return [message for message in body["messages"] if message["from_bot"]]


async def say(playground: Playground, chat: str, text: str) -> dict[str, Any]:
    """Send what a person would type, through the page API, and wait for the bot's reply."""
    before = len(await bot_replies(playground, chat))
    status, body = await post_json(f"{playground.url}api/chats/{chat}/messages", {"text": text})
    assert status == 200, body
    for _ in range(200):
        replies = await bot_replies(playground, chat)
        if len(replies) > before:
            return replies[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"the bot did not answer {text!r}")


async def held_and_sent_alerts(settings: Settings, chat_id: int, held_until: datetime) -> None:
    """An alert on the chat's alert rule sent just now, and one held until `held_until`, as
    the alert pass leaves them in quiet hours."""
    database = await open_database(settings)
    now = SystemClock().now()
    try:
        async with database.session() as session:
            chat = await get_chat(session, chat_id)
            assert chat is not None
            rule_id = next(topic.id for topic in chat.topics if topic.kind == ALERT)
            source = await seed_source(session, "alerted-feed", now=now)
            items = [
                NewArticle(f"Harbour report {n}", now, url=f"https://example.org/harbour/{n}")
                for n in (1, 2)
            ]
            sent, held = await add_articles(session, source.id, items, now=now)
            alerts = [
                NewAlert(chat_id, rule_id, sent, alone=True, due_at=now),
                NewAlert(chat_id, rule_id, held, alone=False, due_at=held_until),
            ]
            await add_alerts(session, alerts, now=now)
            claimed = await claim_due_alerts(
                session, now=now, lease=timedelta(minutes=1), instance="test", chats=5, per_chat=5
            )
            assert [alert.article_id for alert in claimed] == [sent]
            await record_alerts_sent(session, [claimed[0].alert_id], now=now)
    finally:
        await database.dispose()


@pytest.fixture
async def playground_on_each_backend(settings: Settings) -> AsyncIterator[Playground]:
    """The playground on SQLite and on PostgreSQL."""
    async with running_playground(settings, host="127.0.0.1", port=0) as running:
        yield running


async def test_the_rules_endpoint_gives_what_the_commands_stored(
    playground_on_each_backend: Playground, settings: Settings
) -> None:
    from bot.playground.chats import ADA

    playground = playground_on_each_backend
    rules_url = playground.url + "api/chats/ada/rules"
    nothing_yet: dict[str, Any] = {
        "rules": [],
        "timezone": None,
        "quiet_hours": None,
        "quiet_now": False,
        "quiet_until": None,
        "digests_silent": None,
        "alerts": None,
    }
    assert await get_json(rules_url) == (200, nothing_yet)

    now = SystemClock().now()
    offset = midnight_offset(now)
    zone = timezone(timedelta(hours=int(offset[:3])))
    await say(playground, "ada", f"/timezone {offset}")
    await say(playground, "ada", "/alert earthquake")
    await say(playground, "ada", "/filter exclude football")
    quiet_reply = await say(playground, "ada", "/quiet 22:00-07:00")

    status, body = await get_json(rules_url)
    assert status == 200, body
    assert body["rules"] == [
        {
            "number": 1,
            "action": "alert",
            "pattern": "earthquake",
            "kind": "words",
            "source_id": None,
            "field": "both",
        },
        {
            "number": 2,
            "action": "exclude",
            "pattern": "football",
            "kind": "words",
            "source_id": None,
            "field": "both",
        },
    ]
    assert (body["timezone"], body["quiet_hours"]) == (f"UTC{offset}", "22:00-07:00")
    # Past midnight there: quiet until seven that morning, on the chat's clock.
    until = datetime.fromisoformat(body["quiet_until"])
    assert body["quiet_now"] is True
    assert until == datetime.combine(now.astimezone(zone).date(), time(7), tzinfo=zone)
    assert until.utcoffset() == zone.utcoffset(None)
    assert body["digests_silent"] is False
    assert body["alerts"] == {"sent_today": 0, "waiting": 0, "next_due": None}
    # Chats keep their own rules.
    assert await get_json(playground.url + "api/chats/ben/rules") == (200, nothing_yet)

    await held_and_sent_alerts(settings, ADA.id, until)
    [[silently]] = quiet_reply["buttons"]
    status, _answer = await post_json(
        playground.url + "api/chats/ada/buttons",
        {"message_id": quiet_reply["id"], "data": silently["data"]},
    )
    assert status == 200
    await say(playground, "ada", "/filter include /\\bAI\\b/i in title")
    status, body = await get_json(rules_url)
    assert body["alerts"] == {"sent_today": 1, "waiting": 1, "next_due": until.isoformat()}
    assert body["digests_silent"] is True
    assert body["rules"][2] == {
        "number": 3,
        "action": "include",
        "pattern": "/\\bAI\\b/i",
        "kind": "regex",
        "source_id": None,
        "field": "title",
    }

    await say(playground, "ada", "/quiet 08:00-09:00")
    status, body = await get_json(rules_url)
    assert (body["quiet_hours"], body["quiet_now"], body["quiet_until"]) == (
        "08:00-09:00",
        False,
        None,
    )
    assert await get_json(playground.url + "api/chats/nobody/rules") == (
        404,
        {"error": "No such chat."},
    )


async def test_on_a_phone_the_rules_panel_shows_alerts_and_quiet_hours(page: Any) -> None:
    from playwright.async_api import expect

    await page.set_viewport_size({"width": 390, "height": 844})
    await page.reload()
    await page.get_by_role("button", name="Ada").click()
    toggle = page.get_by_role("button", name="Rules & alerts")
    panel = page.locator("#rules")
    await expect(panel).to_be_hidden()
    await toggle.click()
    await expect(panel).to_contain_text("No rules yet")
    await expect(panel).to_contain_text("No quiet hours")

    # Open while the commands go in: it follows the chat as the bot answers.
    offset = midnight_offset(SystemClock().now())
    long_regex = "/" + "very-long-pattern-" * 8 + "/"
    for text, answer in [
        (f"/timezone {offset}", f"UTC{offset}"),
        ("/alert earthquake", "Rule 1 added"),
        ("/filter exclude football", "Rule 2 added"),
        (f"/filter include {long_regex}", "Rule 3 added"),
        ("/quiet 22:00-07:00", "Quiet hours: 22:00"),
    ]:
        await send(page, text)
        await expect(bot_says(page, answer)).to_have_count(1)
    rules = panel.locator("li")
    await expect(rules).to_have_text(
        [
            "1.🔔 alert earthquake",
            "2.exclude football",
            f"3.include {long_regex} regular expression",
        ]
    )
    await expect(panel.locator("li.alert")).to_have_count(1)
    await expect(panel).to_contain_text(f"Quiet hours 22:00–07:00 (UTC{offset})")
    await expect(panel).to_contain_text("quiet now until 07:00")
    await expect(panel).to_contain_text("0 alerts sent today, 0 waiting")
    await no_sideways_scroll(page)
    box = await panel.bounding_box()
    assert box is not None and box["width"] == 390

    # Another chat shows its own (none), and back again Ada's.
    await page.locator("#back").click()
    await page.get_by_role("button", name="Ben").click()
    await expect(panel).to_contain_text("No rules yet")
    await expect(panel).not_to_contain_text("earthquake")
    await page.locator("#back").click()
    await page.get_by_role("button", name="Ada").click()
    await expect(panel.locator("li.alert")).to_contain_text("earthquake")
    await toggle.click()
    await expect(panel).to_be_hidden()
    await no_sideways_scroll(page)
