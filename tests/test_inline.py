"""Inline mode: "@bot words" in any chat offers matching headlines to share."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape

import pytest

from bot.config import Settings
from tests.botharness import BotUser, running_bot
from tests.fakebot import Call
from tests.support import FakeClock

SHARER = 8080


@pytest.fixture
async def user(settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    async with running_bot(settings, clock) as bot_user:
        yield bot_user


async def _answer(user: BotUser, words: str, offset: str = "") -> Call:
    query_id = user.fake.send_inline_query(SHARER, words, offset=offset)
    (answer,) = await user.fake.wait_for(
        "answerInlineQuery", lambda c: c.params.get("inline_query_id") == query_id
    )
    return answer


async def test_words_offer_matching_headlines(user: BotUser) -> None:
    answer = await _answer(user, "iran")
    results = answer.params["results"]
    assert len(results) == 3 and all("Iran" in r["title"] for r in results)
    first = results[0]
    assert first["type"] == "article" and first["description"] == "newsbot seeds · just now"
    content = first["input_message_content"]
    assert content["message_text"].startswith(f"<b>{first['title']}</b>\n<i>newsbot seeds")
    assert content["parse_mode"] == "HTML"
    assert answer.params["cache_time"] == 60 and "next_offset" not in answer.params


async def test_an_empty_query_offers_the_latest_stories_and_pages(user: BotUser) -> None:
    (listing,) = await user.command("/latest 20")
    first = await _answer(user, "")
    titles = [r["title"] for r in first.params["results"]]
    assert len(titles) == 10 and first.params["next_offset"] == "10"
    second = await _answer(user, "", offset="10")
    more = [r["title"] for r in second.params["results"]]
    # The seed's 17 headlines tell 15 stories: each offered once, in /latest's order.
    assert len(more) == 5 and not set(more) & set(titles)
    shown = re.findall(r"^\d+\. (?:<a [^>]*>)?([^<\n]+)", listing.params["text"], re.MULTILINE)
    assert [unescape(t) for t in shown] == titles + more
    merged = [
        r
        for r in first.params["results"] + second.params["results"]
        if "+1 source" in r["description"]
    ]
    assert len(merged) == 2


async def test_odd_input_gets_an_answer_not_an_error(user: BotUser) -> None:
    for words in ["\u200b", "<b>&", "x" * 300]:
        answer = await _answer(user, words)
        assert isinstance(answer.params["results"], list)
