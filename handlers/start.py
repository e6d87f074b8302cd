"""/start and /help: what the bot does and every command, one line each."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.i18n import N_, _
from bot.services import NewsContext
from bot.ui import callbacks
from handlers.common import load_chat, reply
from handlers.headlines import topic_page

COMMANDS: list[tuple[str, str]] = [
    # Translators: a command's description in Telegram's menu and /help, at most 256
    # characters. Keep /commands as they are; WORDS, N, ID, URL, ZONE may be translated.
    ("latest", N_("the newest headlines: /latest [N]")),
    ("topic", N_("headlines about something: /topic WORDS (alone: what's trending)")),
    ("summary", N_("the full summary of an article: /summary ID")),
    ("story", N_("one story as every outlet reported it: /story ID")),
    ("subscribe", N_("daily digests: /subscribe [HH:MM ...] [ZONE]")),
    ("unsubscribe", N_("stop the digests (your settings are kept)")),
    ("settings", N_("digest times, zone, size and filters")),
    ("timezone", N_("set your zone: /timezone Europe/Berlin or +05:30")),
    ("digesttime", N_("set digest times: /digesttime 08:00 18:30")),
    ("follow", N_("put a topic first in your digest: /follow WORDS")),
    ("unfollow", N_("stop following a topic: /unfollow WORDS")),
    ("following", N_("the topics you follow and mute")),
    ("mute", N_("never show headlines with these words: /mute WORDS")),
    ("unmute", N_("show them again: /unmute WORDS")),
    ("filter", N_("a rule on what reaches this chat: /filter include|exclude PATTERN")),
    ("filters", N_("this chat's rules, each with its matches of the last day")),
    ("unfilter", N_("delete a rule: /unfilter N")),
    ("alert", N_("be told at once when a headline matches: /alert WORDS")),
    ("alerts", N_("this chat's alerts and quiet hours")),
    ("quiet", N_("no alerts at night: /quiet 22:00-07:00 (off: none)")),
    ("sources", N_("the feeds the bot reads; switch them off or on for this chat")),
    ("addfeed", N_("a feed only this chat reads, if the bot allows it: /addfeed URL")),
    ("removefeed", N_("remove one of this chat's own feeds: /removefeed ID")),
    ("export", N_("this chat's own feeds as an OPML file; send me one to add its feeds")),
    ("channel", N_("manage a channel's digests from here: /channel (off: back to this chat)")),
    ("language", N_("the language I write in: /language [CODE]")),
    ("help", N_("this list")),
]
ADMIN_COMMANDS: list[tuple[str, str]] = [
    ("addsource", N_("add a feed: /addsource URL")),
    ("removesource", N_("remove a feed: /removesource ID")),
    ("export", N_("every feed as an OPML file; send me one here to add its feeds")),
    ("stats", N_("chats, subscribers, sources, articles, fetch errors")),
]

WELCOME = N_(
    "<b>Hi, I'm newsbot.</b>\n"
    "I read news feeds and send you a short digest of the headlines at the times you choose, "
    "in your time zone. Ask me any time:\n"
    "• /latest — the newest headlines\n"
    "• /topic iran — headlines about a topic\n"
    "• a number under a list — the full summary of that article\n\n"
    "Tap below to get a digest every morning, or /help for everything I can do."
)


async def start(update: Update, context: NewsContext) -> None:
    """Welcome a new reader, or open a topic from a t.me/<bot>?start=topic_<words> link."""
    await load_chat(update, context)
    payload = (context.args or [""])[0]
    if payload.startswith("topic_") and len(payload) > len("topic_"):
        words = payload.removeprefix("topic_").replace("_", " ").replace("-", " ")
        text, keyboard = await topic_page(context, update, words, offset=0, size=10)
        await reply(update, text, keyboard=keyboard)
        return
    button = InlineKeyboardButton(
        _("Subscribe to the daily digest"),
        callback_data=callbacks.encode(callbacks.Setting("start", "on")),
    )
    await reply(update, _(WELCOME), keyboard=InlineKeyboardMarkup([[button]]))


async def help_command(update: Update, context: NewsContext) -> None:
    """List every command, one line each, so nothing has to be guessed."""
    lines = [_("<b>Commands</b>")] + [f"/{name} — {_(about)}" for name, about in COMMANDS]
    lines += ["", _("<b>For the bot's admins</b>")] + [
        f"/{name} — {_(about)}" for name, about in ADMIN_COMMANDS
    ]
    lines += ["", _("In groups, only administrators change the group's digest settings.")]
    await reply(update, "\n".join(lines))
