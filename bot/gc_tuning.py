"""How a long-running bot process has Python's cyclic garbage collector treat its heap.

Start-up builds a large heap that lives as long as the process (PTB, SQLAlchemy, the
language and zone data, the catalogs). By default every full collection walks all of it,
which took over 100 ms at a time in the query bench, a pause some reply pays for, and
young collections ran every 700 allocations, several times during one /topic ranking.
"""

from __future__ import annotations

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
