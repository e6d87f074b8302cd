"""OPML files: one sent to the bot adds its feeds; /export sends the feeds back as one.

Whose feeds, as /addsource and /addfeed decide: in a private chat the bot's own
administrators (ADMIN_IDS) import and export the bot's feeds, read by every chat (even
while that chat manages a channel, as /addsource adds for everyone from there too).
Anywhere else, and for everyone else, it is the chat's own feeds (the channel a private
chat manages), when the operator allows them (USER_FEEDS), and in groups and channels
only their administrators import. A file in a group that expects none gets no answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Document, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import filters

from bot.i18n import _, ngettext
from bot.news.opml import (
    FileTooLarge,
    NoFeeds,
    NotOPML,
    OPMLError,
    OutlineFeed,
    TooManyOutlines,
    UnsafeXML,
    feed_list,
)
from bot.ops.feed_lists import (
    ImportReport,
    Outline,
    Refusal,
    Skip,
    feeds_opml,
    import_chat_feeds,
    import_shared_feeds,
)
from bot.services import NewsContext
from bot.store.models import Chat
from bot.ui.render import html_escape
from handlers.common import (
    ADMINS_ONLY,
    is_bot_admin,
    may_change_settings,
    reply,
    settings_chat,
    speaking_for,
)
from handlers.sources import USER_FEEDS_OFF

log = logging.getLogger(__name__)
# What Telegram apps and feed readers call an OPML file when they send one.
OPML_FILES = (
    filters.Document.FileExtension("opml")
    | filters.Document.FileExtension("xml")
    | filters.Document.MimeType("text/x-opml")
    | filters.Document.MimeType("application/xml")
    | filters.Document.MimeType("text/xml")
)
SHARED_FILE_NAME = "newsbot-sources.opml"
CHAT_FILE_NAME = "newsbot-chat-feeds.opml"
LISTED = 10  # lines shown for each part of an import's report; the rest are counted


@dataclass(frozen=True)
class Scope:
    """Whose feeds a file or /export is about: the bot's (chat None) or one chat's own."""

    chat: Chat | None


async def _scope(update: Update, context: NewsContext, *, changing: bool) -> Scope | None:
    """Whose feeds these are, or None once the sender has been told why they may not."""
    telegram_chat = update.effective_chat
    assert telegram_chat is not None
    private = telegram_chat.type == ChatType.PRIVATE
    if private and is_bot_admin(update, context):
        return Scope(None)
    if not context.services.settings.user_feeds:
        if changing and not private:
            return None  # a group's files are its members' business, not an import
        await reply(update, _(USER_FEEDS_OFF))
        return None
    if changing and not await may_change_settings(update, context):
        await reply(update, _(ADMINS_ONLY))
        return None
    async with context.services.database.session() as session:
        return Scope(await settings_chat(session, update, context))


async def upload(update: Update, context: NewsContext) -> None:
    """An OPML file: each of its feeds added, skipped or refused, or the whole file refused."""
    message = update.effective_message
    assert message is not None and message.document is not None
    scope = await _scope(update, context, changing=True)
    if scope is None:
        return
    settings = context.services.settings
    try:
        content = await _download(message.document, settings.opml_max_bytes)
        outlines = feed_list(
            content, max_bytes=settings.opml_max_bytes, max_feeds=settings.opml_max_feeds
        )
    except OPMLError as exc:
        log.info("OPML file %r refused: %s", message.document.file_name, exc)
        await reply(update, _speaking(update, scope, file_refusal(exc)))
        return
    except TelegramError as exc:
        log.warning("Could not download OPML file %r: %s", message.document.file_name, exc)
        await reply(update, _("I could not fetch that file from Telegram. Please send it again."))
        return
    report = await _import(update, context, scope, outlines)
    await reply(update, _speaking(update, scope, report_text(report, scope, context)))


async def _download(document: Document, limit: int) -> bytes:
    """The file's bytes; FileTooLarge, without downloading, when Telegram says it is."""
    if document.file_size is not None and document.file_size > limit:
        raise FileTooLarge(limit)
    try:
        file = await document.get_file()
    except BadRequest as exc:
        if "too big" in exc.message.lower():  # past what bots may download (20 MB)
            raise FileTooLarge(limit) from None
        raise
    return bytes(await file.download_as_bytearray())


async def _import(
    update: Update, context: NewsContext, scope: Scope, outlines: list[OutlineFeed]
) -> ImportReport:
    services = context.services
    settings = services.settings
    user = update.effective_user
    added_by = user.id if user else None
    if scope.chat is None:
        return await import_shared_feeds(
            services.database,
            outlines,
            now=services.clock.now(),
            added_by=added_by,
            interval_seconds=settings.feed_poll_interval,
        )
    return await import_chat_feeds(
        services.database,
        scope.chat.id,
        outlines,
        now=services.clock.now(),
        added_by=added_by,
        interval_seconds=settings.feed_poll_interval,
        limit=settings.user_feeds_max,
        allow_private=settings.fetch_allow_private,
    )


async def export(update: Update, context: NewsContext) -> None:
    """/export: the feeds as an OPML file, to keep or to open in any feed reader."""
    message = update.effective_message
    scope = await _scope(update, context, changing=False)
    if scope is None or message is None:
        return
    async with context.services.database.session() as session:
        document, count = await feeds_opml(session, scope.chat.id if scope.chat else None)
    if scope.chat is None:
        empty = _("No feeds yet. Add one with /addsource URL.")
        caption = ngettext(
            "The bot's {count} feed, as OPML: any feed reader can import it.",
            "The bot's {count} feeds, as OPML: any feed reader can import them.",
            count,
        )
    else:
        empty = _(
            "This chat has no feeds of its own yet. Add one with /addfeed URL, "
            "or send me an OPML file."
        )
        caption = ngettext(
            "This chat's {count} own feed, as OPML: any feed reader can import it.",
            "This chat's {count} own feeds, as OPML: any feed reader can import them.",
            count,
        )
    if count == 0:
        await reply(update, _speaking(update, scope, empty))
        return
    await message.reply_document(
        document=document.encode("utf-8"),
        filename=SHARED_FILE_NAME if scope.chat is None else CHAT_FILE_NAME,
        caption=_speaking(update, scope, caption.format(count=count)),
        do_quote=False,
    )


def _speaking(update: Update, scope: Scope, text: str) -> str:
    """Label a reply about a channel managed from here with the channel's name."""
    return text if scope.chat is None else speaking_for(update, scope.chat, text)


def file_refusal(error: OPMLError) -> str:
    """Why a whole file was refused, and that nothing changed."""
    if isinstance(error, FileTooLarge):
        text = _("That file is larger than {size}, too large for a feed list.").format(
            size=_size(error.limit)
        )
    elif isinstance(error, UnsafeXML):
        text = _(
            "That file declares XML entities, which a feed list never needs, so I did not read it."
        )
    elif isinstance(error, NotOPML):
        text = _("That file is XML, but not an OPML feed list.")
    elif isinstance(error, TooManyOutlines):
        text = ngettext(
            "That file lists more than {count} feed, more than I import at once.",
            "That file lists more than {count} feeds, more than I import at once.",
            error.limit,
        ).format(count=error.limit)
    elif isinstance(error, NoFeeds):
        text = _("That file lists no feeds: none of its outlines has an xmlUrl.")
    else:
        text = _("That file is not an OPML feed list: it is not even XML.")
    nothing = _("Nothing was changed.")
    return f"{text} {nothing}"


def _size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MB"
    return f"{limit // 1024} KB"


def report_text(report: ImportReport, scope: Scope, context: NewsContext) -> str:
    """What an import did: each feed added, skipped or refused, a few of each named."""
    lines = [_("<b>Feed list imported</b>")]
    if report.added:
        count = len(report.added)
        lines.append(
            ngettext("✅ Added {count} feed:", "✅ Added {count} feeds:", count).format(count=count)
        )
        lines += _listed([f"{o.source_id}. {_name(o)}" for o in report.added])
    if report.skipped:
        count = len(report.skipped)
        lines.append(
            ngettext("↩️ Skipped {count} feed:", "↩️ Skipped {count} feeds:", count).format(
                count=count
            )
        )
        lines += _listed([f"{_name(o)} — {_skip_reason(why, scope)}" for o, why in report.skipped])
    if report.refused:
        count = len(report.refused)
        lines.append(
            ngettext("⛔ Refused {count} feed:", "⛔ Refused {count} feeds:", count).format(
                count=count
            )
        )
        limit = context.services.settings.user_feeds_max
        lines += _listed([f"{_name(o)} — {_refusal(why, limit)}" for o, why in report.refused])
    if not report.added:
        lines.append(_("Nothing was added."))
    elif scope.chat is None:
        lines.append(_("They will be fetched within a minute."))
    else:
        lines.append(
            _("Only this chat sees their headlines. They will be fetched within a minute.")
        )
    return "\n".join(lines)


def _name(outline: Outline) -> str:
    if outline.title:
        return f"{html_escape(outline.title)} ({html_escape(outline.url)})"
    return html_escape(outline.url)


def _listed(lines: list[str]) -> list[str]:
    shown = [f"• {line}" for line in lines[:LISTED]]
    rest = len(lines) - LISTED
    if rest > 0:
        shown.append(ngettext("…and {count} more", "…and {count} more", rest).format(count=rest))
    return shown


def _skip_reason(why: Skip, scope: Scope) -> str:
    if why is Skip.REPEATED:
        # Translators: a feed of an imported file that the file lists twice.
        return _("listed twice in the file")
    if why is Skip.SHARED:
        return _("the bot reads it for everyone already")
    if scope.chat is None:
        return _("already one of the bot's feeds")
    return _("already one of this chat's feeds")


def _refusal(why: Refusal, limit: int) -> str:
    if why is Refusal.SCHEME:
        return _("not an http(s) address")
    if why is Refusal.PRIVATE:
        return _("on a private or local network, which this bot does not read")
    if why is Refusal.CHAT_FULL:
        return ngettext(
            "this chat has {count} feed of its own, the most it may",
            "this chat has {count} feeds of its own, the most it may",
            limit,
        ).format(count=limit)
    return _("not a valid address")
