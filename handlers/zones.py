"""Time zones a tap away: likely zones as buttons, a city typed in reply, /timezone by city.

Nobody should need to know "America/New_York": the buttons come from the user's Telegram
language, a city name is matched against the zone names, and an abbreviation like EST is
explained (a fixed offset, no daylight saving time) with the zone most likely meant.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.i18n import N_, _
from bot.schedule.reading import AbbreviatedZone, ScheduleError, offset_text, parse_zone
from bot.schedule.zones import Abbreviation, city_of, likely_zones
from bot.services import NewsContext
from bot.store.chats import reschedule
from bot.store.models import Chat
from bot.ui import callbacks
from bot.ui.render import html_escape, schedule_text
from bot.ui.user_input import normalize_input
from handlers.common import (
    ADMINS_ONLY,
    args_text,
    button_allowed,
    edit_in_place,
    may_change_settings,
    reply,
    speaking_for,
    update_chat,
)

CHOOSE = "zone"  # the Setting name every zone button carries
ASK_CITY = "city"  # its value on "Type a city"
SHOW_CHOICES = ""  # its value on the /settings Zone button
# Also how a reply is known to answer it: the text of the message replied to.
CITY_PROMPT = N_("Which city's time should the digests follow? Reply with a city, e.g. Berlin.")
TIMEZONE_USAGE = N_(
    "Usage: /timezone CITY or ZONE, e.g. <code>/timezone Berlin</code>, "
    "<code>/timezone new york</code>, <code>/timezone Europe/Berlin</code> "
    "or <code>/timezone +05:30</code>."
)


def _zone_button(label: str, value: str) -> InlineKeyboardButton:
    data = callbacks.encode(callbacks.Setting(CHOOSE, value))
    return InlineKeyboardButton(label, callback_data=data)


def zone_keyboard(language_code: str | None) -> InlineKeyboardMarkup:
    """A few likely zones for this language, and "Type a city" for everything else."""
    buttons = [_zone_button(city_of(zone), zone) for zone in likely_zones(language_code)]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([_zone_button("UTC", "UTC"), _zone_button(_("Type a city…"), ASK_CITY)])
    return InlineKeyboardMarkup(rows)


def abbreviation_keyboard(known: Abbreviation) -> InlineKeyboardMarkup:
    """The zone the abbreviation most likely means, or the fixed offset it stands for."""
    return InlineKeyboardMarkup(
        [
            [_zone_button(f"{city_of(known.zone)} ({known.zone})", known.zone)],
            [
                _zone_button(
                    # Translators: a button; {offset} is a UTC offset without daylight saving
                    # time, like "UTC−05:00".
                    _("Fixed {offset}").format(offset=offset_text(known.offset)),
                    known.offset,
                )
            ],
        ]
    )


def abbreviation_question(exc: AbbreviatedZone) -> str:
    """What an abbreviation like EST stands for, and which of the two was meant."""
    return _("{explanation} Which do you mean?").format(explanation=html_escape(str(exc)))


def zone_offer(update: Update) -> tuple[str, InlineKeyboardMarkup]:
    """The question after subscribing without a zone: which is yours?"""
    user = update.effective_user
    return (
        _("Which time zone are you in? Tap one, or type a city."),
        zone_keyboard(user.language_code if user else None),
    )


def _set_zone(zone: str) -> Callable[[Chat, datetime], None]:
    def change(chat: Chat, now: datetime) -> None:
        chat.timezone = zone
        reschedule(chat, now=now)

    return change


async def _apply(update: Update, context: NewsContext, zone: str) -> str:
    chat = await update_chat(update, context, _set_zone(zone))
    # Translators: {schedule} is the sentence saying when the digests arrive.
    text = _("Time zone set to {zone}. {schedule}").format(
        zone=html_escape(zone), schedule=schedule_text(chat)
    )
    return speaking_for(update, chat, text)


async def timezone(update: Update, context: NewsContext) -> None:
    """Set the zone digest times and dates are read in, by city, zone name or offset."""
    if not await may_change_settings(update, context):
        await reply(update, _(ADMINS_ONLY))
        return
    words = args_text(context)
    if not words:
        text, keyboard = zone_offer(update)
        await reply(update, f"{_(TIMEZONE_USAGE)}\n{text}", keyboard=keyboard)
        return
    await _set_from_text(update, context, words)


async def _set_from_text(update: Update, context: NewsContext, words: str) -> None:
    try:
        zone = parse_zone(words)
    except AbbreviatedZone as exc:
        await reply(
            update,
            abbreviation_question(exc),
            keyboard=abbreviation_keyboard(exc.abbreviation),
        )
        return
    except ScheduleError as exc:
        await reply(update, html_escape(str(exc)))
        return
    await reply(update, await _apply(update, context, zone))


async def zone_button(update: Update, context: NewsContext, action: callbacks.Setting) -> None:
    """A zone button: show the choices, ask for a city, or set the zone it names."""
    query = update.callback_query
    assert query is not None
    if not await button_allowed(update, context):
        return
    if action.value == SHOW_CHOICES:
        await query.answer()
        text, keyboard = zone_offer(update)
        await reply(update, text, keyboard=keyboard)
        return
    if action.value == ASK_CITY:
        await query.answer()
        # Translators: the hint inside the empty input field, at most 64 characters.
        hint = _("e.g. Berlin")
        await reply(update, _(CITY_PROMPT), keyboard=ForceReply(input_field_placeholder=hint))
        return
    try:
        zone = parse_zone(action.value)
    except ScheduleError:
        await query.answer(_("This button has expired."))
        return
    await query.answer(_("Saved."))
    await edit_in_place(update, await _apply(update, context, zone))


async def city_reply(update: Update, context: NewsContext) -> bool:
    """Take a reply to the city question as the zone; False if the message is no such reply."""
    message = update.effective_message
    if message is None or message.text is None or message.reply_to_message is None:
        return False
    asked = message.reply_to_message
    if asked.from_user is None or asked.from_user.id != context.bot.id:
        return False
    if asked.text != _(CITY_PROMPT):
        return False
    if not await may_change_settings(update, context):
        await reply(update, _(ADMINS_ONLY))
        return True
    await _set_from_text(update, context, normalize_input(message.text))
    return True
