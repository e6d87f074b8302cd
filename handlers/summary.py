"""/summary ID and the numbered buttons: the full summary of one article."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.i18n import N_, _
from bot.services import NewsContext
from bot.stories.summary import article_summary
from bot.ui.render import summary_keyboard, summary_message
from handlers.common import args_text, load_chat, reply

USAGE = N_(
    "Tap a number under a /latest or /topic list for the full summary of that story. "
    "/summary ID does the same for an article's ID."
)


def parse_article_id(text: str) -> int | None:
    """The article id typed after /summary, or None if it is not one."""
    text = text.strip().lstrip("#")
    if not text.isdigit() or len(text) > 12:
        return None
    return int(text)


async def summary_reply(
    update: Update, context: NewsContext, article_id: int
) -> tuple[str, InlineKeyboardMarkup | None, str | None] | None:
    """The summary message of an article in the chat's zone with its onward buttons and its
    picture, or None if there is no such article."""
    services = context.services
    view = await load_chat(update, context)
    now = services.clock.now()
    summary = await article_summary(
        services.database,
        article_id,
        fetcher=services.fetcher,
        allow_private=services.settings.fetch_allow_private,
        abstractive=services.abstractive,
        now=now,
        chat_id=view.chat.id,
    )
    if summary is None:
        return None
    text = summary_message(summary, zone=view.zone, now=now)
    return text, summary_keyboard(summary), summary.image


async def summary(update: Update, context: NewsContext) -> None:
    """Summarise one article by id, for readers who want more than a headline."""
    article_id = parse_article_id(args_text(context))
    if article_id is None:
        await reply(update, _(USAGE))
        return
    found = await summary_reply(update, context, article_id)
    if found is None:
        await reply(
            update,
            _("There is no article {id}; it may have been removed.").format(id=article_id),
        )
        return
    text, keyboard, picture = found
    await reply(update, text, keyboard=keyboard, picture=picture)


async def summary_button(update: Update, context: NewsContext, article_id: int) -> None:
    """A numbered button under a list: send that item's summary as a new message."""
    query = update.callback_query
    assert query is not None
    found = await summary_reply(update, context, article_id)
    if found is None:
        await query.answer(_("This item is no longer available."), show_alert=False)
        return
    await query.answer()
    text, keyboard, picture = found
    await reply(update, text, keyboard=keyboard, picture=picture)
