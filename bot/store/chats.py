"""Queries on chats: subscriptions, their schedule and preferences, their rules (followed,
included and muted patterns)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    BigInteger,
    Row,
    Select,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.news.rules import BOTH, SIFTING, WORDS, Pattern, Rule
from bot.schedule.times import next_digest_at
from bot.store.models import (
    Chat,
    ChatFeed,
    ChatTopic,
    Delivery,
    Digest,
    HiddenSource,
    StoryFollow,
)

MAX_TOPICS = 30


class ChatChoices(Protocol):
    """A chat's choices as a digest reads them: a Chat, or a Core row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def thread_id(self) -> int | None: ...
    @property
    def timezone(self) -> str: ...
    @property
    def digest_times(self) -> str: ...
    @property
    def digest_size(self) -> int: ...
    @property
    def only_followed(self) -> bool: ...
    @property
    def notify_empty(self) -> bool: ...
    @property
    def kind(self) -> str: ...
    @property
    def link_preview(self) -> bool: ...
    @property
    def newest_first(self) -> bool: ...
    @property
    def language(self) -> str: ...
    @property
    def news_languages(self) -> str | None: ...
    @property
    def last_digest_at(self) -> datetime | None: ...
    @property
    def quiet_hours(self) -> str | None: ...
    @property
    def quiet_digests_silent(self) -> bool: ...


class TooManyTopics(Exception):
    """A chat already has as many rules (follows, includes, mutes) as it may."""


@dataclass(frozen=True)
class ChatDefaults:
    """What a chat starts with before it chooses anything."""

    timezone: str
    digest_times: list[str]
    digest_size: int


# A chat is read on every command: its topics come in the same query (a LEFT JOIN)
# rather than in a second SELECT, one round trip to the store instead of two.
_WITH_TOPICS = (joinedload(Chat.topics),)


async def get_chat(session: AsyncSession, chat_id: int) -> Chat | None:
    """A chat by its Telegram id, or None if it never talked to the bot."""
    return await session.get(Chat, chat_id, options=_WITH_TOPICS)


async def ensure_chat(
    session: AsyncSession,
    chat_id: int,
    *,
    kind: str,
    title: str,
    defaults: ChatDefaults,
    now: datetime,
    language: str = "en",
) -> Chat:
    """The chat's row, created with the defaults (and the language of whoever wrote) the
    first time it talks to the bot."""
    title = _stored_title(title)
    chat = await session.get(Chat, chat_id, options=_WITH_TOPICS)
    if chat is None:
        chat = Chat(
            id=chat_id,
            kind=kind,
            title=title,
            timezone=defaults.timezone,
            digest_times=",".join(defaults.digest_times),
            digest_size=defaults.digest_size,
            only_followed=False,
            notify_empty=False,
            link_preview=True,
            newest_first=False,
            language=language,
            language_chosen=False,
            subscribed=False,
            active=True,
            created_at=now,
            updated_at=now,
            topics=[],
        )
        session.add(chat)
        await session.flush()
    else:
        if not chat.active:
            # A chat that writes to us again has unblocked the bot.
            set_active(chat, True, now=now)
        if chat.title != title:
            chat.title = title
            chat.updated_at = now
    return chat


class ChatGlance(NamedTuple):
    """What a reply that changes nothing reads of its chat's row, and whether the chat has
    rules that leave items out of its lists (an include or a mute)."""

    title: str
    active: bool
    timezone: str
    newest_first: bool
    filtered: bool

    def is_current(self, title: str) -> bool:
        """Whether ensure_chat would leave the row as it is: active, with this title."""
        return self.active and self.title == _stored_title(title)


# ChatGlance's columns, in its fields' order; a chat with no such rule pays one index probe.
GLANCE_COLUMNS = (
    Chat.title,
    Chat.active,
    Chat.timezone,
    Chat.newest_first,
    # A parameter per kind, not one expanding list: that is rewritten into the SQL each run.
    exists()
    .where(ChatTopic.chat_id == Chat.id, ChatTopic.kind.in_([literal(kind) for kind in SIFTING]))
    .label("filtered"),
)


async def chat_glance(session: AsyncSession, chat_id: int) -> ChatGlance | None:
    """The chat's title, whether it is active, its zone, story order and whether rules sift
    its lists; None if the chat is new."""
    row = (await session.execute(_glance_row(), {"chat_id": chat_id})).one_or_none()
    return None if row is None else glance_of(row)


def glance_of(columns: Sequence[Any]) -> ChatGlance:
    """The ChatGlance in GLANCE_COLUMNS' values (SQLite gives its flags as 0 and 1)."""
    title, active, timezone, newest_first, filtered = columns
    return ChatGlance(title, bool(active), timezone, bool(newest_first), bool(filtered))


@cache
def _glance_row() -> Select[str, bool, str, bool, bool]:
    """chat_glance's query, built once, the chat a parameter."""
    return select(*GLANCE_COLUMNS).where(Chat.id == bindparam("chat_id", type_=BigInteger))


def _stored_title(title: str) -> str:
    """A chat's name as its row can hold it."""
    return title[: Chat.title.type.length or None]


async def chat_language(session: AsyncSession, chat_id: int) -> tuple[str, bool] | None:
    """A chat's interface language and whether it was chosen; None if the chat is new."""
    row = (
        await session.execute(select(Chat.language, Chat.language_chosen).where(Chat.id == chat_id))
    ).one_or_none()
    return None if row is None else (row.language, row.language_chosen)


async def follow_user_language(session: AsyncSession, chat_id: int, language: str) -> None:
    """Speak the user's Telegram language in their chat, unless they chose one with /language."""
    await session.execute(
        update(Chat)
        .where(Chat.id == chat_id, Chat.language_chosen.is_(False), Chat.language != language)
        .values(language=language)
    )


def choose_language(chat: Chat, language: str, *, now: datetime) -> None:
    """The chat's own choice of interface language: Telegram's language_code no longer
    overrides it."""
    chat.language = language
    chat.language_chosen = True
    chat.updated_at = now


def news_languages(chat: ChatChoices) -> frozenset[str] | None:
    """The news languages a chat keeps to, or None for every language."""
    if chat.news_languages is None:
        return None
    return frozenset(code for code in chat.news_languages.split(",") if code)


def toggle_news_language(chat: Chat, language: str | None, *, now: datetime) -> None:
    """Add a news language to the chat's list, or take it off; None: every language again.

    Taking off the last one means every language, as an empty list would show nothing.
    """
    if language is None:
        chat.news_languages = None
    else:
        chosen = set(news_languages(chat) or ())
        chosen ^= {language}
        chat.news_languages = ",".join(sorted(chosen)) or None
    chat.updated_at = now


def chat_times(chat: ChatChoices) -> list[str]:
    """The chat's digest times as a list of "HH:MM"."""
    return [t for t in chat.digest_times.split(",") if t]


def reschedule(chat: Chat, *, now: datetime) -> None:
    """Move the chat's next digest to the next of its times after now (None if unsubscribed)."""
    chat.next_digest_at = (
        next_digest_at(chat_times(chat), chat.timezone, now) if chat.subscribed else None
    )
    chat.updated_at = now


def subscribe(
    chat: Chat,
    *,
    times: list[str] | None,
    zone: str | None,
    thread_id: int | None,
    now: datetime,
    language: str | None = None,
) -> None:
    """Turn digests on, optionally with new times, zone and the forum topic to post into.

    A chat that never chose a language gets its digests in the subscriber's `language`.
    """
    if language is not None and not chat.language_chosen:
        chat.language = language
    if times:
        chat.digest_times = ",".join(times)
    if zone:
        chat.timezone = zone
    chat.thread_id = thread_id
    chat.subscribed = True
    chat.active = True
    reschedule(chat, now=now)


def unsubscribe(chat: Chat, *, now: datetime) -> None:
    """Turn digests off, keeping the chat's settings for a later /subscribe."""
    chat.subscribed = False
    reschedule(chat, now=now)


def set_active(chat: Chat, active: bool, *, now: datetime) -> None:
    """Record that Telegram will (not) deliver to this chat; back, its digests resume from now.

    An inactive chat is never claimed for a digest; when it comes back, its next digest is
    the next of its times after now, not one that fell due while it was away.
    """
    chat.active = active
    chat.updated_at = now
    if active:
        reschedule(chat, now=now)


async def set_chat_active(
    session: AsyncSession, chat_id: int, active: bool, *, now: datetime
) -> Chat | None:
    """Record that Telegram will (not) deliver to a chat by id; None if the chat is unknown."""
    chat = await session.get(Chat, chat_id, options=_WITH_TOPICS)
    if chat is not None and chat.active != active:
        set_active(chat, active, now=now)
    return chat


async def migrate_chat(
    session: AsyncSession, old_id: int, new_id: int, *, now: datetime
) -> Chat | None:
    """Move a group's row to the id of the supergroup it became, with everything hanging off
    it: settings, follows and mutes, followed stories, chosen and own feeds, pending digests
    and delivery history.

    After this the old id is gone from the store, so nothing is ever sent to it again. A
    row the supergroup already has (made by a message that arrived first) gives way,
    unless it subscribed on its own and the group had not. Calling it twice is harmless.
    """
    # Both service messages of one upgrade may be handled at once: writing to the old row
    # first takes its lock (PostgreSQL) or the write lock (SQLite), so the second waits and
    # then finds the row gone.
    claimed = await session.execute(update(Chat).where(Chat.id == old_id).values(updated_at=now))
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return await get_chat(session, new_id)
    chats = Chat.__table__
    old = (await session.execute(select(chats).where(chats.c.id == old_id))).mappings().one()
    new = await session.get(Chat, new_id)
    keep_new = new is not None and new.subscribed and not old["subscribed"]
    drop_id = old_id if keep_new else new_id
    for table in (ChatTopic, Digest, Delivery, HiddenSource, ChatFeed, StoryFollow):
        await session.execute(delete(table).where(table.chat_id == drop_id))
    await session.execute(delete(Chat).where(Chat.id == drop_id))
    if not keep_new:
        await session.execute(
            insert(Chat).values({**old, "id": new_id, "kind": "supergroup", "updated_at": now})
        )
        for table in (ChatTopic, Digest, Delivery, HiddenSource, ChatFeed, StoryFollow):
            await session.execute(
                update(table).where(table.chat_id == old_id).values(chat_id=new_id)
            )
        await session.execute(delete(Chat).where(Chat.id == old_id))
    session.expire_all()
    return await get_chat(session, new_id)


def set_quiet_hours(chat: Chat, hours: str | None, *, now: datetime) -> None:
    """Keep the chat's quiet hours ("22:00-07:00", its zone), or clear them (None)."""
    chat.quiet_hours = hours
    chat.updated_at = now


def set_digests_silent_in_quiet_hours(chat: Chat, silent: bool, *, now: datetime) -> None:
    """Whether a digest due in the chat's quiet hours arrives without a sound."""
    chat.quiet_digests_silent = silent
    chat.updated_at = now


def manage(chat: Chat, target_id: int | None, *, now: datetime) -> None:
    """Make a private chat's settings commands change another chat (a channel), or its own."""
    chat.managed_chat_id = target_id
    chat.updated_at = now


async def managed_chat(session: AsyncSession, chat: Chat) -> Chat | None:
    """The chat this one manages, if it manages one that still exists."""
    if chat.managed_chat_id is None:
        return None
    return await get_chat(session, chat.managed_chat_id)


def rule_of(topic: ChatTopic | Row[*tuple[Any, ...]]) -> Rule:
    """The rule a chat_topics row holds (an ORM object, or a Core row of its columns)."""
    return Rule(topic.kind, Pattern(topic.phrase, topic.pattern_type, topic.source_id, topic.field))


def rules_of(chat: Chat) -> tuple[Rule, ...]:
    """The chat's rules, in the order they were added."""
    return tuple(rule_of(topic) for topic in chat.topics)


async def chat_rules(session: AsyncSession, chat_id: int) -> tuple[Rule, ...]:
    """A chat's rules by its id, in order, without reading its row."""
    statement = select(ChatTopic).where(ChatTopic.chat_id == chat_id).order_by(ChatTopic.id)
    return tuple(rule_of(topic) for topic in await session.scalars(statement))


def _plain(kind: str, phrase: str) -> Rule:
    """What /follow and /mute keep: words, in every source's titles and texts."""
    return Rule(kind, Pattern(phrase, WORDS, None, BOTH))


def topics_of(chat: Chat, kind: str) -> list[str]:
    """The words a chat follows or mutes with /follow and /mute, in the order they were added."""
    return [rule.pattern.text for rule in rules_of(chat) if rule == _plain(kind, rule.pattern.text)]


async def add_rule(session: AsyncSession, chat: Chat, rule: Rule) -> bool:
    """Add a rule after the chat's others; False if the chat already had it."""
    if rule in rules_of(chat):
        return False
    if len(chat.topics) >= MAX_TOPICS:
        raise TooManyTopics(f"at most {MAX_TOPICS} rules")
    pattern = rule.pattern
    chat.topics.append(
        ChatTopic(
            kind=rule.action,
            phrase=pattern.text,
            pattern_type=pattern.kind,
            source_id=pattern.source_id,
            field=pattern.field,
        )
    )
    await session.flush()
    return True


async def remove_rule(session: AsyncSession, chat: Chat, rule: Rule) -> bool:
    """Take a rule off the chat; False if the chat did not have it."""
    for topic in chat.topics:
        if rule_of(topic) == rule:
            return await drop_rule(session, chat, topic.id) is not None
    return False


async def drop_rule(session: AsyncSession, chat: Chat, topic_id: int) -> Rule | None:
    """Take the chat's rule with this id off it; None if the chat has no such rule."""
    for topic in list(chat.topics):
        if topic.id == topic_id:
            chat.topics.remove(topic)
            await session.flush()
            return rule_of(topic)
    return None


async def add_topic(session: AsyncSession, chat: Chat, kind: str, phrase: str) -> bool:
    """Follow or mute words; False if the chat already had them."""
    return await add_rule(session, chat, _plain(kind, phrase))


async def remove_topic(session: AsyncSession, chat: Chat, kind: str, phrase: str) -> bool:
    """Stop following or muting words; False if the chat did not have them."""
    return await remove_rule(session, chat, _plain(kind, phrase))


@dataclass(frozen=True)
class ChatCounts:
    """How many chats know the bot, and how many get digests."""

    chats: int
    subscribers: int
    inactive: int


async def chat_counts(session: AsyncSession) -> ChatCounts:
    """Counts for /stats."""
    row = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(Chat.subscribed.is_(True), Chat.active.is_(True)),
                func.count().filter(Chat.active.is_(False)),
            ).select_from(Chat)
        )
    ).one()
    return ChatCounts(int(row[0]), int(row[1]), int(row[2]))


async def bring_digest_forward(session: AsyncSession, chat_id: int, *, now: datetime) -> bool:
    """Make a subscribed chat's next digest due now; False if the chat gets no digests."""
    result = await session.execute(
        update(Chat)
        .where(Chat.id == chat_id, Chat.subscribed.is_(True), Chat.active.is_(True))
        .values(next_digest_at=now, updated_at=now)
    )
    return bool(getattr(result, "rowcount", 0))
