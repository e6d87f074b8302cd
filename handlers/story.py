"""/story ID and the "+N sources" buttons: one story as every outlet reported it; following
a story from its card, and unfollowing it from an update."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType

from bot.i18n import N_, _, ngettext
from bot.services import NewsContext
from bot.store.story_follows import MAX_FOLLOWED_STORIES, Followed, unfollow_story
from bot.stories.card import story_card
from bot.stories.follows import start_following
from bot.ui.render import story_card_keyboard, story_card_message
from handlers.common import args_text, button_allowed, load_chat, reply
from handlers.summary import parse_article_id

GONE = N_("This item is no longer available.")
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
        await query.answer(_(GONE), show_alert=False)
        return
    await query.answer()
    text, keyboard, picture = found
    await reply(update, text, keyboard=keyboard, picture=picture)


async def _may_follow(update: Update, context: NewsContext) -> bool:
    """Following is a settings change: in groups and channels, administrators only."""
    chat = update.effective_chat
    assert chat is not None
    return chat.type == ChatType.PRIVATE or await button_allowed(update, context)


async def follow_button(update: Update, context: NewsContext, article_id: int) -> None:
    """ "Follow this story" on a card: updates when the story has news."""
    query = update.callback_query
    assert query is not None
    if not await _may_follow(update, context):
        return
    services = context.services
    view = await load_chat(update, context)
    outcome = await start_following(
        services.database, view.chat.id, article_id, now=services.clock.now()
    )
    if outcome is None:
        await query.answer(_(GONE))
    elif outcome is Followed.ALREADY:
        await query.answer(_("You already follow this story."))
    elif outcome is Followed.TOO_MANY:
        await query.answer(
            ngettext(
                "This chat follows {count} story, the most it may; unfollow one first.",
                "This chat follows {count} stories, the most it may; unfollow one first.",
                MAX_FOLLOWED_STORIES,
            ).format(count=MAX_FOLLOWED_STORIES),
            show_alert=True,
        )
    else:
        await query.answer(
            _(
                "Following this story: an update comes when another outlet reports it or a "
                "report adds something new."
            )
        )


async def unfollow_button(update: Update, context: NewsContext, article_id: int) -> None:
    """ "Unfollow" on an update: no more updates of that story."""
    query = update.callback_query
    assert query is not None
    if not await _may_follow(update, context):
        return
    view = await load_chat(update, context)
    async with context.services.database.session() as session:
        removed = await unfollow_story(session, view.chat.id, article_id)
    if removed:
        await query.answer(_("Unfollowed: no more updates of this story."))
    else:
        await query.answer(_("This chat does not follow this story any more."))
