"""Text for people: ages, dates, headline lists and summaries as Telegram HTML; splitting."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, tzinfo
from functools import cache, lru_cache
from html import escape, unescape

from babel import Locale
from babel.dates import format_skeleton
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import _, current_language, ngettext
from bot.news.text import truncate
from bot.schedule.times import zone_info
from bot.store.articles import Headline
from bot.store.chats import chat_times
from bot.store.models import Chat
from bot.stories.card import StoryCard
from bot.stories.summary import SummaryView
from bot.ui import callbacks

MESSAGE_LIMIT = 4096
# How much of another report's description a summary shows.
SNIPPET_CHARS = 280


def html_escape(text: str) -> str:
    """Escape feed or user text for Telegram HTML (quotes need no escaping outside attributes)."""
    return escape(text, quote=False)


BUTTONS_PER_ROW = 5
# Story card buttons carry "3 · +2 sources": two fit a row on a phone.
CARDS_PER_ROW = 2


def age_text(published_at: datetime, now: datetime, zone: tzinfo | None = None) -> str:
    """How long ago, the way people say it: "just now", "5m ago", "2h ago", "3d ago"."""
    seconds = (now - published_at).total_seconds()
    if seconds < 60:
        return _("just now")
    minutes = int(seconds // 60)
    if minutes < 60:
        # Translators: a short age under a headline, as "5m ago"; abbreviate as is usual.
        return ngettext("{count}m ago", "{count}m ago", minutes).format(count=minutes)
    hours = minutes // 60
    if hours < 48:
        # Translators: a short age under a headline, as "2h ago"; abbreviate as is usual.
        return ngettext("{count}h ago", "{count}h ago", hours).format(count=hours)
    days = hours // 24
    if days < 60:
        # Translators: a short age under a headline, as "3d ago"; abbreviate as is usual.
        return ngettext("{count}d ago", "{count}d ago", days).format(count=days)
    local = published_at.astimezone(zone) if zone else published_at
    return format_skeleton("yMMMd", local, locale=_locale())


def quoted(text: str) -> str:
    """User or feed text quoted the one way every reply quotes it, escaped for HTML."""
    # Translators: the quotation marks around a user's words or a feed's text in a reply.
    return _("“{text}”").format(text=html_escape(text))


def more_sources_text(count: int) -> str:
    """How many more items told the same story: "+1 source", "+3 sources"."""
    # Translators: under a headline, how many more sources told the same story.
    return ngettext("+{count} source", "+{count} sources", count).format(count=count)


# British English keeps the 24-hour clock and "Thu 27 Nov" the digests always used.
_LOCALES = {"en": "en_GB"}


def _locale() -> Locale:
    """The CLDR locale of the current interface language: its own date order and names."""
    return _cldr_locale(current_language())


@cache
def _cldr_locale(language: str) -> Locale:
    return Locale.parse(_LOCALES.get(language, language))


def _date_and_time(when: datetime, date_skeleton: str) -> str:
    """A date (as the locale writes `date_skeleton`) and a 24-hour time, joined the locale's
    way ("Mo., 30. Nov., 08:00")."""
    locale = _locale()
    date = format_skeleton(date_skeleton, when, locale=locale)
    time = format_skeleton("Hm", when, locale=locale)
    return str(locale.datetime_formats["medium"]).replace("{1}", date).replace("{0}", time)


def local_time_text(when: datetime, zone: tzinfo) -> str:
    """A moment in the chat's own zone and language: "Thu 27 Nov, 08:00"."""
    return _date_and_time(when.astimezone(zone), "MMMEd")


def local_date_time_text(when: datetime, zone: tzinfo) -> str:
    """A moment with its year in the chat's own zone and language: "27 Nov 2026, 08:00"."""
    return _date_and_time(when.astimezone(zone), "yMMMd")


def schedule_text(chat: Chat) -> str:
    """When this chat's digests arrive, in its own words and zone."""
    times = ", ".join(chat_times(chat))
    zone = html_escape(chat.timezone)
    if chat.subscribed and chat.next_digest_at:
        when = local_time_text(chat.next_digest_at, zone_info(chat.timezone))
        # Translators: {times} lists times of day, {zone} is a time zone, {when} a date and time.
        return _("Digests at {times} ({zone}). Next one: {when}.").format(
            times=times, zone=zone, when=when
        )
    return _("Digests at {times} ({zone}).").format(times=times, zone=zone)


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
        title = html_escape(headline.title or _("(untitled)"))
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


@lru_cache(maxsize=2048)
def button(text: str, data: str | None) -> InlineKeyboardButton:
    """A callback button, one object per label and data: buttons are immutable, and PTB's
    constructor sets each of its twenty attributes through a guarded __setattr__, which
    was most of a list's keyboard."""
    return InlineKeyboardButton(text, callback_data=data)


def headline_keyboard(
    headlines: Sequence[Headline],
    *,
    start: int = 1,
    more: callbacks.Action | None = None,
    back: callbacks.Action | None = None,
    extra_sources: dict[int, int] | None = None,
) -> InlineKeyboardMarkup | None:
    """A numbered button per item opening its summary, one per story told by several
    items opening its card ("3 · +2 sources"), "‹ Back" and "More ›" to page."""
    buttons = [
        button(str(number), callbacks.encode(callbacks.Summary(h.id)))
        for number, h in enumerate(headlines, start)
    ]
    rows = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    cards = [
        button(
            f"{number} · {more_sources_text(count)}",
            callbacks.encode(callbacks.StoryCard(h.id)),
        )
        for number, h in enumerate(headlines, start)
        if (count := (extra_sources or {}).get(h.id, 0))
    ]
    rows += [cards[i : i + CARDS_PER_ROW] for i in range(0, len(cards), CARDS_PER_ROW)]
    paging = [
        button(label, data)
        for label, action in ((_("‹ Back"), back), (_("More ›"), more))
        if action is not None and (data := callbacks.encode(action))
    ]
    if paging:
        rows.append(paging)
    return InlineKeyboardMarkup(rows) if rows else None


# One unit a message may be cut between: a tag, an entity, a line break, or one character.
_HTML_ATOM = re.compile(r"<[^<>]*>|&#?\w+;|\n|[^<&\n]|[<&]")
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z][\w-]*)")


def _closing_tags(open_tags: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(open_tags))


def _opening_tags(open_tags: list[tuple[str, str]]) -> str:
    return "".join(tag for _, tag in open_tags)


def _after_tag(open_tags: list[tuple[str, str]], atom: str) -> list[tuple[str, str]]:
    """The tags open after `atom`, which may open or close one."""
    match = _TAG_NAME.match(atom) if atom.startswith("<") else None
    if match is None:
        return open_tags
    name = match.group(1).lower()
    if not atom.startswith("</"):
        return [*open_tags, (name, atom)]
    for index in range(len(open_tags) - 1, -1, -1):
        if open_tags[index][0] == name:
            return open_tags[:index] + open_tags[index + 1 :]
    return open_tags


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split under Telegram's limit, at line breaks where possible, never inside a tag or an
    entity; tags open at a cut are closed there and opened again, so each part is valid HTML."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    pending = _HTML_ATOM.findall(text)
    pending.reverse()  # a stack: the next atom is at the end
    open_tags: list[tuple[str, str]] = []
    current: list[str] = []
    size = 0
    content_start = 0  # where this part's own atoms begin, after the tags opened again
    # The last line break and the last space of this part, with the tags open there.
    line_break: tuple[int, list[tuple[str, str]]] | None = None
    space: tuple[int, list[tuple[str, str]]] | None = None

    def start_part(tags: list[tuple[str, str]]) -> None:
        nonlocal current, size, content_start, line_break, space, open_tags
        open_tags = tags
        current = [_opening_tags(tags)] if tags else []
        size = len(_opening_tags(tags))
        content_start = len(current)
        line_break = space = None

    while pending:
        atom = pending.pop()
        after = _after_tag(open_tags, atom)
        if size + len(atom) + len(_closing_tags(after)) <= limit:
            if atom == "\n":
                line_break = (len(current), open_tags)
            elif atom == " ":
                space = (len(current), open_tags)
            current.append(atom)
            size += len(atom)
            open_tags = after
            continue
        if len(current) == content_start:
            if open_tags:
                start_part([])  # tags too long to carry over: start this part bare
                pending.append(atom)
            # else: a single tag longer than a message, which no renderer here makes
            continue
        pending.append(atom)
        cut = next((c for c in (line_break, space) if c is not None and c[0] > content_start), None)
        if cut is not None:
            index, tags = cut
            pending.extend(reversed(current[index + 1 :]))
            parts.append("".join(current[:index]) + _closing_tags(tags))
            start_part(tags)
        else:
            parts.append("".join(current) + _closing_tags(open_tags))
            start_part(open_tags)
    parts.append("".join(current) + _closing_tags(open_tags))
    return [part for part in parts if _visible(part).strip()]


def _visible(part: str) -> str:
    return unescape(re.sub(r"<[^<>]*>", "", part))


def summary_message(view: SummaryView, *, zone: tzinfo, now: datetime) -> str:
    """The full summary of one article; when its text is missing, what else is known."""
    untitled = _("(untitled)")
    lines = [
        f"<b>{html_escape(view.title or untitled)}</b>",
        f"<i>{html_escape(view.source)} · {local_date_time_text(view.published_at, zone)}</i>",
    ]
    if view.summary:
        lines += ["", html_escape(view.summary)]
    if view.note:
        lines += ["", f"<i>{html_escape(view.note)}</i>"]
    number = 0
    for heading, items in (
        (_("Other reports of this story"), view.context.other_reports),
        (_("Related"), view.context.related),
    ):
        if items:
            lines += ["", f"<b>{heading}</b>"]
        for item in items:
            number += 1
            lines += headline_lines([item], now=now, zone=zone, start=number)
            if item.description:
                lines.append(f"    {html_escape(truncate(item.description, SNIPPET_CHARS))}")
    if view.url:
        link = _('<a href="{url}">Read the full article</a>').format(
            url=escape(view.url, quote=True)
        )
        lines += ["", link]
    return "\n".join(lines)


def story_card_message(card: StoryCard, *, zone: tzinfo, now: datetime) -> str:
    """A story as several outlets told it: headline, summary, then each report."""
    untitled = _("(untitled)")
    newest = card.reports[0].published_at if card.reports else card.lead.published_at
    # Translators: under a story's headline: how many outlets reported it, and when last.
    reach = ngettext(
        "Reported by {count} outlet · latest {when}",
        "Reported by {count} outlets · latest {when}",
        card.outlets,
    ).format(count=card.outlets, when=age_text(newest, now, zone))
    lines = [f"<b>{html_escape(card.lead.title or untitled)}</b>", f"<i>{html_escape(reach)}</i>"]
    if card.summary:
        lines += ["", html_escape(card.summary)]
    lines += ["", "<b>" + html_escape(_("Reports")) + "</b>"]
    lines += headline_lines(card.reports, now=now, zone=zone)
    if card.unlisted:
        # Translators: below a story card's list of reports.
        lines.append(
            ngettext("…and {count} more report", "…and {count} more reports", card.unlisted).format(
                count=card.unlisted
            )
        )
    return "\n".join(lines)


def story_card_keyboard(card: StoryCard) -> InlineKeyboardMarkup:
    """A summary button for each report the card lists, and "Follow this story"."""
    listed = headline_keyboard(card.reports)
    rows = [list(row) for row in listed.inline_keyboard] if listed else []
    follow = callbacks.encode(callbacks.FollowStory(card.article_id or card.lead.id))
    rows.append([InlineKeyboardButton(_("🔔 Follow this story"), callback_data=follow)])
    return InlineKeyboardMarkup(rows)


# An update lists this many new reports; the rest are counted.
MAX_UPDATE_REPORTS = 5


def story_update_message(
    title: str, reports: Sequence[Headline], *, outlets: int, zone: tzinfo, now: datetime
) -> str:
    """What is new in a followed story: each new report, and how many outlets now tell it."""
    # Translators: the heading of an update on a story the chat follows.
    heading = _("🔔 News of a story you follow: {title}").format(
        title=html_escape(title or _("(untitled)"))
    )
    # Translators: in an update on a followed story, how many outlets report it now.
    reach = ngettext(
        "Now reported by {count} outlet.", "Now reported by {count} outlets.", outlets
    ).format(count=outlets)
    lines = [f"<b>{heading}</b>", f"<i>{html_escape(reach)}</i>", ""]
    lines += headline_lines(reports[:MAX_UPDATE_REPORTS], now=now, zone=zone)
    if len(reports) > MAX_UPDATE_REPORTS:
        unlisted = len(reports) - MAX_UPDATE_REPORTS
        lines.append(
            ngettext("…and {count} more report", "…and {count} more reports", unlisted).format(
                count=unlisted
            )
        )
    return "\n".join(lines)


def story_update_keyboard(followed_id: int, newest_id: int) -> InlineKeyboardMarkup:
    """The story's card (opened from its newest report) and "Unfollow"."""
    card = callbacks.encode(callbacks.StoryCard(newest_id))
    unfollow = callbacks.encode(callbacks.UnfollowStory(followed_id))
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("Story card"), callback_data=card),
                InlineKeyboardButton(_("Unfollow"), callback_data=unfollow),
            ]
        ]
    )


def summary_keyboard(view: SummaryView) -> InlineKeyboardMarkup | None:
    """A summary button for each item a summary lists, so the reader can go on from there."""
    return headline_keyboard([*view.context.other_reports, *view.context.related])


MAX_GATHERED_ALERTS = 20


def alert_message(headline: Headline, pattern: str, *, zone: tzinfo, now: datetime) -> str:
    """An instant alert: what the chat asked to hear of, and the item that matched it."""
    # Translators: the heading of an instant alert; {pattern} is what the chat asked for.
    heading = _("🔔 Alert: {pattern}").format(pattern=html_escape(pattern))
    title = html_escape(headline.title or _("(untitled)"))
    if headline.url:
        title = f'<a href="{escape(headline.url, quote=True)}">{title}</a>'
    details = f"{html_escape(headline.source)} · {age_text(headline.published_at, now, zone)}"
    return f"<b>{heading}</b>\n\n<b>{title}</b>\n<i>{details}</i>"


def alert_keyboard(headline: Headline, rule_id: int) -> InlineKeyboardMarkup:
    """The item's summary and story card, and "Stop this alert"."""
    summary = callbacks.encode(callbacks.Summary(headline.id))
    card = callbacks.encode(callbacks.StoryCard(headline.id))
    stop = callbacks.encode(callbacks.AlertStop(rule_id))
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("Summary"), callback_data=summary),
                InlineKeyboardButton(_("Story card"), callback_data=card),
            ],
            [InlineKeyboardButton(_("🔕 Stop this alert"), callback_data=stop)],
        ]
    )


def gathered_alerts_message(
    caught: Sequence[tuple[str, Headline]], *, zone: tzinfo, now: datetime
) -> str:
    """Alerts held back (over the hour's limit, or in quiet hours) in one message: each
    item with the alert that caught it."""
    # Translators: the heading of one message gathering alerts held back for a while.
    heading = ngettext(
        "🔔 {count} alert while you were not disturbed",
        "🔔 {count} alerts while you were not disturbed",
        len(caught),
    ).format(count=len(caught))
    shown = caught[:MAX_GATHERED_ALERTS]
    lines = [f"<b>{html_escape(heading)}</b>", ""]
    listed = headline_lines([headline for _pattern, headline in shown], now=now, zone=zone)
    for line, (pattern, _headline) in zip(listed, shown, strict=True):
        lines.append(f"{line} · {html_escape(pattern)}")
    if len(caught) > MAX_GATHERED_ALERTS:
        unlisted = len(caught) - MAX_GATHERED_ALERTS
        lines.append(
            ngettext("…and {count} more alert", "…and {count} more alerts", unlisted).format(
                count=unlisted
            )
        )
    return "\n".join(lines)
