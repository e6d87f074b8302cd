"""When to poll a feed again: our interval, what the server asks for, backoff and jitter."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta


def next_fetch_delay(
    interval_seconds: float,
    hint_seconds: float | None,
    *,
    error_count: int,
    min_seconds: float = 60,
    max_backoff: float = 86400,
    jitter: float = 0.0,
) -> float:
    """Seconds until a source is polled again.

    - healthy: our interval, stretched to what the server asks (ttl, max-age) but
      never beyond 4x our interval: a server cannot make us poll faster, nor
      silence a feed with a year-long max-age;
    - failing: interval * 2**errors, capped at `max_backoff`; a Retry-After hint
      (429/503) may ask for more, up to the same cap;
    - `jitter` (0 to 0.25) stretches the delay by that fraction so that sources
      do not fire in lockstep; derive it from the source (`stable_jitter`) to keep
      schedules reproducible. It only ever adds time.
    """
    interval = max(float(interval_seconds), float(min_seconds))
    upper = max(float(max_backoff), interval)
    if error_count > 0:
        delay = min(interval * 2 ** min(error_count, 32), upper)
        if hint_seconds is not None and hint_seconds > 0:
            delay = max(delay, min(float(hint_seconds), upper))
    else:
        delay = interval
        if hint_seconds is not None and hint_seconds > 0:
            delay = max(interval, min(float(hint_seconds), 4 * interval))
    delay *= 1 + min(max(jitter, 0.0), 0.25)
    return min(max(delay, float(min_seconds)), upper)


def next_fetch_after_success(
    due_at: datetime | None,
    now: datetime,
    delay_seconds: float,
    *,
    jitter: float = 0.0,
    pass_seconds: float,
) -> datetime:
    """When a feed fetched at `now` is due again, counted from when it was due.

    Counting from the pass that fetched it would add that pass's lateness to every
    interval, so a 60-second feed polled by 60-second passes came due just after the
    next pass and was read every 120 seconds. The jitter fraction still spreads feeds,
    but only up to a margin before the pass (every `pass_seconds` from `now`) that would
    take the unjittered time, so it never costs a pass. A feed overdue by more than its
    delay (the bot was down) starts a fresh cadence from `now`.
    """
    start = due_at if due_at is not None and due_at <= now else now
    target = start + timedelta(seconds=delay_seconds)
    if target <= now:
        target = now + timedelta(seconds=delay_seconds)
    passes = math.ceil((target - now).total_seconds() / pass_seconds)
    # Passes start a little late and by varying amounts; stay a tenth of one clear of it.
    latest = now + timedelta(seconds=(passes - 0.1) * pass_seconds)
    stretched = target + timedelta(seconds=delay_seconds * min(max(jitter, 0.0), 0.25))
    return max(target, min(stretched, latest))


def stable_jitter(key: str, spread: float = 0.1) -> float:
    """A fraction in [0, spread) that is always the same for the same key."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * spread
