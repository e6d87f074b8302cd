"""/story ID and the "+N sources" buttons: one story as every outlet reported it."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.i18n import N_, _
from bot.services import NewsContext
from bot.stories.card import story_card
from bot.ui.render import story_card_keyboard, story_card_message
from handlers.common import args_text, load_chat, reply
from handlers.summary import parse_article_id

USAGE = N_(
    'Tap a "+N sources" button under a list to see every outlet\'s report of that story. '
    "/story ID does the same for an article's ID."
)


async def story_reply(
    update: Update, context: NewsContext, article_id: int
) -> tuple[str, InlineKeyboardMarkup | None, str | None] | None:
    """The card of the article's story in the chat's zone and its picture, or None if there
    is no such article for this chat."""
    services = context.services
    view = await load_chat(update, context)
    card = await story_card(services.database, article_id, chat_id=view.chat.id)
    if card is None:
        return None
    now = services.clock.now()
    text = story_card_message(card, zone=view.zone, now=now)
    return text, story_card_keyboard(card), card.picture


async def story(update: Update, context: NewsContext) -> None:
    """Show one story from every outlet, for readers who want more than one view."""
    article_id = parse_article_id(args_text(context))
    if article_id is None:
        await reply(update, _(USAGE))
        return
    found = await story_reply(update, context, article_id)
    if found is None:
        await reply(
            update,
            _("There is no article {id}; it may have been removed.").format(id=article_id),
        )
        return
    text, keyboard, picture = found
    await reply(update, text, keyboard=keyboard, picture=picture)


async def story_button(update: Update, context: NewsContext, article_id: int) -> None:
    """A "+N sources" button under a list: send that story's card as a new message."""
    query = update.callback_query
    assert query is not None
    found = await story_reply(update, context, article_id)
    if found is None:
        await query.answer(_("This item is no longer available."), show_alert=False)
        return
    await query.answer()
    text, keyboard, picture = found
    await reply(update, text, keyboard=keyboard, picture=picture)
