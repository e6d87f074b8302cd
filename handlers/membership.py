"""The bot's own membership: blocked, removed, unblocked or added; and chats that come back.

Telegram sends `my_chat_member` when the bot's status in a chat changes. Acting on it at
once means no digest is even attempted to a chat that blocked the bot, and one that
unblocks it gets its digests again without having to type anything.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from telegram import ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus, ChatType

from bot.i18n import N_, _
from bot.services import NewsContext
from bot.store.chats import migrate_chat, set_chat_active
from handlers.common import current_chat

log = logging.getLogger(__name__)

GONE = {ChatMemberStatus.BANNED, ChatMemberStatus.LEFT}
PRESENT = {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}
GROUP_GREETING = N_(
    "<b>Hi, I'm newsbot.</b> I post news digests at the times this group chooses.\n"
    "An administrator can start them with /subscribe (e.g. <code>/subscribe 8am</code>); "
    "anyone can ask /latest or /topic WORDS. /help lists everything."
)


def _present(change: ChatMemberUpdated, *, before: bool) -> bool:
    member = change.old_chat_member if before else change.new_chat_member
    return member.status in PRESENT or getattr(member, "is_member", False) is True


async def on_my_chat_member(update: Update, context: NewsContext) -> None:
    """Mark the chat inactive when the bot is blocked or removed, active when it is back."""
    change = update.my_chat_member
    assert change is not None
    services = context.services
    now = services.clock.now()
    chat_id = change.chat.id
    if change.new_chat_member.status in GONE:
        async with services.database.session() as session:
            await set_chat_active(session, chat_id, False, now=now)
        log.info("Chat %s: the bot was %s", chat_id, change.new_chat_member.status)
        return
    if not _present(change, before=False):
        return
    async with services.database.session() as session:
        await current_chat(session, update, context)  # made active, digests rescheduled
    log.info("Chat %s: the bot is %s", chat_id, change.new_chat_member.status)
    added = not _present(change, before=True)
    if added and change.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
        await context.bot.send_message(chat_id, _(GROUP_GREETING))


async def reactivate_on_command(update: Update, context: NewsContext) -> None:
    """Any command from a chat marked inactive shows the bot can reach it again."""
    services = context.services
    chat = update.effective_chat
    if chat is None:
        return
    async with services.database.session() as session:
        await set_chat_active(session, chat.id, True, now=services.clock.now())


async def move_chat(context: NewsContext, old_id: int, new_id: int) -> None:
    """Follow a group to the supergroup it became: its row, settings and history move."""
    services = context.services
    try:
        async with services.database.session() as session:
            await migrate_chat(session, old_id, new_id, now=services.clock.now())
    except IntegrityError:
        # Both halves of one upgrade arrived at once and the other one moved it first.
        log.info("Chat %s was already moved to %s", old_id, new_id)
        return
    log.info("Group %s became supergroup %s; its settings and history moved", old_id, new_id)


async def on_migrate(update: Update, context: NewsContext) -> None:
    """The service messages of a group's upgrade: "migrated to" in the old, "from" in the new."""
    message = update.effective_message
    assert message is not None
    if message.migrate_to_chat_id:
        await move_chat(context, message.chat.id, message.migrate_to_chat_id)
    elif message.migrate_from_chat_id:
        await move_chat(context, message.migrate_from_chat_id, message.chat.id)
