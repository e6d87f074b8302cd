"""`newsbot ingest`: every active feed fetched once, with progress and a report per feed."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from bot.cli.store import ready_store
from bot.clock import SystemClock
from bot.config import Settings
from bot.ingest.poller import IngestReport, SourceReport, ingest_all
from bot.news.text import truncate
from bot.services import make_fetcher


async def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Fetch every active feed once, now; failing feeds are reported, not fatal."""
    database = await ready_store(settings)
    try:
        async with make_fetcher(settings) as fetcher:
            progress = _Progress(sys.stderr)
            report = await ingest_all(
                database, fetcher, settings, now=SystemClock().now(), progress=progress.step
            )
            progress.done()
    finally:
        await database.dispose()
    if args.json:
        print(
            json.dumps(
                [_source_report_json(s) for s in report.sources], ensure_ascii=False, indent=2
            )
        )
    else:
        _print_ingest_table(report)
    return 0


class _Progress:
    """A bar redrawn in place on a terminal; a plain line per feed anywhere else."""

    WIDTH = 20

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.drawn = False

    def step(self, source: SourceReport, done: int, total: int) -> None:
        if not self.tty:
            print(
                f"{done}/{total} {source.name}: {_outcome_text(source)}",
                file=self.stream,
                flush=True,
            )
            return
        filled = self.WIDTH * done // total
        self.stream.write(f"\r[{'#' * filled}{'-' * (self.WIDTH - filled)}] {done}/{total} sources")
        self.stream.flush()
        self.drawn = True

    def done(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _outcome_text(source: SourceReport) -> str:
    if source.outcome == "error":
        return f"error: {source.error}" + (" (turned off)" if source.newly_deactivated else "")
    if source.outcome == "not_modified":
        return "not modified"
    return f"{source.new} new, {source.unchanged} unchanged"


def _print_ingest_table(report: IngestReport) -> None:
    if not report.sources:
        print("No active feeds. Add one with `newsbot sources add URL`.")
        return
    print(f"{'id':>4}  {'source':<40}  {'new':>5}  {'unchanged':>9}  error")
    for s in sorted(report.sources, key=lambda s: s.id):
        error = truncate(s.error or "", 70) + (" (turned off)" if s.newly_deactivated else "")
        print(
            f"{s.id:>4}  {truncate(s.name, 40):<40}  {s.new:>5}  {s.unchanged:>9}  {error}".rstrip()
        )
    print(f"{len(report.sources)} feeds: {report.new} new items, {len(report.failed)} failed.")


def _source_report_json(source: SourceReport) -> dict[str, object]:
    return {
        "id": source.id,
        "url": source.url,
        "title": source.title,
        "outcome": source.outcome,
        "new": source.new,
        "unchanged": source.unchanged,
        "skipped": source.skipped,
        "error": source.error,
        "turned_off": source.newly_deactivated,
    }
