"""Feed parsers compared: feedparser against the fast ones, in time and in what is stored.

Run: ``.venv/bin/python -m bench.parsers [--corpus PATH] [--rounds N]``

* Feeds: the real news feeds (``feeds/news``) and feedparser's own test feeds
  (``feeds/wellformed``, ``feeds/illformed``) of the shared corpus (``--corpus``, by
  default ``../shared/corpus``; without it, the suite's smaller sample in tests/data).
* Time per feed, in memory, one process, the parsers taking turns round by round so a
  busy machine slows them alike: raw ``feedparser.parse`` as ``parse_feed`` calls it,
  ``feedparser_rs.parse`` and ``fastfeedparser.parse`` (if installed), then ``parse_feed``
  itself with feedparser alone (``fast=False``) and with its fast path. Ratios are to
  raw feedparser (parsers) and to ``parse_feed(fast=False)`` (what ingest runs).
* Equivalence: per feed, whether ``parse_feed`` stores the same items on its fast path
  as with feedparser alone: the same count, titles, links, published times, languages
  and pictures ("stored fields"), and whole entries (guid, description, author too).
  A refusal must be the same error. Every difference is listed with its fields.
* "fast path" is the share of feeds feedparser-rs read (the rest fell back to feedparser).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import feedparser_rs

from bench.common import SHARED_CORPUS, TEST_DATA, machine, print_table, summary_line
from bot.news.feeds import fastread
from bot.news.feeds.parse import FeedEntry, FeedError, ParsedFeed, parse_feed

NOW = datetime(2026, 11, 30, tzinfo=UTC)
URL = "https://feeds.example/feed"
ENTRY_FIELDS = tuple(field.name for field in dataclasses.fields(FeedEntry))
STORED_FIELDS = ("title", "url", "published_at", "language", "image")
_SKIPPED_FILES = {"index.json", "MANIFEST.md"}


def corpus_sets(corpus: Path) -> dict[str, list[Path]]:
    """The feed files of each set, by name; the suite's sample where the corpus is absent."""
    if not corpus.is_dir():
        print(f"bench: {corpus} not found; using tests/data (figures not comparable)")
        corpus = TEST_DATA
    feeds = corpus / "feeds"
    return {
        name: sorted(
            path
            for path in (feeds / name).rglob("*")
            if path.is_file() and path.name not in _SKIPPED_FILES
        )
        for name in ("news", "wellformed", "illformed")
        if (feeds / name).is_dir()
    }


def _raw_feedparser(body: bytes) -> object:
    return feedparser.parse(io.BytesIO(body), resolve_relative_uris=False, sanitize_html=True)


def _raw_feedparser_rs(body: bytes) -> object:
    return feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=False)


def _parse(fast: bool) -> Callable[[bytes], object]:
    def run(body: bytes) -> object:
        try:
            return parse_feed(body, url=URL, now=NOW, fast=fast)
        except FeedError:
            return None

    return run


def candidates() -> dict[str, Callable[[bytes], object]]:
    """Each way of reading a document that is timed, by name."""
    found: dict[str, Callable[[bytes], object]] = {
        "feedparser": _raw_feedparser,
        "feedparser-rs": _raw_feedparser_rs,
    }
    try:
        import fastfeedparser  # noqa: PLC0415 - optional: `pip install fastfeedparser`
    except ImportError:
        print("bench: fastfeedparser not installed; `pip install fastfeedparser` to time it")
    else:
        found["fastfeedparser"] = fastfeedparser.parse
    found["parse_feed, feedparser alone"] = _parse(False)
    found["parse_feed, fast path"] = _parse(True)
    return found


def time_per_feed(
    bodies: list[bytes], readers: dict[str, Callable[[bytes], object]], rounds: int
) -> dict[str, float]:
    """Median over rounds of the mean ms per feed, each reader in turn within a round."""
    runs: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(rounds):
        for name, read in readers.items():
            started = time.perf_counter()
            for body in bodies:
                # A parser refusing a feed still took its time.
                with contextlib.suppress(Exception):
                    read(body)
            runs[name].append((time.perf_counter() - started) * 1000 / len(bodies))
    return {name: statistics.median(values) for name, values in runs.items()}


def _outcome(body: bytes, fast: bool) -> ParsedFeed | str:
    try:
        return parse_feed(body, url=URL, now=NOW, fast=fast)
    except FeedError as error:
        return f"{type(error).__name__}: {error}"


def difference(reference: ParsedFeed | str, fast: ParsedFeed | str) -> tuple[bool, list[str]]:
    """(stored fields equal, what differs) between feedparser's outcome and the fast path's."""
    if isinstance(reference, str) or isinstance(fast, str):
        same = reference == fast
        return same, [] if same else [f"outcome {reference!r:.60} vs {fast!r:.60}"]
    if len(reference.entries) != len(fast.entries):
        return False, [f"count {len(reference.entries)} vs {len(fast.entries)}"]
    fields: set[str] = set()
    for left, right in zip(reference.entries, fast.entries, strict=True):
        fields |= {name for name in ENTRY_FIELDS if getattr(left, name) != getattr(right, name)}
    for name in ("title", "link", "language", "ttl_seconds", "skipped", "over_cap"):
        if getattr(reference, name) != getattr(fast, name):
            fields.add(f"feed {name}")
    stored_same = not fields & {*STORED_FIELDS, "feed language"}
    return stored_same, sorted(fields)


def took_fast_path(body: bytes) -> bool:
    """Whether feedparser-rs reads this document (no header, the bench's URL as base)."""
    return fastread.read_fast(body, {}, URL) is not None


def equivalence(paths: list[Path]) -> dict[str, Any]:
    """Per set: feeds, fast-path share, stored-field and whole-entry equivalence, differences."""
    stored = whole = fast = 0
    differences = []
    for path in paths:
        body = path.read_bytes()
        fast += took_fast_path(body)
        reference, quick = _outcome(body, False), _outcome(body, True)
        stored_same, fields = difference(reference, quick)
        stored += stored_same
        whole += not fields
        if fields:
            differences.append((path.relative_to(path.parents[1]).as_posix(), ", ".join(fields)))
    return {"feeds": len(paths), "fast": fast, "stored": stored, "whole": whole} | {
        "diffs": differences
    }


def _share(count: int, result: dict[str, Any]) -> str:
    return f"{count} ({count / result['feeds']:.1%})"


def main() -> None:
    """Time the parsers on the real news feeds, then compare what each path stores."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.parsers", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "--corpus", type=Path, default=SHARED_CORPUS, help="the shared corpus folder"
    )
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds over the news feeds")
    args = parser.parse_args()
    print(f"bench.parsers on {machine()}")
    sets = corpus_sets(args.corpus)
    news = [path.read_bytes() for path in sets["news"]]
    readers = candidates()
    times = time_per_feed(news, readers, args.rounds)
    base_raw, base_ours = times["feedparser"], times["parse_feed, feedparser alone"]
    print_table(
        f"time per feed, {len(news)} real news feeds, median of {args.rounds} rounds",
        ["reader", "ms/feed", "vs feedparser", "vs parse_feed alone"],
        [
            [name, ms, f"{base_raw / ms:.1f}x", f"{base_ours / ms:.2f}x"]
            for name, ms in times.items()
        ],
    )
    results = {name: equivalence(paths) for name, paths in sets.items()}
    print_table(
        "parse_feed's fast path vs feedparser alone",
        ["set", "feeds", "fast path", "same stored fields", "same whole entries"],
        [
            [name, r["feeds"], r["fast"], _share(r["stored"], r), _share(r["whole"], r)]
            for name, r in results.items()
        ],
    )
    for name, r in results.items():
        for feed, fields in r["diffs"]:
            print(f"  differs, {name}: {feed}: {fields}")
    news_result = results["news"]
    summary_line(
        "parsers",
        {
            "feedparser-rs vs feedparser": f"{base_raw / times['feedparser-rs']:.1f}x",
            "parse_feed fast vs alone": f"{base_ours / times['parse_feed, fast path']:.2f}x",
            "news same stored": f"{news_result['stored']}/{news_result['feeds']}",
            "news fast path": f"{news_result['fast']}/{news_result['feeds']}",
        },
    )


if __name__ == "__main__":
    main()
