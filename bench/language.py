"""Language detection: how often py3langid names the language of a feed item correctly.

Run: ``.venv/bin/python -m bench.language``

* Items: every entry of the real news feeds whose language is known, from the feed's own
  declaration (``<language>``, ``dc:language``, ``xml:lang``) or, where it declares none,
  from the outlet note in the corpus's ``index.json`` ("Le Parisien (fr)"). Feeds of
  unknown language are left out. The suite's repaired feeds in other languages
  (``tests/data/feeds/languages``) are measured too.
* Each item is detected from its title and description, as ``add_articles`` does for a
  feed that declares nothing; and from the title alone (a headline-only feed). Alone, and
  as ``add_articles`` does it: an item too unclear to tell takes the language most of its
  feed's confident guesses name (``detect_languages``).
* "answered" is the share of items the detector names a language for (it stays silent
  below ``MIN_CONFIDENCE`` or ``MIN_DETECT_CHARS``: those are stored as unknown and read as
  English); "right" is the share of answers that match; "stored right" counts a silence as
  English, which is what the store then does.
* Double-encoded text ("Ã©" for "é") is real in several corpus feeds; items showing it are
  counted apart, since no detector can be right about them.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.common import TEST_DATA, machine, print_table, real_data, summary_line
from bot.news.feeds.parse import FeedError, parse_feed
from bot.news.language import ENGLISH, detect_language, detect_languages, normalise_language

NOW = datetime(2026, 11, 30, tzinfo=UTC)
_OUTLET_LANGUAGE = re.compile(r"\(([a-z]{2})\b")
_MOJIBAKE = re.compile("[ÃÐÑâ][\u0080-\u00bf\u2018-\u201e\u20ac\u2122]")


@dataclass(frozen=True)
class Sample:
    feed: str
    language: str
    title: str
    description: str
    garbled: bool


def samples(folder: Path) -> list[Sample]:
    """The entries of every feed in the folder whose language is known."""
    index_path = folder / "index.json"
    index = json.loads(index_path.read_text(encoding="utf-8")) if index_path.is_file() else {}
    found = []
    for path in sorted(folder.glob("*.xml")):
        try:
            feed = parse_feed(path.read_bytes(), url="https://feeds.example/", now=NOW)
        except FeedError:
            continue
        note = _OUTLET_LANGUAGE.search(index.get(path.name, {}).get("outlet", ""))
        for entry in feed.entries:
            language = entry.language or (normalise_language(note.group(1)) if note else None)
            if language:
                text = f"{entry.title} {entry.description}"
                garbled = bool(_MOJIBAKE.search(text))
                found.append(Sample(path.name, language, entry.title, entry.description, garbled))
    return found


def measure(
    items: list[Sample], *, title_only: bool, by_feed: bool = False
) -> tuple[int, int, int, int]:
    """Items, answered, right among the answers, and right once silence is read as English.

    `by_feed`: as add_articles does, an unclear item takes its feed's majority language.
    """
    feeds: dict[str, list[Sample]] = defaultdict(list)
    for item in items:
        feeds[item.feed if by_feed else f"{item.feed}/{id(item)}"].append(item)
    answered = right = stored_right = 0
    for members in feeds.values():
        texts = [(m.title,) if title_only else (m.title, m.description) for m in members]
        for item, guess in zip(members, detect_languages(texts), strict=True):
            answered += guess is not None
            right += guess == item.language
            stored_right += (guess or ENGLISH) == item.language
    return len(items), answered, right, stored_right


def row(name: str, figures: tuple[int, int, int, int]) -> list[object]:
    count, answered, right, stored_right = figures
    return [
        name,
        count,
        f"{100 * answered / max(1, count):.1f} %",
        f"{100 * right / max(1, answered):.1f} %",
        f"{100 * stored_right / max(1, count):.1f} %",
    ]


def main() -> None:
    corpus = samples(real_data().news_feeds)
    repaired = samples(TEST_DATA / "feeds" / "languages")
    clean = [item for item in corpus if not item.garbled]
    headers = ["items", "n", "answered", "right (of answers)", "stored right"]
    rows = [
        row("corpus feeds, title + description", measure(corpus, title_only=False)),
        row("  without double-encoded items", measure(clean, title_only=False)),
        row("    unclear items take the feed's", measure(clean, title_only=False, by_feed=True)),
        row("corpus feeds, title only", measure(clean, title_only=True)),
        row("    unclear items take the feed's", measure(clean, title_only=True, by_feed=True)),
        row("tests/data/feeds/languages (repaired)", measure(repaired, title_only=False)),
    ]
    print(f"{machine()}; {len(corpus)} items of known language, {len(corpus) - len(clean)} garbled")
    print_table("Language detection (py3langid, offline)", headers, rows)

    by_language: dict[str, list[Sample]] = defaultdict(list)
    for item in clean:
        by_language[item.language].append(item)
    print_table(
        "By declared language: title + description, unclear items take the feed's, clean items",
        headers,
        [
            row(lang, measure(items, title_only=False, by_feed=True))
            for lang, items in sorted(by_language.items())
        ],
    )
    guesses = [(item.language, detect_language(item.title, item.description)) for item in clean]
    confusions = Counter(pair for pair in guesses if pair[1] not in (pair[0], None))
    print("\nCommonest confusions (declared -> detected):", confusions.most_common(8))

    started = time.perf_counter()
    for item in clean:
        detect_language(item.title, item.description)
    per_item_ms = (time.perf_counter() - started) * 1000 / max(1, len(clean))
    print(f"\nDetection time: {per_item_ms:.3f} ms per item (model loaded)")

    count, answered, right, stored_right = measure(clean, title_only=False, by_feed=True)
    summary_line(
        "language",
        {
            "items": str(count),
            "answered": f"{100 * answered / max(1, count):.1f}%",
            "right": f"{100 * right / max(1, answered):.1f}%",
            "stored right": f"{100 * stored_right / max(1, count):.1f}%",
            "ms/item": f"{per_item_ms:.3f}",
        },
    )


if __name__ == "__main__":
    main()
