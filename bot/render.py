"""Text for people: ages, headline lists, digests and summaries as Telegram HTML."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.store.articles import Headline

MESSAGE_LIMIT = 4096


def html_escape(text: str) -> str:
    """Escape feed or user text for Telegram HTML (quotes need no escaping outside attributes)."""
    return escape(text, quote=False)


BUTTONS_PER_ROW = 5


def age_text(published_at: datetime, now: datetime, zone: tzinfo | None = None) -> str:
    """How long ago, the way people say it: "just now", "5m ago", "2h ago", "3d ago"."""
    seconds = (now - published_at).total_seconds()
    if seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h ago"
    days = hours // 24
    if days < 60:
        return f"{days}d ago"
    local = published_at.astimezone(zone) if zone else published_at
    return local.strftime("%d %b %Y")


def more_sources_text(count: int) -> str:
    """How many more items told the same story: "+1 source", "+3 sources"."""
    return f"+{count} source{'s' if count != 1 else ''}"


def local_time_text(when: datetime, zone: tzinfo) -> str:
    """A moment in the chat's own zone: "Thu 27 Nov, 08:00"."""
    return when.astimezone(zone).strftime("%a %d %b, %H:%M")


def local_date_time_text(when: datetime, zone: tzinfo) -> str:
    """A moment with its date in the chat's own zone: "27 Nov 2026, 08:00"."""
    return when.astimezone(zone).strftime("%d %b %Y, %H:%M")


def headline_lines(
    headlines: Sequence[Headline],
    *,
    now: datetime,
    zone: tzinfo,
    start: int = 1,
    extra_sources: dict[int, int] | None = None,
) -> list[str]:
    """Numbered HTML lines: linked title, then source and age."""
    lines: list[str] = []
    for number, headline in enumerate(headlines, start):
        title = html_escape(headline.title or "(untitled)")
        if headline.url:
            title = f'<a href="{escape(headline.url, quote=True)}">{title}</a>'
        details = f"{html_escape(headline.source)} · {age_text(headline.published_at, now, zone)}"
        more = (extra_sources or {}).get(headline.id, 0)
        if more:
            details += f" · {more_sources_text(more)}"
        lines.append(f"{number}. {title}\n    <i>{details}</i>")
    return lines


def headline_message(
    heading: str,
    headlines: Sequence[Headline],
    *,
    now: datetime,
    zone: tzinfo,
    start: int = 1,
    extra_sources: dict[int, int] | None = None,
    footer: str = "",
) -> str:
    """A whole list message: bold heading, the lines, an optional footer."""
    parts = [f"<b>{html_escape(heading)}</b>", ""]
    parts += headline_lines(headlines, now=now, zone=zone, start=start, extra_sources=extra_sources)
    if footer:
        parts += ["", footer]
    return "\n".join(parts)


def headline_keyboard(
    headlines: Sequence[Headline], *, start: int = 1, more: callbacks.Action | None = None
) -> InlineKeyboardMarkup | None:
    """A numbered button per item opening its summary, and "More" when there is more."""
    buttons = [
        InlineKeyboardButton(str(number), callback_data=callbacks.encode(callbacks.Summary(h.id)))
        for number, h in enumerate(headlines, start)
    ]
    rows = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    more_data = callbacks.encode(more) if more else None
    if more_data:
        rows.append([InlineKeyboardButton("More ›", callback_data=more_data)])
    return InlineKeyboardMarkup(rows) if rows else None


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split at line boundaries so every part stays under Telegram's limit."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            # A single line longer than a message: cut it hard (rare: a giant title).
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return [p for p in parts if p.strip()]


def summary_message(
    *,
    title: str,
    source: str,
    published_at: datetime,
    url: str | None,
    summary: str,
    note: str = "",
    zone: tzinfo,
) -> str:
    """The full summary of one article: title, source and date, the summary, the link."""
    lines = [
        f"<b>{html_escape(title or '(untitled)')}</b>",
        f"<i>{html_escape(source)} · {local_date_time_text(published_at, zone)}</i>",
    ]
    if summary:
        lines += ["", html_escape(summary)]
    if note:
        lines += ["", f"<i>{html_escape(note)}</i>"]
    if url:
        lines += ["", f'<a href="{escape(url, quote=True)}">Read the full article</a>']
    return "\n".join(lines)
