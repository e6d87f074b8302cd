"""Run the real newsbot application against the loopback fake Bot API, as a user would meet it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram.ext import Application

from bot.app import build_application
from bot.config import Settings
from tests.fakebot import Call, FakeBotAPI
from tests.support import FakeClock

ADMIN_ID = 777
USER_ID = 4242


def buttons(call: Call) -> list[list[tuple[str, str]]]:
    """The inline keyboard of a sent message as rows of (label, callback data)."""
    markup = call.params.get("reply_markup") or {}
    return [
        [(b["text"], b.get("callback_data", b.get("url", ""))) for b in row]
        for row in markup.get("inline_keyboard", [])
    ]


def button_data(call: Call, label: str) -> str:
    """The callback data of the button with this label."""
    for row in buttons(call):
        for text, data in row:
            if text == label:
                return data
    raise LookupError(f"no button {label!r} in {buttons(call)}")


class BotUser:
    """Drives the bot through the fake API and returns what the bot answered."""

    def __init__(self, fake: FakeBotAPI, application: Application, clock: FakeClock) -> None:
        self.fake = fake
        self.application = application
        self.clock = clock

    def _answers(self, chat_id: int) -> int:
        return len(self.fake.calls("sendMessage", chat_id=chat_id))

    async def command(
        self, text: str, *, chat_id: int = USER_ID, replies: int = 1, **kwargs: Any
    ) -> list[Call]:
        """Send a command and wait for the bot's replies in that chat."""
        before = self._answers(chat_id)
        self.fake.send_command(chat_id, text, **kwargs)
        calls = await self.fake.wait_for(
            "sendMessage", lambda c: c.chat_id == chat_id, count=before + replies, timeout=10
        )
        return calls[before:]

    async def reply_to(self, text: str, *, chat_id: int = USER_ID, **kwargs: Any) -> str:
        """The text of the single reply to a command."""
        (answer,) = await self.command(text, chat_id=chat_id, **kwargs)
        return str(answer.params["text"])

    async def press(
        self, message: Call, data: str, *, chat_id: int = USER_ID, user_id: int | None = None
    ) -> Call:
        """Press a button on a message the bot sent; return the callback answer."""
        message_id = message.result["message_id"]
        query_id = self.fake.press_button(chat_id, message_id, data, user_id=user_id)
        (answer,) = await self.fake.wait_for(
            "answerCallbackQuery",
            lambda c: c.params.get("callback_query_id") == query_id,
            timeout=10,
        )
        return answer


@asynccontextmanager
async def running_bot(
    settings: Settings,
    clock: FakeClock,
    *,
    jobs: bool = False,
    fake: FakeBotAPI | None = None,
    polling: bool = True,
) -> AsyncIterator[BotUser]:
    """The application initialised as `newsbot run` does, long polling unless told not to."""
    own_fake = fake is None
    fake = fake or FakeBotAPI().start()
    settings = settings.model_copy(
        update={
            "telegram_bot_token": fake.token,
            "telegram_api_base_url": fake.base_url,
            "admin_ids": [ADMIN_ID],
        }
    )
    application = build_application(settings, clock=clock, jobs=jobs)
    try:
        async with application:
            await application.post_init(application)  # type: ignore[misc]
            assert application.updater is not None
            if polling:
                await application.updater.start_polling(poll_interval=0, timeout=1)
            await application.start()
            try:
                yield BotUser(fake, application, clock)
            finally:
                if application.updater.running:
                    await application.updater.stop()
                await application.stop()
                await application.post_shutdown(application)  # type: ignore[misc]
    finally:
        if own_fake:
            fake.stop()
