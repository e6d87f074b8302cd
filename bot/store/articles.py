"""Queries on articles: adding without duplicates, mending damaged text, newest first."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Boolean,
    ColumnElement,
    Integer,
    Label,
    Row,
    Select,
    Text,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from bot.news.indexing import Indexed, ItemText, index_in, index_items_async
from bot.news.text import canonical_url, fold, search_document
from bot.store.chat_sources import open_to, shared_only, visible_to
from bot.store.chats import GLANCE_COLUMNS, ChatGlance, glance_of
from bot.store.db import insert_into
from bot.store.models import FTS_INSERT, Article, Base, Chat, SeenKey, Source

REPLACEMENT_CHARACTER = "\ufffd"
# What feedparser (and the chardet guess it asks) fall back to when UTF-8 fails to decode.
_MISREAD_AS = ("cp1252", "iso8859-15", "latin-1", "iso8859-2", "cp1250", "cp1251", "koi8-r")
_BATCH = 500


@dataclass(frozen=True)
class NewArticle:
    """An item to store, as a feed or a seed document gives it."""

    title: str
    published_at: datetime
    url: str | None = None
    guid: str | None = None
    description: str = ""
    body: str | None = None
    author: str | None = None
    language: str | None = None
    """ISO code the feed declared; None: detected from the text when stored."""
    image_url: str | None = None
    """Its picture, a public http(s) URL (bot.news.images), or None."""
    indexed: Indexed | None = None
    """Its language, search terms and story words, worked out ahead of storing (ingest does
    it in the parse workers, for the items `known_items` finds new); None: when stored."""

    def text(self) -> ItemText:
        """What `index_items` reads of the item."""
        return ItemText(self.title, self.description, self.body, self.language)


@dataclass(frozen=True)
class Headline:
    """What a list shows of an article: enough to render a line and its button."""

    id: int
    title: str
    url: str | None
    source: str
    published_at: datetime
    description: str
    language: str | None = None
    """ISO code of the text, None if unknown (read as English)."""
    story_words: str | None = None
    """What story grouping reads of the item, as stored with it (None: read it afresh)."""
    image: str | None = None
    """Its picture's URL, or None."""
    source_id: int | None = None
    """Its source's id (a rule may look at one source's items only)."""


def article_key(source_id: int, guid: str | None, url: str | None, title: str) -> str:
    """Identity of an item within its source: guid, else canonical link, else a title hash."""
    if guid and guid.strip():
        guid = guid.strip()
        return f"g:{guid}" if len(guid) <= 500 else "g#" + hashlib.sha1(guid.encode()).hexdigest()
    link = canonical_url(url)
    if link:
        return f"u:{link}" if len(link) <= 500 else "u#" + hashlib.sha1(link.encode()).hexdigest()
    digest = hashlib.sha1(f"{source_id}\x00{fold(title)}".encode()).hexdigest()
    return f"h:{digest}"


def _by_key(source_id: int, items: Iterable[NewArticle]) -> dict[str, NewArticle]:
    """The items by their identity in the source; the first of any that share one."""
    by_key: dict[str, NewArticle] = {}
    for item in items:
        by_key.setdefault(article_key(source_id, item.guid, item.url, item.title), item)
    return by_key


@dataclass(frozen=True)
class KnownItems:
    """A feed's items by their identity in the source, and what the store held of them when
    read: what `add_known_articles` stores and `note_listed_items` marks, read once."""

    source_id: int
    items: dict[str, NewArticle]
    """The items by key, the first of any that share one, in the feed's order."""
    stored: dict[str, StoredText]
    """The items already stored, with the text they were stored with."""
    tombstones: dict[str, bool]
    """This source's tombstones among the items, and those counted as still listed: whether
    each is counted as listed."""

    def new_items(self) -> list[tuple[str, NewArticle]]:
        """The items neither stored nor pruned, by key, in the feed's order."""
        return [
            (key, item)
            for key, item in self.items.items()
            if key not in self.stored and key not in self.tombstones
        ]

    def with_items(self, items: dict[str, NewArticle]) -> KnownItems:
        """The same reading with some items replaced (indexed ahead, say)."""
        return replace(self, items=self.items | items)


@dataclass(frozen=True)
class StoredText:
    """What an item was stored with, to tell whether a feed now has its text right."""

    id: int
    title: str
    description: str


async def known_items(
    session: AsyncSession, source_id: int, items: Iterable[NewArticle]
) -> KnownItems:
    """What the store holds of a feed's items: the stored ones and this source's tombstones,
    in one statement for up to 500 items."""
    by_key = _by_key(source_id, items)
    stored: dict[str, StoredText] = {}
    tombstones: dict[str, bool] = {}
    keys = list(by_key)
    for start in range(0, len(keys), _BATCH):
        rows = await session.execute(
            _known_rows(), {"source_id": source_id, "keys": keys[start : start + _BATCH]}
        )
        for key, id_, title, description, listed in rows:
            if id_ is None:
                tombstones[key] = bool(listed)
            else:
                stored[key] = StoredText(id_, title, description)
    return KnownItems(source_id, by_key, stored, tombstones)


@cache
def _known_rows() -> Select[Any]:
    """known_items' query, built once: a source's stored items among some keys, then its
    tombstones among them or counted as listed (`listed`; None for a stored item)."""
    source_id = bindparam("source_id", type_=Integer)
    keys: BindParameter[str] = bindparam("keys", expanding=True)
    stored = select(
        Article.key,
        Article.id,
        Article.title,
        Article.description,
        literal(None, Boolean).label("listed"),
    ).where(Article.source_id == source_id, Article.key.in_(keys))
    pruned = select(
        SeenKey.key,
        literal(None, Integer),
        literal(None, Text),
        literal(None, Text),
        SeenKey.unlisted_at.is_(None),
    ).where(
        SeenKey.source_id == source_id, or_(SeenKey.key.in_(keys), SeenKey.unlisted_at.is_(None))
    )
    return stored.union_all(pruned)  # type: ignore[return-value]


async def add_articles(
    session: AsyncSession, source_id: int, items: Iterable[NewArticle], *, now: datetime
) -> list[int]:
    """Store the items not seen before from this source; return the ids of the new ones."""
    return await add_known_articles(session, await known_items(session, source_id, items), now=now)


async def add_known_articles(
    session: AsyncSession, known: KnownItems, *, now: datetime
) -> list[int]:
    """Store the items `known` found neither stored nor pruned, mend the text of stored ones
    the feed now has right; return the ids of the new ones. An item stored since `known`
    was read is left as it is (the insert skips it)."""
    if not known.items:
        return []
    await _mend_damaged_text(session, known.stored, known.items)
    new_items = known.new_items()
    # Items not indexed ahead (seeds, or an ingest whose workers failed) are indexed here,
    # off the event loop where fetches wait.
    unindexed = [item.text() for _, item in new_items if item.indexed is None]
    computed = iter(await index_items_async(unindexed))
    fresh = []
    for key, item in new_items:
        language, search_text, title_terms, words = item.indexed or next(computed)
        fresh.append(
            {
                "source_id": known.source_id,
                "key": key,
                "guid": item.guid,
                "url": canonical_url(item.url),
                "title": item.title,
                "description": item.description,
                "body": item.body,
                "author": item.author,
                "published_at": min(item.published_at, now),
                "fetched_at": now,
                "language": language,
                "search_text": search_text,
                "title_terms": title_terms,
                "story_words": words,
                "image_url": item.image_url,
            }
        )
    if not fresh:
        return []
    new_ids: list[int] = []
    await _take_insert_turn(session)
    # The table, not the ORM entity: a Core multi-row INSERT ... RETURNING costs a third of
    # the ORM's bulk insert per row, and no Article objects are wanted here.
    table = Base.metadata.tables[Article.__tablename__]
    statement = (
        insert_into(session, table)
        .on_conflict_do_nothing(index_elements=["source_id", "key"])
        .returning(table.c.id)
    )
    for start in range(0, len(fresh), _BATCH):
        result = await session.execute(statement, fresh[start : start + _BATCH])
        new_ids.extend(result.scalars().all())
    await _index_for_search(session, new_ids)
    return sorted(new_ids)


async def _index_for_search(session: AsyncSession, ids: list[int]) -> None:
    """On SQLite, add these new articles to the FTS5 index in one statement a batch: fired
    row by row from a trigger, FTS5 flushed its terms at every row (migration 0019).
    PostgreSQL's tsvector column is generated with the row."""
    if not ids or session.get_bind().dialect.name != "sqlite":
        return
    for start in range(0, len(ids), _BATCH):
        await session.execute(FTS_INSERT, {"ids": ids[start : start + _BATCH]})


# PostgreSQL advisory lock key ("news" in ASCII) of transactions that insert articles.
_INSERTS_LOCK = 0x6E657773


async def _take_insert_turn(session: AsyncSession) -> None:
    """On PostgreSQL, hold the shared side of the inserts lock until this transaction ends,
    so settled_article_id can wait for every insert in flight (SQLite has one writer)."""
    if session.get_bind().dialect.name != "sqlite":
        await session.execute(select(func.pg_advisory_xact_lock_shared(_INSERTS_LOCK)))


async def settled_article_id(session: AsyncSession) -> int:
    """The newest article id below which no insert is in flight: ids are handed out before
    their transactions commit, and on PostgreSQL another instance's transaction may commit a
    lower id after a higher one. Later inserts all get higher ids."""
    if session.get_bind().dialect.name != "sqlite":
        # Waits for the inserts in flight; new ones wait for this transaction to end.
        await session.execute(select(func.pg_advisory_xact_lock(_INSERTS_LOCK)))
    return int(await session.scalar(select(func.max(Article.id))) or 0)


async def _mend_damaged_text(
    session: AsyncSession, stored: dict[str, StoredText], items: dict[str, NewArticle]
) -> None:
    """Store the text again for items kept with broken characters that the feed now has right."""
    for key, old in stored.items():
        item = items[key]
        if not (_is_mended(old.title, item.title) or _is_mended(old.description, item.description)):
            continue
        article = await session.get(Article, old.id)
        if article is not None:
            article.title = item.title
            article.description = item.description
            mended = ItemText(item.title, item.description, article.body, article.language)
            _, article.search_text, article.title_terms, article.story_words = index_in(
                mended, article.language
            )


def _is_mended(stored: str, fresh: str) -> bool:
    """Whether `fresh` is `stored` without its decoding damage: a replacement character, or
    UTF-8 read as a one-byte charset, as feedparser's fallback does ("ZÃ¼rich" for "Zürich")."""
    if stored == fresh:
        return False
    if REPLACEMENT_CHARACTER in stored and REPLACEMENT_CHARACTER not in fresh:
        return True
    if fresh.isascii():
        return False
    raw = fresh.encode("utf-8")
    for charset in _MISREAD_AS:
        try:
            if stored.encode(charset) == raw:
                return True
        except UnicodeEncodeError:
            continue
    return False


def headline_columns(*, grouped: bool = True) -> tuple[QueryableAttribute[Any] | Label[Any], ...]:
    """What a Headline is selected from, in its fields' order; the query must join Source to
    Article. A list that is never grouped into stories (search results) leaves the story
    words out."""
    columns = (
        Article.id,
        Article.title,
        Article.url,
        Source.title.label("source"),
        Article.published_at,
        Article.description,
        Article.language,
    )
    if grouped:
        return (*columns, Article.story_words, Article.image_url, Article.source_id)
    return (*columns, Article.image_url, Article.source_id)


def headline_of(row: Row[*tuple[Any, ...]]) -> Headline:
    """The Headline in a row selected with headline_columns()."""
    return Headline(
        id=row.id,
        title=row.title,
        url=row.url,
        source=row.source,
        published_at=row.published_at,
        description=row.description,
        language=row.language,
        story_words=row._mapping.get("story_words"),
        image=row._mapping.get("image_url"),
        source_id=row._mapping.get("source_id"),
    )


def _readable_by(chat_id: int | None) -> ColumnElement[bool]:
    """The chat's sources, or (no chat) the feeds everyone reads."""
    return shared_only() if chat_id is None else visible_to(chat_id)


def in_languages(headline: Headline, languages: Collection[str]) -> bool:
    """Whether an item is in one of a chat's news languages; unknown language always is."""
    return headline.language is None or headline.language in languages


def _newest(
    *columns: Any,
    readable: ColumnElement[bool],
    up_to_id: int | ColumnElement[int] | None,
    limit: int | ColumnElement[int],
    offset: int = 0,
) -> Select[Any]:
    """The newest `readable` items, newest first; with `up_to_id`, as they stood when that
    id was newest."""
    statement = (
        select(*columns)
        .join(Source, Source.id == Article.source_id)
        .where(readable)
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(limit)
        .offset(offset or None)
    )
    return statement if up_to_id is None else statement.where(Article.id <= up_to_id)


async def latest_articles(
    session: AsyncSession,
    *,
    limit: int,
    offset: int = 0,
    up_to_id: int | None = None,
    chat_id: int | None = None,
    languages: Collection[str] | None = None,
) -> list[Headline]:
    """The newest items from the chat's sources, newest first; with `up_to_id`, as they
    stood when that id was newest; with `languages`, only those (and unknown) languages."""
    statement = _newest(
        *headline_columns(),
        readable=_readable_by(chat_id),
        up_to_id=up_to_id,
        limit=limit,
        offset=offset,
    )
    if languages is not None:
        statement = statement.where(
            or_(Article.language.is_(None), Article.language.in_(sorted(languages)))
        )
    # A Core read on the session's connection, each row's columns in Headline's field order:
    # the ORM's result handling and a name lookup per row were most of /latest's read.
    connection = await session.connection()
    return [Headline(*row) for row in await connection.execute(statement)]


@dataclass(frozen=True)
class ChatWindow:
    """A chat's newest items, read with what of its row a list needs."""

    rows: tuple[tuple[Any, ...], ...]
    """Each item's Headline fields as read: plain tuples, so a reader can tell an equal
    window it already holds the headlines of without comparing Headlines field by field."""
    chat: ChatGlance

    @property
    def headlines(self) -> list[Headline]:
        """The items as headlines, newest first."""
        return [Headline(*row) for row in self.rows]


async def latest_for_chat(
    session: AsyncSession, chat_id: int, *, limit: int, up_to_id: int | None = None
) -> ChatWindow | None:
    """latest_articles(chat_id=..., languages=the chat's news languages) and the chat's
    zone, title and whether it is active, in one query instead of two (each costs about
    a millisecond); None when the chat has no row yet or there is nothing to show."""
    connection = await session.connection()
    statement = _chat_window(
        sqlite=connection.dialect.name == "sqlite", anchored=up_to_id is not None, limit=limit
    )
    params = {"chat_id": chat_id}
    if up_to_id is not None:
        params["up_to_id"] = up_to_id
    rows = (await connection.execute(statement, params)).all()
    if not rows:
        return None
    fields = len(rows[0]) - len(GLANCE_COLUMNS)
    return ChatWindow(tuple(row[:fields] for row in rows), glance_of(rows[0][fields:]))


@cache
def _chat_window(*, sqlite: bool, anchored: bool, limit: int) -> Select[Any]:
    """latest_for_chat's query, built once (building it took a third of its time) with its
    chat and anchor as parameters. The limit is written into it: PostgreSQL plans a
    prepared statement once only when its plan for any parameters costs about what one
    for these does, and a LIMIT it cannot see is costed as a tenth of the table (a
    2.7 ms plan for a 0.6 ms read, every time, on a loaded machine)."""
    chat_id = bindparam("chat_id", type_=BigInteger)
    statement = _newest(
        *headline_columns(),
        *GLANCE_COLUMNS,
        readable=visible_to(chat_id),
        up_to_id=bindparam("up_to_id", type_=Integer) if anchored else None,
        limit=literal_column(str(int(limit)), Integer),
    )
    # The chat's news_languages ("de,fr"; None: every language) as in_languages reads them,
    # matched as ",de," in ",de,fr," by position (LIKE would read "_" as a wildcard).
    listed = literal(",") + Chat.news_languages + ","
    language = literal(",") + Article.language + ","
    found = func.instr(listed, language) if sqlite else func.strpos(listed, language)
    return statement.join(Chat, Chat.id == chat_id).where(
        or_(Chat.news_languages.is_(None), Article.language.is_(None), found > 0)
    )


async def headlines_published_between(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    limit: int,
    chat_id: int | None = None,
) -> list[Headline]:
    """Items from the chat's sources published in [start, end], newest first: the
    neighbourhood of one story."""
    statement = (
        select(*headline_columns())
        .join(Source, Source.id == Article.source_id)
        .where(Article.published_at >= start, Article.published_at <= end)
        .where(_readable_by(chat_id))
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(limit)
    )
    return [headline_of(row) for row in await session.execute(statement)]


@dataclass(frozen=True)
class ArticleText:
    """An item's words for topic statistics: its title, and its description and body start."""

    title: str
    description: str
    language: str | None = None


# Enough of a body to show how its words are written (capitals mark names), no more.
_BODY_PREFIX_CHARS = 4000


async def recent_texts(
    session: AsyncSession, *, since: datetime, limit: int = 5000
) -> list[ArticleText]:
    """The text of items everyone reads published since a moment, newest first (what
    trending reads: one chat's own feeds never trend for the others)."""
    words = (
        Article.description
        + " "
        + func.coalesce(func.substr(Article.body, 1, _BODY_PREFIX_CHARS), "")
    )
    statement = (
        select(Article.title, words, Article.language)
        .join(Source, Source.id == Article.source_id)
        .where(Article.published_at >= since, shared_only())
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(limit)
    )
    return [
        ArticleText(title, description, language)
        for title, description, language in await session.execute(statement)
    ]


async def get_article(
    session: AsyncSession, article_id: int, *, chat_id: int | None = None
) -> Article | None:
    """One article with its source, or None; with `chat_id`, None too when the article comes
    from another chat's own feed."""
    if chat_id is None:
        return await session.get(Article, article_id)
    statement = (
        select(Article)
        .join(Source, Source.id == Article.source_id)
        .where(Article.id == article_id, open_to(chat_id))
    )
    return await session.scalar(statement)


async def store_body(
    session: AsyncSession, article_id: int, body: str, *, image_url: str | None = None
) -> None:
    """Keep an article's fetched full text, and index it for search; its page's picture
    too, where its feed named none."""
    article = await session.get(Article, article_id)
    if article is not None:
        article.body = body
        article.image_url = article.image_url or image_url
        article.search_text = search_document(
            article.title, article.description, body, language=article.language
        )


async def store_summary(
    session: AsyncSession, article_id: int, summary: str, made_from: str
) -> None:
    """Cache a summary with the hash of the text it was made from."""
    article = await session.get(Article, article_id)
    if article is not None:
        article.summary = summary
        article.summary_source = made_from


async def count_articles(session: AsyncSession) -> int:
    """How many articles the store holds."""
    return int(await session.scalar(select(func.count()).select_from(Article)) or 0)


async def headlines_by_id(session: AsyncSession, ids: Collection[int]) -> dict[int, Headline]:
    """These articles as headlines, by id; pruned ones are missing."""
    if not ids:
        return {}
    statement = (
        select(*headline_columns())
        .join(Source, Source.id == Article.source_id)
        .where(Article.id.in_(sorted(ids)))
    )
    return {row.id: headline_of(row) for row in await session.execute(statement)}
