"""How big seen_keys gets: a busy feed simulated for a year, in a minute or so.

Run: ``.venv/bin/python -m bench.tombstones [days]``

One feed publishes 500 items a day and lists its newest 300; it is read four times a day
(through the store functions ingest uses: known_items, add_known_articles, then
note_listed_items) and the retention pass (bot.ingest.retention.prune, RETENTION_DAYS=30)
runs once a day, on a fresh SQLite file. Prints the tombstone count at the end and at its
largest, against the number of articles ever pruned, which is what the table held when
tombstones were never removed.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.ingest.retention import TOMBSTONE_MARGIN, prune
from bot.store.articles import NewArticle, add_known_articles, known_items
from bot.store.db import Database
from bot.store.models import SeenKey
from bot.store.sources import add_source
from bot.store.tombstones import note_listed_items

PER_DAY = 500
LISTED = 300
READS_PER_DAY = 4
RETENTION = timedelta(days=30)
START = datetime(2026, 1, 1, tzinfo=UTC)


async def simulate(days: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite+aiosqlite:///{Path(folder) / 'year.db'}")
        await database.upgrade()
        async with database.session() as session:
            source_id = (await add_source(session, "https://busy.example/feed", now=START)).id
        published: list[NewArticle] = []
        pruned = largest = tombstones = 0
        started = time.perf_counter()
        for read in range(days * READS_PER_DAY):
            now = START + timedelta(days=read / READS_PER_DAY)
            for _ in range(PER_DAY // READS_PER_DAY):
                n = len(published)
                published.append(
                    NewArticle(
                        title=f"Busy story {n}",
                        url=f"https://busy.example/{n}",
                        published_at=now,
                        language="en",
                    )
                )
            listed = published[-LISTED:]
            async with database.session() as session:
                known = await known_items(session, source_id, listed)
                await add_known_articles(session, known, now=now)
                await note_listed_items(session, known, now=now)
            if read % READS_PER_DAY == 0:
                pruned += await prune(database, older_than=now - RETENTION, now=now)
                async with database.session() as session:
                    counted = await session.scalar(select(func.count()).select_from(SeenKey))
                tombstones = counted or 0
                largest = max(largest, tombstones)
        await database.dispose()
    print(
        f"summary tombstones: {days} days of a feed with {PER_DAY} items a day "
        f"(listing {LISTED}): {tombstones:,} tombstones at the end, {largest:,} at most; "
        f"{pruned:,} articles pruned (the table's size without removal); margin "
        f"{TOMBSTONE_MARGIN.days} days; {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    asyncio.run(simulate(int(sys.argv[1]) if len(sys.argv) > 1 else 365))
