"""/sources, /addfeed, /removefeed: which feeds a chat reads, and feeds of its own."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot import callbacks
from bot.news.http.errors import InvalidURL
from bot.news.http.policy import checked_url
from bot.news.text import truncate
from bot.render import age_text, html_escape, plural
from bot.store.chat_sources import (
    FeedAlreadyAdded,
    SharedFeedExists,
    SourceChoice,
    TooManyFeeds,
    add_chat_feed,
    remove_chat_feed,
    source_choices,
    toggle_source,
)
from bot.store.models import Chat
from bot.store.sources import SourceStatus, source_statuses
from handlers.common import (
    ADMINS_ONLY,
    args_text,
    edit_in_place,
    is_bot_admin,
    may_change_settings,
    reply,
    services_of,
    settings_chat,
    speaking_for,
)

USER_FEEDS_OFF = "This bot reads only the feeds its administrators chose; see /sources."
ADDFEED_USAGE = "Usage: /addfeed URL — an http(s) address of an RSS or Atom feed."
REMOVEFEED_USAGE = "Usage: /removefeed ID — the ID of one of this chat's own feeds in /sources."
MAX_URL_CHARS = 2000


def _health(status: SourceStatus, now: datetime) -> str:
    if not status.active:
        return "⛔ off"
    if status.error_count:
        return f"⚠️ failed {plural(status.error_count, 'time')}"
    if status.last_ok_at:
        return f"✅ {age_text(status.last_ok_at, now)}"
    return "⏳ not fetched yet"


def _line(choice: SourceChoice, status: SourceStatus | None, now: datetime) -> list[str]:
    name = html_escape(choice.title or choice.url)
    if status is None:  # added between the two reads
        return [f"{choice.id}. {name}"]
    hidden = "" if choice.kept else " · 🚫 hidden here"
    lines = [
        f"{choice.id}. {name} — {_health(status, now)}, {plural(status.articles, 'item')}{hidden}"
    ]
    if status.error_count and status.last_error:
        lines.append(f"    <i>{html_escape(status.last_error[:120])}</i>")
    return lines


def sources_text(
    choices: list[SourceChoice], statuses: dict[int, SourceStatus], *, now: datetime, admin: bool
) -> str:
    """The /sources message: the bot's feeds with their health, then the chat's own."""
    shared = [c for c in choices if not c.own]
    own = [c for c in choices if c.own]
    if not shared and not own:
        return "No feeds yet." + (" Add one with /addsource URL." if admin else "")
    lines = [f"<b>Sources ({len(shared)})</b>"]
    for choice in shared:
        lines += _line(choice, statuses.get(choice.id), now)
    if own:
        lines += ["", f"<b>This chat's own feeds ({len(own)})</b>"]
        for choice in own:
            lines += _line(choice, statuses.get(choice.id), now)
        lines.append("<i>Remove one with /removefeed ID.</i>")
    if shared:
        lines += ["", "<i>Tap a source to switch it off or on for this chat.</i>"]
    return "\n".join(lines)


def sources_keyboard(choices: list[SourceChoice]) -> InlineKeyboardMarkup | None:
    """One toggle per shared feed: ✅ kept, ⬜ switched off."""
    rows = []
    for choice in choices:
        if choice.own:
            continue
        data = callbacks.encode(callbacks.SourceToggle(choice.id))
        mark = "✅" if choice.kept else "⬜"
        label = f"{mark} {truncate(choice.title or choice.url, 40)}"
        rows.append([InlineKeyboardButton(label, callback_data=data)])
    return InlineKeyboardMarkup(rows) if rows else None


async def _sources_view(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[Chat, str, InlineKeyboardMarkup | None]:
    services = services_of(context)
    async with services.database.session() as session:
        chat = await settings_chat(session, update, context)
        choices = await source_choices(session, chat.id)
        statuses = {s.id: s for s in await source_statuses(session)}
    text = sources_text(
        choices, statuses, now=services.clock.now(), admin=is_bot_admin(update, context)
    )
    return chat, speaking_for(update, chat, text), sources_keyboard(choices)


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the feeds with their health and toggles, so a chat reads only what it wants."""
    _chat, text, keyboard = await _sources_view(update, context)
    await reply(update, text, keyboard=keyboard)


async def toggle_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: callbacks.SourceToggle
) -> None:
    """A /sources button: switch the feed off or on for the chat, then show the list again."""
    query = update.callback_query
    assert query is not None
    if not await may_change_settings(update, context):
        await query.answer(ADMINS_ONLY, show_alert=True)
        return
    async with services_of(context).database.session() as session:
        chat = await settings_chat(session, update, context)
        kept = await toggle_source(session, chat.id, action.source_id)
    if kept is None:
        await query.answer("That source is gone. Send /sources again.")
        return
    await query.answer("Switched on for this chat." if kept else "Switched off for this chat.")
    _chat, text, keyboard = await _sources_view(update, context)
    await edit_in_place(update, text, keyboard=keyboard)


async def addfeed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Add a feed only this chat reads, when the operator allows feeds of a chat's own."""
    services = services_of(context)
    settings = services.settings
    if not settings.user_feeds:
        await reply(update, USER_FEEDS_OFF)
        return
    if not await may_change_settings(update, context):
        await reply(update, ADMINS_ONLY)
        return
    url = args_text(context).strip()
    if not url or " " in url or len(url) > MAX_URL_CHARS:
        await reply(update, ADDFEED_USAGE)
        return
    try:
        checked_url(url)
    except InvalidURL as exc:
        await reply(update, f"{html_escape(str(exc))}. {ADDFEED_USAGE}")
        return
    user = update.effective_user
    async with services.database.session() as session:
        chat = await settings_chat(session, update, context)
        try:
            source = await add_chat_feed(
                session,
                chat.id,
                url,
                now=services.clock.now(),
                limit=settings.user_feeds_max,
                interval_seconds=settings.feed_poll_interval,
                added_by=user.id if user else None,
            )
        except SharedFeedExists as exc:
            text = f"The bot already reads that feed for everyone (source {exc.source_id})."
        except FeedAlreadyAdded as exc:
            text = f"This chat already reads that feed (source {exc.source_id})."
        except TooManyFeeds as exc:
            text = (
                f"This chat already has {exc.limit} feeds of its own, the most it may. "
                "Remove one with /removefeed ID."
            )
        else:
            text = (
                f"Added feed {source.id}: {html_escape(url)}\n"
                "Only this chat sees its headlines. It will be fetched within a minute."
            )
    await reply(update, speaking_for(update, chat, text))


async def removefeed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remove one of this chat's own feeds and, when no other chat reads it, its items."""
    if not await may_change_settings(update, context):
        await reply(update, ADMINS_ONLY)
        return
    text = args_text(context).strip()
    if not text.isdigit() or len(text) > 12:
        await reply(update, REMOVEFEED_USAGE)
        return
    async with services_of(context).database.session() as session:
        chat = await settings_chat(session, update, context)
        removed = await remove_chat_feed(session, chat.id, int(text))
    if removed is None:
        answer = f"This chat has no feed {text} of its own. See /sources."
    else:
        answer = f"Removed feed {text}: {html_escape(removed)}"
    await reply(update, speaking_for(update, chat, answer))
