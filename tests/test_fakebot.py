"""Prove the loopback fake Bot API is faithful enough for the real python-telegram-bot stack."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.fakebot import MAX_DOWNLOAD_BYTES, ApiError, Call, FakeBotAPI, UploadedFile

TOKEN = "5550009876:AAFakeTokenUsedOnlyByTestFakebot_00"


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    """A fresh fake per test so recorded calls never leak between tests."""
    with FakeBotAPI(token=TOKEN) as fake_api:
        yield fake_api


def errors(calls: list[Call]) -> list[ApiError]:
    """The errors of failed calls, typed, so assertions need no casts."""
    return [call.error for call in calls if call.error is not None]


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the arguments and a button, to exercise reply_markup round-trips."""
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Again", callback_data="again")]])
    text = f"echo: {' '.join(context.args or [])}"
    await update.effective_message.reply_text(text, reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer and edit, quoting the original text to prove the callback carried the message."""
    query = update.callback_query
    assert query is not None and isinstance(query.message, Message)
    await query.answer("Done")
    await query.edit_message_text(f"{query.message.text} -> pressed {query.data}")


def build_application(
    fake: FakeBotAPI, *, rate_limiter: BaseRateLimiter[Any] | None = None
) -> Application:
    """Point a real PTB Application at the fake; nothing in PTB is mocked."""
    builder = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
    )
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    application = builder.build()
    application.add_handler(CommandHandler("echo", echo))
    application.add_handler(CallbackQueryHandler(on_button))
    return application


@asynccontextmanager
async def polling(application: Application) -> AsyncIterator[Application]:
    """Run the application the way production does: long polling plus dispatching."""
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0)
        await application.start()
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


async def test_command_round_trip_is_answered_while_long_polling(fake: FakeBotAPI) -> None:
    async with polling(build_application(fake)):
        await fake.wait_for_long_poll()  # PTB is parked in a 10 s getUpdates.
        started = time.monotonic()
        update = fake.send_command(42, "/echo hello world")
        (reply,) = await fake.wait_for("sendMessage")
        elapsed = time.monotonic() - started

    # A fast answer proves injecting wakes the parked poll instead of waiting out its timeout.
    assert elapsed < 1.0
    assert reply.params["chat_id"] == 42
    assert reply.params["text"] == "echo: hello world"
    assert reply.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Again", "callback_data": "again"}]]
    }
    assert reply.result["message_id"] == update["message"]["message_id"] + 1
    assert reply.result["chat"] == {
        "id": 42,
        "type": "private",
        "first_name": "User42",
        "username": "user42",
    }
    assert fake.calls("getMe"), "Application.initialize() must have fetched the bot user"


async def test_callback_round_trip_edits_message_and_answers_query(fake: FakeBotAPI) -> None:
    async with polling(build_application(fake)):
        fake.send_command(42, "/echo hi")
        (reply,) = await fake.wait_for("sendMessage")
        message_id = reply.result["message_id"]

        query_id = fake.press_button(42, message_id, "again")
        (answer,) = await fake.wait_for("answerCallbackQuery")
        (edit,) = await fake.wait_for("editMessageText")

    assert answer.params == {"callback_query_id": query_id, "text": "Done"}
    assert edit.params["message_id"] == message_id
    assert edit.params["text"] == "echo: hi -> pressed again"
    # Telegram drops the keyboard when an edit omits reply_markup; the fake must too.
    assert "reply_markup" not in fake.message(42, message_id)


async def test_forum_topic_reply_stays_in_thread(fake: FakeBotAPI) -> None:
    async with polling(build_application(fake)):
        fake.send_command(
            -1001234,
            "/echo@newsbot_test_bot x",
            chat_type="supergroup",
            is_forum=True,
            message_thread_id=7,
        )
        (reply,) = await fake.wait_for("sendMessage")

    assert reply.params["message_thread_id"] == 7
    assert reply.result["message_thread_id"] == 7
    assert reply.result["is_topic_message"] is True


async def test_injected_429_is_retried_by_aio_rate_limiter(fake: FakeBotAPI) -> None:
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=7)
    application = build_application(fake, rate_limiter=AIORateLimiter(max_retries=1))
    async with application:
        message = await application.bot.send_message(7, "digest")

    assert message.text == "digest"
    assert [error.retry_after for error in errors(fake.failed_calls("sendMessage"))] == [1]
    assert len(fake.sent_messages(chat_id=7)) == 1


async def test_forbidden_surfaces_as_ptb_exception(fake: FakeBotAPI) -> None:
    fake.block_chat(99)
    fake.fail_next("sendMessage", 400, "Bad Request: chat not found", chat_id=100)
    async with build_application(fake) as application:
        with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
            await application.bot.send_message(99, "hello")
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await application.bot.send_message(100, "hello")
        fake.unblock_chat(99)
        await application.bot.send_message(99, "welcome back")

    assert [call.params["text"] for call in fake.sent_messages()] == ["welcome back"]
    assert [error.error_code for error in errors(fake.failed_calls())] == [403, 400]


async def test_rate_limit_rejects_sends_past_the_window_undelivered(fake: FakeBotAPI) -> None:
    fake.rate_limit(per_second=3)
    async with build_application(fake) as application:
        sends = [application.bot.send_message(1, f"n{index}") for index in range(5)]
        outcomes = await asyncio.gather(*sends, return_exceptions=True)

    assert sum(isinstance(outcome, RetryAfter) for outcome in outcomes) == 2
    assert len(fake.sent_messages()) == 3
    assert len(fake.failed_calls("sendMessage")) == 2


async def test_set_my_commands_is_recorded_and_readable(fake: FakeBotAPI) -> None:
    commands = [BotCommand("digest", "Today's headlines"), BotCommand("topics", "Pick topics")]
    async with build_application(fake) as application:
        assert await application.bot.set_my_commands(commands)
        assert await application.bot.get_my_commands() == tuple(commands)
        with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
            await application.bot.set_my_commands([BotCommand("Bad-Name", "x")])

    (call,) = fake.calls("setMyCommands")
    assert call.params["commands"] == [
        {"command": "digest", "description": "Today's headlines"},
        {"command": "topics", "description": "Pick topics"},
    ]


async def test_admin_status_comes_from_set_admins(fake: FakeBotAPI) -> None:
    fake.set_admins(-100555, [5, 6], creator_id=5)
    async with build_application(fake) as application:
        members = [await application.bot.get_chat_member(-100555, uid) for uid in (5, 6, 7)]
        administrators = await application.bot.get_chat_administrators(-100555)

    assert [member.status for member in members] == ["creator", "administrator", "member"]
    assert [member.user.id for member in administrators] == [5, 6]


async def test_token_never_leaves_the_url_path(fake: FakeBotAPI) -> None:
    async with polling(build_application(fake)):
        fake.send_command(42, "/echo secret?")
        (reply,) = await fake.wait_for("sendMessage")
        fake.press_button(42, reply.result["message_id"], "again")
        await fake.wait_for("editMessageText")

    recorded = fake.all_calls()
    methods = {call.method for call in recorded}
    assert {"getMe", "getUpdates", "sendMessage", "answerCallbackQuery"} <= methods
    for call in recorded:
        assert TOKEN.encode() not in call.body, call.method
        assert all(TOKEN not in value for value in call.headers.values()), call.method
        assert TOKEN not in json.dumps(call.params, default=repr), call.method
        assert TOKEN not in json.dumps(call.result, default=repr), call.method


async def test_wrong_token_is_unauthorized(fake: FakeBotAPI) -> None:
    intruder = Bot("1:other", base_url=fake.base_url)
    try:
        with pytest.raises(InvalidToken):
            await intruder.initialize()  # Calls getMe, which the fake must refuse.
    finally:
        await intruder.shutdown()  # Closes the HTTP client even though getMe failed.

    assert fake.calls() == []
    (rejected,) = fake.failed_calls()
    assert (rejected.method, rejected.error) == ("getMe", ApiError(401, "Unauthorized"))


async def test_wait_for_times_out_with_a_useful_message(fake: FakeBotAPI) -> None:
    with pytest.raises(TimeoutError, match="sendMessage"):
        await fake.wait_for("sendMessage", timeout=0.05)


def test_wait_for_sync_wakes_on_a_call_from_another_thread(fake: FakeBotAPI) -> None:
    async def send_two() -> None:
        async with build_application(fake) as application:
            await application.bot.send_message(3, "one")
            await application.bot.send_message(3, "two")

    sender = threading.Thread(target=asyncio.run, args=(send_two(),))
    sender.start()
    calls = fake.wait_for_sync("sendMessage", lambda call: call.chat_id == 3, count=2)
    sender.join()

    assert [call.params["text"] for call in calls] == ["one", "two"]
    assert [call.result["message_id"] for call in calls] == [1, 2]


async def test_other_modelled_methods_parse_in_ptb(fake: FakeBotAPI) -> None:
    fake.send_text(-100777, "hello", chat_type="supergroup", user_id=5)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Read", callback_data="read")]])
    async with build_application(fake) as application:
        bot = application.bot
        chat = await bot.get_chat(-100777)
        sent = await bot.send_message(-100777, "<b>News</b>", parse_mode="HTML")
        edited = await bot.edit_message_reply_markup(
            -100777, sent.message_id, reply_markup=keyboard
        )
        assert await bot.send_chat_action(-100777, "typing")
        assert await bot.delete_message(-100777, sent.message_id)
        with pytest.raises(BadRequest, match="(?i)message to delete not found"):
            await bot.delete_message(-100777, sent.message_id)
        assert await bot.pin_chat_message(-100777, 1)  # Not modelled: generic success.

    assert (chat.type, chat.title) == ("supergroup", "Chat -100777")
    assert sent.message_id == 2  # The user's message took id 1 in this chat.
    assert isinstance(edited, Message) and edited.reply_markup == keyboard
    assert [call.method for call in fake.calls()][-1] == "pinChatMessage"


async def test_files_go_both_ways_as_on_telegram(fake: FakeBotAPI) -> None:
    bot = Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url)
    async with bot:
        small = fake.upload_document(42, b"<opml/>", file_name="a.opml", mime_type="text/x-opml")
        document = small["message"]["document"]
        assert document["file_name"] == "a.opml" and document["file_size"] == 7
        file = await bot.get_file(document["file_id"])
        assert file.file_size == 7 and file.file_path is not None
        assert file.file_path.startswith(fake.base_file_url)  # PTB joins the two
        assert bytes(await file.download_as_bytearray()) == b"<opml/>"
        assert len(fake.downloads()) == 1
        # Bots may download at most 20 MB; getFile says so and nothing is served.
        huge = fake.upload_document(42, b"x" * (MAX_DOWNLOAD_BYTES + 1), file_name="huge.opml")
        with pytest.raises(BadRequest, match="File is too big"):
            await bot.get_file(huge["message"]["document"]["file_id"])
        with pytest.raises(BadRequest, match="Invalid file_id"):
            await bot.get_file("nonsense")
        unsized = fake.upload_document(42, b"<opml/>", file_name="b.opml", report_size=False)
        assert "file_size" not in unsized["message"]["document"]

        sent = await bot.send_document(
            42, b"<opml/>", filename="x.opml", caption="<b>hi</b>", parse_mode="HTML"
        )
        assert sent.document is not None and sent.document.file_name == "x.opml"
        assert sent.caption == "hi" and sent.caption_entities[0].type == "bold"
        (call,) = fake.calls("sendDocument")
        upload = call.params["document"]
        assert isinstance(upload, UploadedFile) and upload.data == b"<opml/>"
        # What the bot sent can be sent again by its file_id, as on Telegram.
        again = await bot.send_document(42, sent.document.file_id)
        assert again.document is not None and again.document.file_size == 7
        with pytest.raises(BadRequest, match="Message caption is too long"):
            await bot.send_document(42, b"<opml/>", filename="y.opml", caption="x" * 1025)
