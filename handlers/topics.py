"""/follow, /unfollow, /following, /mute, /unmute: what a chat's digest leads with or leaves out."""

from __future__ import annotations

from telegram import Update

from bot.i18n import N_, _, ngettext
from bot.news.query import parse_query
from bot.news.rules import FOLLOW, MUTE
from bot.services import NewsContext
from bot.store.chats import (
    MAX_TOPICS,
    TooManyTopics,
    add_topic,
    remove_topic,
    topics_of,
)
from bot.ui.render import html_escape
from bot.ui.user_input import normalize_input
from handlers.common import (
    ADMINS_ONLY,
    args_text,
    may_change_settings,
    reply,
    settings_chat,
    speaking_for,
)

MAX_PHRASE_CHARS = 100
# The reply to each (kind, adding, changed); {topic} is the phrase as kept.
OUTCOMES = {
    (FOLLOW, True, True): N_("Following “{topic}”: it leads your digests."),
    (FOLLOW, True, False): N_("You already follow “{topic}”."),
    (FOLLOW, False, True): N_("No longer following “{topic}”."),
    (FOLLOW, False, False): N_("You were not following “{topic}”. See /following."),
    (MUTE, True, True): N_("Muted “{topic}”: headlines with it won't reach this chat's digests."),
    (MUTE, True, False): N_("“{topic}” is already muted."),
    (MUTE, False, True): N_("Unmuted “{topic}”."),
    (MUTE, False, False): N_("“{topic}” was not muted. See /following."),
}


def topic_phrase(text: str) -> tuple[str, bool] | None:
    """The phrase to keep, normalised and cut to its limit, and whether it was cut; None if
    nothing searchable is left."""
    text = normalize_input(text).lower()
    phrase = text[:MAX_PHRASE_CHARS].strip()
    if not phrase or parse_query(phrase).is_empty:
        return None
    return phrase, len(text) > MAX_PHRASE_CHARS


async def _change(update: Update, context: NewsContext, kind: str, adding: bool) -> None:
    command = (
        ("follow" if adding else "unfollow") if kind == FOLLOW else ("mute" if adding else "unmute")
    )
    if not await may_change_settings(update, context):
        await reply(update, _(ADMINS_ONLY))
        return
    kept = topic_phrase(args_text(context))
    if kept is None:
        await reply(
            update,
            # Translators: {command} is the command's name (follow, mute...); keep it as is.
            _("Usage: /{command} WORDS, e.g. <code>/{command} climate change</code>.").format(
                command=command
            ),
        )
        return
    phrase, was_cut = kept
    try:
        async with context.services.database.session() as session:
            chat = await settings_chat(session, update, context)
            changed = (
                await add_topic(session, chat, kind, phrase)
                if adding
                else await remove_topic(session, chat, kind, phrase)
            )
    except TooManyTopics:
        await reply(
            update,
            ngettext(
                "This chat already follows and mutes {count} topic, the most it may. "
                "Remove some with /unfollow or /unmute.",
                "This chat already follows and mutes {count} topics, the most it may. "
                "Remove some with /unfollow or /unmute.",
                MAX_TOPICS,
            ).format(count=MAX_TOPICS),
        )
        return
    shown = html_escape(phrase)
    text = _(OUTCOMES[(kind, adding, changed)]).format(topic=shown)
    if was_cut:
        text += "\n" + ngettext(
            "<i>Only the first {count} character was kept.</i>",
            "<i>Only the first {count} characters were kept.</i>",
            MAX_PHRASE_CHARS,
        ).format(count=MAX_PHRASE_CHARS)
    await reply(update, speaking_for(update, chat, text))


async def follow(update: Update, context: NewsContext) -> None:
    """Follow a topic so digests lead with it."""
    await _change(update, context, FOLLOW, True)


async def unfollow(update: Update, context: NewsContext) -> None:
    """Stop following a topic."""
    await _change(update, context, FOLLOW, False)


async def mute(update: Update, context: NewsContext) -> None:
    """Mute words so their headlines never reach this chat's digests."""
    await _change(update, context, MUTE, True)


async def unmute(update: Update, context: NewsContext) -> None:
    """Lift a mute."""
    await _change(update, context, MUTE, False)


async def following(update: Update, context: NewsContext) -> None:
    """List followed and muted topics, so a reader knows what shapes their digest."""
    async with context.services.database.session() as session:
        chat = await settings_chat(session, update, context)
        followed, muted = topics_of(chat, FOLLOW), topics_of(chat, MUTE)
    if not followed and not muted:
        await reply(
            update,
            speaking_for(
                update,
                chat,
                _(
                    "No topics followed yet. Try <code>/follow iran</code>; "
                    "<code>/mute football</code> hides a topic."
                ),
            ),
        )
        return
    nothing = [_("none")]
    lines = [_("<b>Following</b>")] + [f"• {html_escape(p)}" for p in followed or nothing]
    lines += ["", _("<b>Muted</b>")] + [f"• {html_escape(p)}" for p in muted or nothing]
    await reply(update, speaking_for(update, chat, "\n".join(lines)))
