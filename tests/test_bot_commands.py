"""Every command as a user meets it: the real bot, the real PTB, a loopback Bot API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.config import Settings
from bot.logs import configure_logging
from bot.store.chats import get_chat
from bot.store.meta import record_maybe_sent
from bot.store.sources import get_source
from handlers import COMMAND_HANDLERS
from tests.botharness import ADMIN_ID, USER_ID, BotUser, button_data, buttons, running_bot
from tests.support import FakeClock

GROUP_ID = -100123
ADMIN_IN_GROUP = 31
MEMBER_IN_GROUP = 32


@pytest.fixture
async def user(settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    async with running_bot(settings, clock) as bot_user:
        yield bot_user


async def test_start_welcomes_and_subscribes_with_one_tap(user: BotUser) -> None:
    (welcome,) = await user.command("/start")
    assert "I read news feeds and send you a short digest" in welcome.params["text"]
    assert buttons(welcome) == [[("Subscribe to the daily digest", "c:start:on")]]
    answer = await user.press(welcome, "c:start:on")
    assert answer.params.get("text") == "Saved."
    confirmation = (
        await user.fake.wait_for("sendMessage", lambda c: c.chat_id == USER_ID, count=2)
    )[-1]
    assert confirmation.params["text"] == (
        "✅ Subscribed. Digests at 08:00 (UTC). Next one: Fri 27 Nov, 08:00.\n"
        "Change it any time with /settings.\n\n"
        "Which time zone are you in? Tap one, or type a city."
    )
    assert buttons(confirmation)[-1] == [("UTC", "c:zone:UTC"), ("Type a city…", "c:zone:city")]


async def test_start_deep_link_opens_a_topic(user: BotUser) -> None:
    text = await user.reply_to("/start topic_iran")
    assert text.startswith("<b>Topic: iran</b>")
    assert text.count("Iran") == 3


async def test_help_lists_every_command_and_menu_is_registered(user: BotUser) -> None:
    text = await user.reply_to("/help")
    for name in COMMAND_HANDLERS:
        if name != "start":
            assert f"/{name} — " in text, name
    (menu,) = [c for c in user.fake.calls("setMyCommands") if "language_code" not in c.params]
    names = [c["command"] for c in menu.params["commands"]]
    assert {"latest", "topic", "subscribe", "settings", "summary"} <= set(names)


async def test_latest_lists_numbered_headlines_with_buttons_and_pages(user: BotUser) -> None:
    (listing,) = await user.command("/latest")
    text = listing.params["text"]
    assert text.startswith("<b>Latest headlines</b>\n\n1. North Korean authorities")
    assert "\n10. " in text and "\n11. " not in text
    assert "<i>newsbot seeds · just now</i>" in text
    assert listing.params["link_preview_options"]["is_disabled"] is True
    rows = buttons(listing)
    assert [label for row in rows[:2] for label, _ in row] == [str(n) for n in range(1, 11)]
    assert rows[-1] == [("More ›", "l:10:10:17")]  # page 2 as the list stood at item 17
    await user.press(listing, "l:10:10:17")
    (edit,) = await user.fake.wait_for("editMessageText")
    assert "\n11. " in edit.params["text"] and "\n15. " in edit.params["text"]
    # The second reports of stories on page one are folded there, never listed again.
    assert "+1 source" in text and "TrumpRx.gov" not in edit.params["text"]
    assert buttons(edit)[-1] == [("‹ Back", "l:0:10:17")]
    assert user.fake.calls("sendMessage", chat_id=USER_ID) == [listing]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/latest abc", "“abc” is not a number. Usage: /latest [N]"),
        ("/latest -5", "N must be at least 1. Usage: /latest [N]"),
        ("/latest 0", "N must be at least 1."),
    ],
)
async def test_latest_bad_counts_get_a_helpful_reply(
    user: BotUser, command: str, expected: str
) -> None:
    assert expected in await user.reply_to(command)


async def test_latest_caps_huge_counts(user: BotUser) -> None:
    text = await user.reply_to("/latest 99999")
    assert text.startswith("<i>At most 50 at a time.</i>")
    # 17 items, two of them second reports of a story already listed.
    assert "\n15. " in text and "\n16. " not in text


async def test_topic_finds_ranks_and_says_when_nothing_matches(user: BotUser) -> None:
    text = await user.reply_to("/topic iran")
    assert text.count("\n    <i>newsbot seeds") == 3
    (none,) = await user.command("/topic quantum gravity")
    assert none.params["text"] == "Nothing matches “quantum gravity”. Trending now:"
    labels = [label for row in buttons(none) for label, _ in row]
    assert any(label.startswith("Iran (") for label in labels)


async def test_topic_makes_and_refreshes_the_chats_row(user: BotUser) -> None:
    """/topic reads only the chat's zone while its row needs no change; a first contact
    still makes the row, and a renamed group's row takes the new name."""
    services = user.application.bot_data["newsbot.services"]

    async def stored_title() -> str | None:
        async with services.database.session() as session:
            chat = await get_chat(session, GROUP_ID)
        return None if chat is None else chat.title

    asked: dict[str, Any] = {
        "chat_id": GROUP_ID,
        "chat_type": "supergroup",
        "user_id": ADMIN_IN_GROUP,
    }
    first = await user.reply_to("/topic iran", chat_title="Night desk", **asked)
    assert first.startswith("<b>Topic: iran</b>")
    assert await stored_title() == "Night desk"
    assert await user.reply_to("/topic iran", chat_title="Night desk", **asked) == first
    renamed = await user.reply_to("/topic iran", chat_title="Morning desk", **asked)
    assert renamed == first
    assert await stored_title() == "Morning desk"


async def test_topic_without_words_lists_trending_buttons(user: BotUser) -> None:
    (trending,) = await user.command("/topic")
    assert trending.params["text"].startswith("<b>Trending in the last 24 hours</b>")
    data = dict(label_and_data for row in buttons(trending) for label_and_data in row)
    iran = next(d for label, d in data.items() if label.startswith("Iran ("))
    await user.press(trending, iran)
    opened = (await user.fake.wait_for("sendMessage", lambda c: c.chat_id == USER_ID, count=2))[-1]
    assert opened.params["text"].startswith("<b>Topic: ")


@pytest.mark.parametrize(
    "words",
    [
        "x" * 5000,
        '"',
        "NEAR(iran",
        "iran OR -trump*",
        "'; DROP TABLE articles; --",
        "🙂🔥",
        "إيران",
        "<b>bold</b> & co",
    ],
)
async def test_topic_odd_input_gets_a_plain_answer(user: BotUser, words: str) -> None:
    text = await user.reply_to(f"/topic {words}")
    assert "Something went wrong" not in text
    if "<b>bold</b>" in words:
        assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in text
    assert len(text) <= 4096


async def test_summary_by_id_and_by_button(user: BotUser) -> None:
    text = await user.reply_to("/summary 1")
    assert text.startswith("<b>North Korean authorities have reportedly executed people")
    assert "<i>newsbot seeds · 26 Nov 2026, 09:00</i>" in text
    assert "Unification Ministry" in text
    (listing,) = await user.command("/latest 3")
    await user.press(listing, button_data(listing, "2"))
    shown = (await user.fake.wait_for("sendMessage", lambda c: c.chat_id == USER_ID, count=3))[-1]
    assert shown.params["text"].startswith("<b>Trump Allows Commercial Fishing")
    assert shown.params["text"].endswith(
        "<i>The source gave only this headline: no text, and no link to a full article. "
        "Nothing else in store tells this story yet; /latest has the newest headlines.</i>"
    )


async def test_a_bare_seed_headline_leads_on_to_its_other_report(user: BotUser) -> None:
    (shown,) = await user.command("/summary 7")
    text = shown.params["text"]
    assert text.startswith("<b>TrumpRx Website Launches")
    assert "Here is what else is known." in text
    assert "<b>Other reports of this story</b>\n1. TrumpRx.gov Highlights GLP-1" in text
    await user.press(shown, button_data(shown, "1"))
    opened = (await user.fake.wait_for("sendMessage", lambda c: c.chat_id == USER_ID, count=2))[-1]
    assert opened.params["text"].startswith("<b>TrumpRx.gov Highlights GLP-1")
    assert "No full text" not in opened.params["text"]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/summary 99999999", "There is no article 99999999"),
        ("/summary x", "Tap a number under a /latest or /topic list"),
        ("/summary", "Tap a number under a /latest or /topic list"),
    ],
)
async def test_summary_bad_ids(user: BotUser, command: str, expected: str) -> None:
    assert expected in await user.reply_to(command)


async def test_forged_and_stale_buttons_expire_politely(user: BotUser) -> None:
    (listing,) = await user.command("/latest 2")
    for data in ["zzz", "s:abc", "s:99999999", "l:-1:5", "c:size:999", "t:0:0:x"]:
        answer = await user.press(listing, data)
        assert answer.params.get("text") in {
            "This button has expired.",
            "This item is no longer available.",
        }, data


async def test_subscribe_with_times_and_zone(user: BotUser, settings: Settings) -> None:
    text = await user.reply_to("/subscribe 07:30 18:00 Europe/Berlin")
    # 09:00 UTC is 10:00 in Berlin: the next digest is today's 18:00.
    assert text.startswith(
        "✅ Subscribed. Digests at 07:30, 18:00 (Europe/Berlin). Next one: Thu 26 Nov, 18:00."
    )
    offset = await user.reply_to("/subscribe 08:00 +05:30")
    assert "Digests at 08:00 (UTC+05:30). Next one: Fri 27 Nov, 08:00." in offset


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/subscribe 25:61", "“25:61” is not a time of day; write it like 08:00"),
        ("/subscribe 08:00 Mars/Olympus", "“Mars/Olympus” is not a time zone"),
        ("/subscribe 1:00 2:00 3:00 4:00 5:00 6:00 7:00", "At most 6 digests a day"),
        ("/subscribe 08:00 Europe/Berlin Asia/Tokyo", "One time zone at most"),
        ("/timezone Nowhere/Land", "is not a time zone"),
        ("/digesttime noon", "is not a time"),
    ],
)
async def test_bad_schedules_are_explained(user: BotUser, command: str, expected: str) -> None:
    assert expected in await user.reply_to(command)


async def test_settings_buttons_change_in_place_and_unsubscribe_keeps_them(user: BotUser) -> None:
    await user.command("/subscribe 06:45 Asia/Tokyo")
    (panel,) = await user.command("/settings")
    assert "Digests: on. Digests at 06:45 (Asia/Tokyo)." in panel.params["text"]
    assert "Digest size: 10 headlines" in panel.params["text"]
    await user.press(panel, button_data(panel, "Size +5"))
    (edit,) = await user.fake.wait_for("editMessageText")
    assert "Digest size: 15 headlines" in edit.params["text"]
    text = await user.reply_to("/unsubscribe")
    assert text.startswith("Digests stopped.")
    again = await user.reply_to("/subscribe")
    assert "Digests at 06:45 (Asia/Tokyo)" in again
    moved = await user.reply_to("/timezone America/New_York")
    assert moved.startswith(
        "Time zone set to America/New_York. Digests at 06:45 (America/New_York)."
    )
    times = await user.reply_to("/digesttime 7:05 21:00")
    assert "Digests at 07:05, 21:00 (America/New_York)" in times


async def test_follow_mute_and_following(user: BotUser) -> None:
    assert await user.reply_to("/follow Iran") == "Following “iran”: it leads your digests."
    assert await user.reply_to("/follow iran") == "You already follow “iran”."
    assert (await user.reply_to("/mute Football")).startswith("Muted “football”")
    listing = await user.reply_to("/following")
    assert "<b>Following</b>\n• iran" in listing and "<b>Muted</b>\n• football" in listing
    assert await user.reply_to("/unfollow iran") == "No longer following “iran”."
    assert await user.reply_to("/unmute football") == "Unmuted “football”."
    assert (await user.reply_to("/follow 🙂")).startswith("Usage: /follow WORDS")


async def test_admin_commands_are_for_admins_only(user: BotUser) -> None:
    assert await user.reply_to("/addsource https://example.org/feed.xml") == (
        "This command is for the bot's administrators."
    )
    added = await user.reply_to(
        "/addsource https://example.org/feed.xml", chat_id=ADMIN_ID, user_id=ADMIN_ID
    )
    assert added.startswith("Added source ")
    source_id = added.split()[2].rstrip(":")
    sources = await user.reply_to("/sources")
    assert f"{source_id}. https://example.org/feed.xml — ⏳ not fetched yet, 0 items" in sources
    async with user.application.bot_data["newsbot.services"].database.session() as session:
        # Two instances' dispatch passes recorded messages sent again after a lost answer.
        await record_maybe_sent(session, "first", 3, now=user.clock.now())
        await record_maybe_sent(session, "second", 2, now=user.clock.now())
    stats = await user.reply_to("/stats", chat_id=ADMIN_ID, user_id=ADMIN_ID)
    assert "Sources: 1 (0 failing, 0 off)" in stats and "Articles: 17" in stats
    assert "Sent again after a lost answer: 5" in stats
    async with user.application.bot_data["newsbot.services"].database.session() as session:
        source = await get_source(session, int(source_id))
        assert source is not None
        source.active = False  # it failed too often
    revived = await user.reply_to(
        "/addsource https://example.org/feed.xml", chat_id=ADMIN_ID, user_id=ADMIN_ID
    )
    assert revived.startswith(f"Source {source_id} was switched off after failing; it is back on")
    again = await user.reply_to(
        "/addsource https://example.org/feed.xml", chat_id=ADMIN_ID, user_id=ADMIN_ID
    )
    assert again == f"Already reading that feed (source {source_id})."
    bad = await user.reply_to("/addsource ftp://example.org/x", chat_id=ADMIN_ID, user_id=ADMIN_ID)
    assert bad.startswith("Usage: /addsource URL")
    removed = await user.reply_to(f"/removesource {source_id}", chat_id=ADMIN_ID, user_id=ADMIN_ID)
    assert removed == f"Removed source {source_id}: https://example.org/feed.xml"
    assert "There is no source 999" in await user.reply_to(
        "/removesource 999", chat_id=ADMIN_ID, user_id=ADMIN_ID
    )


async def test_groups_only_admins_change_settings_anyone_reads(
    user: BotUser, settings: Settings
) -> None:
    user.fake.set_admins(GROUP_ID, [ADMIN_IN_GROUP])
    group: dict[str, Any] = {"chat_id": GROUP_ID, "chat_type": "supergroup"}
    refused = await user.reply_to("/subscribe", user_id=MEMBER_IN_GROUP, **group)
    assert refused == "Only this chat's administrators can change its digest settings."
    ok = await user.reply_to("/subscribe 09:00", user_id=ADMIN_IN_GROUP, **group)
    assert ok.startswith("✅ Subscribed. Digests at 09:00 (UTC).")
    assert (await user.reply_to("/latest 2", user_id=MEMBER_IN_GROUP, **group)).startswith(
        "<b>Latest headlines</b>"
    )


async def test_commands_for_another_bot_are_ignored(user: BotUser) -> None:
    user.fake.send_command(USER_ID, "/latest@SomeOtherBot", chat_type="supergroup")
    text = await user.reply_to("/help@newsbot_test_bot")
    assert text.startswith("<b>Commands</b>")
    assert len(user.fake.calls("sendMessage", chat_id=USER_ID)) == 1


async def test_forum_topic_subscription_and_replies_stay_in_the_thread(
    user: BotUser, settings: Settings
) -> None:
    user.fake.set_admins(GROUP_ID, [ADMIN_IN_GROUP])
    (answer,) = await user.command(
        "/subscribe 08:00",
        chat_id=GROUP_ID,
        chat_type="supergroup",
        is_forum=True,
        message_thread_id=55,
        user_id=ADMIN_IN_GROUP,
    )
    assert answer.params["message_thread_id"] == 55
    async with user.application.bot_data["newsbot.services"].database.session() as session:
        chat = await get_chat(session, GROUP_ID)
    assert chat is not None and chat.thread_id == 55 and chat.subscribed


async def test_errors_get_one_apology_and_blocked_chats_go_inactive(user: BotUser) -> None:
    user.fake.fail_next("sendMessage", 400, "Bad Request: can't parse entities", chat_id=USER_ID)
    user.fake.send_command(USER_ID, "/help")
    (apology,) = await user.fake.wait_for("sendMessage", lambda c: c.chat_id == USER_ID)
    assert apology.params["text"] == "Something went wrong, please try again."
    user.fake.block_chat(USER_ID)
    user.fake.send_command(USER_ID, "/latest")
    await user.fake.wait_for("getUpdates", count=1)
    services = user.application.bot_data["newsbot.services"]
    for _ in range(100):
        async with services.database.session() as session:
            chat = await get_chat(session, USER_ID)
        if chat is not None and not chat.active:
            break
        await asyncio.sleep(0.05)
    assert chat is not None and chat.active is False


async def test_the_token_never_reaches_a_log_line(
    settings: Settings, clock: FakeClock, capfd: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        async with running_bot(settings, clock) as bot_user:
            configure_logging("DEBUG", secrets=[bot_user.fake.token])
            logging.getLogger("httpx").setLevel(logging.DEBUG)
            await bot_user.reply_to("/latest 1")
            logging.getLogger("demo").error(
                "failed calling %s", bot_user.fake.base_url + bot_user.fake.token
            )
        err = capfd.readouterr().err
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert "HTTP Request" in err
    assert bot_user.fake.token not in err and bot_user.fake.token.split(":")[1] not in err
