"""What every handler needs: the services, the chat's row, replies that fit Telegram."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Chat as TelegramChat
from telegram import (
    ForceReply,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, ChatMigrated, Forbidden

from bot.i18n import N_, _, current_language
from bot.schedule.times import zone_info
from bot.sending.pictures import picture_preview, without_refused_pictures
from bot.services import NewsContext
from bot.store.chats import ensure_chat, manage, managed_chat
from bot.store.models import Chat
from bot.ui.render import split_message
from bot.ui.user_input import normalize_input

log = logging.getLogger(__name__)
# What may go under a reply: buttons, a custom keyboard, its removal, or "reply to this".
ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
ADMINS_ONLY = N_("Only this chat's administrators can change its digest settings.")


def args_words(context: NewsContext) -> list[str]:
    """The words after the command, normalised, so what is stored is what is seen."""
    return [word for word in (normalize_input(arg) for arg in context.args or []) if word]


def args_text(context: NewsContext) -> str:
    """The words after the command, normalised, as one string."""
    return normalize_input(" ".join(context.args or []))


@dataclass(frozen=True)
class ChatView:
    """A chat's row as it was read, and its zone, for rendering a reply."""

    chat: Chat
    zone: tzinfo


def chat_title(chat: TelegramChat) -> str:
    """The chat's name as its row keeps it."""
    return normalize_input(chat.title or chat.full_name or chat.username or "")


async def current_chat(session: AsyncSession, update: Update, context: NewsContext) -> Chat:
    """The row of the chat an update came from, created with the defaults on first contact."""
    services = context.services
    telegram_chat = update.effective_chat
    assert telegram_chat is not None
    return await ensure_chat(
        session,
        telegram_chat.id,
        kind=telegram_chat.type,
        title=chat_title(telegram_chat),
        defaults=services.chat_defaults,
        now=services.clock.now(),
        language=current_language(),
    )


async def settings_chat(session: AsyncSession, update: Update, context: NewsContext) -> Chat:
    """The chat whose settings a command changes: this one, or the channel it manages."""
    chat = await current_chat(session, update, context)
    if chat.kind == ChatType.PRIVATE and chat.managed_chat_id is not None:
        target = await managed_chat(session, chat)
        if target is not None:
            return target
        manage(chat, None, now=context.services.clock.now())  # the channel is gone
    return chat


async def update_chat(
    update: Update,
    context: NewsContext,
    change: Callable[[Chat, datetime], object],
) -> Chat:
    """Apply `change(chat, now)` to the chat's row in one transaction and return the row."""
    services = context.services
    async with services.database.session() as session:
        chat = await settings_chat(session, update, context)
        change(chat, services.clock.now())
    return chat


async def chat_view(session: AsyncSession, update: Update, context: NewsContext) -> ChatView:
    """The chat's row and its zone, read in a unit of work that reads more for the reply."""
    chat = await current_chat(session, update, context)
    return ChatView(chat, zone_info(chat.timezone))


async def load_chat(update: Update, context: NewsContext) -> ChatView:
    """The chat's row and its zone, for rendering a reply."""
    async with context.services.database.session() as session:
        return await chat_view(session, update, context)


async def may_change_settings(update: Update, context: NewsContext) -> bool:
    """In groups and channels only administrators change the subscription; in private chats,
    the user."""
    chat = update.effective_chat
    if chat is None:
        return False
    if chat.type == ChatType.PRIVATE:
        managed = await _managed_id(update, context)
        return managed is None or await is_chat_admin(context, managed, chat.id)
    message = update.effective_message
    if (
        update.callback_query is None  # a button sits on the bot's own post: ask who pressed
        and message is not None
        and message.sender_chat is not None
        and message.sender_chat.id == chat.id
    ):
        return True  # a channel post, or an anonymous administrator posting as the group
    user = update.effective_user
    return user is not None and await is_chat_admin(context, chat.id, user.id)


async def button_allowed(update: Update, context: NewsContext) -> bool:
    """Whether whoever pressed a settings button may change this chat; if not, tell them."""
    if await may_change_settings(update, context):
        return True
    if update.callback_query is not None:
        await update.callback_query.answer(_(ADMINS_ONLY), show_alert=True)
    return False


async def is_chat_admin(context: NewsContext, chat_id: int, user_id: int) -> bool:
    """Whether Telegram says this user administers that chat (a group or a channel)."""
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except (BadRequest, Forbidden):
        return False  # the chat is gone, or the bot is no longer in it
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def _managed_id(update: Update, context: NewsContext) -> int | None:
    """The chat this private chat manages, or None when it manages only itself."""
    own = update.effective_chat
    assert own is not None
    async with context.services.database.session() as session:
        target = await settings_chat(session, update, context)
    return None if target.id == own.id else target.id


def speaking_for(update: Update, chat: Chat, text: str) -> str:
    """Label a reply about another chat (a managed channel) with that chat's name."""
    own = update.effective_chat
    if own is not None and own.id == chat.id:
        return text
    return f"<b>{html.escape(chat.title or str(chat.id), quote=False)}</b> · {text}"


def is_bot_admin(update: Update, context: NewsContext) -> bool:
    """Whether the user is one of the bot's own administrators (ADMIN_IDS)."""
    user = update.effective_user
    return user is not None and user.id in context.services.settings.admin_ids


async def reply(
    update: Update,
    text: str,
    *,
    keyboard: ReplyMarkup | None = None,
    picture: str | None = None,
) -> Message | None:
    """Reply in the same chat and forum topic, split under the limit, buttons on the last part;
    a picture above the first part (the message goes without it if Telegram refuses it)."""
    message = update.effective_message
    if message is None:
        return None
    parts = split_message(text)
    sent: Message | None = None
    chat_id = message.chat_id
    send = without_refused_pictures(message.get_bot().send_message)
    for index, part in enumerate(parts):
        markup = keyboard if index == len(parts) - 1 else None
        preview = picture_preview(picture) if picture and index == 0 else NO_PREVIEW
        try:
            sent = await send(
                chat_id,
                part,
                message_thread_id=_thread_id(message),
                reply_markup=markup,
                link_preview_options=preview,
            )
        except ChatMigrated as exc:
            # The group became a supergroup between the command and this reply: answer
            # there. Its row moves with the upgrade's service message.
            log.info("Chat %s moved to %s; replying there", chat_id, exc.new_chat_id)
            chat_id = exc.new_chat_id
            sent = await message.get_bot().send_message(
                chat_id, part, reply_markup=markup, link_preview_options=NO_PREVIEW
            )
    return sent


def _thread_id(message: Message) -> int | None:
    """The forum topic a reply stays in, as reply_text would choose it."""
    return message.message_thread_id if message.is_topic_message else None


def is_not_modified(error: Exception) -> bool:
    """Whether Telegram refused an edit only because the message already reads so."""
    return isinstance(error, BadRequest) and "message is not modified" in error.message.lower()


async def edit_in_place(
    update: Update, text: str, *, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the text of the message a button sits on; the same text again is no error.

    A second tap on a button that shows what is already there makes Telegram answer
    "message is not modified": the message is as wanted, so that is success.
    """
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(
            split_message(text)[0], reply_markup=keyboard, link_preview_options=NO_PREVIEW
        )
    except BadRequest as exc:
        if not is_not_modified(exc):
            raise
