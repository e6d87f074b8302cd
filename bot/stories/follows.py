"""Followed stories: what counts as news of a story, and one pass that finds it.

A chat that follows a story hears when another outlet reports it, or when a report says
something the known ones did not (a sentence further from all of theirs than a summary
lets two of its own be, as bot.news.extractive judges it). A re-post, or an outlet
repeating itself, is no news. One pass reads the items stored since the follows last
looked, once for every follow, groups them with the follows' known reports as lists group
stories, and writes each follow's findings in its own transaction, with its update.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.news.extractive import new_sentences
from bot.news.grouping import group_stories
from bot.news.outlets import outlet_of
from bot.store.articles import Headline, headlines_by_id, latest_articles
from bot.store.chat_sources import reads_source, sources_by_chat
from bot.store.db import Database
from bot.store.digests import Candidate, items_after
from bot.store.story_follows import (
    FollowChange,
    Followed,
    FollowState,
    active_follows,
    end_quiet_follows,
    follow_story,
    record_story_news,
)
from bot.stories.card import story_reports
from bot.stories.lines import newest_report_by_outlet

# Items read a pass at most; more wait for the next pass, from where this one stopped.
ITEMS_A_PASS = 2000
# The newest items grouped with them, as lists group a window.
CONTEXT_ITEMS = 300
# Known reports kept per follow, the newest: what the story is recognised by.
MAX_KNOWN = 60
UPDATE_WINDOW = timedelta(days=1)


async def start_following(
    database: Database, chat_id: int, article_id: int, *, now: datetime
) -> Followed | None:
    """Follow the story of an article, knowing its reports so far; None if there is no such
    article for the chat."""
    found = await story_reports(database, article_id, chat_id=chat_id)
    if found is None:
        return None
    lead, reports = found
    async with database.session() as session:
        return await follow_story(
            session,
            chat_id,
            article_id=article_id,
            title=lead.title,
            known_ids=[h.id for h in reports][:MAX_KNOWN],
            outlets=newest_report_by_outlet(reports).keys(),
            now=now,
        )


@dataclass
class NewsReport:
    """What one pass did, for the log."""

    updates: int = 0
    held: int = 0
    """Follows whose news waits for the day's cap."""
    ended: int = 0

    def summary(self) -> str:
        """One line for the log."""
        return f"{self.updates} updates made, {self.held} held by the cap, {self.ended} ended"


async def find_story_news(
    database: Database, *, now: datetime, per_day: int, quiet_for: timedelta
) -> NewsReport:
    """End the follows quiet for `quiet_for`, then look for every other's news among the
    items stored since it last looked, and make its update (at most `per_day` a day)."""
    report = NewsReport()
    async with database.session() as session:
        report.ended = await end_quiet_follows(session, quiet_since=now - quiet_for)
        follows = await active_follows(session)
        if not follows:
            return report
        chat_ids = sorted({f.chat_id for f in follows})
        fresh = await items_after(
            session, min(f.checked_through for f in follows), chat_ids, limit=ITEMS_A_PASS
        )
        hidden, own = await sources_by_chat(session, chat_ids)
        known = await headlines_by_id(session, {i for f in follows for i in f.known_ids})
        # Grouped among the newest items too, as lists group them: a story's own reports
        # alone would make its every word common, and hide what it shares with a new one.
        context = await latest_articles(session, limit=CONTEXT_ITEMS) if fresh else []
    through = fresh[-1].headline.id if fresh else 0
    story_of = await _stories(known, fresh, context)
    for follow in follows:
        if through <= follow.checked_through and not _may_tell_held(follow, now, per_day):
            continue
        stories = {story_of[i] for i in follow.known_ids if i in story_of}
        reports = [
            c.headline
            for c in fresh
            if c.headline.id > follow.checked_through
            and story_of.get(c.headline.id) in stories
            and c.headline.id not in follow.known_ids
            and reads_source(
                hidden.get(follow.chat_id, set()),
                own.get(follow.chat_id, set()),
                c.source_id,
                user_feed=c.user_feed,
            )
        ]
        known_texts = [text for i in follow.known_ids if i in known for text in _texts(known[i])]
        change = next_state(
            follow,
            reports,
            known_texts,
            now=now,
            per_day=per_day,
            checked_through=max(through, follow.checked_through),
        )
        async with database.session() as session:
            if not await record_story_news(session, follow, change, now=now):
                continue
        report.updates += bool(change.update_ids)
        report.held += bool(change.held_ids)
    return report


async def _stories(
    known: Mapping[int, Headline], fresh: Sequence[Candidate], context: Sequence[Headline]
) -> dict[int, int]:
    """Which story each known report and fresh item belongs to, grouped together (with the
    newest items) off the event loop."""
    if not fresh:
        return {}
    items = {h.id: h for h in context} | dict(known) | {c.headline.id: c.headline for c in fresh}
    stories = await asyncio.to_thread(group_stories, list(items.values()))
    return {member: number for number, s in enumerate(stories) for member in s.member_ids}


def _texts(headline: Headline) -> list[str]:
    return [text for text in (headline.title, headline.description) if text]


def _window_open(follow: FollowState, now: datetime) -> bool:
    start = follow.window_started_at
    return start is not None and now - start < UPDATE_WINDOW


def _may_tell_held(follow: FollowState, now: datetime, per_day: int) -> bool:
    """Whether news held back by the day's cap may now be told."""
    return bool(follow.held_ids) and (
        not _window_open(follow, now) or follow.updates_in_window < per_day
    )


def next_state(
    follow: FollowState,
    reports: Sequence[Headline],
    known_texts: Sequence[str],
    *,
    now: datetime,
    per_day: int,
    checked_through: int,
) -> FollowChange:
    """What the follow knows after these new reports of its story (oldest first), and the
    update they make: news, with what was held, unless the day's updates are used up."""
    outlets = set(follow.outlets)
    said = list(known_texts)
    news: list[int] = []
    for report in reports:
        outlet = outlet_of(report.url, report.source)
        if outlet not in outlets or new_sentences(
            report.description, said, language=report.language
        ):
            news.append(report.id)
        outlets.add(outlet)
        said += _texts(report)
    known = (*follow.known_ids, *(r.id for r in reports))[-MAX_KNOWN:]
    waiting = (*follow.held_ids, *news)
    window_started_at, in_window = follow.window_started_at, follow.updates_in_window
    if not _window_open(follow, now):
        window_started_at, in_window = now, 0
    change = FollowChange(
        known_ids=known,
        outlets=frozenset(outlets),
        held_ids=(),
        checked_through=checked_through,
        last_news_at=now if news else follow.last_news_at,
        window_started_at=follow.window_started_at,
        updates_in_window=follow.updates_in_window,
    )
    if not waiting:
        return change
    if in_window >= per_day:
        return replace(change, held_ids=waiting)
    return replace(
        change,
        update_ids=waiting,
        window_started_at=window_started_at,
        updates_in_window=in_window + 1,
    )
