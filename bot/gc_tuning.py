"""How a long-running bot process has Python's cyclic garbage collector and C's allocator
treat its heap.

Start-up builds a large heap that lives as long as the process (PTB, SQLAlchemy, the
language and zone data, the catalogs). By default every full collection walks all of it,
which took over 100 ms at a time in the query bench, a pause some reply pays for, and
young collections ran every 700 allocations, several times during one /topic ranking.

glibc's malloc gives each thread that allocates an arena of its own (up to eight per
core), and what a pass frees in one arena is reused by that arena alone: the store's
threads (one per SQLite connection) and the worker threads that group stories each held
megabytes a pass had freed, 5 MB of the bot's peak at 1M articles.
"""

from __future__ import annotations

import ctypes
import gc

# Young objects a collection waits for (Python's default is 700); the older generations
# keep their default ratio to it. A reply allocates thousands of short-lived objects.
YOUNG_THRESHOLD = 10_000


def settle_after_start() -> None:
    """Set what start-up built apart from every later collection, and collect young
    objects less often. Called once the process is ready to serve."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


# glibc's mallopt parameter number for the most arenas the process may have.
_M_ARENA_MAX = -8
# The event loop's thread and one the others share: they spend most of their time waiting
# on the database or holding the GIL, so they seldom allocate at the same moment.
MALLOC_ARENAS = 2


def limit_malloc_arenas() -> None:
    """Keep glibc's malloc to a couple of arenas for the whole process; called before the
    first thread starts. Elsewhere (musl, macOS) there is nothing to do."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None:
        mallopt(_M_ARENA_MAX, MALLOC_ARENAS)
