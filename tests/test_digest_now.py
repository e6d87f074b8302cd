"""The playground's "send the digest now": the real dispatch, for one chat, on both stores."""

from __future__ import annotations

from bot.config import Settings
from bot.playground.digest_now import send_digest_now
from bot.services import SERVICES_KEY, Services
from bot.store.chats import get_chat
from tests.botharness import USER_ID, running_bot
from tests.support import FakeClock


async def test_digest_now_sends_a_subscribers_digest_once(
    settings: Settings, clock: FakeClock
) -> None:
    async with running_bot(settings, clock) as user:
        assert await send_digest_now(user.application, USER_ID) is None  # not subscribed
        assert user.fake.sent_messages(USER_ID) == []

        await user.reply_to("/subscribe 18:00")
        report = await send_digest_now(user.application, USER_ID)
        (digest,) = user.fake.sent_messages(USER_ID)[1:]
        clock.advance(seconds=5)
        again = await send_digest_now(user.application, USER_ID)

        services: Services = user.application.bot_data[SERVICES_KEY]
        async with services.database.session() as session:
            chat = await get_chat(session, USER_ID)

    assert report is not None and report.sent == 1
    assert digest.params["text"].startswith("<b>Your news digest")
    assert "North Korean authorities" in digest.params["text"]
    # Everything was delivered: the second press finds nothing new and sends nothing.
    assert again is not None and (again.sent, again.empty) == (0, 1)
    assert len(user.fake.sent_messages(USER_ID)) == 2
    # The chat's own schedule goes on from its next 18:00.
    assert chat is not None and chat.next_digest_at == clock.now().replace(
        hour=18, minute=0, second=0
    )
