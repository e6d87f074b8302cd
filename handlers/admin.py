"""/addsource, /removesource and /stats: for the bot's admins only."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.admin import AdminReport, add_feed, admin_report, remove_feed
from bot.render import html_escape
from bot.store.sources import SourceExists
from handlers.common import args_text, is_bot_admin, reply, services_of

ADMIN_ONLY = "This command is for the bot's administrators."


async def addsource(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Add a feed (admins only); it is fetched on the next poll."""
    if not is_bot_admin(update, context):
        await reply(update, ADMIN_ONLY)
        return
    url = args_text(context).strip()
    if not url.startswith(("http://", "https://")) or " " in url or len(url) > 2000:
        await reply(update, "Usage: /addsource URL — an http(s) address of an RSS or Atom feed.")
        return
    services = services_of(context)
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
        await reply(update, f"Already reading that feed (source {exc.source_id}).")
        return
    if new:
        await reply(
            update,
            f"Added source {source.id}: {html_escape(url)}\nIt will be fetched within a minute.",
        )
    else:
        await reply(
            update,
            f"Source {source.id} was switched off after failing; it is back on "
            "and will be fetched within a minute.",
        )


async def removesource(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remove a feed and its items (admins only)."""
    if not is_bot_admin(update, context):
        await reply(update, ADMIN_ONLY)
        return
    text = args_text(context).strip()
    if not text.isdigit() or len(text) > 12:
        await reply(update, "Usage: /removesource ID — the ID is shown by /sources.")
        return
    removed = await remove_feed(services_of(context).database, int(text))
    if removed is None:
        await reply(update, f"There is no source {text}. See /sources.")
        return
    await reply(update, f"Removed source {text}: {html_escape(removed)}")


def stats_text(report: AdminReport) -> str:
    """The /stats message."""
    lines = [
        "<b>Stats</b>",
        f"Chats: {report.chats} · active subscribers: {report.subscribers}"
        f" · inactive: {report.inactive}",
        f"Sources: {report.sources} ({report.failing} failing, {report.disabled} off)",
        f"Articles: {report.articles}",
        # Telegram took the message but its answer was lost: sent again, maybe seen twice.
        f"Sent again after a lost answer: {report.maybe_sent_twice}",
    ]
    for name, when in report.heartbeats:
        lines.append(f"Last {html_escape(name)}: {html_escape(when)}")
    if report.errors:
        lines += ["", "<b>Last fetch errors</b>"]
        lines += [
            f"{sid}. {html_escape(title)}: {html_escape(error[:150])}"
            for sid, title, error in report.errors
        ]
    return "\n".join(lines)


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Numbers an operator needs to see the bot is healthy (admins only)."""
    if not is_bot_admin(update, context):
        await reply(update, ADMIN_ONLY)
        return
    services = services_of(context)
    await reply(update, stats_text(await admin_report(services.database, now=services.clock.now())))
