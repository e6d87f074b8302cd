"""Instant alerts: which new items a chat's alert rules catch, and when each is told.

One pass reads the items stored since the last (as far as every insert in flight has
settled), matches each chat's alert rules against them once per pattern, and keeps an item
only where the chat's includes and excludes, sources and news languages let it reach the
chat. A chat hears of a story once: an item grouped (with the newest items, as lists group
them) with one it was alerted to in the last two days makes no second alert. At most
`per_hour` alerts a chat an hour are messages of their own; the rest wait until the hour
frees and go as one message, as does what comes in during the chat's quiet hours.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.news.grouping import group_stories
from bot.news.rules import INCLUDE, MUTE, InvalidPattern, ItemsIndex, Pattern
from bot.schedule.times import quiet_until
from bot.store.alerts import (
    AlertingChat,
    ChatAlertRules,
    NewAlert,
    add_alerts,
    alert_rules_by_chat,
    alerted_articles,
    alerting_chats,
    alerts_cursor,
    alone_alerts_since,
    move_alerts_cursor,
    rules_version,
)
from bot.store.articles import (
    Headline,
    headlines_by_id,
    in_languages,
    latest_articles,
    settled_article_id,
)
from bot.store.chat_sources import reads_source, sources_by_chat
from bot.store.db import Database
from bot.store.digests import Candidate, items_after

log = logging.getLogger(__name__)
# Items read a pass at most; more wait for the next pass, from where this one stopped.
ITEMS_A_PASS = 2000
# The newest items grouped with the caught ones, as lists group a window.
CONTEXT_ITEMS = 300
# A story a chat was alerted to is not alerted again for this long.
ONE_PER_STORY = timedelta(days=2)
CAP_WINDOW = timedelta(hours=1)
# An item published longer ago (an archive a new feed brings along) alerts no one.
MAX_AGE = timedelta(days=1)


@dataclass
class AlertsFound:
    """What one pass made, for the log and tests."""

    items: int = 0
    alone: int = 0
    gathered: int = 0
    """Over the hour's cap: waiting to go as one message when it frees."""
    held: int = 0
    """Caught in quiet hours: waiting for them to end."""
    same_story: int = 0
    """Caught, but of a story the chat was already alerted to."""
    by_chat: dict[int, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the log."""
        return (
            f"{self.items} items looked at; {self.alone} alerts, {self.gathered} over the "
            f"hour's cap, {self.held} held for quiet hours, {self.same_story} of a story told"
        )


async def start_alerts(database: Database, *, now: datetime) -> None:
    """Alerts look at what is stored from now on (a chat's first alert starts the passes'
    cursor if no pass has yet)."""
    async with database.session() as session:
        through = await settled_article_id(session)
    async with database.session() as session:
        if await alerts_cursor(session) is None:
            await move_alerts_cursor(session, through, now=now)


class AlertRules:
    """The alerting chats' rules, read again only when a rule was added or deleted: a pass
    every 15 s must not build every chat's rules anew (50,000 of them for 10,000 chats)."""

    def __init__(self) -> None:
        self._version: tuple[int, int] | None = None
        self._rules: dict[int, ChatAlertRules] = {}

    async def current(self, session: AsyncSession) -> dict[int, ChatAlertRules]:
        """Every chat with an alert rule: its alerts and the includes and excludes."""
        version = await rules_version(session)
        if version != self._version:
            self._rules = await alert_rules_by_chat(session)
            self._version = version
        return self._rules


async def find_alerts(
    database: Database, *, now: datetime, per_hour: int, rules: AlertRules | None = None
) -> AlertsFound:
    """Make the alerts of the items stored since the last pass, and move past them."""
    known_rules = rules or AlertRules()
    found = AlertsFound()
    async with database.session() as session:
        through = await settled_article_id(session)
    async with database.session() as session:
        cursor = await alerts_cursor(session)
        if cursor is None or cursor >= through:
            if cursor is None:
                await move_alerts_cursor(session, through, now=now)
            return found
        chats = await alerting_chats(session, await known_rules.current(session))
        if not chats:
            await move_alerts_cursor(session, through, now=now)
            return found
        chat_ids = [chat.chat_id for chat in chats]
        read = await items_after(session, cursor, chat_ids, limit=ITEMS_A_PASS)
        fresh = [c for c in read if c.headline.id <= through]
        if len(read) == ITEMS_A_PASS and read[-1].headline.id <= through:
            through = read[-1].headline.id
        found.items = len(fresh)
        recent = tuple(c for c in fresh if c.headline.published_at >= now - MAX_AGE)
        hidden, own = await sources_by_chat(session, chat_ids)
        caught = await asyncio.to_thread(_caught, chats, recent, hidden, own)
        new: list[NewAlert] = []
        if caught:
            told = await alerted_articles(session, chat_ids, since=now - ONE_PER_STORY)
            earlier = await headlines_by_id(session, {i for ids in told.values() for i in ids})
            context = await latest_articles(session, limit=CONTEXT_ITEMS)
            story_of = await _stories(earlier, [c.headline for c in recent], context)
            alone = await alone_alerts_since(session, list(caught), since=now - CAP_WINDOW)
            for chat in chats:
                if chat.chat_id in caught:
                    new += _plan(
                        chat,
                        caught[chat.chat_id],
                        {story_of.get(i, -i) for i in told.get(chat.chat_id, ())},
                        story_of,
                        list(alone.get(chat.chat_id, ())),
                        now=now,
                        per_hour=per_hour,
                        found=found,
                    )
        await add_alerts(session, new, now=now)
        await move_alerts_cursor(session, through, now=now)
    return found


def _caught(
    chats: Sequence[AlertingChat],
    items: Sequence[Candidate],
    hidden: Mapping[int, set[int]],
    own: Mapping[int, set[int]],
) -> dict[int, list[tuple[int, Headline]]]:
    """For each chat, the (rule id, item) its alert rules catch among items that reach it,
    oldest first, each item once: every distinct pattern matched once for all chats, and
    a chat's other rules only looked at for what its alerts caught."""
    index = ItemsIndex([c.headline for c in items])
    by_id = {c.headline.id: c for c in items}
    matched: dict[Pattern, frozenset[int]] = {}

    def matching(pattern: Pattern) -> frozenset[int]:
        if pattern not in matched:
            try:
                matched[pattern] = index.matching(pattern)
            except InvalidPattern as exc:
                # Checked when added; a newer RE2 may refuse what an older one took.
                log.error("rule pattern %r no longer compiles: %s", pattern.text, exc)
                matched[pattern] = frozenset()
        return matched[pattern]

    caught: dict[int, list[tuple[int, Headline]]] = {}
    for chat in chats:
        rule_of: dict[int, int] = {}
        for rule_id, rule in chat.rules.alerts:
            for item_id in matching(rule.pattern):
                rule_of.setdefault(item_id, rule_id)
        if not rule_of:
            continue
        for rule in chat.rules.sifting:
            if rule.action == MUTE:
                for item_id in matching(rule.pattern) & rule_of.keys():
                    del rule_of[item_id]
        includes = [matching(r.pattern) for r in chat.rules.sifting if r.action == INCLUDE]
        if includes:
            included = frozenset().union(*includes)
            rule_of = {i: rule for i, rule in rule_of.items() if i in included}
        chat_hidden, chat_own = hidden.get(chat.chat_id, set()), own.get(chat.chat_id, set())
        kept = [
            (rule_of[item_id], candidate.headline)
            for item_id in sorted(rule_of)
            if reads_source(
                chat_hidden,
                chat_own,
                (candidate := by_id[item_id]).source_id,
                user_feed=candidate.user_feed,
            )
            and (
                chat.news_languages is None or in_languages(candidate.headline, chat.news_languages)
            )
        ]
        if kept:
            caught[chat.chat_id] = kept
    return caught


async def _stories(
    earlier: Mapping[int, Headline], fresh: Sequence[Headline], context: Sequence[Headline]
) -> dict[int, int]:
    """Which story each earlier alerted item and fresh item belongs to, grouped together
    with the newest items, off the event loop."""
    items = {h.id: h for h in context} | dict(earlier) | {h.id: h for h in fresh}
    stories = await asyncio.to_thread(group_stories, list(items.values()))
    return {member: number for number, s in enumerate(stories) for member in s.member_ids}


def _plan(
    chat: AlertingChat,
    caught: Sequence[tuple[int, Headline]],
    told_stories: set[int],
    story_of: Mapping[int, int],
    alone_at: list[datetime],
    *,
    now: datetime,
    per_hour: int,
    found: AlertsFound,
) -> list[NewAlert]:
    """The chat's alerts of what its rules caught: one a story, due now while the hour's
    cap allows, else when it frees; all due when quiet hours end if they are on now."""
    quiet_end = quiet_until(chat.quiet_hours, chat.timezone, now)
    alerts = []
    for rule_id, headline in caught:
        # An item in no story of several is a story of its own (a negative number).
        story = story_of.get(headline.id, -headline.id)
        if story in told_stories:
            found.same_story += 1
            continue
        told_stories.add(story)
        if quiet_end is not None:
            alone, due_at = False, quiet_end
            found.held += 1
        elif len(alone_at) < per_hour:
            alone, due_at = True, now
            alone_at.append(now)
            found.alone += 1
        else:
            alone, due_at = False, alone_at[-per_hour] + CAP_WINDOW
            found.gathered += 1
        alerts.append(NewAlert(chat.chat_id, rule_id, headline.id, alone, due_at))
        found.by_chat[chat.chat_id] = found.by_chat.get(chat.chat_id, 0) + 1
    return alerts
