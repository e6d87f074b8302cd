"""The chat's language: which one each update is answered in, /language, and news languages.

Every update passes `use_chat_language` first (group -2), so every handler after it writes
in the chat's language without asking for it.
"""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType

from bot.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    NATIVE_NAMES,
    _,
    set_language,
    supported_language,
)
from bot.services import NewsContext
from bot.store.chats import (
    chat_language,
    choose_language,
    follow_user_language,
    toggle_news_language,
)
from bot.store.chats import news_languages as news_languages_of
from bot.store.models import Chat
from bot.ui import callbacks
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

PICK = "lang"  # the Setting name of the interface language buttons
NEWS = "news"  # the Setting name of the news language buttons
SHOW_CHOICES = ""  # the value that opens either list from /settings
EVERY_LANGUAGE = "all"


def user_language(update: Update) -> str:
    """The interface language Telegram reports for the person behind the update."""
    user = update.effective_user
    return supported_language(user.language_code if user else None) or DEFAULT_LANGUAGE


async def use_chat_language(update: Update, context: NewsContext) -> None:
    """Answer this update in its chat's language; a private chat follows its user's
    Telegram language until they choose one."""
    chat = update.effective_chat
    spoken = user_language(update)
    if chat is None or update.inline_query is not None:
        set_language(spoken)  # inline results are read by the person asking
        return
    async with context.services.database.session() as session:
        stored = await chat_language(session, chat.id)
        if stored is None:
            set_language(spoken)  # a new chat takes the language of whoever wrote first
            return
        language, chosen = stored
        user = update.effective_user
        # Some clients report no language: then the one stored last stands.
        reported = user is not None and user.language_code is not None
        if chat.type == ChatType.PRIVATE and not chosen and reported:
            if language != spoken:
                await follow_user_language(session, chat.id, spoken)
            language = spoken
    set_language(language)


def language_button(label: str, name: str, value: str) -> InlineKeyboardButton:
    """One button of the language lists."""
    return InlineKeyboardButton(
        label, callback_data=callbacks.encode(callbacks.Setting(name, value))
    )


def language_keyboard(chat: Chat) -> InlineKeyboardMarkup:
    """One button per interface language, in its own name, the chat's marked."""
    buttons = [
        language_button(
            f"✓ {NATIVE_NAMES[code]}" if code == chat.language else NATIVE_NAMES[code], PICK, code
        )
        for code in LANGUAGES
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def language_text(chat: Chat) -> str:
    """What /language says above its buttons."""
    return _("Language: {name}. Choose the language I write in:").format(
        name=NATIVE_NAMES.get(chat.language, chat.language)
    )


def unknown_language_text(code: str) -> str:
    """The reply to /language with a code we do not speak."""
    return _("I don't speak “{code}”. Choose one of: {codes}.").format(
        code=code[:20], codes=", ".join(LANGUAGES)
    )


async def language(update: Update, context: NewsContext) -> None:
    """Choose the chat's interface language: /language alone shows the buttons."""
    words = args_words(context)
    if not words:
        chat = await update_chat(update, context, lambda chat, now: None)
        await reply(
            update,
            speaking_for(update, chat, language_text(chat)),
            keyboard=language_keyboard(chat),
        )
        return
    code = supported_language(words[0])
    if code is None or len(words) > 1:
        await reply(update, unknown_language_text(" ".join(words)))
        return
    if not await may_change_settings(update, context):
        await reply(update, _(ADMINS_ONLY))
        return
    chat = await _choose(update, context, code)
    await reply(update, speaking_for(update, chat, chosen_text(chat)))


async def _choose(update: Update, context: NewsContext, code: str) -> Chat:
    """Store the choice; the rest of this update speaks it too when it is this chat's."""
    chat = await update_chat(
        update, context, lambda chat, now: choose_language(chat, code, now=now)
    )
    own = update.effective_chat
    if own is not None and own.id == chat.id:
        set_language(code)
    return chat


def chosen_text(chat: Chat) -> str:
    """The confirmation of a choice, in the language chosen."""
    return _("From now on I write in {name}.").format(name=NATIVE_NAMES[chat.language])


def news_languages_text(chat: Chat) -> str:
    """What the news language list says above its buttons."""
    chosen = news_languages_of(chat)
    if chosen is None:
        shown = _("all languages")
    else:
        shown = ", ".join(NATIVE_NAMES.get(code, code) for code in sorted(chosen))
    return _(
        "News in: {languages}.\nTap a language to keep to it or drop it; "
        "items whose language is unknown always come through."
    ).format(languages=shown)


def news_languages_keyboard(chat: Chat) -> InlineKeyboardMarkup:
    """A toggle per language, and "All"."""
    chosen = news_languages_of(chat) or frozenset()
    buttons = [
        language_button(
            f"✓ {NATIVE_NAMES[code]}" if code in chosen else NATIVE_NAMES[code], NEWS, code
        )
        for code in LANGUAGES
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    all_label = _("All languages")
    rows.append([language_button(f"✓ {all_label}" if not chosen else all_label, NEWS, "all")])
    return InlineKeyboardMarkup(rows)


async def language_choice_button(
    update: Update, context: NewsContext, action: callbacks.Setting
) -> None:
    """A /language or /settings language button: show the list, or switch and say so."""
    query = update.callback_query
    assert query is not None
    if action.value != SHOW_CHOICES and action.value not in LANGUAGES:
        await query.answer(_("This button has expired."))
        return
    if not await button_allowed(update, context):
        return
    if action.value == SHOW_CHOICES:
        chat = await update_chat(update, context, lambda chat, now: None)
        await query.answer()
        await edit_in_place(
            update,
            speaking_for(update, chat, language_text(chat)),
            keyboard=language_keyboard(chat),
        )
        return
    chat = await _choose(update, context, action.value)
    await query.answer(_("Saved."))
    await edit_in_place(
        update, speaking_for(update, chat, chosen_text(chat)), keyboard=language_keyboard(chat)
    )


async def news_languages_button(
    update: Update, context: NewsContext, action: callbacks.Setting
) -> None:
    """A news language button from /settings: show the list, or toggle one language."""
    query = update.callback_query
    assert query is not None
    valid = (SHOW_CHOICES, EVERY_LANGUAGE, *LANGUAGES)
    if action.value not in valid:
        await query.answer(_("This button has expired."))
        return
    if not await button_allowed(update, context):
        return
    code = None if action.value == EVERY_LANGUAGE else action.value

    def change(chat: Chat, now: datetime) -> None:
        if action.value != SHOW_CHOICES:
            toggle_news_language(chat, code, now=now)

    chat = await update_chat(update, context, change)
    await query.answer(_("Saved.") if action.value != SHOW_CHOICES else None)
    await edit_in_place(
        update,
        speaking_for(update, chat, news_languages_text(chat)),
        keyboard=news_languages_keyboard(chat),
    )
