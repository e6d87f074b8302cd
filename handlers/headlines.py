"""/latest and /topic: headline lists with a summary button per item and a "More" button."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot import callbacks
from bot.news.query import MAX_QUERY_CHARS, parse_query
from bot.news.text import truncate
from bot.news.trending import Topic
from bot.render import headline_keyboard, headline_message, html_escape, plural
from bot.store.articles import latest_articles, search_articles
from bot.story_lines import extra_sources, story_lines
from handlers.common import args_text, edit_in_place, load_chat, reply, services_of

DEFAULT_COUNT = 10
MAX_COUNT = 50
LATEST_USAGE = (
    f"Usage: /latest [N] — the N newest headlines, 1 to {MAX_COUNT} (default {DEFAULT_COUNT})."
)


class CountError(ValueError):
    """The N of /latest N is not usable; the message is the reply."""


def parse_count(text: str) -> tuple[int, str]:
    """The N of /latest N, capped at MAX_COUNT, and a note when it was capped."""
    text = text.strip()
    if not text:
        return DEFAULT_COUNT, ""
    if not text.lstrip("+-").isdigit() or len(text) > 12:
        raise CountError(f"“{html_escape(text[:30])}” is not a number. {LATEST_USAGE}")
    count = int(text)
    if count < 1:
        raise CountError(f"N must be at least 1. {LATEST_USAGE}")
    if count > MAX_COUNT:
        return MAX_COUNT, f"<i>At most {MAX_COUNT} at a time.</i>"
    return count, ""


async def latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the newest headlines, because that is what people open a news bot for."""
    try:
        count, note = parse_count(args_text(context))
    except CountError as exc:
        await reply(update, str(exc))
        return
    text, keyboard = await latest_page(context, update, offset=0, size=count)
    await reply(update, f"{note}\n{text}" if note else text, keyboard=keyboard)


async def latest_page(
    context: ContextTypes.DEFAULT_TYPE, update: Update, *, offset: int, size: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of /latest, one line per story, as text and buttons."""
    services = services_of(context)
    view = await load_chat(update, context)
    # Read ahead so that later copies of a story fold into its line, and read back so
    # that copies of a story shown on an earlier page are not shown again.
    window = size * 2 + 1
    back = min(offset, size * 2)
    async with services.database.session() as session:
        items = await latest_articles(session, limit=back + window, offset=offset - back)
    lines = [line for line in story_lines(items) if line.first_position >= back]
    if not lines:
        return ("No headlines yet." if offset == 0 else "No more headlines."), None
    shown, rest = lines[:size], lines[size:]
    more = None
    if rest or len(items) == back + window:
        consumed = (rest[0].first_position if rest else len(items)) - back
        more = callbacks.LatestPage(offset + consumed, size)
    page = [line.lead for line in shown]
    # Numbers run on across pages by the story's place in the newest-first list.
    start = offset + 1
    text = headline_message(
        "Latest headlines",
        page,
        now=services.clock.now(),
        zone=view.zone,
        start=start,
        extra_sources=extra_sources(shown),
    )
    return text, headline_keyboard(page, start=start, more=more)


async def topic(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Search the store, or list what is trending when no words are given."""
    words = args_text(context)
    if not words.strip():
        await trending(update, context)
        return
    text, keyboard = await topic_page(context, update, words, offset=0, size=DEFAULT_COUNT)
    await reply(update, text, keyboard=keyboard)


async def topic_page(
    context: ContextTypes.DEFAULT_TYPE, update: Update, words: str, *, offset: int, size: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of /topic results as text and buttons."""
    services = services_of(context)
    view = await load_chat(update, context)
    query = parse_query(words)
    shown = html_escape(truncate(query.text, 60))
    if query.is_empty:
        return (
            "Give me some words to look for, e.g. <code>/topic iran nuclear</code> "
            "or a phrase in quotes."
        ), None
    async with services.database.session() as session:
        result = await search_articles(
            session, query, limit=size, offset=offset, now=services.clock.now()
        )
    if not result.headlines:
        if offset:
            return "No more matches.", None
        return await _no_match(context, shown)
    heading = f"Topic: {truncate(query.text, 60)}"
    footer = ""
    if len(words) > MAX_QUERY_CHARS:
        footer = f"<i>Only the first {MAX_QUERY_CHARS} characters were searched.</i>"
    if result.mode == "any":
        footer = (
            f"<i>Nothing has all of “{shown}”; these match some of the words.</i>\n" + footer
        ).strip()
    more = callbacks.TopicPage(offset + size, size, query.text) if result.has_more else None
    text = headline_message(
        heading,
        result.headlines,
        now=services.clock.now(),
        zone=view.zone,
        start=offset + 1,
        footer=footer,
    )
    return text, headline_keyboard(result.headlines, start=offset + 1, more=more)


async def _no_match(
    context: ContextTypes.DEFAULT_TYPE, shown: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    topics = await _trending(context)
    text = f"Nothing matches “{shown}”."
    if topics:
        text += " Trending now:"
    return text, _topic_buttons(topics)


async def _trending(context: ContextTypes.DEFAULT_TYPE) -> list[Topic]:
    services = services_of(context)
    return await services.trends.topics(
        services.database, services.settings, now=services.clock.now()
    )


def _topic_buttons(topics: list[Topic]) -> InlineKeyboardMarkup | None:
    buttons = []
    for item in topics:
        data = callbacks.encode(callbacks.TopicPage(0, DEFAULT_COUNT, item.query))
        if data:
            buttons.append(InlineKeyboardButton(f"{item.label} ({item.count})", callback_data=data))
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup(rows) if rows else None


async def trending(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the topics of the last hours as buttons, so a tap searches them."""
    topics = await _trending(context)
    hours = services_of(context).settings.trending_window_hours
    if not topics:
        await reply(
            update,
            f"Nothing is trending in the last {plural(hours, 'hour')} yet. "
            "Try <code>/topic WORDS</code> or /latest.",
        )
        return
    await reply(
        update,
        f"<b>Trending in the last {plural(hours, 'hour')}</b>\nTap a topic to see its headlines.",
        keyboard=_topic_buttons(topics),
    )


async def show_page(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    action: callbacks.LatestPage | callbacks.TopicPage,
) -> None:
    """A "More" or topic button: edit the list in place rather than sending a new message."""
    query = update.callback_query
    assert query is not None
    size = min(max(action.size, 1), MAX_COUNT)
    if isinstance(action, callbacks.LatestPage):
        text, keyboard = await latest_page(context, update, offset=action.offset, size=size)
    else:
        text, keyboard = await topic_page(
            context, update, action.query, offset=action.offset, size=size
        )
    await query.answer()
    if query.message is not None and action.offset > 0:
        await edit_in_place(update, text, keyboard=keyboard)
    else:
        await reply(update, text, keyboard=keyboard)
