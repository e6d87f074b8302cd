"""/sources, /addfeed, /removefeed: which feeds a chat reads, and feeds of its own."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.i18n import N_, _, ngettext
from bot.news.http.errors import BlockedAddress, InvalidURL
from bot.news.http.policy import checked_feed_url
from bot.news.text import truncate
from bot.services import NewsContext
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
from bot.ui import callbacks
from bot.ui.render import age_text, html_escape, quoted
from handlers.common import (
    ADMINS_ONLY,
    args_text,
    button_allowed,
    edit_in_place,
    is_bot_admin,
    may_change_settings,
    reply,
    settings_chat,
    speaking_for,
)

log = logging.getLogger(__name__)
USER_FEEDS_OFF = N_("This bot reads only the feeds its administrators chose; see /sources.")
ADDFEED_USAGE = N_("Usage: /addfeed URL — an http(s) address of an RSS or Atom feed.")
REMOVEFEED_USAGE = N_("Usage: /removefeed ID — the ID of one of this chat's own feeds in /sources.")


def _health(status: SourceStatus, now: datetime) -> str:
    if not status.active:
        # Translators: a feed's health in /sources: switched off.
        return _("⛔ off")
    if status.error_count:
        count = status.error_count
        # Translators: a feed's health in /sources: how many fetches in a row failed.
        return ngettext("⚠️ failed {count} time", "⚠️ failed {count} times", count).format(
            count=count
        )
    if status.last_ok_at:
        return f"✅ {age_text(status.last_ok_at, now)}"
    return _("⏳ not fetched yet")


def _line(choice: SourceChoice, status: SourceStatus | None, now: datetime) -> list[str]:
    name = html_escape(choice.title or choice.url)
    if status is None:  # added between the two reads
        return [f"{choice.id}. {name}"]
    # Translators: a feed in /sources that this chat switched off.
    hidden = "" if choice.kept else " · " + _("🚫 hidden here")
    items = ngettext("{count} item", "{count} items", status.articles).format(count=status.articles)
    lines = [f"{choice.id}. {name} — {_health(status, now)}, {items}{hidden}"]
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
        return _("No feeds yet. Add one with /addsource URL.") if admin else _("No feeds yet.")
    lines = [_("<b>Sources ({count})</b>").format(count=len(shared))]
    for choice in shared:
        lines += _line(choice, statuses.get(choice.id), now)
    if own:
        lines += ["", _("<b>This chat's own feeds ({count})</b>").format(count=len(own))]
        for choice in own:
            lines += _line(choice, statuses.get(choice.id), now)
        lines.append(_("<i>Remove one with /removefeed ID.</i>"))
    if shared:
        lines += ["", _("<i>Tap a source to switch it off or on for this chat.</i>")]
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
    update: Update, context: NewsContext
) -> tuple[Chat, str, InlineKeyboardMarkup | None]:
    services = context.services
    async with services.database.session() as session:
        chat = await settings_chat(session, update, context)
        choices = await source_choices(session, chat.id)
        statuses = {s.id: s for s in await source_statuses(session)}
    text = sources_text(
        choices, statuses, now=services.clock.now(), admin=is_bot_admin(update, context)
    )
    return chat, speaking_for(update, chat, text), sources_keyboard(choices)


async def sources(update: Update, context: NewsContext) -> None:
    """List the feeds with their health and toggles, so a chat reads only what it wants."""
    _chat, text, keyboard = await _sources_view(update, context)
    await reply(update, text, keyboard=keyboard)


async def toggle_button(
    update: Update, context: NewsContext, action: callbacks.SourceToggle
) -> None:
    """A /sources button: switch the feed off or on for the chat, then show the list again."""
    query = update.callback_query
    assert query is not None
    if not await button_allowed(update, context):
        return
    async with context.services.database.session() as session:
        chat = await settings_chat(session, update, context)
        kept = await toggle_source(session, chat.id, action.source_id)
    if kept is None:
        await query.answer(_("That source is gone. Send /sources again."))
        return
    await query.answer(
        _("Switched on for this chat.") if kept else _("Switched off for this chat.")
    )
    _chat, text, keyboard = await _sources_view(update, context)
    await edit_in_place(update, text, keyboard=keyboard)


def refused_feed_url(url: str, *, allow_private: bool) -> str | None:
    """What /addfeed answers when the address cannot be a feed of this chat, or None."""
    try:
        checked_feed_url(url, allow_private=allow_private)
    except BlockedAddress as exc:
        log.info("Chat feed %r refused: %s", url, exc)
        # Translators: {url} is the address as typed, in quotes.
        return _("{url} is on a private or local network, which this bot does not read.").format(
            url=quoted(url)
        )
    except InvalidURL as exc:
        # The reason (exc) is for the log; the reader gets it in their own words.
        log.info("Chat feed %r refused: %s", url, exc)
        # Translators: {url} is the address as typed, in quotes.
        refused = _("{url} is not an http(s) address.").format(url=quoted(url))
        return f"{refused} {_(ADDFEED_USAGE)}"
    return None


async def addfeed(update: Update, context: NewsContext) -> None:
    """Add a feed only this chat reads, when the operator allows feeds of a chat's own."""
    services = context.services
    settings = services.settings
    if not settings.user_feeds:
        await reply(update, _(USER_FEEDS_OFF))
        return
    if not await may_change_settings(update, context):
        await reply(update, _(ADMINS_ONLY))
        return
    url = args_text(context).strip()
    if not url or " " in url:
        await reply(update, _(ADDFEED_USAGE))
        return
    refused = refused_feed_url(url, allow_private=settings.fetch_allow_private)
    if refused is not None:
        await reply(update, refused)
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
            text = _("The bot already reads that feed for everyone (source {id}).").format(
                id=exc.source_id
            )
        except FeedAlreadyAdded as exc:
            text = _("This chat already reads that feed (source {id}).").format(id=exc.source_id)
        except TooManyFeeds as exc:
            text = ngettext(
                "This chat already has {count} feed of its own, the most it may. "
                "Remove one with /removefeed ID.",
                "This chat already has {count} feeds of its own, the most it may. "
                "Remove one with /removefeed ID.",
                exc.limit,
            ).format(count=exc.limit)
        else:
            text = _(
                "Added feed {id}: {url}\n"
                "Only this chat sees its headlines. It will be fetched within a minute."
            ).format(id=source.id, url=html_escape(url))
    await reply(update, speaking_for(update, chat, text))


async def removefeed(update: Update, context: NewsContext) -> None:
    """Remove one of this chat's own feeds and, when no other chat reads it, its items."""
    if not await may_change_settings(update, context):
        await reply(update, _(ADMINS_ONLY))
        return
    text = args_text(context).strip()
    if not text.isdigit() or len(text) > 12:
        await reply(update, _(REMOVEFEED_USAGE))
        return
    async with context.services.database.session() as session:
        chat = await settings_chat(session, update, context)
        removed = await remove_chat_feed(session, chat.id, int(text))
    if removed is None:
        answer = _("This chat has no feed {id} of its own. See /sources.").format(id=text)
    else:
        answer = _("Removed feed {id}: {url}").format(id=text, url=html_escape(removed))
    await reply(update, speaking_for(update, chat, answer))
