"""/filter, /filters, /unfilter: a chat's rules, which items reach it and which lead.

`/filter include|exclude|follow PATTERN [in SOURCE_ID] [in title|text]`: the qualifiers
are read off the end, so words that would read as one ("made in 12") go in quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.i18n import N_, _, ngettext
from bot.news.rules import (
    ACTION_WORDS,
    ALERT,
    BOTH,
    INCLUDE,
    MAX_PATTERN_CHARS,
    MUTE,
    TEXT,
    TITLE,
    InvalidPattern,
    NothingToFind,
    Pattern,
    PatternTooLong,
    Rule,
    read_pattern,
)
from bot.services import NewsContext
from bot.store.chat_sources import source_choices
from bot.store.chats import MAX_TOPICS, TooManyTopics, add_rule, drop_rule, rule_of, rules_of
from bot.store.models import Chat
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

_QUALIFIER = re.compile(r"\s+in\s+(\d{1,12}|title|text)\s*$", re.IGNORECASE | re.ASCII)
FILTER_USAGE = N_(
    "Usage: /filter include|exclude|follow PATTERN [in SOURCE_ID] [in title|text]\n"
    "PATTERN is words, a “phrase” in quotes, or a regular expression /…/ "
    "(/…/i ignores case). Examples:\n"
    "<code>/filter include climate</code>\n"
    "<code>/filter exclude /\\bcrypto/i in title</code>\n"
    '<code>/filter include "world cup" in 3</code> (3: a source\'s ID in /sources)\n'
    "With an include rule, only headlines that match one reach this chat; "
    "an exclude always wins."
)
UNFILTER_USAGE = N_("Usage: /unfilter N — the number of a rule in /filters.")


@dataclass(frozen=True)
class FilterRequest:
    """What /filter was asked: an action and a pattern, the source and field still as typed."""

    action: str
    pattern: str
    source_id: int | None
    field: str


def read_request(text: str) -> FilterRequest | None:
    """The action, pattern, source and field of `/filter ...`; None if it does not read."""
    action_word, _space, rest = text.strip().partition(" ")
    action = ACTION_WORDS.get(action_word.lower())
    if action is None:
        return None
    source_id: int | None = None
    field: str | None = None
    while found := _QUALIFIER.search(rest):
        qualifier = found.group(1).lower()
        if qualifier.isdigit() and source_id is None:
            source_id = int(qualifier)
        elif qualifier in (TITLE, TEXT) and field is None:
            field = qualifier
        else:
            break
        rest = rest[: found.start()]
    rest = rest.strip()
    return FilterRequest(action, rest, source_id, field or BOTH) if rest else None


def rule_text(rule: Rule) -> str:
    """A rule as /filters and the replies show it: action, pattern, where it looks."""
    pattern = rule.pattern
    shown = f"<code>{html_escape(pattern.text)}</code>"
    if rule.action == INCLUDE:
        text = _("include {pattern}").format(pattern=shown)
    elif rule.action == MUTE:
        text = _("exclude {pattern}").format(pattern=shown)
    elif rule.action == ALERT:
        text = _("alert on {pattern}").format(pattern=shown)
    else:
        text = _("follow {pattern}").format(pattern=shown)
    if pattern.field == TITLE:
        text += " · " + _("in titles")
    elif pattern.field == TEXT:
        text += " · " + _("in texts")
    if pattern.source_id is not None:
        text += " · " + _("source {id}").format(id=pattern.source_id)
    return text


def _refusal(exc: InvalidPattern) -> str:
    if isinstance(exc, PatternTooLong):
        return ngettext(
            "That pattern is too long: at most {count} character.",
            "That pattern is too long: at most {count} characters.",
            MAX_PATTERN_CHARS,
        ).format(count=MAX_PATTERN_CHARS)
    if isinstance(exc, NothingToFind):
        return _("That pattern has no words to look for.") + "\n\n" + _(FILTER_USAGE)
    # Translators: {reason} is the regular expression engine's own message, in English.
    return _("That regular expression cannot be used: {reason}").format(
        reason=f"<code>{html_escape(str(exc))}</code>"
    )


def pattern_of(request: FilterRequest) -> Pattern | str:
    """The pattern asked for, or the reply saying why it cannot be used."""
    try:
        text, kind = read_pattern(request.pattern)
    except InvalidPattern as exc:
        return _refusal(exc)
    return Pattern(text, kind, request.source_id, request.field)


async def filter_command(update: Update, context: NewsContext) -> None:
    """Add a rule, so a chat reads only what it wants, or never what it does not."""
    await add_requested_rule(update, context, read_request(args_text(context)), _(FILTER_USAGE))


async def add_requested_rule(
    update: Update, context: NewsContext, request: FilterRequest | None, usage: str
) -> Rule | None:
    """Add the rule a command asked for and reply how it went; the rule if it was added."""
    if not await may_change_settings(update, context):
        await reply(update, _(ADMINS_ONLY))
        return None
    if request is None:
        await reply(update, usage)
        return None
    pattern = pattern_of(request)
    if isinstance(pattern, str):
        await reply(update, pattern)
        return None
    rule = Rule(request.action, pattern)
    added = None
    async with context.services.database.session() as session:
        chat = await settings_chat(session, update, context)
        if pattern.source_id is not None and pattern.source_id not in {
            choice.id for choice in await source_choices(session, chat.id)
        }:
            text = _("There is no source {id} among this chat's sources. See /sources.").format(
                id=pattern.source_id
            )
        else:
            text, added = await added_rule(session, chat, rule)
    await reply(update, speaking_for(update, chat, text))
    return rule if added else None


async def added_rule(session: AsyncSession, chat: Chat, rule: Rule) -> tuple[str, bool]:
    """Add a rule: the reply (its number, or why it was not added), and whether it was."""
    try:
        added = await add_rule(session, chat, rule)
    except TooManyTopics:
        return ngettext(
            "This chat already has {count} rule, the most it may. Remove some in /filters.",
            "This chat already has {count} rules, the most it may. Remove some in /filters.",
            MAX_TOPICS,
        ).format(count=MAX_TOPICS), False
    if not added:
        return _("This chat already has that rule. See /filters."), False
    number = rules_of(chat).index(rule) + 1
    return _("Rule {number} added: {rule}.").format(number=number, rule=rule_text(rule)), True


def matches_text(count: int) -> str:
    """How many of the last day's items a rule matched, as /filters and /alerts say it."""
    return ngettext(
        "{count} match in the last 24 hours", "{count} matches in the last 24 hours", count
    ).format(count=count)


async def _rules_view(
    update: Update, context: NewsContext
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The /filters message: each rule with what it matched of the last day, a delete
    button each."""
    services = context.services
    async with services.database.session() as session:
        chat = await settings_chat(session, update, context)
        rows = [(topic.id, rule_of(topic)) for topic in chat.topics]
        counts = await rule_counts(
            session,
            services.stories,
            chat.id,
            [rule.pattern for _id, rule in rows],
            now=services.clock.now(),
        )
    if not rows:
        text = _("No rules yet. Add one with /filter, e.g. <code>/filter exclude football</code>.")
        return speaking_for(update, chat, text), None
    lines = [_("<b>Rules</b>")]
    for number, ((_id, rule), count) in enumerate(zip(rows, counts, strict=True), start=1):
        lines.append(f"{number}. {rule_text(rule)} — {matches_text(count)}")
    lines += ["", _("<i>An exclude wins over an include. Tap 🗑 N to delete rule N.</i>")]
    buttons = [
        InlineKeyboardButton(
            f"🗑 {number}", callback_data=callbacks.encode(callbacks.RuleDelete(id_))
        )
        for number, (id_, _rule) in enumerate(rows, start=1)
    ]
    rows_of_buttons = [
        buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)
    ]
    return speaking_for(update, chat, "\n".join(lines)), InlineKeyboardMarkup(rows_of_buttons)


async def filters_command(update: Update, context: NewsContext) -> None:
    """List the chat's rules, so a reader sees what shapes what reaches them."""
    text, keyboard = await _rules_view(update, context)
    await reply(update, text, keyboard=keyboard)


async def unfilter(update: Update, context: NewsContext) -> None:
    """Delete rule N of /filters."""
    if not await may_change_settings(update, context):
        await reply(update, _(ADMINS_ONLY))
        return
    typed = args_text(context)
    if not (typed.isascii() and typed.isdigit() and 0 < len(typed) < 4 and int(typed) > 0):
        await reply(update, _(UNFILTER_USAGE))
        return
    number = int(typed)
    async with context.services.database.session() as session:
        chat = await settings_chat(session, update, context)
        topics = list(chat.topics)
        removed = (
            await drop_rule(session, chat, topics[number - 1].id) if number <= len(topics) else None
        )
    if removed is None:
        text = _("There is no rule {number}. See /filters.").format(number=number)
    else:
        text = _("Rule {number} deleted: {rule}.").format(number=number, rule=rule_text(removed))
    await reply(update, speaking_for(update, chat, text))


async def delete_button(update: Update, context: NewsContext, action: callbacks.RuleDelete) -> None:
    """A /filters button: delete that rule, then show the list again."""
    query = update.callback_query
    assert query is not None
    if not await button_allowed(update, context):
        return
    async with context.services.database.session() as session:
        chat = await settings_chat(session, update, context)
        removed = await drop_rule(session, chat, action.rule_id)
    await query.answer(_("Rule deleted.") if removed else _("That rule was already deleted."))
    text, keyboard = await _rules_view(update, context)
    await edit_in_place(update, text, keyboard=keyboard)
