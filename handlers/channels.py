"""A channel managed from a private chat: pick it with Telegram's chat picker, then the
settings commands there change the channel until /channel off.

Only the channel's administrators may pick it, and every change asks Telegram again
(getChatMember), so someone who loses the role loses the control with it.
"""

from __future__ import annotations

from telegram import (
    ChatAdministratorRights,
    KeyboardButton,
    KeyboardButtonRequestChat,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatType

from bot.i18n import N_, _
from bot.services import NewsContext
from bot.store.chats import ensure_chat, manage
from bot.ui.render import html_escape
from handlers.common import args_text, current_chat, is_chat_admin, reply

PICK_CHANNEL = 1  # request_id of the chat picker button
PICKER_LABEL = N_("Pick a channel")
POSTING_RIGHTS = ChatAdministratorRights(
    is_anonymous=False,
    can_manage_chat=False,
    can_delete_messages=False,
    can_manage_video_chats=False,
    can_restrict_members=False,
    can_promote_members=False,
    can_change_info=False,
    can_invite_users=False,
    can_post_stories=False,
    can_edit_stories=False,
    can_delete_stories=False,
    can_post_messages=True,
)
MANAGED_COMMANDS = "/subscribe, /timezone, /digesttime, /settings, /follow, /mute"


def picker_keyboard() -> ReplyKeyboardMarkup:
    """Telegram's own chat picker, limited to channels the user runs and the bot may post in."""
    request = KeyboardButtonRequestChat(
        request_id=PICK_CHANNEL,
        chat_is_channel=True,
        user_administrator_rights=POSTING_RIGHTS,
        bot_administrator_rights=POSTING_RIGHTS,
        request_title=True,
    )
    return ReplyKeyboardMarkup(
        [[KeyboardButton(_(PICKER_LABEL), request_chat=request)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def channel(update: Update, context: NewsContext) -> None:
    """Start managing a channel from this private chat, or stop with /channel off."""
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        await reply(update, _("Use /channel in a private chat with me to manage a channel."))
        return
    services = context.services
    if args_text(context).lower() in ("off", "stop", "done"):
        async with services.database.session() as session:
            row = await current_chat(session, update, context)
            manage(row, None, now=services.clock.now())
        await reply(update, _("Settings commands here change this chat again."))
        return
    await reply(
        update,
        _(
            "Pick the channel whose digests you want to set up. I must be one of its "
            "administrators, allowed to post."
        ),
        keyboard=picker_keyboard(),
    )


async def on_chat_shared(update: Update, context: NewsContext) -> None:
    """The user picked a channel: check they run it, then manage it from here."""
    message = update.effective_message
    assert message is not None and message.chat_shared is not None
    shared = message.chat_shared
    if shared.request_id != PICK_CHANNEL:
        return
    user = update.effective_user
    done = ReplyKeyboardRemove()
    if user is None or not await is_chat_admin(context, shared.chat_id, user.id):
        await message.reply_text(
            _("Only the channel's administrators can set up its digests, and I must be in it."),
            reply_markup=done,
        )
        return
    services = context.services
    now = services.clock.now()
    title = shared.title or str(shared.chat_id)
    async with services.database.session() as session:
        await ensure_chat(
            session,
            shared.chat_id,
            kind=ChatType.CHANNEL,
            title=title,
            defaults=services.chat_defaults,
            now=now,
        )
        own = await current_chat(session, update, context)
        manage(own, shared.chat_id, now=now)
    await message.reply_text(
        # Translators: {channel} is the channel's name; {commands} is a list of commands.
        _(
            "Now managing <b>{channel}</b>: {commands} here change the "
            "channel. /channel off switches back to this chat."
        ).format(channel=html_escape(title), commands=MANAGED_COMMANDS),
        reply_markup=done,
    )
