"""/follow, /unfollow, /following, /mute, /unmute: what a chat's digest leads with or leaves out."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.news.query import parse_query
from bot.render import html_escape
from bot.store.chats import (
    FOLLOW,
    MAX_TOPICS,
    MUTE,
    TooManyTopics,
    add_topic,
    remove_topic,
    topics_of,
)
from bot.user_input import normalize_input
from handlers.common import (
    ADMINS_ONLY,
    args_text,
    may_change_settings,
    reply,
    services_of,
    settings_chat,
    speaking_for,
)

MAX_PHRASE_CHARS = 100


def topic_phrase(text: str) -> tuple[str, bool] | None:
    """The phrase to keep, normalised and cut to its limit, and whether it was cut; None if
    nothing searchable is left."""
    text = normalize_input(text).lower()
    phrase = text[:MAX_PHRASE_CHARS].strip()
    if not phrase or parse_query(phrase).is_empty:
        return None
    return phrase, len(text) > MAX_PHRASE_CHARS


async def _change(
    update: Update, context: ContextTypes.DEFAULT_TYPE, kind: str, adding: bool
) -> None:
    command = (
        ("follow" if adding else "unfollow") if kind == FOLLOW else ("mute" if adding else "unmute")
    )
    if not await may_change_settings(update, context):
        await reply(update, ADMINS_ONLY)
        return
    kept = topic_phrase(args_text(context))
    if kept is None:
        await reply(
            update, f"Usage: /{command} WORDS, e.g. <code>/{command} climate change</code>."
        )
        return
    phrase, was_cut = kept
    try:
        async with services_of(context).database.session() as session:
            chat = await settings_chat(session, update, context)
            changed = (
                await add_topic(session, chat, kind, phrase)
                if adding
                else await remove_topic(session, chat, kind, phrase)
            )
    except TooManyTopics:
        await reply(
            update,
            f"This chat already follows and mutes {MAX_TOPICS} topics, the most it may. "
            "Remove some with /unfollow or /unmute.",
        )
        return
    shown = html_escape(phrase)
    messages = {
        (FOLLOW, True, True): f"Following “{shown}”: it leads your digests.",
        (FOLLOW, True, False): f"You already follow “{shown}”.",
        (FOLLOW, False, True): f"No longer following “{shown}”.",
        (FOLLOW, False, False): f"You were not following “{shown}”. See /following.",
        (MUTE, True, True): f"Muted “{shown}”: headlines with it won't reach this chat's digests.",
        (MUTE, True, False): f"“{shown}” is already muted.",
        (MUTE, False, True): f"Unmuted “{shown}”.",
        (MUTE, False, False): f"“{shown}” was not muted. See /following.",
    }
    note = f"\n<i>Only the first {MAX_PHRASE_CHARS} characters were kept.</i>" if was_cut else ""
    await reply(update, speaking_for(update, chat, messages[(kind, adding, changed)] + note))


async def follow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Follow a topic so digests lead with it."""
    await _change(update, context, FOLLOW, True)


async def unfollow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop following a topic."""
    await _change(update, context, FOLLOW, False)


async def mute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Mute words so their headlines never reach this chat's digests."""
    await _change(update, context, MUTE, True)


async def unmute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Lift a mute."""
    await _change(update, context, MUTE, False)


async def following(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List followed and muted topics, so a reader knows what shapes their digest."""
    async with services_of(context).database.session() as session:
        chat = await settings_chat(session, update, context)
        followed, muted = topics_of(chat, FOLLOW), topics_of(chat, MUTE)
    if not followed and not muted:
        await reply(
            update,
            speaking_for(
                update,
                chat,
                "No topics followed yet. Try <code>/follow iran</code>; "
                "<code>/mute football</code> hides a topic.",
            ),
        )
        return
    lines = ["<b>Following</b>"] + [f"• {html_escape(p)}" for p in followed or ["none"]]
    lines += ["", "<b>Muted</b>"] + [f"• {html_escape(p)}" for p in muted or ["none"]]
    await reply(update, speaking_for(update, chat, "\n".join(lines)))
