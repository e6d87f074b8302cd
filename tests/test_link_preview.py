"""A preview of the top story under a digest: on by default, a /settings button away."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.config import Settings
from bot.digests.dispatch import dispatch_digests
from bot.digests.render import top_story_preview
from bot.services import SERVICES_KEY
from bot.store.articles import NewArticle, add_articles
from bot.store.digests import claim_due_digests
from bot.store.sources import add_source
from tests.botharness import USER_ID, BotUser, button_data, running_bot
from tests.support import FakeClock

STORY = "https://wire.example/harbour-reopens"


@pytest.fixture
async def user(settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    async with running_bot(settings, clock) as bot_user:
        yield bot_user


def test_the_preview_shows_the_top_story_or_nothing() -> None:
    shown = top_story_preview(STORY, enabled=True)
    assert shown.url == STORY and shown.prefer_small_media and not shown.is_disabled
    assert top_story_preview(STORY, enabled=False).is_disabled
    assert top_story_preview(None, enabled=True).is_disabled


async def test_a_preview_reaches_telegram_with_the_story_url(user: BotUser) -> None:
    await user.application.bot.send_message(
        USER_ID, "<b>Digest</b>", link_preview_options=top_story_preview(STORY, enabled=True)
    )
    (sent,) = user.fake.sent_messages(USER_ID)
    assert sent.params["link_preview_options"] == {
        "is_disabled": False,
        "url": STORY,
        "prefer_small_media": True,
        "show_above_text": False,
    }


async def _claimed_preview(user: BotUser, clock: FakeClock) -> bool:
    async with user.application.bot_data[SERVICES_KEY].database.session() as session:
        claimed = await claim_due_digests(
            session,
            now=clock.now() + timedelta(minutes=30),
            grace=timedelta(hours=2),
            lease=timedelta(minutes=5),
            instance="test",
            limit=10,
        )
    (digest,) = claimed.digests
    return digest.link_preview


async def test_settings_switch_the_preview_and_the_digest_knows(
    user: BotUser, clock: FakeClock
) -> None:
    await user.reply_to("/subscribe 09:30 UTC")
    (panel,) = await user.command("/settings")
    assert "Preview of the top story: on" in panel.params["text"]
    await user.press(panel, button_data(panel, "Top story preview: on"))
    (edited,) = await user.fake.wait_for("editMessageText")
    assert "Preview of the top story: off" in edited.params["text"]
    assert await _claimed_preview(user, clock) is False


async def _digest_sent_with_a_story(user: BotUser, clock: FakeClock) -> dict[str, object]:
    services = user.application.bot_data[SERVICES_KEY]
    async with services.database.session() as session:
        source = await add_source(session, "https://wire.example/rss", now=clock.now())
        await add_articles(
            session,
            source.id,
            [
                NewArticle(
                    title="Harbour reopens after the storm", url=STORY, published_at=clock.now()
                )
            ],
            now=clock.now(),
        )
    clock.advance(minutes=31)
    report = await dispatch_digests(services, user.application.bot)
    assert report.sent == 1
    digest = user.fake.sent_messages(USER_ID)[-1]
    assert digest.params["text"].startswith("<b>Your news digest")
    return digest.params.get("link_preview_options") or {}


async def test_the_digest_previews_its_top_story(user: BotUser, clock: FakeClock) -> None:
    await user.reply_to("/subscribe 09:30 UTC")
    preview = await _digest_sent_with_a_story(user, clock)
    assert preview.get("url") == STORY and preview.get("is_disabled") is False


async def test_a_chat_that_switched_previews_off_gets_none(user: BotUser, clock: FakeClock) -> None:
    await user.reply_to("/subscribe 09:30 UTC")
    (panel,) = await user.command("/settings")
    await user.press(panel, button_data(panel, "Top story preview: on"))
    await user.fake.wait_for("editMessageText")
    preview = await _digest_sent_with_a_story(user, clock)
    assert preview.get("is_disabled") is True and "url" not in preview
