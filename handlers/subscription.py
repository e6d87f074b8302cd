"""Digest subscription and settings: /subscribe, /unsubscribe, /settings, /digesttime."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.i18n import N_, NATIVE_NAMES, _, ngettext, pgettext
from bot.news.rules import FOLLOW, MUTE
from bot.schedule.reading import (
    AbbreviatedZone,
    ScheduleError,
    is_time_of_day,
    parse_times,
    parse_zone,
)
from bot.schedule.zones import zone_for_city
from bot.services import NewsContext
from bot.store.chats import news_languages, reschedule, topics_of
from bot.store.chats import subscribe as subscribe_chat
from bot.store.chats import unsubscribe as unsubscribe_chat
from bot.store.models import Chat
from bot.ui import callbacks
from bot.ui.render import html_escape, schedule_text
from handlers.common import (
    ADMINS_ONLY,
    args_words,
    button_allowed,
    edit_in_place,
    may_change_settings,
    reply,
    speaking_for,
    update_chat,
)
from handlers.language import NEWS, PICK, SHOW_CHOICES, user_language
from handlers.zones import abbreviation_keyboard, abbreviation_question, zone_offer

_MERIDIEM = {"am", "pm", "a.m", "p.m"}
SIZE_STEP = 5
TIME_PRESETS = ["07:00", "08:00", "08:00,18:00", "12:00"]
SUBSCRIBE_USAGE = N_(
    "Usage: /subscribe [TIMES] [ZONE], e.g. <code>/subscribe 07:30 18:00 "
    "Europe/Berlin</code>, <code>/subscribe 8am</code> or <code>/subscribe 20h +05:30</code>."
)


def _join_meridiem(words: list[str]) -> list[str]:
    """ "8 am" typed as two words is one time."""
    joined: list[str] = []
    for word in words:
        if joined and word.lower().rstrip(".") in _MERIDIEM and joined[-1].isdigit():
            joined[-1] += word
        else:
            joined.append(word)
    return joined


def split_schedule_args(words: list[str]) -> tuple[list[str], str]:
    """Times, and the words naming one zone or city ("" if none), from /subscribe's words;
    ScheduleError if they don't read."""
    words = _join_meridiem(words)
    times = [w for w in words if is_time_of_day(w)]
    others = [w for w in words if not is_time_of_day(w)]
    zone_words = " ".join(others)
    if len(others) > 1 and zone_for_city(zone_words) is None:
        shown = " ".join(f"“{z[:20]}”" for z in others[:3])
        raise ScheduleError(_("One time zone at most, please, not {words}.").format(words=shown))
    return parse_times(times), zone_words


def _thread_of(update: Update) -> int | None:
    message = update.effective_message
    if message is not None and message.is_topic_message:
        return message.message_thread_id
    return None


async def subscribe(update: Update, context: NewsContext) -> None:
    """Turn on digests at the times and zone given, telling when the first one comes."""
    if not await may_change_settings(update, context):
        await reply(update, _(ADMINS_ONLY))
        return
    abbreviated: AbbreviatedZone | None = None
    try:
        times, zone_words = split_schedule_args(args_words(context))
        zone = parse_zone(zone_words) if zone_words else None
    except AbbreviatedZone as exc:
        zone, abbreviated = None, exc
    except ScheduleError as exc:
        await reply(update, f"{html_escape(str(exc))}\n{_(SUBSCRIBE_USAGE)}")
        return
    thread_id = _thread_of(update)
    spoken = user_language(update)
    chat = await update_chat(
        update,
        context,
        lambda chat, now: subscribe_chat(
            chat, times=times or None, zone=zone, thread_id=thread_id, now=now, language=spoken
        ),
    )
    text = speaking_for(update, chat, _subscribed_text(chat))
    if abbreviated is not None:
        question = abbreviation_question(abbreviated)
        keyboard = abbreviation_keyboard(abbreviated.abbreviation)
    elif zone is None and chat.timezone == context.services.settings.default_timezone:
        question, keyboard = zone_offer(update)
    else:
        await reply(update, text)
        return
    await reply(update, f"{text}\n\n{question}", keyboard=keyboard)


async def unsubscribe(update: Update, context: NewsContext) -> None:
    """Stop digests but keep the chat's choices for a later /subscribe."""
    if not await may_change_settings(update, context):
        await reply(update, _(ADMINS_ONLY))
        return
    chat = await update_chat(update, context, lambda chat, now: unsubscribe_chat(chat, now=now))
    await reply(
        update,
        speaking_for(
            update,
            chat,
            _("Digests stopped. The times, zone and topics are kept: /subscribe brings them back."),
        ),
    )


async def digesttime(update: Update, context: NewsContext) -> None:
    """Set the local times digests arrive at."""
    if not await may_change_settings(update, context):
        await reply(update, _(ADMINS_ONLY))
        return
    try:
        times = parse_times(_join_meridiem(args_words(context)))
    except ScheduleError as exc:
        await reply(update, html_escape(str(exc)))
        return
    if not times:
        await reply(
            update,
            _(
                "Usage: /digesttime TIMES, up to 6, e.g. <code>/digesttime 07:30 18:00</code> "
                "or <code>/digesttime 8am 6pm</code>."
            ),
        )
        return

    def change(chat: Chat, now: datetime) -> None:
        chat.digest_times = ",".join(times)
        reschedule(chat, now=now)

    chat = await update_chat(update, context, change)
    if chat.subscribed:
        # Translators: {schedule} is the sentence saying when the digests arrive.
        text = _("Digest times set. {schedule}").format(schedule=schedule_text(chat))
    else:
        text = _(
            "Digest times set. {schedule}\nDigests are off: /subscribe to turn them on."
        ).format(schedule=schedule_text(chat))
    await reply(update, speaking_for(update, chat, text))


def _subscribed_text(chat: Chat) -> str:
    """The answer to subscribing, with when the digests come and how to change that."""
    # Translators: {schedule} is the sentence saying when the digests arrive.
    return _("✅ Subscribed. {schedule}\nChange it any time with /settings.").format(
        schedule=schedule_text(chat)
    )


def on_off(value: bool) -> str:
    """A setting's state as /settings shows it."""
    return pgettext("setting", "on") if value else pgettext("setting", "off")


def settings_text(chat: Chat) -> str:
    """The /settings message: every choice the chat has made."""
    followed = ", ".join(html_escape(p) for p in topics_of(chat, FOLLOW)) or _("none")
    muted = ", ".join(html_escape(p) for p in topics_of(chat, MUTE)) or _("none")
    size = chat.digest_size
    chosen = news_languages(chat)
    news = ", ".join(sorted(chosen)) if chosen is not None else _("all languages")
    return "\n".join(
        [
            _("<b>Settings</b>"),
            # Translators: {state} is "on" or "off"; {schedule} says when digests arrive.
            _("Digests: {state}. {schedule}").format(
                state=on_off(chat.subscribed), schedule=schedule_text(chat)
            ),
            ngettext(
                "Digest size: {count} headline", "Digest size: {count} headlines", size
            ).format(count=size),
            _("Following: {topics}").format(topics=followed),
            _("Muted: {topics}").format(topics=muted),
            _("Only followed topics: {state}").format(state=on_off(chat.only_followed)),
            _("Say so when there is nothing new: {state}").format(state=on_off(chat.notify_empty)),
            _("Preview of the top story: {state}").format(state=on_off(chat.link_preview)),
            story_order_text(chat),
            _("Language: {name}").format(name=NATIVE_NAMES.get(chat.language, chat.language)),
            _("News in: {languages}").format(languages=news),
            "",
            _("Zone: /timezone CITY · times: /digesttime TIMES · topics: /follow, /mute"),
        ]
    )


def story_order_text(chat: Chat) -> str:
    """How the chat's digests and /latest order stories, in words a reader checks."""
    if chat.newest_first:
        return _("Stories: newest first")
    return _("Stories: those more outlets report first")


def settings_keyboard(chat: Chat) -> InlineKeyboardMarkup:
    """Buttons that change the settings in place."""

    def button(label: str, name: str, value: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            label, callback_data=callbacks.encode(callbacks.Setting(name, value))
        )

    return InlineKeyboardMarkup(
        [
            [
                # Translators: buttons of /settings; keep them short, they share a row.
                button(_("Size −{step}").format(step=SIZE_STEP), "size", "-"),
                button(_("Size +{step}").format(step=SIZE_STEP), "size", "+"),
            ],
            [
                # Translators: a button setting the digest times, e.g. "Times 08:00 + 18:00".
                button(_("Times {times}").format(times=preset.replace(",", " + ")), "times", preset)
                for preset in TIME_PRESETS
            ],
            [
                button(
                    _("Only followed: {state}").format(state=on_off(chat.only_followed)),
                    "only",
                    "0" if chat.only_followed else "1",
                ),
                button(
                    _("Empty notice: {state}").format(state=on_off(chat.notify_empty)),
                    "empty",
                    "0" if chat.notify_empty else "1",
                ),
            ],
            [
                button(
                    _("Top story preview: {state}").format(state=on_off(chat.link_preview)),
                    "preview",
                    "0" if chat.link_preview else "1",
                ),
                button(
                    # Translators: a button switching to the other story order.
                    _("Order: most reported") if chat.newest_first else _("Order: newest"),
                    "order",
                    "ranked" if chat.newest_first else "newest",
                ),
            ],
            [
                button(_("Language"), PICK, SHOW_CHOICES),
                button(_("News languages"), NEWS, SHOW_CHOICES),
            ],
            [
                button(_("Zone: {zone}").format(zone=chat.timezone)[:40], "zone", ""),
                button(
                    _("Unsubscribe") if chat.subscribed else _("Subscribe"),
                    "sub",
                    "off" if chat.subscribed else "on",
                ),
            ],
        ]
    )


async def settings(update: Update, context: NewsContext) -> None:
    """Show the chat's settings with buttons to change them."""
    chat = await update_chat(update, context, lambda chat, now: None)
    await reply(
        update, speaking_for(update, chat, settings_text(chat)), keyboard=settings_keyboard(chat)
    )


def apply_setting(chat: Chat, action: callbacks.Setting, now: datetime) -> None:
    """Change one setting as a /settings button asks; ValueError if the value is not valid."""
    if action.name == "size":
        size = chat.digest_size
        if action.value == "+":
            chat.digest_size = min(50, (size // SIZE_STEP + 1) * SIZE_STEP)
        elif action.value == "-":
            chat.digest_size = max(1, (size - 1) // SIZE_STEP * SIZE_STEP)
        else:
            raise ValueError(action.value)
    elif action.name == "only":
        chat.only_followed = action.value == "1"
    elif action.name == "empty":
        chat.notify_empty = action.value == "1"
    elif action.name == "preview":
        chat.link_preview = action.value == "1"
    elif action.name == "order":
        if action.value not in ("ranked", "newest"):
            raise ValueError(action.value)
        chat.newest_first = action.value == "newest"
    elif action.name == "times":
        if action.value not in TIME_PRESETS:
            raise ValueError(action.value)
        chat.digest_times = action.value
        reschedule(chat, now=now)
    elif action.name in ("sub", "start"):
        if action.value == "on":
            subscribe_chat(chat, times=None, zone=None, thread_id=chat.thread_id, now=now)
        else:
            unsubscribe_chat(chat, now=now)
    else:
        raise ValueError(action.name)


async def settings_button(update: Update, context: NewsContext, action: callbacks.Setting) -> None:
    """A /settings (or /start "Subscribe") button: change the setting, then show the result."""
    query = update.callback_query
    assert query is not None
    if not await button_allowed(update, context):
        return
    try:
        chat = await update_chat(
            update, context, lambda chat, now: apply_setting(chat, action, now)
        )
    except (ValueError, KeyError):
        await query.answer(_("This button has expired."))
        return
    await query.answer(_("Saved."))
    if action.name == "start":
        text = (
            _subscribed_text(chat)
            if chat.subscribed
            else _("Digests stopped.\nChange it any time with /settings.")
        )
        if chat.subscribed and chat.timezone == context.services.settings.default_timezone:
            question, keyboard = zone_offer(update)
            await reply(update, f"{text}\n\n{question}", keyboard=keyboard)
        else:
            await reply(update, text)
        return
    await edit_in_place(update, settings_text(chat), keyboard=settings_keyboard(chat))
