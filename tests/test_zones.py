"""Time zones a tap away: likely zones from the user's language, a typed city, abbreviations."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from bot.schedule.reading import AbbreviatedZone, ScheduleError, parse_zone
from bot.schedule.zones import likely_zones
from bot.services import SERVICES_KEY
from bot.store.chats import get_chat
from tests.botharness import USER_ID, BotUser, button_data, buttons, running_bot
from tests.support import FakeClock


@pytest.fixture
async def user(settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    async with running_bot(settings, clock) as bot_user:
        yield bot_user


async def _zone_of(user: BotUser) -> str:
    async with user.application.bot_data[SERVICES_KEY].database.session() as session:
        chat = await get_chat(session, USER_ID)
    assert chat is not None
    return chat.timezone


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Berlin", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("SAO PAULO", "America/Sao_Paulo"),
        ("europe/berlin", "Europe/Berlin"),
        ("Asia/Kolkata", "Asia/Kolkata"),
        ("+05:30", "UTC+05:30"),
        ("gmt", "UTC"),
        # Cities as the bot's readers call them, with or without accents.
        ("Moskau", "Europe/Moscow"),
        ("Москва", "Europe/Moscow"),
        ("Київ", "Europe/Kyiv"),
        ("Nueva York", "America/New_York"),
        ("São Paulo", "America/Sao_Paulo"),
        ("zürich", "Europe/Zurich"),
        ("Londres", "Europe/London"),
    ],
)
def test_zones_by_city_name_and_offset(typed: str, zone: str) -> None:
    assert parse_zone(typed) == zone


def test_abbreviations_are_explained_with_the_zone_meant() -> None:
    with pytest.raises(AbbreviatedZone) as raised:
        parse_zone("est")
    assert str(raised.value) == (
        "EST is a fixed offset (UTC−05:00) without daylight saving time; "
        "America/New_York follows the clocks there all year."
    )
    assert raised.value.abbreviation.zone == "America/New_York"
    with pytest.raises(ScheduleError, match="not a time zone or a city I know"):
        parse_zone("Atlantis")


def test_likely_zones_follow_the_language() -> None:
    assert likely_zones("de") == ["Europe/Berlin", "Europe/Vienna", "Europe/Zurich"]
    assert likely_zones("en-US")[0] == "America/New_York"
    assert likely_zones("pt-br") == ["America/Sao_Paulo"]
    assert likely_zones("xx") == likely_zones(None) != []


async def test_subscribing_offers_likely_zones_and_a_tap_sets_one(user: BotUser) -> None:
    # A German user is offered German-speaking zones, and reads the answers in German.
    (answer,) = await user.command("/subscribe 8am", language_code="de")
    text = answer.params["text"]
    assert text.startswith("✅ Abonniert. Übersichten um 08:00 (UTC).")
    assert text.endswith("In welcher Zeitzone bist du? Tippe auf eine oder gib eine Stadt ein.")
    labels = [label for row in buttons(answer) for label, _ in row]
    assert labels == ["Berlin", "Wien", "Zürich", "UTC", "Stadt eingeben…"]
    saved = await user.press(answer, button_data(answer, "Berlin"))
    assert saved.params.get("text") == "Gespeichert."
    (edited,) = await user.fake.wait_for("editMessageText")
    assert edited.params["text"] == (
        "Zeitzone auf Europe/Berlin gesetzt. Übersichten um 08:00 (Europe/Berlin). "
        "Nächste: Fr., 27. Nov., 08:00."
    )
    assert await _zone_of(user) == "Europe/Berlin"


async def test_a_chosen_zone_asks_nothing(user: BotUser) -> None:
    text = await user.reply_to("/subscribe 07:00 Asia/Tokyo")
    assert text == (
        "✅ Subscribed. Digests at 07:00 (Asia/Tokyo). Next one: Fri 27 Nov, 07:00.\n"
        "Change it any time with /settings."
    )


async def test_type_a_city_takes_the_reply_as_the_zone(user: BotUser) -> None:
    (answer,) = await user.command("/subscribe", language_code="en-US")
    assert [label for label, _ in buttons(answer)[0]] == ["New York", "Chicago"]
    await user.press(answer, button_data(answer, "Type a city…"))
    (prompt,) = await user.fake.wait_for(
        "sendMessage", lambda c: c.chat_id == USER_ID and "force_reply" in str(c.params)
    )
    assert prompt.params["text"].startswith("Which city's time should the digests follow?")
    before = len(user.fake.sent_messages(USER_ID))
    user.fake.send_text(USER_ID, "new york", reply_to_message_id=prompt.result["message_id"])
    calls = await user.fake.wait_for(
        "sendMessage", lambda c: c.chat_id == USER_ID, count=before + 1
    )
    assert calls[-1].params["text"].startswith("Time zone set to America/New_York.")
    assert await _zone_of(user) == "America/New_York"


async def test_timezone_by_city(user: BotUser) -> None:
    assert (await user.reply_to("/timezone Berlin")).startswith("Time zone set to Europe/Berlin.")
    assert (await user.reply_to("/timezone new york")).startswith(
        "Time zone set to America/New_York."
    )
    assert await _zone_of(user) == "America/New_York"


async def test_an_abbreviation_is_explained_and_both_meanings_offered(user: BotUser) -> None:
    (answer,) = await user.command("/timezone EST")
    assert answer.params["text"] == (
        "EST is a fixed offset (UTC−05:00) without daylight saving time; "
        "America/New_York follows the clocks there all year. Which do you mean?"
    )
    assert [label for row in buttons(answer) for label, _ in row] == [
        "New York (America/New_York)",
        "Fixed UTC−05:00",
    ]
    await user.press(answer, button_data(answer, "Fixed UTC−05:00"))
    (edited,) = await user.fake.wait_for("editMessageText")
    assert edited.params["text"].startswith("Time zone set to UTC-05:00.")
    subscribed = await user.reply_to("/subscribe 8:30pm PST")
    assert subscribed.startswith("✅ Subscribed. Digests at 20:30 (UTC-05:00).")
    assert "PST is a fixed offset (UTC−08:00)" in subscribed


async def test_settings_has_a_zone_button(user: BotUser) -> None:
    (panel,) = await user.command("/settings", language_code="ja")
    await user.press(panel, button_data(panel, "Zone: UTC"))
    (choices,) = await user.fake.wait_for(
        "sendMessage", lambda c: c.chat_id == USER_ID and "Which time zone" in c.params["text"]
    )
    assert [label for row in buttons(choices) for label, _ in row] == [
        "Tokyo",
        "UTC",
        "Type a city…",
    ]
