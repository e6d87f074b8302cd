"""/latest and /topic: headline lists with a summary button per item and a "More" button."""

from __future__ import annotations

from datetime import tzinfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.i18n import _, current_language, ngettext
from bot.news.language import ENGLISH
from bot.news.query import MAX_QUERY_CHARS, SearchQuery, parse_query
from bot.news.rules import Rule, sifting
from bot.news.text import truncate
from bot.news.trending import Topic
from bot.schedule.times import zone_info
from bot.services import NewsContext
from bot.store.articles import Headline, latest_articles, latest_for_chat
from bot.store.chats import ChatGlance, chat_glance, chat_rules, news_languages, rules_of
from bot.store.search import SearchResult, search_articles
from bot.stories.lines import extra_sources, in_chosen_order
from bot.ui import callbacks
from bot.ui.render import button, headline_keyboard, headline_message, html_escape, quoted
from handlers.common import (
    args_text,
    chat_title,
    chat_view,
    edit_in_place,
    load_chat,
    reply,
)

DEFAULT_COUNT = 10
MAX_COUNT = 50
# How many of the newest items /latest pages through: enough for several full pages.
LATEST_WINDOW = 150


class CountError(ValueError):
    """The N of /latest N is not usable; the message is the reply."""


def latest_usage() -> str:
    """How /latest is used, in the reader's language."""
    return _(
        "Usage: /latest [N] — the N newest headlines, 1 to {most} (default {default})."
    ).format(most=MAX_COUNT, default=DEFAULT_COUNT)


def parse_count(text: str) -> tuple[int, str]:
    """The N of /latest N, capped at MAX_COUNT, and a note when it was capped."""
    text = text.strip()
    if not text:
        return DEFAULT_COUNT, ""
    if not text.lstrip("+-").isdigit() or len(text) > 12:
        # Translators: {text} is what was typed after /latest, in quotes.
        wrong = _("{text} is not a number.").format(text=quoted(text[:30]))
        raise CountError(f"{wrong} {latest_usage()}")
    count = int(text)
    if count < 1:
        too_few = _("N must be at least 1.")
        raise CountError(f"{too_few} {latest_usage()}")
    if count > MAX_COUNT:
        return MAX_COUNT, _("<i>At most {count} at a time.</i>").format(count=MAX_COUNT)
    return count, ""


async def latest(update: Update, context: NewsContext) -> None:
    """Show the newest headlines, because that is what people open a news bot for."""
    try:
        count, note = parse_count(args_text(context))
    except CountError as exc:
        await reply(update, str(exc))
        return
    text, keyboard = await latest_page(context, update, callbacks.LatestPage(0, count))
    await reply(update, f"{note}\n{text}" if note else text, keyboard=keyboard)


async def latest_page(
    context: NewsContext, update: Update, page: callbacks.LatestPage
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of /latest, one line per story, numbered on from the page before."""
    services = context.services
    # Every page groups the same window (the newest items as the first page saw them), so
    # a story falls on exactly one page and its number never changes while paging. The
    # chat's row is read with it, in the same query while the row needs no change.
    async with services.database.reading() as session:
        found = await _current_window(session, update, context, page.anchor)
    if found is None:
        async with services.database.session() as session:
            found = await _refreshed_window(session, update, context, page.anchor)
    items, zone, newest_first, rules = found
    # Shared with every chat that reads the same window until the next ingest changes it.
    kept = (await services.stories.sift(rules, items)).kept
    ranked = await services.stories.story_lines(kept)
    lines = in_chosen_order(ranked, newest_first=newest_first)
    shown = lines[page.offset : page.offset + page.size]
    if not shown:
        return (_("No headlines yet.") if page.offset == 0 else _("No more headlines.")), None
    anchor = page.anchor if page.anchor is not None else max(item.id for item in items)
    more = back = None
    if page.offset + page.size < len(lines):
        more = callbacks.LatestPage(page.offset + page.size, page.size, anchor)
    if page.offset > 0:
        back = callbacks.LatestPage(max(0, page.offset - page.size), page.size, anchor)
    leads = [line.lead for line in shown]
    start = page.offset + 1
    text = headline_message(
        _("Latest headlines"),
        leads,
        now=services.clock.now(),
        zone=zone,
        start=start,
        extra_sources=extra_sources(shown),
    )
    keyboard = headline_keyboard(
        leads, start=start, more=more, back=back, extra_sources=extra_sources(shown)
    )
    return text, keyboard


async def _current_window(
    session: AsyncSession, update: Update, context: NewsContext, anchor: int | None
) -> tuple[tuple[Headline, ...], tzinfo, bool, tuple[Rule, ...]] | None:
    """The chat's /latest window, its zone, whether it wants stories newest first and the
    rules that sift lists, read by one query (a second one the rules, only for a chat that
    has some); None when the chat's row would change (a first contact, a new title)."""
    telegram_chat = update.effective_chat
    assert telegram_chat is not None
    window = await latest_for_chat(session, telegram_chat.id, limit=LATEST_WINDOW, up_to_id=anchor)
    if window is None or not window.chat.is_current(chat_title(telegram_chat)):
        return None
    glance = window.chat
    rules = await _list_rules(session, telegram_chat.id, glance)
    known = context.services.stories.window(window.rows)
    return known, zone_info(glance.timezone), glance.newest_first, rules


async def _refreshed_window(
    session: AsyncSession, update: Update, context: NewsContext, anchor: int | None
) -> tuple[tuple[Headline, ...], tzinfo, bool, tuple[Rule, ...]]:
    """What _current_window reads, with the chat's row made or refreshed first, as every
    command does."""
    view = await chat_view(session, update, context)
    items = await latest_articles(
        session,
        limit=LATEST_WINDOW,
        up_to_id=anchor,
        chat_id=view.chat.id,
        languages=news_languages(view.chat),
    )
    return tuple(items), view.zone, view.chat.newest_first, sifting(rules_of(view.chat))


async def _list_rules(session: AsyncSession, chat_id: int, glance: ChatGlance) -> tuple[Rule, ...]:
    """The rules that sift the chat's lists; nothing is read for a chat without any."""
    return sifting(await chat_rules(session, chat_id)) if glance.filtered else ()


async def _current_zone_and_rules(
    session: AsyncSession, update: Update
) -> tuple[tzinfo, tuple[Rule, ...]] | None:
    """The chat's zone and the rules that sift its lists; None when the chat's row would
    change (a first contact, a new title)."""
    telegram_chat = update.effective_chat
    assert telegram_chat is not None
    glance = await chat_glance(session, telegram_chat.id)
    if glance is None or not glance.is_current(chat_title(telegram_chat)):
        return None
    return zone_info(glance.timezone), await _list_rules(session, telegram_chat.id, glance)


async def topic(update: Update, context: NewsContext) -> None:
    """Search the store, or list what is trending when no words are given."""
    words = args_text(context)
    if not words.strip():
        await trending(update, context)
        return
    text, keyboard = await topic_page(context, update, words, offset=0, size=DEFAULT_COUNT)
    await reply(update, text, keyboard=keyboard)


async def topic_page(
    context: NewsContext, update: Update, words: str, *, offset: int, size: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of /topic results as text and buttons."""
    services = context.services
    # Read as the chat's language and English: a German plural is found by its German stem.
    query = parse_query(words, (current_language(), ENGLISH))
    shown = html_escape(truncate(query.text, 60))
    if query.is_empty:
        await load_chat(update, context)  # a first contact still gets its chat's row
        return _(
            "Give me some words to look for, e.g. <code>/topic iran nuclear</code> "
            "or a phrase in quotes."
        ), None
    zone, rules, result = await _search(context, update, query, offset=offset, size=size)
    # The page is sifted as it is shown, so a rule may leave it shorter than the others.
    found = (await services.stories.sift(rules, tuple(result.headlines))).kept
    if not found:
        if offset:
            return _("No more matches."), None
        return await _no_match(context, shown)
    heading = _("Topic: {words}").format(words=truncate(query.text, 60))
    notes = []
    if result.mode == "any":
        notes.append(
            _("<i>Nothing has all of “{words}”; these match some of the words.</i>").format(
                words=shown
            )
        )
    if len(words) > MAX_QUERY_CHARS:
        notes.append(
            ngettext(
                "<i>Only the first {count} character was searched.</i>",
                "<i>Only the first {count} characters were searched.</i>",
                MAX_QUERY_CHARS,
            ).format(count=MAX_QUERY_CHARS)
        )
    footer = "\n".join(notes)
    more = callbacks.TopicPage(offset + size, size, query.text) if result.has_more else None
    text = headline_message(
        heading,
        list(found),
        now=services.clock.now(),
        zone=zone,
        start=offset + 1,
        footer=footer,
    )
    keyboard = headline_keyboard(list(found), start=offset + 1, more=more)
    return text, _with_alert_button(keyboard, query.text) if offset == 0 else keyboard


async def _search(
    context: NewsContext, update: Update, query: SearchQuery, *, offset: int, size: int
) -> tuple[tzinfo, tuple[Rule, ...], SearchResult]:
    """The chat's zone, the rules that sift its lists and one page of matches, read without
    a transaction while the chat's row needs no change."""
    services = context.services
    telegram_chat = update.effective_chat
    assert telegram_chat is not None

    async def search(session: AsyncSession) -> SearchResult:
        return await search_articles(
            session,
            query,
            limit=size,
            offset=offset,
            now=services.clock.now(),
            chat_id=telegram_chat.id,
        )

    async with services.database.reading() as session:
        current = await _current_zone_and_rules(session, update)
        if current is not None:
            return *current, await search(session)
    # A first contact or a new title: the chat's row is made or refreshed first.
    async with services.database.session() as session:
        view = await chat_view(session, update, context)
        return view.zone, sifting(rules_of(view.chat)), await search(session)


def _with_alert_button(
    keyboard: InlineKeyboardMarkup | None, words: str
) -> InlineKeyboardMarkup | None:
    """The first page's buttons and "Alert me" on the same words, where they fit a button."""
    data = callbacks.encode(callbacks.AlertMe(words))
    if data is None:
        return keyboard
    rows = [list(row) for row in keyboard.inline_keyboard] if keyboard else []
    rows.append([button(_("🔔 Alert me"), data)])
    return InlineKeyboardMarkup(rows)


async def _no_match(context: NewsContext, shown: str) -> tuple[str, InlineKeyboardMarkup | None]:
    topics = await _trending(context)
    if topics:
        text = _("Nothing matches “{words}”. Trending now:").format(words=shown)
    else:
        text = _("Nothing matches “{words}”.").format(words=shown)
    return text, _topic_buttons(topics)


async def _trending(context: NewsContext) -> list[Topic]:
    services = context.services
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


async def trending(update: Update, context: NewsContext) -> None:
    """List the topics of the last hours as buttons, so a tap searches them."""
    topics = await _trending(context)
    hours = context.services.settings.trending_window_hours
    if not topics:
        await reply(
            update,
            ngettext(
                "Nothing is trending in the last {count} hour yet. "
                "Try <code>/topic WORDS</code> or /latest.",
                "Nothing is trending in the last {count} hours yet. "
                "Try <code>/topic WORDS</code> or /latest.",
                hours,
            ).format(count=hours),
        )
        return
    await reply(
        update,
        ngettext(
            "<b>Trending in the last {count} hour</b>\nTap a topic to see its headlines.",
            "<b>Trending in the last {count} hours</b>\nTap a topic to see its headlines.",
            hours,
        ).format(count=hours),
        keyboard=_topic_buttons(topics),
    )


async def show_page(
    update: Update,
    context: NewsContext,
    action: callbacks.LatestPage | callbacks.TopicPage,
) -> None:
    """A "More" or topic button: edit the list in place rather than sending a new message."""
    query = update.callback_query
    assert query is not None
    size = min(max(action.size, 1), MAX_COUNT)
    if isinstance(action, callbacks.LatestPage):
        page = callbacks.LatestPage(action.offset, size, action.anchor)
        text, keyboard = await latest_page(context, update, page)
    else:
        text, keyboard = await topic_page(
            context, update, action.query, offset=action.offset, size=size
        )
    await query.answer()
    # /latest's buttons only sit on its own list; a topic's first page opens from elsewhere.
    in_place = isinstance(action, callbacks.LatestPage) or action.offset > 0
    if query.message is not None and in_place:
        await edit_in_place(update, text, keyboard=keyboard)
    else:
        await reply(update, text, keyboard=keyboard)
