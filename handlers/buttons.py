"""Every inline button comes here first: its data is checked, then the right handler acts."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks
from handlers.headlines import show_page
from handlers.subscription import settings_button
from handlers.summary import summary_button

EXPIRED = "This button has expired."


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Route a button press; a stale or forged one gets a polite "expired"."""
    query = update.callback_query
    assert query is not None
    try:
        action = callbacks.decode(query.data)
    except callbacks.ExpiredButton:
        await query.answer(EXPIRED)
        return
    if isinstance(action, callbacks.Summary):
        await summary_button(update, context, action.article_id)
    elif isinstance(action, (callbacks.LatestPage, callbacks.TopicPage)):
        await show_page(update, context, action)
    else:
        await settings_button(update, context, action)
