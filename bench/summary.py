"""Summary speed: milliseconds per article of ``summarize()``, against the sentence splitter.

Run: ``.venv/bin/python -m bench.summary``

* Article bodies, all real: the 100 CNN/DailyMail articles of the shared corpus
  (``summaries/cnndm-summeval.jsonl``), the main text of its 61 article pages as
  ``extract_article`` gives it (``pages/html``; extraction is timed too, for information),
  the full-content items (1,500+ characters) of its news feeds, and the seed article.
* Each body is summarized with the bot's defaults (what /summary shows), and timed
  ``REPEATS`` times; an article's figure is its fastest run (the least disturbed by the
  machine), and the percentiles are over articles.
* Yardsticks in the same run, on the same bodies: Lead-3 with the same sentence splitter
  (``split_sentences``, the first step of ``summarize``) and the splitter alone. The ratio
  says what the scoring and selection cost on top of reading the sentences.
"""

from __future__ import annotations

import io
import re
import sys
import time
from collections.abc import Callable

import feedparser

from bench.common import SEEDS, machine, p50_p95_p99, print_table, real_data, summary_line
from bot.news.extract import extract_article
from bot.news.extractive import split_sentences, summarize
from bot.news.text import clean_text

REPEATS = 5
MIN_FEED_BODY = 1500
_BLOCK_END = re.compile(r"(?i)</p\s*>|<br\s*/?>|</h\d\s*>|</li\s*>|</div\s*>")


def load_bodies() -> tuple[list[tuple[str, str, str]], list[float]]:
    """(kind, title, text) of every article body, and extraction times (ms) of the pages."""
    data = real_data()
    bodies = [("cnndm", "", record["article"]) for record in data.cnndm_rows()]
    extraction_ms: list[float] = []
    pages = [data.page_html(name) for name in sorted(data.page_expectations())]
    if pages:
        extract_article(pages[0])  # trafilatura loads lazily on first use
    for html in pages:
        started = time.perf_counter()
        article = extract_article(html)
        extraction_ms.append((time.perf_counter() - started) * 1000)
        if article is not None:
            bodies.append(("page", article.title or "", article.text))
    for path in data.feed_files():
        parsed = feedparser.parse(io.BytesIO(path.read_bytes()))
        for entry in parsed.entries:
            parts = [entry.get("summary", "")] + [
                c.get("value", "") for c in entry.get("content", [])
            ]
            html = max(parts, key=len)
            text = "\n".join(p for p in (clean_text(b) for b in _BLOCK_END.split(html)) if p)
            if len(text) >= MIN_FEED_BODY:
                bodies.append(("feed", clean_text(entry.get("title", "")), text))
    for seed in sorted(SEEDS.glob("*.txt")):
        bodies.append(("seed", "", seed.read_text(encoding="utf-8")))
    return bodies, extraction_ms


def time_each(bodies: list[tuple[str, str, str]], run: Callable[[str, str], object]) -> list[float]:
    """Milliseconds per body: the fastest of REPEATS runs."""
    best = [float("inf")] * len(bodies)
    for _ in range(REPEATS):
        for index, (_, title, text) in enumerate(bodies):
            started = time.perf_counter()
            run(title, text)
            best[index] = min(best[index], time.perf_counter() - started)
    return [seconds * 1000 for seconds in best]


def lead3(title: str, text: str) -> str:
    return " ".join(split_sentences(text)[:3])


def main() -> int:
    print(f"bench.summary on {machine()}")
    bodies, extraction_ms = load_bodies()
    if not bodies:
        print("no article bodies found (the shared corpus is missing)")
        return 1
    kinds = {
        kind: sum(1 for k, _, _ in bodies if k == kind)
        for kind in ("cnndm", "page", "feed", "seed")
    }
    chars = sorted(len(text) for _, _, text in bodies)
    print(
        f"data: {len(bodies)} real article bodies ({kinds['cnndm']} CNN/DM, "
        f"{kinds['page']} extracted pages, {kinds['feed']} full-content feed items, "
        f"{kinds['seed']} seed), {chars[len(chars) // 2]:,} characters median, "
        f"{chars[-1]:,} max; fastest of {REPEATS} runs each"
    )

    systems = [
        (
            "summarize() (defaults: up to 5 sentences, 600 chars)",
            lambda title, text: summarize(text, title=title or None),
        ),
        ("yardstick: Lead-3 (split_sentences + first three)", lead3),
        ("yardstick: split_sentences alone", lambda title, text: split_sentences(text)),
    ]
    timings = {name: time_each(bodies, run) for name, run in systems}
    ours = timings[systems[0][0]]
    lead = timings[systems[1][0]]
    rows = []
    for name, values in timings.items():
        p50, p95, p99 = p50_p95_p99(values)
        rows.append([name, p50, p95, p99, max(values), sum(values) / len(values)])
    print_table(
        "Summarizer speed per article (ms)",
        ["system", "p50", "p95", "p99", "max", "mean"],
        [[r[0]] + [f"{v:.3f}" for v in r[1:]] for r in rows],
    )
    ratios = sorted(o / y for o, y in zip(ours, lead, strict=True))
    print(
        f"\nsummarize / Lead-3 per article: median {ratios[len(ratios) // 2]:.2f}x, "
        f"p99 {ratios[min(len(ratios) - 1, int(0.99 * len(ratios)))]:.2f}x; "
        f"over the whole set {sum(ours) / sum(lead):.2f}x"
    )
    e50, _, e99 = p50_p95_p99(extraction_ms)
    print(
        f"for information, extract_article on the {len(extraction_ms)} pages: p50 {e50:.1f} ms, "
        f"p99 {e99:.1f} ms (one run each, after one warm-up)"
    )
    o50, _, o99 = p50_p95_p99(ours)
    l50, _, l99 = p50_p95_p99(lead)
    summary_line(
        "summary",
        {
            "summarize": f"p50 {o50:.2f} ms, p99 {o99:.2f} ms per article over {len(bodies)}",
            "Lead-3 yardstick": f"p50 {l50:.2f} ms, p99 {l99:.2f} ms",
            "ratio": (
                f"{o50 / l50:.1f}x at p50, {o99 / l99:.1f}x at p99, "
                f"{sum(ours) / sum(lead):.1f}x in total"
            ),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
