"""The chat's language: replies, digests, dates and the command menu in it; /language; news
languages. Through the fake Bot API on both backends."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bot.config import Settings
from bot.ingest.poller import ingest_all
from bot.news.http.fetcher import SafeFetcher
from bot.playground.digest_now import send_digest_now
from bot.services import SERVICES_KEY, Services
from bot.store.sources import add_source
from tests.botharness import BotUser, button_data, buttons, running_bot
from tests.fakebot import FakeBotAPI
from tests.feedserver import FeedServer, rss_feed
from tests.support import LANGUAGE_FEEDS, FakeClock

READER = 5150
GROUP = -100_200_300
GROUP_ADMIN = 61
MEMBER = 62
GERMAN_FEED = LANGUAGE_FEEDS / "FeedReader__Rss20DaStandardAt.xml"
MIXED = [
    # No feed-level language: each item's language is read from its words.
    ("Neue Verhandlungen zum Iran-Krieg? Die Gespräche beginnen in Genf.", "de"),
    ("Parliament passes the budget after a long night of debate", "en"),
    ("Le gouvernement annonce une nouvelle réforme des retraites", "fr"),
    ("FIFA 2026", None),  # too short to tell: unknown, and always shown
]


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with FeedServer() as feed_server:
        feed_server.add(
            "/standard.xml", GERMAN_FEED.read_bytes(), content_type="application/rss+xml"
        )
        items = [
            {
                "title": title,
                "link": f"https://mixed.example/{n}",
                "pubDate": f"Thu, 26 Nov 2026 0{n}:00:00 GMT",
            }
            for n, (title, _) in enumerate(MIXED, 1)
        ]
        feed_server.add("/mixed.xml", rss_feed(items, title="Mixed wire"))
        yield feed_server


@pytest.fixture
async def user(settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    async with running_bot(settings, clock) as bot_user:
        yield bot_user


async def read_feed(user: BotUser, server: FeedServer, path: str) -> None:
    """Store a feed's items through the real fetch, parse and ingest path."""
    services: Services = user.application.bot_data[SERVICES_KEY]
    async with services.database.session() as session:
        await add_source(session, server.url(path), now=user.clock.now(), allow_private=True)
    async with SafeFetcher(allow_private=True, timeout=5, connect_timeout=2) as fetcher:
        report = await ingest_all(
            services.database, fetcher, services.settings, now=user.clock.now()
        )
    assert not report.failed, report.summary()


# Words a speaker of each language reads in each reply (not just "not English").
SPOKEN = {
    "de": (
        "Hallo, ich bin newsbot",
        "/latest — die neuesten Schlagzeilen",
        "<b>Neueste Schlagzeilen</b>",
        "<b>Einstellungen</b>",
        "Sprache",
        "<b>Deine Nachrichtenübersicht · ",
    ),
    "ru": (
        "Привет, я newsbot",
        "/latest — свежие заголовки",
        "<b>Последние заголовки</b>",
        "<b>Настройки</b>",
        "Язык",
        "<b>Ваша сводка новостей · ",
    ),
    "uk": (
        "Привіт, я newsbot",
        "/latest — найсвіжіші заголовки",
        "<b>Останні заголовки</b>",
        "<b>Налаштування</b>",
        "Мова",
        "<b>Ваш дайджест новин · ",
    ),
    "es": (
        "Hola, soy newsbot",
        "/latest — los titulares más recientes",
        "<b>Últimos titulares</b>",
        "<b>Ajustes</b>",
        "Idioma",
        "<b>Tu resumen de noticias · ",
    ),
    "fr": (
        "Bonjour, je suis newsbot",
        "/latest — les derniers titres",
        "<b>Derniers titres</b>",
        "<b>Paramètres</b>",
        "Langue",
        "<b>Votre revue de presse · ",
    ),
    "it": (
        "Ciao, sono newsbot",
        "/latest — i titoli più recenti",
        "<b>Ultimi titoli</b>",
        "<b>Impostazioni</b>",
        "Lingua",
        "<b>La tua rassegna di notizie · ",
    ),
}


@pytest.mark.parametrize("language", sorted(SPOKEN))
async def test_a_user_is_answered_in_the_language_of_their_telegram(
    user: BotUser, language: str
) -> None:
    greeting, help_line, latest, settings, language_button, digest = SPOKEN[language]
    code = f"{language}-XX" if language == "es" else language  # a regional code reads too

    async def ask(text: str) -> str:
        return await user.reply_to(text, chat_id=READER, user_id=READER, language_code=code)

    assert greeting in await ask("/start")
    assert help_line in await ask("/help")
    assert (await ask("/latest")).startswith(latest)
    (panel,) = await user.command("/settings", chat_id=READER, user_id=READER, language_code=code)
    assert panel.params["text"].startswith(settings)
    assert button_data(panel, language_button) == "c:lang:"
    await ask("/subscribe 18:00")
    report = await send_digest_now(user.application, READER)
    assert report is not None and report.sent == 1
    sent = user.fake.sent_messages(READER)[-1].params["text"]
    assert sent.startswith(digest)
    assert "North Korean authorities" in sent


async def test_a_german_digest_is_dated_the_german_way(user: BotUser) -> None:
    await user.reply_to("/subscribe 18:00", chat_id=READER, user_id=READER, language_code="de")
    await send_digest_now(user.application, READER)
    heading = user.fake.sent_messages(READER)[-1].params["text"].split("\n", 1)[0]
    # Thursday 26 November 2026, 09:00 UTC: weekday, day, month as German writes them.
    assert heading == "<b>Deine Nachrichtenübersicht · Do., 26. Nov., 09:00</b>"
    await user.reply_to("/subscribe 18:00", chat_id=READER + 1, user_id=READER + 1)
    await send_digest_now(user.application, READER + 1)
    english = user.fake.sent_messages(READER + 1)[-1].params["text"].split("\n", 1)[0]
    assert english == "<b>Your news digest · Thu 26 Nov, 09:00</b>"


async def test_a_chosen_language_sticks_whatever_telegram_reports_later(user: BotUser) -> None:
    # Buttons are answered in the chat's language too.
    (panel,) = await user.command("/settings", chat_id=READER, user_id=READER, language_code="de")
    await user.press(panel, button_data(panel, "Nachrichtensprachen"), chat_id=READER)
    (news,) = await user.fake.wait_for("editMessageText")
    assert news.params["text"].startswith("Nachrichten auf: alle Sprachen.")
    assert button_data(news, "✓ Alle Sprachen") == "c:news:all"

    (offer,) = await user.command("/language", chat_id=READER, user_id=READER, language_code="de")
    assert offer.params["text"].startswith("Sprache: Deutsch.")
    labels = [label for row in buttons(offer) for label, _ in row]
    assert labels == [
        "English",
        "Русский",
        "Українська",
        "✓ Deutsch",
        "Français",
        "Español",
        "Português",
        "Italiano",
    ]
    answer = await user.press(offer, button_data(offer, "Français"), chat_id=READER)
    assert answer.params["text"] == "Enregistré."
    (_, edited) = await user.fake.wait_for("editMessageText", count=2)
    assert edited.params["text"] == "Désormais, j'écris en Français."
    assert button_data(edited, "✓ Français") == "c:lang:fr"

    # Telegram still says German; the choice wins.
    settings = await user.reply_to("/settings", chat_id=READER, user_id=READER, language_code="de")
    assert settings.startswith("<b>Paramètres</b>") and "Langue : Français" in settings

    typed = await user.reply_to("/language ru", chat_id=READER, user_id=READER, language_code="de")
    assert typed == "Теперь я пишу на языке: Русский."
    unknown = await user.reply_to(
        "/language klingon", chat_id=READER, user_id=READER, language_code="de"
    )
    assert unknown == (
        "Я не знаю языка «klingon». Выберите один из: en, ru, uk, de, fr, es, pt, it."
    )


async def test_an_unchosen_private_language_follows_telegram(user: BotUser) -> None:
    assert (await user.reply_to("/latest", chat_id=READER, language_code="fr")).startswith(
        "<b>Derniers titres</b>"
    )
    # The user switched their app to English: the next reply follows.
    assert (await user.reply_to("/latest", chat_id=READER, language_code="en")).startswith(
        "<b>Latest headlines</b>"
    )
    # A language we do not speak: English.
    assert (await user.reply_to("/latest", chat_id=READER, language_code="ja")).startswith(
        "<b>Latest headlines</b>"
    )
    # A client that reports no language leaves the last one reported in place.
    await user.reply_to("/latest", chat_id=READER, language_code="es")
    assert (await user.reply_to("/latest", chat_id=READER, language_code=None)).startswith(
        "<b>Últimos titulares</b>"
    )


async def test_a_groups_language_is_set_by_its_administrators(user: BotUser) -> None:
    user.fake.set_admins(GROUP, [GROUP_ADMIN])
    in_group: dict[str, Any] = {"chat_id": GROUP, "chat_type": "group", "chat_title": "Stammtisch"}
    # Whoever subscribes a group first gives it their language.
    await user.reply_to("/subscribe 08:00", user_id=GROUP_ADMIN, language_code="es", **in_group)
    assert (await user.reply_to("/settings", user_id=MEMBER, **in_group)).startswith(
        "<b>Ajustes</b>"
    )

    refused = await user.reply_to("/language de", user_id=MEMBER, **in_group)
    # Refused in the group's language, as every other reply there.
    assert (
        refused == "Solo los administradores de este chat pueden cambiar los ajustes de su resumen."
    )
    assert (await user.reply_to("/latest", user_id=MEMBER, **in_group)).startswith(
        "<b>Últimos titulares</b>"
    )

    chosen = await user.reply_to("/language de", user_id=GROUP_ADMIN, **in_group)
    assert chosen == "Ab jetzt schreibe ich auf Deutsch."
    # A member whose Telegram speaks French reads the group in German.
    assert (
        await user.reply_to("/latest", user_id=MEMBER, language_code="fr", **in_group)
    ).startswith("<b>Neueste Schlagzeilen</b>")
    await send_digest_now(user.application, GROUP)
    assert (
        user.fake.sent_messages(GROUP)[-1]
        .params["text"]
        .startswith("<b>Deine Nachrichtenübersicht · ")
    )


async def test_the_command_menu_is_set_in_every_language(user: BotUser) -> None:
    bot = user.application.bot
    menus = {
        call.params.get("language_code"): {
            c["command"]: c["description"] for c in call.params["commands"]
        }
        for call in user.fake.calls("setMyCommands")
    }
    assert set(menus) == {None, "ru", "uk", "de", "fr", "es", "pt", "it"}
    assert menus[None]["latest"] == "the newest headlines: /latest [N]"
    assert menus[None]["language"] == "the language I write in: /language [CODE]"
    assert menus["de"]["latest"] == "die neuesten Schlagzeilen: /latest [N]"
    assert menus["ru"]["settings"] == "время, пояс, размер и фильтры сводок"
    assert menus["fr"]["help"] == "cette liste"
    assert menus["es"]["subscribe"] == "resúmenes diarios: /subscribe [HH:MM ...] [ZONA]"
    assert menus["it"]["latest"] == "i titoli più recenti: /latest [N]"
    stored = await bot.get_my_commands(language_code="de")
    assert {c.command: c.description for c in stored} == menus["de"]


async def test_a_refused_command_menu_does_not_stop_the_bot(
    settings: Settings, clock: FakeClock
) -> None:
    with FakeBotAPI() as fake:
        fake.fail_next("setMyCommands", 400, "Bad Request: BOT_COMMAND_INVALID", times=2)
        async with running_bot(settings, clock, fake=fake) as started:
            answer = await started.reply_to("/latest", language_code="de")
        refused = fake.failed_calls("setMyCommands")
        menus = fake.calls("setMyCommands")
    assert answer.startswith("<b>Neueste Schlagzeilen</b>")
    # The two refused menus are logged; the six after them are still set.
    assert len(refused) == 2
    assert {call.params.get("language_code") for call in menus} == {
        "uk",
        "de",
        "fr",
        "es",
        "pt",
        "it",
    }


def _titles(text: str) -> list[str]:
    return re.findall(r'<a href="[^"]*">([^<]*)</a>', text)


async def test_a_chat_keeping_to_german_news_gets_german_and_unknown_items_only(
    user: BotUser, server: FeedServer
) -> None:
    await read_feed(user, server, "/mixed.xml")
    everything = _titles(await user.reply_to("/latest 50", chat_id=READER))
    assert {title for title, _ in MIXED} <= set(everything)

    (panel,) = await user.command("/settings", chat_id=READER)
    await user.press(panel, button_data(panel, "News languages"), chat_id=READER)
    (offer,) = await user.fake.wait_for("editMessageText")
    assert offer.params["text"].startswith("News in: all languages.")
    assert button_data(offer, "✓ All languages") == "c:news:all"
    await user.press(offer, button_data(offer, "Deutsch"), chat_id=READER)
    (_, chosen) = await user.fake.wait_for("editMessageText", count=2)
    assert chosen.params["text"].startswith("News in: Deutsch.")
    assert button_data(chosen, "✓ Deutsch") == "c:news:de"

    kept = _titles(await user.reply_to("/latest 50", chat_id=READER))
    german_or_unknown = [title for title, language in MIXED if language in ("de", None)]
    assert sorted(kept) == sorted(german_or_unknown)

    await user.reply_to("/subscribe 18:00", chat_id=READER)
    await send_digest_now(user.application, READER)
    assert sorted(_titles(user.fake.sent_messages(READER)[-1].params["text"])) == sorted(
        german_or_unknown
    )

    # "All" lifts the restriction: the English seeds are back.
    await user.press(chosen, "c:news:all", chat_id=READER)
    assert "North Korean authorities" in await user.reply_to("/latest 50", chat_id=READER)


async def test_a_german_reader_finds_the_exact_plural_and_the_singular(
    user: BotUser, server: FeedServer
) -> None:
    await read_feed(user, server, "/standard.xml")
    title = "Mitreden - Ihre Erfahrungen mit Alltagsrassismus?"
    for words in ("Erfahrungen", "Erfahrung"):
        found = await user.reply_to(f"/topic {words}", chat_id=READER, language_code="de")
        assert title in _titles(found), words
    # Read as English only (as /topic did before), the exact German plural found nothing.
    english = await user.reply_to("/topic Erfahrungen", chat_id=READER + 1, language_code="en")
    assert title not in _titles(english)


async def test_an_inline_query_reads_the_asking_users_language(
    user: BotUser, server: FeedServer
) -> None:
    await read_feed(user, server, "/standard.xml")
    title = "Mitreden - Ihre Erfahrungen mit Alltagsrassismus?"
    await user.reply_to("/start", chat_id=READER, user_id=READER, language_code="de")
    await user.reply_to("/start", chat_id=READER + 1, user_id=READER + 1, language_code="en")
    offered: dict[int, list[str]] = {}
    for asker in (READER, READER + 1):
        query_id = user.fake.send_inline_query(asker, "Erfahrungen")
        answers = await user.fake.wait_for("answerInlineQuery", count=len(offered) + 1)
        (answer,) = [a for a in answers if a.params["inline_query_id"] == query_id]
        offered[asker] = [result["title"] for result in answer.params["results"]]
    assert title in offered[READER]
    assert title not in offered[READER + 1]
