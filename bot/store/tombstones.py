"""Retired articles: pruned, their identity kept while their feed still lists them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.articles import _BATCH, NewArticle, article_key
from bot.store.db import insert_into
from bot.store.models import Article, SeenKey


async def prune_articles(
    session: AsyncSession, *, older_than: datetime, now: datetime, limit: int = _BATCH
) -> int:
    """Delete up to `limit` articles published before `older_than`; return how many went.

    Each one's identity is kept in seen_keys first, so a feed that still lists the
    item never brings it back (add_articles skips those keys).
    """
    statement = (
        select(Article.id, Article.source_id, Article.key)
        .where(Article.published_at < older_than)
        .order_by(Article.published_at, Article.id)
        .limit(limit)
    )
    rows = (await session.execute(statement)).all()
    if not rows:
        return 0
    tombstones = [
        {"source_id": source_id, "key": key, "pruned_at": now} for _, source_id, key in rows
    ]
    await session.execute(
        insert_into(session, SeenKey).on_conflict_do_nothing(index_elements=["source_id", "key"]),
        tombstones,
    )
    await session.execute(
        delete(Article).where(Article.id.in_([row.id for row in rows])),
        execution_options={"synchronize_session": False},
    )
    return len(rows)


async def note_listed_items(
    session: AsyncSession, source_id: int, items: Iterable[NewArticle], *, now: datetime
) -> None:
    """Tell this source's tombstones whether the feed just read still lists their item: a
    dropped one starts counting towards its removal, a listed one stops.

    Only for a whole feed as served: a partial list would make tombstones look dropped.
    """
    keys = {article_key(source_id, item.guid, item.url, item.title) for item in items}
    if not keys:  # an empty read proves nothing about what the feed lists
        return
    counting = await session.scalars(
        select(SeenKey.key).where(SeenKey.source_id == source_id, SeenKey.unlisted_at.is_(None))
    )
    dropped = [key for key in counting if key not in keys]
    listed = sorted(keys)
    for start in range(0, max(len(dropped), len(listed)), _BATCH):
        if chunk := dropped[start : start + _BATCH]:
            await session.execute(
                update(SeenKey)
                .where(SeenKey.source_id == source_id, SeenKey.key.in_(chunk))
                .values(unlisted_at=now)
            )
        if chunk := listed[start : start + _BATCH]:
            await session.execute(
                update(SeenKey)
                .where(
                    SeenKey.source_id == source_id,
                    SeenKey.key.in_(chunk),
                    SeenKey.unlisted_at.is_not(None),
                )
                .values(unlisted_at=None)
            )


async def prune_tombstones(session: AsyncSession, *, unlisted_before: datetime) -> int:
    """Delete the tombstones of items their feed stopped listing before `unlisted_before`:
    the feed can no longer bring them back. Return how many went."""
    gone = await session.scalars(
        delete(SeenKey).where(SeenKey.unlisted_at < unlisted_before).returning(SeenKey.key),
        execution_options={"synchronize_session": False},
    )
    return len(gone.all())
