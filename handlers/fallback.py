"""Input that is no known command still gets an answer: unknown commands, text as a search."""

from __future__ import annotations

from telegram import Update

from bot.i18n import N_, _
from bot.services import NewsContext
from bot.ui.render import quoted
from bot.ui.user_input import normalize_input
from handlers.common import reply
from handlers.headlines import DEFAULT_COUNT, topic_page
from handlers.zones import city_reply

TOPIC_HINT = N_("<i>Tip: /topic WORDS does the same.</i>")


async def unknown_command(update: Update, context: NewsContext) -> None:
    """Point a private chat's unknown /command at /help, rather than leave it in silence."""
    message = update.effective_message
    assert message is not None and message.text is not None
    command = normalize_input(message.text.split(maxsplit=1)[0].split("@", 1)[0])[:40]
    await reply(
        update,
        # Translators: {command} is the unknown command as typed, already in quotes.
        _("I don't know {command}. /help lists everything I can do.").format(
            command=quoted(command)
        ),
    )


async def text_search(update: Update, context: NewsContext) -> None:
    """Take plain text in a private chat as a topic search, saying /topic does the same."""
    if await city_reply(update, context):
        return
    message = update.effective_message
    assert message is not None and message.text is not None
    words = normalize_input(message.text)
    if not words:
        await reply(update, _("Send me some words to look for, or /help for what I can do."))
        return
    text, keyboard = await topic_page(context, update, words, offset=0, size=DEFAULT_COUNT)
    await reply(update, f"{text}\n\n{_(TOPIC_HINT)}", keyboard=keyboard)
