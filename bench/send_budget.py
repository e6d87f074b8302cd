"""What the shared send budget costs per send on PostgreSQL.

Run: ``.venv/bin/python -m bench.send_budget [postgresql+asyncpg://...]``

Takes turns from ``bot.store.send_budget`` with a limit far above what the loop can reach,
so no turn ever waits and the time is the budget's own: one call of the database function
(the advisory lock, the window query, the inserts and the trim) on an autocommit
connection. Once from one instance, then from two instances (two engines) at once, as two
processes contend for the lock; each way a turn at a time and in batches of 50 (what an
instance with that many sends waiting reserves at 1,000/s). The figure is
milliseconds per send, to set against a send's own cost (the fake Bot API answers in
about 1 ms), against the 33 ms between sends at 30/s and the 1 ms at 1,000/s.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid

from sqlalchemy.engine import make_url

from bot.store.db import Database
from bot.store.send_budget import OverallRate, take_send_turns
from tests.support import POSTGRES_URL, postgres_admin

SENDS = 2000
UNBOUNDED = OverallRate(limit=10**9, window=1.0, gap=0.0)


async def _turns(database: Database, count: int, batch: int) -> None:
    for _ in range(count // batch):
        async with database.autocommit() as connection:
            turns = await take_send_turns(connection, UNBOUNDED, wanted=batch, horizon=60.0)
            assert len(turns.delays) == batch


async def _per_send(databases: list[Database], batch: int) -> float:
    started = time.perf_counter()
    await asyncio.gather(*(_turns(d, SENDS // len(databases), batch) for d in databases))
    return (time.perf_counter() - started) / SENDS * 1000


async def _measure(url: str) -> None:
    databases = [Database(url), Database(url)]
    try:
        await databases[0].upgrade()
        await _turns(databases[0], 100, 1)  # warm the pool and the statement cache
        figures = {
            (instances, batch): await _per_send(databases[:instances], batch)
            for instances in (1, 2)
            for batch in (1, 50)
        }
    finally:
        for database in databases:
            await database.dispose()
    parts = [
        f"{ms:.3f} ms per send from {'one instance' if instances == 1 else 'two instances'}"
        f" {'a turn at a time' if batch == 1 else f'in batches of {batch}'}"
        f" ({1000 / ms:,.0f} sends/s at most)"
        for (instances, batch), ms in figures.items()
    ]
    print(f"summary send budget: {'; '.join(parts)}; {SENDS} sends each way")


def main() -> None:
    """Measure on the URL given, else on a throwaway database on the test server."""
    if len(sys.argv) > 1:
        asyncio.run(_measure(sys.argv[1]))
        return
    name = f"newsbot_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(postgres_admin(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        asyncio.run(_measure(url))
    finally:
        asyncio.run(postgres_admin(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
