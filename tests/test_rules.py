"""Rules: /filter include|exclude, /filters and /unfilter, as a chat meets them."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.config import Settings
from bot.news.feeds.parse import parse_feed
from bot.news.indexing import ItemText, index_items
from bot.news.rules import (
    FOLLOW,
    INCLUDE,
    MUTE,
    REGEX,
    TITLE,
    WORDS,
    InvalidPattern,
    Pattern,
    Rule,
    item_test,
    read_pattern,
)
from bot.store.articles import Headline, NewArticle, add_articles
from bot.store.chats import ChatDefaults, add_rule, chat_rules, ensure_chat, get_chat, topics_of
from bot.store.db import Database
from bot.store.sources import add_source
from handlers.rules import FilterRequest, read_request
from tests.botharness import USER_ID, BotUser, button_data, buttons, running_bot
from tests.support import LANGUAGE_FEEDS, NEWS_FEEDS, FakeClock, schema_before
from tests.test_cli import newsbot
from tests.test_digests import digests_to, dispatch, services_of, subscribe_chats

GROUP_ID = -100555
ADMIN_IN_GROUP = 61
MEMBER_IN_GROUP = 62


@pytest.fixture
async def user(settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    async with running_bot(settings, clock) as bot_user:
        yield bot_user


async def add_news(
    user: BotUser,
    items: list[tuple[str, str]],
    *,
    feed: str = "https://rules.example/feed",
    language: str | None = "en",
) -> int:
    """Items (title, description) just published on a feed; returns the feed's source id."""
    services = services_of(user)
    now = services.clock.now()
    async with services.database.session() as session:
        source = await add_source(session, feed, now=now, title="Rules Wire")
        await add_articles(
            session,
            source.id,
            [
                NewArticle(
                    title=title,
                    description=description,
                    url=f"{feed}/{n}",
                    published_at=now - timedelta(seconds=n),
                    language=language,
                )
                for n, (title, description) in enumerate(items)
            ],
            now=now,
        )
    return source.id


async def latest(user: BotUser, **kwargs: Any) -> str:
    return await user.reply_to("/latest 50", **kwargs)


@pytest.mark.parametrize(
    ("typed", "request_"),
    [
        ("include climate", FilterRequest("include", "climate", None, "both")),
        ("exclude made in 12", FilterRequest("mute", "made", 12, "both")),
        ('exclude "made in 12"', FilterRequest("mute", '"made in 12"', None, "both")),
        ("follow /a b/i in title in 3", FilterRequest("follow", "/a b/i", 3, "title")),
        ("include x in text in 4", FilterRequest("include", "x", 4, "text")),
        ("drop football", None),
        ("include", None),
        ("exclude   ", None),
    ],
)
def test_the_grammar_reads_qualifiers_off_the_end(
    typed: str, request_: FilterRequest | None
) -> None:
    assert read_request(typed) == request_


def test_patterns_are_words_or_a_regular_expression() -> None:
    assert read_pattern("World Cup") == ("world cup", WORDS)
    assert read_pattern(r"/\bAI\b/i") == (r"/\bAI\b/i", REGEX)
    with pytest.raises(InvalidPattern, match="missing \\)"):
        read_pattern("/(a/")
    # RE2's inline flags work as /.../i does.
    inline = item_test(Pattern(r"/(?i)ai\b/", REGEX, field=TITLE))
    assert inline("New AI model beats benchmarks", "", "en")
    assert not inline("Airline strikes end", "", "en")


async def test_words_are_stemmed_in_the_items_language(user: BotUser) -> None:
    await user.reply_to("/language de")
    await add_news(
        user,
        [("Verhandlungen über Zölle gehen weiter", ""), ("Bahn streicht Fernzüge", "")],
        language="de",
    )
    await add_news(user, [("Markets rally on rate hopes", "")], feed="https://en.example/feed")
    added = await user.reply_to("/filter include Verhandlung")
    assert added.startswith("Regel 1 hinzugefügt: einschließen <code>verhandlung</code>")
    shown = await latest(user)
    assert "Verhandlungen über Zölle" in shown
    assert "Bahn streicht" not in shown and "Markets rally" not in shown


async def test_a_phrase_excludes_only_its_words_in_order(user: BotUser) -> None:
    await add_news(
        user, [("World Cup final tonight", ""), ("A cup of tea sets a world record", "")]
    )
    await user.reply_to('/filter exclude "world cup"')
    shown = await latest(user)
    assert "World Cup final" not in shown
    assert "A cup of tea sets a world record" in shown


async def test_a_regular_expression_with_the_i_flag_in_titles(user: BotUser) -> None:
    await add_news(
        user,
        [
            ("New AI model beats benchmarks", ""),
            ("Chair said rates stay", "nothing about ai here"),
            ("Ai Weiwei opens a show", ""),
            ("Tariffs return", "an AI agent wrote this"),
        ],
    )
    await user.reply_to(r"/filter include /\bai\b/i in title")
    shown = await latest(user)
    assert "New AI model" in shown and "Ai Weiwei" in shown
    assert "Chair said" not in shown  # "ai" only in its text, and inside "said"
    assert "Tariffs return" not in shown  # "AI" only in its text


async def test_a_catastrophic_pattern_on_a_long_title_answers_promptly(user: BotUser) -> None:
    await add_news(user, [("a" * 10_000 + "b", ""), ("aaaa", "")])
    await user.reply_to("/filter include /(a+)+$/")
    started = time.monotonic()
    shown = await latest(user)
    # Python's re would backtrack for longer than the age of the universe on this title.
    assert time.monotonic() - started < 5
    assert "aaaa" in shown and "aaaaab" not in shown


async def test_topic_and_inline_results_keep_to_the_rules(user: BotUser) -> None:
    await add_news(
        user,
        [("Harbour strike in Rotterdam", ""), ("Harbour seals counted", ""), ("Harbour fees", "")],
    )
    await user.reply_to("/filter exclude seals")
    found = await user.reply_to("/topic harbour")
    assert "Harbour strike in Rotterdam" in found and "Harbour fees" in found
    assert "seals" not in found
    offered: list[list[str]] = []
    for words in ("harbour", ""):  # a search, and the ranked latest stories
        query_id = user.fake.send_inline_query(USER_ID, words)
        answers = await user.fake.wait_for("answerInlineQuery", count=len(offered) + 1)
        (answer,) = [a for a in answers if a.params["inline_query_id"] == query_id]
        offered.append([result["title"] for result in answer.params["results"]])
    for titles in offered:
        assert "Harbour strike in Rotterdam" in titles and "Harbour seals counted" not in titles


async def test_bad_patterns_get_a_clear_reply(user: BotUser) -> None:
    too_long = await user.reply_to("/filter include " + "x" * 201)
    assert too_long == "That pattern is too long: at most 200 characters."
    invalid = await user.reply_to("/filter exclude /(a/")
    assert invalid == "That regular expression cannot be used: <code>missing ): (a</code>"
    lookbehind = await user.reply_to("/filter exclude /(?<=a)b/")
    assert lookbehind.startswith("That regular expression cannot be used: <code>invalid perl")
    assert (await user.reply_to("/filter include !!!")).startswith(
        "That pattern has no words to look for."
    )
    assert (await user.reply_to("/filter football")).startswith(
        "Usage: /filter include|exclude|follow PATTERN"
    )
    assert await user.reply_to("/filter include tea in 999999") == (
        "There is no source 999999 among this chat's sources. See /sources."
    )
    assert await user.reply_to("/filters") == (
        "No rules yet. Add one with /filter, e.g. <code>/filter exclude football</code>."
    )


async def test_a_rule_on_one_source_leaves_the_others_alone(user: BotUser) -> None:
    wire = await add_news(user, [("Storm hits the coast", "")])
    await add_news(user, [("Storm season starts", "")], feed="https://other.example/feed")
    added = await user.reply_to(f"/filter exclude storm in {wire}")
    assert added == f"Rule 1 added: exclude <code>storm</code> · source {wire}."
    shown = await latest(user)
    assert "Storm hits the coast" not in shown and "Storm season starts" in shown


async def test_includes_make_a_digest_of_only_them_and_an_exclude_wins(
    user: BotUser, clock: FakeClock
) -> None:
    await subscribe_chats(user, [USER_ID], times=["10:00"], zone="UTC")
    await add_news(
        user,
        [
            ("Climate talks open in Bonn", ""),
            ("Climate protest blocks a coal mine", ""),
            ("Football league opens its season", ""),
            ("Climate of fear in football", ""),
        ],
    )
    await user.reply_to("/filter include climate")
    await user.reply_to("/filter exclude football")
    await user.reply_to("/filter follow coal")
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    await dispatch(user)
    digest = digests_to(user.fake, USER_ID)[-1]  # after the replies to /filter
    lines = [line for line in digest.splitlines() if line[:2].rstrip(".").isdigit()]
    assert len(lines) == 2
    assert "Climate protest blocks a coal mine" in lines[0]  # followed: it leads
    assert "Climate talks open in Bonn" in lines[1]
    assert "Football league" not in digest and "Climate of fear" not in digest


async def test_filters_lists_counts_and_deletes_with_a_button(user: BotUser) -> None:
    await add_news(
        user, [("Zeppelin strike ends", ""), ("Zeppelin fares rise", ""), ("Ferry late", "")]
    )
    await user.reply_to("/filter exclude zeppelin")
    await user.reply_to(r"/filter include /ferry|zeppelin/i in title")
    (listing,) = await user.command("/filters")
    assert listing.params["text"] == (
        "<b>Rules</b>\n"
        "1. exclude <code>zeppelin</code> — 2 matches in the last 24 hours\n"
        "2. include <code>/ferry|zeppelin/i</code> · in titles — 3 matches in the last 24 hours\n"
        "\n<i>An exclude wins over an include. Tap 🗑 N to delete rule N.</i>"
    )
    assert [label for row in buttons(listing) for label, _data in row] == ["🗑 1", "🗑 2"]
    answer = await user.press(listing, button_data(listing, "🗑 1"))
    assert answer.params["text"] == "Rule deleted."
    (edited,) = await user.fake.wait_for("editMessageText")
    assert edited.params["text"].startswith(
        "<b>Rules</b>\n1. include <code>/ferry|zeppelin/i</code> · in titles — 3 matches"
    )
    again = await user.press(listing, button_data(listing, "🗑 1"))
    assert again.params["text"] == "That rule was already deleted."
    assert "Zeppelin strike ends" in await latest(user)
    assert await user.reply_to("/unfilter 2") == "There is no rule 2. See /filters."
    assert await user.reply_to("/unfilter 1") == (
        "Rule 1 deleted: include <code>/ferry|zeppelin/i</code> · in titles."
    )
    assert (await user.reply_to("/unfilter x")).startswith("Usage: /unfilter N")


async def test_in_a_group_only_administrators_change_rules(user: BotUser) -> None:
    user.fake.set_admins(GROUP_ID, [ADMIN_IN_GROUP])
    group: dict[str, Any] = {"chat_id": GROUP_ID, "chat_type": "supergroup"}
    refused = await user.reply_to("/filter exclude tea", user_id=MEMBER_IN_GROUP, **group)
    assert refused == "Only this chat's administrators can change its digest settings."
    added = await user.reply_to("/filter exclude tea", user_id=ADMIN_IN_GROUP, **group)
    assert added == "Rule 1 added: exclude <code>tea</code>."
    (listing,) = await user.command("/filters", user_id=MEMBER_IN_GROUP, **group)
    pressed = await user.press(
        listing, button_data(listing, "🗑 1"), chat_id=GROUP_ID, user_id=MEMBER_IN_GROUP
    )
    assert pressed.params["text"] == (
        "Only this chat's administrators can change its digest settings."
    )
    refused_delete = await user.reply_to("/unfilter 1", user_id=MEMBER_IN_GROUP, **group)
    assert refused_delete == "Only this chat's administrators can change its digest settings."
    async with services_of(user).database.session() as session:
        assert await chat_rules(session, GROUP_ID) == (Rule(MUTE, Pattern("tea")),)


async def test_follows_and_mutes_stored_before_rules_still_work(
    database: Database, clock: FakeClock
) -> None:
    async with schema_before(database, "0017") as connection:
        await connection.execute(
            text(
                "INSERT INTO chats (id, kind, title, timezone, digest_times, digest_size, "
                "only_followed, notify_empty, subscribed, active, created_at, updated_at) "
                "VALUES (5, 'private', '', 'UTC', '08:00', 10, false, false, false, true, "
                ":now, :now)"
            ),
            {"now": clock.now()},
        )
        await connection.execute(
            text(
                "INSERT INTO chat_topics (chat_id, kind, phrase) "
                "VALUES (5, 'follow', 'iran'), (5, 'mute', 'football')"
            )
        )
    async with database.session() as session:
        chat = await get_chat(session, 5)
        assert chat is not None
        assert (topics_of(chat, FOLLOW), topics_of(chat, MUTE)) == (["iran"], ["football"])
        assert await chat_rules(session, 5) == (
            Rule(FOLLOW, Pattern("iran")),
            Rule(MUTE, Pattern("football")),
        )
        # The same words as an exclude of titles only are a rule of their own.
        assert await add_rule(session, chat, Rule(MUTE, Pattern("football", field="title")))
        assert not await add_rule(session, chat, Rule(MUTE, Pattern("football")))


async def test_the_cli_lists_a_chats_rules_with_their_matches(
    settings: Settings, database: Database
) -> None:
    now = datetime.now(UTC)  # the CLI counts the day up to the real time
    async with database.session() as session:
        defaults = ChatDefaults("UTC", ["08:00"], 10)
        chat = await ensure_chat(session, 7, kind="private", title="", defaults=defaults, now=now)
        source = await add_source(session, "https://cli.example/feed", now=now, title="CLI")
        await add_articles(
            session,
            source.id,
            [
                NewArticle(title=title, url=f"https://cli.example/{n}", published_at=now)
                for n, title in enumerate(["Quokka census", "Quokka selfie", "Tram delays"])
            ],
            now=now,
        )
        await add_rule(session, chat, Rule(MUTE, Pattern("quokka")))
        await add_rule(session, chat, Rule(INCLUDE, Pattern("/^tram/i", REGEX, source.id, "title")))
    listed = json.loads(newsbot(settings, "rules", "--chat", "7", "--json").stdout)
    assert listed == [
        {
            "number": 1,
            "action": "exclude",
            "pattern": "quokka",
            "type": "words",
            "source_id": None,
            "field": "both",
            "matches_24h": 2,
        },
        {
            "number": 2,
            "action": "include",
            "pattern": "/^tram/i",
            "type": "regex",
            "source_id": source.id,
            "field": "title",
            "matches_24h": 1,
        },
    ]
    text_listing = newsbot(settings, "rules", "--chat", "7").stdout.splitlines()
    assert text_listing[0] == " 1. exclude quokka  (words, both, every source; 2 in 24 h)"
    missing = newsbot(settings, "rules", "--chat", "8")
    assert missing.returncode == 1 and "no chat 8" in missing.stderr


def test_one_index_matches_as_each_pattern_alone_does() -> None:
    """The alert pass reads its items once for every chat's patterns: the answers must be
    the ones each pattern gives tested item by item, on real feeds in several languages."""
    from bot.news.rules import ItemsIndex
    from bot.stories.cache import _matching as one_pattern

    items = tuple(real_headlines())
    patterns = [
        Pattern("trump"),
        Pattern("airport shooting"),
        Pattern('"fort lauderdale"'),
        Pattern('"lauderdale fort"'),
        Pattern("china", field="title"),
        Pattern("police", field="text"),
        Pattern("flüchtling"),  # German stems: "Flüchtlingen", "Flüchtlingskrise" is a word apart
        Pattern("helden"),
        Pattern('"mein leben"'),
        Pattern("/\\bAI\\b/i", REGEX),
        Pattern("/^[A-Z]/", REGEX, field="title"),
        Pattern("police", source_id=items[0].source_id),
        Pattern("zzyzx-nothing"),
    ]
    index = ItemsIndex(items)
    found = {pattern: index.matching(pattern) for pattern in patterns}
    for pattern in patterns:
        assert found[pattern] == one_pattern(pattern, items), pattern
    assert all(found[p] for p in patterns[:3] + patterns[6:9]) and not found[patterns[-1]]


def real_headlines() -> list[Headline]:
    """Every item of the suite's real news and language feeds, with its detected language,
    as lists hold them."""
    now = datetime(2026, 12, 7, tzinfo=UTC)
    entries = [
        (source_id, entry)
        for source_id, path in enumerate(
            sorted([*NEWS_FEEDS.glob("*.xml"), *LANGUAGE_FEEDS.glob("*.xml")])
        )
        for entry in parse_feed(
            path.read_bytes(), url=f"https://{path.stem}.example/", now=now
        ).entries
    ]
    indexed = index_items([ItemText(e.title, e.description, None, e.language) for _s, e in entries])
    return [
        Headline(
            id=number,
            title=entry.title,
            url=entry.url,
            source=str(source_id),
            published_at=entry.published_at,
            description=entry.description,
            language=found.language,
            source_id=source_id,
        )
        for number, ((source_id, entry), found) in enumerate(zip(entries, indexed, strict=True))
    ]
