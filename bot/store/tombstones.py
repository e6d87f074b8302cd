"""Retired articles: pruned, their identity kept while their feed still lists them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.articles import _BATCH, KnownItems
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


async def note_listed_items(session: AsyncSession, known: KnownItems, *, now: datetime) -> None:
    """Tell this source's tombstones whether the feed just read still lists their item: a
    dropped one starts counting towards its removal, a listed one stops. `known` says which
    are counted as listed, so a feed whose listing did not change costs no statement.

    Only for a whole feed as served: a partial list would make tombstones look dropped.
    """
    listed = known.items.keys()
    if not listed:  # an empty read proves nothing about what the feed lists
        return
    dropped = sorted(
        key for key, counted in known.tombstones.items() if counted and key not in listed
    )
    back = sorted(key for key, counted in known.tombstones.items() if not counted and key in listed)
    for keys, unlisted_at in ((dropped, now), (back, None)):
        for start in range(0, len(keys), _BATCH):
            await session.execute(
                update(SeenKey)
                .where(
                    SeenKey.source_id == known.source_id,
                    SeenKey.key.in_(keys[start : start + _BATCH]),
                )
                .values(unlisted_at=unlisted_at)
            )


async def prune_tombstones(session: AsyncSession, *, unlisted_before: datetime) -> int:
    """Delete the tombstones of items their feed stopped listing before `unlisted_before`:
    the feed can no longer bring them back. Return how many went."""
    gone = await session.scalars(
        delete(SeenKey).where(SeenKey.unlisted_at < unlisted_before).returning(SeenKey.key),
        execution_options={"synchronize_session": False},
    )
    return len(gone.all())
