"""Rules' regular expressions: RE2 on a pattern that makes a backtracking engine explode.

Run: ``.venv/bin/python -m bench.rules``.

`/(a+)+$/` against "a" * n + "b" fails only after trying every way of splitting the a's
among the groups: Python's ``re`` doubles its time with each "a" added, so it is timed on
short titles only (up to 24 characters, about a second), while RE2 (what a chat's
`/filter ... /regex/` runs on, ``bot.news.rules``) is timed on a 10,001-character one. The
figures are printed, never asserted.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from bot.news.rules import compiled_regex

PATTERN = r"(a+)+$"
RE2_LENGTH = 10_000
RE2_ROUNDS = 100
PYTHON_LENGTHS = (16, 18, 20, 22, 24)


def _seconds(search: Callable[[str], object], text: str, rounds: int = 1) -> float:
    """The best of three runs of `rounds` searches, per search."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(rounds):
            search(text)
        best = min(best, (time.perf_counter() - started) / rounds)
    return best


def main() -> None:
    """Print RE2's time on the long title beside Python's on the short ones."""
    re2_pattern = compiled_regex(f"/{PATTERN}/")
    long_title = "a" * RE2_LENGTH + "b"
    assert re2_pattern.search(long_title) is None
    re2_time = _seconds(re2_pattern.search, long_title, RE2_ROUNDS)
    print(f"pattern /{PATTERN}/ on 'a' * n + 'b' (no match)")
    print(f"{'engine':<8} {'title length':>12} {'time per search':>16}")
    print(f"{'RE2':<8} {len(long_title):>12,} {re2_time * 1e3:>13.4f} ms")
    python_pattern = re.compile(PATTERN)
    python_time = 0.0
    for length in PYTHON_LENGTHS:
        python_time = _seconds(python_pattern.search, "a" * length + "b")
        print(f"{'re':<8} {length + 1:>12,} {python_time * 1e3:>13.3f} ms")
    print(
        f"summary re2_{RE2_LENGTH + 1}_chars_ms={re2_time * 1e3:.4f} "
        f"python_re_{PYTHON_LENGTHS[-1] + 1}_chars_ms={python_time * 1e3:.1f}"
    )


if __name__ == "__main__":
    main()
