"""What every benchmark shares: percentiles, peak memory, the table and the summary line.

Figures are printed beside their targets; a bench never fails on a figure (no timed
assertions anywhere), it reports.
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import resource
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
TEST_DATA = ROOT / "tests" / "data"
SEEDS = ROOT / "seeds"


@dataclass(frozen=True)
class RealData:
    """Where the real feeds, CNN/DailyMail articles and news pages a bench reads are."""

    news_feeds: Path
    cnndm: Path
    pages: Path  # expectations.json, and html/ with each page plain or gzipped

    def feed_files(self) -> list[Path]:
        """The real news feeds, in name order."""
        return sorted(self.news_feeds.glob("*.xml"))

    def cnndm_rows(self) -> list[dict]:
        """CNN/DailyMail articles with their reference highlights."""
        if not self.cnndm.is_file():
            return []
        lines = self.cnndm.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def page_expectations(self) -> dict[str, dict]:
        """Per page: its URL and the snippets its main text must and must not contain."""
        path = self.pages / "expectations.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def page_html(self, name: str) -> bytes:
        """A page's HTML; tests/data keeps its pages gzipped."""
        plain = self.pages / "html" / name
        if plain.is_file():
            return plain.read_bytes()
        return gzip.decompress((self.pages / "html" / f"{name}.gz").read_bytes())


@lru_cache(maxsize=1)
def real_data() -> RealData:
    """The shared corpus beside the repository, else the suite's smaller copy, said in a line."""
    if SHARED_CORPUS.is_dir():
        return RealData(
            SHARED_CORPUS / "feeds" / "news",
            SHARED_CORPUS / "summaries" / "cnndm-summeval.jsonl",
            SHARED_CORPUS / "pages",
        )
    print(
        f"bench: {SHARED_CORPUS} not found; using tests/data, a smaller sample "
        "(figures not comparable with bench/README.md)",
        file=sys.stderr,
    )
    return RealData(
        TEST_DATA / "feeds" / "news",
        TEST_DATA / "summaries" / "cnndm-summeval-first8.jsonl",
        TEST_DATA / "pages",
    )


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
