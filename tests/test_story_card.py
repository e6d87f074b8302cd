"""Story cards: "+N sources" opens every outlet's report of one story and what they say.

The January 2017 feeds are served on loopback and ingested through the real path; the
bot runs against the fake Bot API. The Fort Lauderdale shooting was reported by five of
those outlets within a day.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest

from bot.config import Settings
from bot.news.extractive import split_sentences
from bot.news.http.fetcher import SafeFetcher
from bot.store.db import Database
from tests.botharness import BotUser, buttons, running_bot
from tests.feedserver import FeedServer
from tests.support import FakeClock, ingest_feeds, serving_feeds
from tests.test_significance import FEEDS, SATURDAY_AFTERNOON, SHOOTING


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with serving_feeds(FEEDS) as feed_server:
        yield feed_server


@pytest.fixture
def quiet_settings(settings: Settings, tmp_path: Path) -> Settings:
    (tmp_path / "no-seeds").mkdir()
    return settings.model_copy(update={"seeds_dir": str(tmp_path / "no-seeds")})


def visible(html: str) -> str:
    return unescape(re.sub(r"<[^<>]*>", "", html))


async def shooting_card(user: BotUser) -> tuple[str, str]:
    """Press the shooting's "+N sources" button under /latest; its card and the label."""
    (listing,) = await user.command("/latest")
    text = listing.params["text"]
    number = next(
        line.split(".", 1)[0] for line in text.splitlines() if SHOOTING in line and ". " in line
    )
    label, data = next(
        (label, data)
        for row in buttons(listing)
        for label, data in row
        if label.startswith(f"{number} · +")
    )
    before = len(user.fake.sent_messages())
    await user.press(listing, data)
    calls = await user.fake.wait_for("sendMessage", count=before + 1, timeout=10)
    return calls[-1].params["text"], label


async def test_the_sources_button_opens_every_outlets_report(
    database: Database,
    fetcher: SafeFetcher,
    quiet_settings: Settings,
    server: FeedServer,
    clock: FakeClock,
) -> None:
    clock.set(SATURDAY_AFTERNOON)
    await ingest_feeds(database, fetcher, quiet_settings, server, clock, FEEDS)
    async with running_bot(quiet_settings, clock) as user:
        card, label = await shooting_card(user)
        card_message = user.fake.sent_messages()[-1]
    extra = int(re.search(r"\+(\d+)", label).group(1))  # type: ignore[union-attr]
    shown = visible(card)
    outlets = int(re.search(r"Reported by (\d+) outlets", shown).group(1))  # type: ignore[union-attr]
    # The card reads the story's whole neighbourhood (two days either side), so it holds
    # at least what the list's window held of it: here five outlets' reports of the day.
    assert outlets >= 3
    # Every report is listed with its link, source and age, and has a summary button.
    reports = re.findall(r'^\d+\. <a href="(http[^"]+)">', card, re.MULTILINE)
    assert len(reports) >= extra + 1
    assert len(set(reports)) == len(reports)
    for source in ("mirror", "CTVNews", "Indian Express"):
        assert source in shown
    summary_buttons = [d for row in buttons(card_message) for _l, d in row if d.startswith("s:")]
    assert len(summary_buttons) == len(reports)
    # The summary draws on more than one report, and says nothing twice.
    summary = shown.split("\n\n")[1]
    sentences = split_sentences(summary)
    assert len(sentences) >= 2
    assert len({s.casefold() for s in sentences}) == len(sentences)


async def test_story_by_id_and_bad_ids(
    database: Database,
    fetcher: SafeFetcher,
    quiet_settings: Settings,
    server: FeedServer,
    clock: FakeClock,
) -> None:
    clock.set(SATURDAY_AFTERNOON)
    await ingest_feeds(database, fetcher, quiet_settings, server, clock, FEEDS)
    async with running_bot(quiet_settings, clock) as user:
        card, _label = await shooting_card(user)
        article_id = int(buttons(user.fake.sent_messages()[-1])[0][0][1].removeprefix("s:"))
        typed = await user.reply_to(f"/story {article_id}")
        usage = await user.reply_to("/story tomorrow")
        missing = await user.reply_to("/story 987654321")
    # Any report's id opens the same story.
    assert visible(typed).splitlines()[1] == visible(card).splitlines()[1]
    assert "/story ID" in usage
    assert "There is no article 987654321" in missing
