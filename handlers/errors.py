"""The one error handler: log with context, tell the user briefly, never leak internals."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import ChatMigrated, Forbidden

from bot.i18n import N_, _
from bot.services import NewsContext
from bot.store.chats import set_chat_active
from handlers.common import is_not_modified
from handlers.membership import move_chat

log = logging.getLogger(__name__)
SORRY = N_("Something went wrong, please try again.")


async def on_error(update: object, context: NewsContext) -> None:
    """Log the failure; mark chats that blocked the bot; otherwise apologise in the chat."""
    chat = update.effective_chat if isinstance(update, Update) else None
    if context.error is not None and is_not_modified(context.error):
        log.debug("Edit in chat %s changed nothing", chat.id if chat else None)
        return
    if isinstance(context.error, ChatMigrated) and chat is not None:
        await move_chat(context, chat.id, context.error.new_chat_id)
        return
    if isinstance(context.error, Forbidden) and chat is not None:
        log.info("Chat %s blocked the bot or removed it: %s", chat.id, context.error)
        async with context.services.database.session() as session:
            await set_chat_active(session, chat.id, False, now=context.services.clock.now())
        return
    log.error(
        "Error while handling update %s in chat %s",
        getattr(update, "update_id", None),
        chat.id if chat else None,
        exc_info=context.error,
    )
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(_(SORRY))
        elif update.effective_message is not None:
            await update.effective_message.reply_text(_(SORRY))
    except Exception:  # noqa: BLE001 - the apology itself failing must not loop
        log.warning("Could not tell chat %s about the error", chat.id if chat else None)
