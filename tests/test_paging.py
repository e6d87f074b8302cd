"""/latest page by page: numbers run on, a story shows on one page only, "‹ Back" returns."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.config import Settings
from bot.store.articles import NewArticle, add_articles
from bot.store.sources import add_source
from tests.botharness import USER_ID, BotUser, button_data, buttons, running_bot
from tests.fakebot import Call
from tests.support import FakeClock


@pytest.fixture
async def user(settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    async with running_bot(settings, clock) as bot_user:
        yield bot_user


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^(\d+)\. ", text, re.MULTILINE)]


def _titles(text: str) -> list[str]:
    return re.findall(r'^\d+\. <a href="[^"]*">([^<]*)</a>', text, re.MULTILINE) or re.findall(
        r"^\d+\. (.*)$", text, re.MULTILINE
    )


async def _page(user: BotUser, message: Call, label: str, edits: int) -> Call:
    await user.press(message, button_data(message, label))
    return (await user.fake.wait_for("editMessageText", count=edits))[-1]


async def test_pages_number_on_and_never_repeat_a_story(user: BotUser) -> None:
    (first,) = await user.command("/latest 3")
    pages = [first]
    while any(label == "More ›" for row in buttons(pages[-1]) for label, _ in row):
        pages.append(await _page(user, pages[-1], "More ›", len(pages)))
    numbers = [n for page in pages for n in _numbers(page.params["text"])]
    titles = [t for page in pages for t in _titles(page.params["text"])]
    # 17 seed items, two of them second reports of a story: 15 stories, 5 pages.
    assert numbers == list(range(1, 16))
    assert len(pages) == 5
    assert len(set(titles)) == len(titles) == 15
    for page in pages:
        labels = [label for row in buttons(page) for label, _ in row]
        assert labels[:3] == [str(n) for n in _numbers(page.params["text"])]
    assert "‹ Back" not in [label for row in buttons(first) for label, _ in row]


async def test_back_shows_the_page_before_as_it_was(user: BotUser) -> None:
    (first,) = await user.command("/latest 4")
    second = await _page(user, first, "More ›", 1)
    assert _numbers(second.params["text"]) == [5, 6, 7, 8]
    assert [label for label, _ in buttons(second)[-1]] == ["‹ Back", "More ›"]
    back = await _page(user, second, "‹ Back", 2)
    assert back.params["text"] == first.params["text"]
    assert buttons(back) == buttons(first)
    assert len(user.fake.calls("sendMessage", chat_id=USER_ID)) == 1


async def test_news_arriving_while_paging_shifts_nothing(user: BotUser, clock: FakeClock) -> None:
    (first,) = await user.command("/latest 5")
    services = user.application.bot_data["newsbot.services"]
    async with services.database.session() as session:
        source = await add_source(
            session, "https://wire.example/rss", now=clock.now(), title="Wire"
        )
        await add_articles(
            session,
            source.id,
            [
                NewArticle(
                    title=f"Breaking story number {n} about volcanoes",
                    published_at=clock.now() + timedelta(minutes=n),
                    guid=f"new-{n}",
                )
                for n in range(3)
            ],
            now=clock.now(),
        )
    second = await _page(user, first, "More ›", 1)
    assert _numbers(second.params["text"]) == [6, 7, 8, 9, 10]
    assert "volcanoes" not in second.params["text"]
    fresh = await user.reply_to("/latest 5")
    assert "volcanoes" in fresh
