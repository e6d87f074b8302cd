"""/alert, /alerts and /quiet: told at once of what a chat watches, and when not to be.

An alert is one of the chat's rules (so /filters lists it and /unfilter deletes it too);
`/alert PATTERN [in SOURCE_ID] [in title|text]` takes what /filter takes.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.i18n import N_, _
from bot.news.rules import ALERT
from bot.schedule.reading import ScheduleError, parse_quiet_hours
from bot.services import NewsContext
from bot.store.alerts import alert_counts
from bot.store.chats import (
    drop_rule,
    rule_of,
    set_digests_silent_in_quiet_hours,
    set_quiet_hours,
)
from bot.store.models import Chat
from bot.stories.alerts import start_alerts
from bot.stories.cache import rule_counts
from bot.ui import callbacks
from bot.ui.render import BUTTONS_PER_ROW, html_escape
from handlers.common import (
    ADMINS_ONLY,
    args_text,
    button_allowed,
    edit_in_place,
    may_change_settings,
    reply,
    settings_chat,
    speaking_for,
)
from handlers.rules import (
    FilterRequest,
    add_requested_rule,
    matches_text,
    read_request,
    rule_text,
)

ALERT_USAGE = N_(
    "Usage: /alert PATTERN [in SOURCE_ID] [in title|text]\n"
    "I tell this chat at once when a headline matching it comes in, one message a story. "
    "PATTERN is words, a “phrase” in quotes, or a regular expression /…/. Examples:\n"
    "<code>/alert earthquake</code>\n"
    '<code>/alert "interest rates"</code>\n'
    "<code>/alert /\\bAI\\b/ in title</code>"
)
QUIET_USAGE = N_(
    "Usage: /quiet 22:00-07:00 (in this chat's time zone), or /quiet off.\n"
    "No alert or story update is sent in quiet hours; what comes in arrives as one message "
    "when they end."
)
_OFF = ("off", "none", "0")
QUIET = "quiet"  # the /quiet button's setting name


async def alert(update: Update, context: NewsContext) -> None:
    """Add an alert, so the chat hears at once of what it watches."""
    typed = args_text(context)
    request = read_request(f"alert {typed}") if typed else None
    if await add_requested_rule(update, context, request, _(ALERT_USAGE)) is not None:
        await start_alerts(context.services.database, now=context.services.clock.now())


async def _alerts_view(
    update: Update, context: NewsContext
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The /alerts message: each alert with its matches of the last day, quiet hours, what
    was sent and what waits; a stop button each."""
    services = context.services
    now = services.clock.now()
    async with services.database.session() as session:
        chat = await settings_chat(session, update, context)
        rows = [
            (number, topic.id, rule_of(topic))
            for number, topic in enumerate(chat.topics, start=1)
            if topic.kind == ALERT
        ]
        counts = await rule_counts(
            session, services.stories, chat.id, [rule.pattern for *_n, rule in rows], now=now
        )
        sent = await alert_counts(session, chat.id, now=now)
    lines = [_("<b>Alerts</b>")]
    if not rows:
        lines.append(_("No alerts yet. Add one with /alert, e.g. <code>/alert earthquake</code>."))
    for (number, _id, rule), count in zip(rows, counts, strict=True):
        lines.append(f"{number}. {rule_text(rule)} — {matches_text(count)}")
    lines += ["", _quiet_text(chat)]
    if sent.sent_today or sent.waiting:
        lines.append(
            _("Sent in the last 24 hours: {sent}. Waiting: {waiting}.").format(
                sent=sent.sent_today, waiting=sent.waiting
            )
        )
    buttons = [
        InlineKeyboardButton(
            f"🔕 {number}",
            callback_data=callbacks.encode(callbacks.AlertStop(rule_id, listed=True)),
        )
        for number, rule_id, _rule in rows
    ]
    keyboard = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    return speaking_for(update, chat, "\n".join(lines)), (
        InlineKeyboardMarkup(keyboard) if keyboard else None
    )


def _quiet_text(chat: Chat) -> str:
    """The chat's quiet hours as a sentence."""
    if not chat.quiet_hours:
        return _("No quiet hours: alerts come at any time. Set them with /quiet 22:00-07:00.")
    start, end = chat.quiet_hours.split("-")
    return _("Quiet hours: {start}–{end} ({zone}).").format(
        start=start, end=end, zone=html_escape(chat.timezone)
    )


async def alerts_command(update: Update, context: NewsContext) -> None:
    """List the chat's alerts, so a reader sees what may interrupt them and when."""
    text, keyboard = await _alerts_view(update, context)
    await reply(update, text, keyboard=keyboard)


async def stop_button(update: Update, context: NewsContext, action: callbacks.AlertStop) -> None:
    """ "Stop this alert" under an alert, or 🔕 N under /alerts: the alert rule goes, with
    what it has not sent."""
    query = update.callback_query
    assert query is not None
    if not await button_allowed(update, context):
        return
    async with context.services.database.session() as session:
        chat = await settings_chat(session, update, context)
        removed = await drop_rule(session, chat, action.rule_id)
    await query.answer(_("Alert stopped.") if removed else _("That alert was already stopped."))
    if action.listed:
        text, keyboard = await _alerts_view(update, context)
        await edit_in_place(update, text, keyboard=keyboard)
        return
    message = query.message
    markup = getattr(message, "reply_markup", None)
    if markup is not None:
        rows = [[b for b in row if b.callback_data != query.data] for row in markup.inline_keyboard]
        kept = InlineKeyboardMarkup([row for row in rows if row])
        await query.edit_message_reply_markup(kept)


async def alert_me_button(update: Update, context: NewsContext, action: callbacks.AlertMe) -> None:
    """ "Alert me" under /topic: an alert on the same words."""
    query = update.callback_query
    assert query is not None
    if not await button_allowed(update, context):
        return
    await query.answer()
    request = FilterRequest(ALERT, action.query, None, "both")
    if await add_requested_rule(update, context, request, _(ALERT_USAGE)) is not None:
        await start_alerts(context.services.database, now=context.services.clock.now())


async def quiet(update: Update, context: NewsContext) -> None:
    """Set, clear or show the chat's quiet hours, so alerts do not wake anyone."""
    typed = args_text(context)
    if typed and not await may_change_settings(update, context):
        await reply(update, _(ADMINS_ONLY))
        return
    hours: str | None = None
    if typed and typed.lower() not in _OFF:
        try:
            hours = parse_quiet_hours(typed)
        except ScheduleError as exc:
            await reply(update, f"{html_escape(str(exc))}\n\n{_(QUIET_USAGE)}")
            return
    services = context.services
    async with services.database.session() as session:
        chat = await settings_chat(session, update, context)
        if typed:
            set_quiet_hours(chat, hours, now=services.clock.now())
        text = _quiet_reply(chat)
        keyboard = _quiet_keyboard(chat)
    await reply(update, speaking_for(update, chat, text), keyboard=keyboard)


def _quiet_reply(chat: Chat) -> str:
    lines = [_quiet_text(chat)]
    if chat.quiet_hours:
        lines.append(
            _("Digests due in quiet hours arrive silently.")
            if chat.quiet_digests_silent
            else _("Digests keep their times and arrive with a sound, quiet hours or not.")
        )
    return "\n".join(lines)


def _quiet_keyboard(chat: Chat) -> InlineKeyboardMarkup | None:
    """A button switching whether digests in quiet hours arrive silently."""
    if not chat.quiet_hours:
        return None
    if chat.quiet_digests_silent:
        label, value = _("🔔 Digests with sound"), "sound"
    else:
        label, value = _("🔕 Digests silently in quiet hours"), "silent"
    data = callbacks.encode(callbacks.Setting(QUIET, value))
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


async def quiet_button(update: Update, context: NewsContext, action: callbacks.Setting) -> None:
    """The /quiet button: digests in quiet hours silent, or with sound."""
    query = update.callback_query
    assert query is not None
    if not await button_allowed(update, context):
        return
    services = context.services
    async with services.database.session() as session:
        chat = await settings_chat(session, update, context)
        set_digests_silent_in_quiet_hours(chat, action.value == "silent", now=services.clock.now())
        text, keyboard = _quiet_reply(chat), _quiet_keyboard(chat)
    await query.answer()
    await edit_in_place(update, speaking_for(update, chat, text), keyboard=keyboard)
