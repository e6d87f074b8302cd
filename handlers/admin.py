"""/addsource, /removesource and /stats: for the bot's admins only."""

from __future__ import annotations

from telegram import Update

from bot.i18n import N_, _
from bot.news.http.errors import InvalidURL
from bot.news.http.policy import checked_feed_url
from bot.ops.admin import AdminReport, add_feed, admin_report, remove_feed
from bot.services import NewsContext
from bot.store.sources import SourceExists
from bot.ui.render import html_escape
from handlers.common import args_text, is_bot_admin, reply

ADMIN_ONLY = N_("This command is for the bot's administrators.")


async def addsource(update: Update, context: NewsContext) -> None:
    """Add a feed (admins only); it is fetched on the next poll."""
    if not is_bot_admin(update, context):
        await reply(update, _(ADMIN_ONLY))
        return
    url = args_text(context).strip()
    if not url or " " in url or not _is_feed_url(url):
        await reply(update, _("Usage: /addsource URL — an http(s) address of an RSS or Atom feed."))
        return
    services = context.services
    user = update.effective_user
    try:
        source, new = await add_feed(
            services.database,
            url,
            now=services.clock.now(),
            added_by=user.id if user else None,
            interval_seconds=services.settings.feed_poll_interval,
        )
    except SourceExists as exc:
        await reply(update, _("Already reading that feed (source {id}).").format(id=exc.source_id))
        return
    if new:
        await reply(
            update,
            _("Added source {id}: {url}\nIt will be fetched within a minute.").format(
                id=source.id, url=html_escape(url)
            ),
        )
    else:
        await reply(
            update,
            _(
                "Source {id} was switched off after failing; it is back on "
                "and will be fetched within a minute."
            ).format(id=source.id),
        )


def _is_feed_url(url: str) -> bool:
    """Whether an admin may add this address (private ones too: admins trust their feeds)."""
    try:
        checked_feed_url(url, allow_private=True)
    except InvalidURL:
        return False
    return True


async def removesource(update: Update, context: NewsContext) -> None:
    """Remove a feed and its items (admins only)."""
    if not is_bot_admin(update, context):
        await reply(update, _(ADMIN_ONLY))
        return
    text = args_text(context).strip()
    if not text.isdigit() or len(text) > 12:
        await reply(update, _("Usage: /removesource ID — the ID is shown by /sources."))
        return
    removed = await remove_feed(context.services.database, int(text))
    if removed is None:
        await reply(update, _("There is no source {id}. See /sources.").format(id=text))
        return
    await reply(update, _("Removed source {id}: {url}").format(id=text, url=html_escape(removed)))


def stats_text(report: AdminReport) -> str:
    """The /stats message."""
    lines = [
        _("<b>Stats</b>"),
        _("Chats: {chats} · active subscribers: {subscribers} · inactive: {inactive}").format(
            chats=report.chats, subscribers=report.subscribers, inactive=report.inactive
        ),
        _("Sources: {sources} ({failing} failing, {disabled} off)").format(
            sources=report.sources, failing=report.failing, disabled=report.disabled
        ),
        _("Articles: {count}").format(count=report.articles),
        # Translators: Telegram took a message but its answer was lost, so it was sent again
        # and may have been seen twice; {count} is how many.
        _("Sent again after a lost answer: {count}").format(count=report.maybe_sent_twice),
    ]
    for name, when in report.heartbeats:
        # Translators: {job} is a background job's English name ("dispatch", "ingest");
        # {when} is how long ago it last ran ("5m ago").
        lines.append(_("Last {job}: {when}").format(job=html_escape(name), when=html_escape(when)))
    if report.errors:
        lines += ["", _("<b>Last fetch errors</b>")]
        lines += [
            f"{sid}. {html_escape(title)}: {html_escape(error[:150])}"
            for sid, title, error in report.errors
        ]
    return "\n".join(lines)


async def stats(update: Update, context: NewsContext) -> None:
    """Numbers an operator needs to see the bot is healthy (admins only)."""
    if not is_bot_admin(update, context):
        await reply(update, _(ADMIN_ONLY))
        return
    services = context.services
    await reply(update, stats_text(await admin_report(services.database, now=services.clock.now())))
