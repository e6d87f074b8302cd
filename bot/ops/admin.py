"""What the bot's administrators manage and watch: feeds and the health figures of /stats."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot
from telegram.error import TelegramError

from bot.i18n import _
from bot.ingest.poller import SourceReport
from bot.store.articles import count_articles
from bot.store.chat_sources import share_feed
from bot.store.chats import chat_counts
from bot.store.db import Database
from bot.store.meta import heartbeats, maybe_sent_total
from bot.store.models import Source
from bot.store.sources import SourceExists, add_source, reactivate, remove_source, source_statuses
from bot.ui.render import age_text, html_escape

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdminReport:
    """The figures /stats shows."""

    chats: int
    subscribers: int
    inactive: int
    sources: int
    failing: int
    disabled: int
    articles: int
    maybe_sent_twice: int
    heartbeats: list[tuple[str, str]]
    errors: list[tuple[int, str, str]]


async def add_feed(
    database: Database, url: str, *, now: datetime, added_by: int | None, interval_seconds: int
) -> tuple[Source, bool]:
    """Add a feed an admin trusts (it may be on a private address), or switch a known one
    back on; return it and whether it is new to everyone. A chat's own feed becomes one
    every chat reads. SourceExists if it is known, shared and running."""
    async with database.session() as session:
        return await admit_feed(
            session, url, now=now, added_by=added_by, interval_seconds=interval_seconds
        )


async def admit_feed(
    session: AsyncSession,
    url: str,
    *,
    now: datetime,
    added_by: int | None,
    interval_seconds: int,
    title: str = "",
) -> tuple[Source, bool]:
    """`add_feed` inside a unit of work the caller holds (an import adds many in one)."""
    try:
        return await add_source(
            session,
            url,
            now=now,
            title=title,
            added_by=added_by,
            allow_private=True,
            interval_seconds=interval_seconds,
        ), True
    except SourceExists as exc:
        if exc.source.user_feed:
            await share_feed(session, exc.source)
            exc.source.allow_private = True
            reactivate(exc.source, now=now)
            return exc.source, True
        if exc.source.active:
            raise
        reactivate(exc.source, now=now)
        return exc.source, False


async def remove_feed(database: Database, source_id: int) -> str | None:
    """Remove a feed and its items; its URL, or None if there was no such feed."""
    async with database.session() as session:
        removed = await remove_source(session, source_id)
        return removed.url if removed else None


async def admin_report(database: Database, *, now: datetime) -> AdminReport:
    """Counts, job heartbeats and the latest fetch errors."""
    async with database.session() as session:
        counts = await chat_counts(session)
        statuses = [s for s in await source_statuses(session) if s.kind == "feed"]
        articles = await count_articles(session)
        beats = await heartbeats(session)
        maybe_sent = await maybe_sent_total(session)
    failing = [s for s in statuses if s.error_count and s.active]
    return AdminReport(
        chats=counts.chats,
        subscribers=counts.subscribers,
        inactive=counts.inactive,
        sources=len(statuses),
        failing=len(failing),
        disabled=sum(1 for s in statuses if not s.active),
        articles=articles,
        maybe_sent_twice=maybe_sent,
        heartbeats=[(name, age_text(when, now)) for name, when in sorted(beats.items())],
        errors=[(s.id, s.title or s.url, s.last_error or "") for s in statuses if s.last_error][
            :10
        ],
    )


def deactivation_notice(source: SourceReport) -> str:
    """The admin message for a feed that failed too often in a row and is no longer read."""
    # Translators: {error} is the fetch error in English, for the bot's administrators.
    return _(
        "⛔ Stopped reading <b>{name}</b> after repeated failures.\n"
        "{url}\n"
        "Last error: {error}\n"
        "To try it again: /removesource {id}, then /addsource with its URL."
    ).format(
        name=html_escape(source.name),
        url=html_escape(source.url),
        error=html_escape(source.error or _("unknown")),
        id=source.id,
    )


async def tell_admins(bot: Bot, admin_ids: list[int], text: str) -> None:
    """Send every admin the message; one who cannot be reached does not stop the others."""
    for admin_id in admin_ids:
        try:
            await bot.send_message(chat_id=admin_id, text=text)
        except TelegramError as exc:  # an admin who never started the bot, say
            log.warning("Could not send admin %d a notice: %s", admin_id, exc)
