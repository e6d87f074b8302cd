"""/latest's one-query window (latest_for_chat) lists exactly what the general query does
for the chat's sources and news languages, and says when the chat's row must be read first."""

from __future__ import annotations

from datetime import timedelta

from bot.store.articles import NewArticle, add_articles, latest_articles, latest_for_chat
from bot.store.chat_sources import add_chat_feed, toggle_source
from bot.store.chats import ChatDefaults, ensure_chat, news_languages, toggle_news_language
from bot.store.db import Database
from bot.store.sources import add_source
from tests.support import FakeClock

DEFAULTS = ChatDefaults("Europe/Berlin", ["08:00"], 10)
# Each source's items: one per language, an unknown one, and a code with a LIKE wildcard.
LANGUAGES = ("de", "fr", "en", None, "pt_br", "pt-br")


async def test_the_window_matches_the_chats_sources_and_languages(
    database: Database, clock: FakeClock
) -> None:
    now = clock.now()
    async with database.session() as session:
        sources = [
            await add_source(session, f"https://example.com/{name}.xml", now=now, title=name)
            for name in ("Wire", "Daily", "Gazette")
        ]
        for offset, source in enumerate(sources):
            items = [
                NewArticle(
                    title=f"{source.title} item {index} ({language})",
                    url=f"https://example.com/{source.title}/{index}",
                    published_at=now - timedelta(minutes=7 * index + offset),
                    language=language,
                )
                for index, language in enumerate(LANGUAGES * 3)
            ]
            await add_articles(session, source.id, items, now=now)
        chats = {}
        for chat_id, languages in ((1, ("de", "fr")), (2, ()), (3, ("pt-br",)), (4, ("en",))):
            chat = await ensure_chat(
                session,
                chat_id,
                kind="private",
                title=f"Reader {chat_id}",
                defaults=DEFAULTS,
                now=now,
            )
            for language in languages:
                toggle_news_language(chat, language, now=now)
            chats[chat_id] = chat
        await toggle_source(session, 1, sources[1].id)  # chat 1 hides the Daily
        own = await add_chat_feed(
            session,
            4,
            "https://example.com/own.xml",
            now=now,
            limit=5,
            interval_seconds=900,
            added_by=4,
        )
        await add_articles(
            session,
            own.id,
            [NewArticle(title="Own item", published_at=now, language="en")],
            now=now,
        )

    async with database.session() as session:
        assert await latest_for_chat(session, 99, limit=50) is None  # no row yet
        for chat_id, chat in chats.items():
            expected = await latest_articles(
                session, limit=20, chat_id=chat_id, languages=news_languages(chat)
            )
            window = await latest_for_chat(session, chat_id, limit=20)
            assert window is not None
            assert window.headlines == expected
            # Title, active, zone, newest first, and no rule that sifts its lists.
            assert window.chat == (f"Reader {chat_id}", True, "Europe/Berlin", False, False)
            anchor = expected[3].id
            anchored = await latest_for_chat(session, chat_id, limit=20, up_to_id=anchor)
            assert anchored is not None
            assert anchored.headlines == await latest_articles(
                session, limit=20, up_to_id=anchor, chat_id=chat_id, languages=news_languages(chat)
            )
        first = await latest_for_chat(session, 1, limit=50)
        assert first is not None
        assert {h.language for h in first.headlines} == {"de", "fr", None}
        assert "Daily" not in {h.source for h in first.headlines}
        brazil = await latest_for_chat(session, 3, limit=50)
        assert brazil is not None
        assert {h.language for h in brazil.headlines} == {"pt-br", None}
        fourth = await latest_for_chat(session, 4, limit=50)
        assert fourth is not None
        assert "Own item" in {h.title for h in fourth.headlines}
        second = await latest_for_chat(session, 2, limit=50)
        assert second is not None
        assert "Own item" not in {h.title for h in second.headlines}
