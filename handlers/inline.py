"""Inline mode: "@botname words" in any chat offers matching headlines to share there.

Telegram only sends inline queries once inline mode is switched on with @BotFather
(/setinline); the README says how.
"""

from __future__ import annotations

from html import escape

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode

from bot.i18n import _, current_language
from bot.news.language import ENGLISH
from bot.news.query import parse_query
from bot.news.rules import sifting
from bot.services import NewsContext
from bot.store.articles import Headline, latest_articles
from bot.store.chats import chat_rules
from bot.store.search import search_articles
from bot.stories.lines import extra_sources
from bot.ui.render import age_text, html_escape, more_sources_text
from bot.ui.user_input import normalize_input
from handlers.common import NO_PREVIEW
from handlers.headlines import LATEST_WINDOW

RESULTS = 10
# How long Telegram may serve an answer from its cache: news moves, so not long.
CACHE_SECONDS = 60
MAX_OFFSET = 200


def _result(headline: Headline, age: str, more: int = 0) -> InlineQueryResultArticle:
    details = f"{headline.source} · {age}"
    if more:
        details += f" · {more_sources_text(more)}"
    untitled = _("(untitled)")
    title = html_escape(headline.title or untitled)
    if headline.url:
        title = f'<a href="{escape(headline.url, quote=True)}">{title}</a>'
    return InlineQueryResultArticle(
        id=str(headline.id),
        title=headline.title or untitled,
        description=details,
        url=headline.url,
        thumbnail_url=headline.image,
        input_message_content=InputTextMessageContent(
            f"<b>{title}</b>\n<i>{html_escape(details)}</i>",
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
        ),
    )


async def on_inline_query(update: Update, context: NewsContext) -> None:
    """Answer with headlines matching the words typed, or else the stories most outlets
    report, one result per story; the rules of the user's private chat sift both."""
    query = update.inline_query
    assert query is not None
    services = context.services
    now = services.clock.now()
    words = normalize_input(query.query)
    offset = min(int(query.offset), MAX_OFFSET) if query.offset.isdigit() else 0
    # The user's private chat with the bot holds their choice of sources.
    reader = query.from_user.id
    extra: dict[int, int] = {}
    async with services.database.session() as session:
        searched = parse_query(words, (current_language(), ENGLISH))
        rules = sifting(await chat_rules(session, reader))
        if not searched.is_empty:
            found = await search_articles(
                session, searched, limit=RESULTS, offset=offset, now=now, chat_id=reader
            )
            headlines, more = found.headlines, found.has_more
        else:
            window = await latest_articles(session, limit=LATEST_WINDOW, chat_id=reader)
    if not searched.is_empty:
        headlines = list((await services.stories.sift(rules, tuple(headlines))).kept)
    else:
        # The same ranked stories /latest shows, shared with every reader of that window.
        kept = (await services.stories.sift(rules, tuple(window))).kept
        lines = (await services.stories.story_lines(kept))[offset : offset + RESULTS + 1]
        more = len(lines) > RESULTS
        headlines = [line.lead for line in lines[:RESULTS]]
        extra = extra_sources(lines[:RESULTS])
    next_offset = str(offset + RESULTS) if more and offset + RESULTS <= MAX_OFFSET else None
    await query.answer(
        [_result(h, age_text(h.published_at, now), extra.get(h.id, 0)) for h in headlines],
        cache_time=CACHE_SECONDS,
        next_offset=next_offset,
    )
