"""What every benchmark shares: percentiles, peak memory, the table and the summary line.

Figures are printed beside their targets; a bench never fails on a figure (no timed
assertions anywhere), it reports.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
SEEDS = ROOT / "seeds"


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which `fraction` of the sorted values fall (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def p50_p95_p99(values: Sequence[float]) -> tuple[float, float, float]:
    """The three latency percentiles the benches report."""
    return percentile(values, 0.50), percentile(values, 0.95), percentile(values, 0.99)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float:
    """This process's resident memory now, in MB (Linux /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc), or nan."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def machine() -> str:
    """One line naming the machine the figures come from."""
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain aligned table with a title."""
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    print(f"\n{title}")
    for index, row in enumerate(cells):
        print(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if index == 0:
            print("  ".join("-" * w for w in widths))


def verdict(measured: float, target: float, *, higher_is_better: bool) -> str:
    """ "met" or "MISSED", for the figure-beside-target column."""
    met = measured >= target if higher_is_better else measured <= target
    return "met" if met else "MISSED"


def summary_line(name: str, figures: dict[str, str]) -> None:
    """The one line each bench ends with."""
    print(f"\nsummary {name}: " + "; ".join(f"{k} {v}" for k, v in figures.items()))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean (nan when empty)."""
    return statistics.fmean(values) if values else float("nan")
