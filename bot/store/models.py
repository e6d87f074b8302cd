"""Tables of the store: sources, articles, chats and what was delivered to them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    bindparam,
    event,
    false,
    func,
    text,
    true,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        value = _as_utc(value)
        return value.replace(tzinfo=None) if getattr(dialect, "name", "") == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            # The text SQLAlchemy's SQLite DATETIME writes, made in one step: through the
            # decorator and then the dialect's formatting it was three calls a value, and
            # ingest binds two a new article and four a fetch.
            return _sqlite_utc_text
        return super().bind_processor(dialect)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        if dialect.name != "sqlite":
            if self.impl_instance.dialect_impl(dialect).result_processor(dialect, coltype):
                return super().result_processor(dialect, coltype)
            # asyncpg gives timestamptz aware in UTC already: kept as it is, without the
            # decorator's wrapping per value (150 of them a /latest).
            return _aware_utc
        # SQLite keeps the text SQLAlchemy wrote, in UTC: read it as aware UTC in one step.
        # Parsing, then giving the zone through the decorator took ~2 us a value, and
        # /latest reads 150 of them.
        return _aware_utc_from_sqlite


def _aware_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; use timezone-aware UTC")
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _sqlite_utc_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    return _as_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


def _aware_utc_from_sqlite(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value + "+00:00")
    except ValueError:  # text written with its own offset
        return datetime.fromisoformat(value).astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Source(Base):
    """A feed the bot reads, or the seed documents; carries its own fetch state."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(16), default="feed")  # feed | seed
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=900)
    # When the feed is due; a claim leaves it alone and leases the feed until claimed_until.
    next_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    added_by: Mapped[int | None] = mapped_column(BigInteger)
    # Added by a chat with /addfeed: only the chats listed for it in chat_feeds see its items.
    user_feed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Article(Base):
    """A news item; a headline is an article without a body."""

    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("source_id", "key", name="uq_articles_source_key"),
        Index("ix_articles_published", "published_at", "id"),
        Index("ix_articles_fetched", "fetched_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    # Identity within the source: "g:<guid>", "u:<canonical link>" or "h:<hash>".
    key: Mapped[str] = mapped_column(String(600))
    guid: Mapped[str | None] = mapped_column(String(1024))
    url: Mapped[str | None] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(300))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Stemmed, folded terms of title + description + body (bot.news.text.search_document);
    # both full-text indexes are built from it so SQLite and PostgreSQL match alike.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # How many of search_text's leading terms are the title's, so ranking need not split
    # the title again; None (rows before 0012): read from the title when ranked.
    title_terms: Mapped[int | None] = mapped_column(Integer)
    # ISO 639 code its words were stemmed in; None (every row before 0005): unknown, English.
    language: Mapped[str | None] = mapped_column(String(8))
    # What story grouping reads of title and description (bot.news.grouping.story_words),
    # so lists need not read them again; None (rows before 0010): read when grouped.
    story_words: Mapped[str | None] = mapped_column(Text)
    # Its picture: a public http(s) URL from the feed, or the page's og:image once fetched.
    image_url: Mapped[str | None] = mapped_column(String(2048))
    summary: Mapped[str | None] = mapped_column(Text)
    # Hash of the text the cached summary was made from; a new body invalidates it.
    summary_source: Mapped[str | None] = mapped_column(String(64))

    source: Mapped[Source] = relationship(lazy="joined", innerjoin=True)


# SQLite's FTS5 index of new articles (no insert trigger since migration 0019: row by row
# it cost 65-110 us a row). add_articles runs it once a batch; an Article added through
# the ORM runs it from the listener below, so no insert path leaves the index behind.
FTS_INSERT = text(
    "INSERT INTO articles_fts(rowid, search_text) SELECT id, search_text FROM articles "
    "WHERE id IN :ids"
).bindparams(bindparam("ids", expanding=True))


@event.listens_for(Article, "after_insert")
def _index_for_search(_mapper: Mapper[Article], connection: Connection, article: Article) -> None:
    """Add an article flushed by the ORM to SQLite's FTS5 index."""
    if connection.dialect.name == "sqlite":
        connection.execute(FTS_INSERT, {"ids": [article.id]})


class SeenKey(Base):
    """Identity of a pruned article, so a feed that still lists it never brings it back."""

    __tablename__ = "seen_keys"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(600), primary_key=True)
    pruned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the feed was first read without the item (None: it still lists it, or has not
    # been read since); a tombstone its feed has dropped for long enough stops nothing.
    unlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class SendSlot(Base):
    """One message sent to Telegram, counted against the bot token's budget by every
    instance on this database (PostgreSQL only; a minute of them is kept)."""

    __tablename__ = "send_slots"
    __table_args__ = (Index("ix_send_slots_group", "group_key", "sent_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The group or channel (id or @name) a group-limited send went to; None: overall budget.
    group_key: Mapped[str | None] = mapped_column(String(64))


class SendPause(Base):
    """Until when every instance holds its sends, after Telegram answered one with a 429."""

    __tablename__ = "send_pause"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    until: Mapped[datetime] = mapped_column(UTCDateTime)


class Chat(Base):
    """A Telegram chat that talked to the bot, with its digest schedule and preferences."""

    __tablename__ = "chats"
    __table_args__ = (Index("ix_chats_due", "subscribed", "active", "next_digest_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16), default="private")
    title: Mapped[str] = mapped_column(String(300), default="")
    # Forum topic the digests go to (None: the main chat).
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    digest_times: Mapped[str] = mapped_column(String(64), default="08:00")  # "08:00,18:30"
    digest_size: Mapped[int] = mapped_column(Integer, default=10)
    only_followed: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_empty: Mapped[bool] = mapped_column(Boolean, default=False)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=False)
    # False once Telegram says the bot was blocked or the chat is gone.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    next_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # In a private chat: the channel its settings commands change (picked by an admin).
    managed_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    # Whether digests show Telegram's link preview of the top story.
    link_preview: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Whether digests and /latest list stories newest first instead of by how many outlets
    # report them.
    newest_first: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The interface language of replies and digests; until chosen with /language, a private
    # chat follows its user's Telegram language and a group keeps its subscriber's.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    language_chosen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The news languages its digests and /latest keep to ("de,fr"); None: every language.
    news_languages: Mapped[str | None] = mapped_column(String(64))
    # "22:00-07:00" in its zone: no alert or story update is sent then (held until they end).
    quiet_hours: Mapped[str | None] = mapped_column(String(11))
    # Whether a digest due in quiet hours arrives without a notification sound.
    quiet_digests_silent: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    topics: Mapped[list[ChatTopic]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ChatTopic.id"
    )


class ChatTopic(Base):
    """One of a chat's rules, in order: a pattern it follows (leads its digest), includes
    (with any include, only what one matches reaches it), mutes (never reaches it) or
    alerts on (told at once when an item matches)."""

    __tablename__ = "chat_topics"
    # A rule is unique by everything it says; a rule of every source counts as source 0,
    # as NULLs are never equal (migration 0017).
    __table_args__ = (
        Index(
            "uq_chat_rules",
            "chat_id",
            "kind",
            "phrase",
            "pattern_type",
            func.coalesce(text("source_id"), 0),
            "field",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # follow | include | mute | alert
    phrase: Mapped[str] = mapped_column(String(200))  # words, or a regex as written: /.../i
    pattern_type: Mapped[str] = mapped_column(String(8), default="words", server_default="words")
    # Only this source's items (a rule on a source that goes away goes with it).
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(8), default="both", server_default="both")


class HiddenSource(Base):
    """One of the bot's feeds a chat switched off in /sources: its items never reach the chat."""

    __tablename__ = "hidden_sources"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )


class ChatFeed(Base):
    """A feed a chat added for itself (/addfeed); chats adding one URL share its source."""

    __tablename__ = "chat_feeds"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Digest(Base):
    """One scheduled digest of one chat: claimed, then sent, then recorded."""

    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("chat_id", "due_at", name="uq_digests_chat_due"),
        Index("ix_digests_status", "status", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class Delivery(Base):
    """An article that reached a chat, and in which digest; never sent to it again."""

    __tablename__ = "deliveries"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("digests.id", ondelete="SET NULL"))
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Meta(Base):
    """Small facts about the store itself: one-time imports done, job heartbeats."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StoryFollow(Base):
    """A story a chat follows: what it already knows of it, and how often it was told."""

    __tablename__ = "story_follows"
    __table_args__ = (UniqueConstraint("chat_id", "article_id", name="uq_story_follows"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    # The article the chat followed the story from (no key: the article may be pruned).
    article_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    # The story's reports the chat knows of (article ids) and their outlets, comma lists.
    known_ids: Mapped[str] = mapped_column(Text, default="")
    outlets: Mapped[str] = mapped_column(Text, default="")
    # News found while the day's updates were used up, told in the next update.
    held_ids: Mapped[str] = mapped_column(Text, default="")
    # Items with an id up to this one were looked at for this story.
    checked_through: Mapped[int] = mapped_column(Integer, default=0)
    last_news_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The day's updates, counted from window_started_at.
    window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updates_in_window: Mapped[int] = mapped_column(Integer, default=0)
    updates_made: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StoryUpdate(Base):
    """One update of a followed story waiting to be sent, or sent: an outbox row."""

    __tablename__ = "story_updates"
    __table_args__ = (Index("ix_story_updates_due", "sent_at", "claimed_until"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    follow_id: Mapped[int] = mapped_column(
        ForeignKey("story_follows.id", ondelete="CASCADE"), index=True
    )
    # "<follow id>:<its update number>": the same update can only ever be made once.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    article_ids: Mapped[str] = mapped_column(Text)
    outlets: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class Alert(Base):
    """An item one of a chat's alert rules caught: an outbox row, sent once."""

    __tablename__ = "alerts"
    # A chat's alerts are found through the unique index, which leads with chat_id.
    __table_args__ = (
        UniqueConstraint("chat_id", "article_id", name="uq_alerts_chat_article"),
        Index("ix_alerts_due", "sent_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    # The alert rule that caught it: stopping the alert drops what it has not sent.
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("chat_topics.id", ondelete="CASCADE"), index=True
    )
    # No key: the article may be pruned before the alert is sent.
    article_id: Mapped[int] = mapped_column(Integer)
    # A message of its own; otherwise gathered with the chat's others due at the same time
    # (over the hour's cap, or caught in quiet hours).
    alone: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
