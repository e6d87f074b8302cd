"""Summary and extraction quality on real articles, against the usual baselines.

Run: ``.venv/bin/python -m bench.summary_quality``

* ROUGE-1/2/L F1 (rouge-score, Porter stemmer) of our ``summarize`` against the CNN/DM
  reference highlights, with Lead-3 and sumy's LexRank (3 sentences) computed in the
  same run on the same sentence splits, so the comparison is like for like.
* Main-text extraction over real article pages: the share of expected snippets found
  (``with``) and of boilerplate snippets kept out (``without``), for our
  ``extract_article`` and for plain ``trafilatura.extract`` with its defaults.

Reads ``../shared/corpus`` beside the repository, else the smaller ``tests/data``.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import trafilatura
from rouge_score import rouge_scorer

from bench.common import RealData, real_data
from bot.news.extract import extract_article
from bot.news.extractive import split_sentences, summarize
from bot.news.text import words

LEXRANK_SENTENCES = 3


@dataclass(frozen=True)
class RougeRow:
    """Mean ROUGE F1 (x100) of one system, with its output length and speed."""

    name: str
    rouge1: float
    rouge2: float
    rougeL: float
    chars: float
    ms: float


@dataclass(frozen=True)
class ExtractionRow:
    """Share of expected snippets found and of boilerplate snippets kept out."""

    name: str
    with_found: float
    without_absent: float
    median_ms: float


def _lexrank() -> Callable[[str], str]:
    """sumy's LexRank over our sentence splits (sumy's own tokenizer needs NLTK punkt)."""
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.nlp.stemmers import Stemmer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.utils import get_stop_words

    class WordTokenizer:
        """The word tokenizer sumy's Sentence calls: ours, so no NLTK data is needed."""

        language = "english"

        @staticmethod
        def to_words(text: str) -> list[str]:
            return words(text)

    tokenizer = WordTokenizer()
    summarizer = LexRankSummarizer(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")

    def run(text: str) -> str:
        sentences = [Sentence(s, tokenizer) for s in split_sentences(text)]
        document = ObjectDocumentModel([Paragraph(sentences)])
        return " ".join(str(s) for s in summarizer(document, LEXRANK_SENTENCES))

    return run


def _lead3(text: str) -> str:
    """The first three sentences, as split by the same splitter our summarizer uses."""
    return " ".join(split_sentences(text)[:3])


def rouge_table(rows: list[dict]) -> list[RougeRow]:
    """Score each system over every article against its reference highlights."""
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    systems: list[tuple[str, Callable[[str], str]]] = [
        ("ours (default: 3-5 sent., <=600 chars)", summarize),
        ("ours, 3 sentences", lambda text: summarize(text, max_sentences=3)),
        ("Lead-3", _lead3),
        ("sumy LexRank, 3 sentences", _lexrank()),
    ]
    table = []
    for name, system in systems:
        totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
        chars, elapsed = 0, 0.0
        for row in rows:
            started = time.perf_counter()
            summary = system(row["article"])
            elapsed += time.perf_counter() - started
            chars += len(summary)
            scores = scorer.score(row["reference"], summary)
            for key in totals:
                totals[key] += scores[key].fmeasure
        n = len(rows)
        table.append(
            RougeRow(
                name,
                100 * totals["rouge1"] / n,
                100 * totals["rouge2"] / n,
                100 * totals["rougeL"] / n,
                chars / n,
                1000 * elapsed / n,
            )
        )
    return table


def _normalise(text: str) -> str:
    """Whitespace-collapsed text, so snippets match across line breaks."""
    return re.sub(r"\s+", " ", text).strip()


def extraction_table(data: RealData) -> list[ExtractionRow]:
    """Snippet checks over the article pages for ours and trafilatura's defaults."""
    expectations = data.page_expectations()
    documents = {name: data.page_html(name) for name in expectations}

    def ours(html: bytes, url: str | None) -> str:
        article = extract_article(html, url=url)
        return article.text if article else ""

    def trafilatura_defaults(html: bytes, url: str | None) -> str:
        return trafilatura.extract(html) or ""

    table = []
    extractors = (
        ("ours: extract_article", ours),
        ("trafilatura.extract defaults", trafilatura_defaults),
    )
    for name, extract in extractors:
        found = expected = absent = unwanted = 0
        times = []
        for page, expectation in expectations.items():
            started = time.perf_counter()
            text = _normalise(extract(documents[page], expectation.get("url")))
            times.append(time.perf_counter() - started)
            for snippet in expectation["with"]:
                expected += 1
                found += _normalise(snippet) in text
            for snippet in expectation["without"]:
                unwanted += 1
                absent += _normalise(snippet) not in text
        table.append(
            ExtractionRow(
                name,
                100 * found / expected,
                100 * absent / unwanted,
                1000 * statistics.median(times),
            )
        )
    return table


def main() -> int:
    """Print both tables and a one-line verdict."""
    data = real_data()
    rows = data.cnndm_rows()

    rouge = rouge_table(rows)
    print(f"ROUGE F1 x100 over {len(rows)} CNN/DailyMail articles (reference highlights, stemmed)")
    print(f"{'system':40} {'R-1':>6} {'R-2':>6} {'R-L':>6} {'chars':>6} {'ms/art':>7}")
    for r in rouge:
        print(
            f"{r.name:40} {r.rouge1:6.2f} {r.rouge2:6.2f} {r.rougeL:6.2f} "
            f"{r.chars:6.0f} {r.ms:7.2f}"
        )

    extraction = extraction_table(data)
    print()
    print("Main-text extraction over the article pages (share of snippets, %)")
    print(f"{'extractor':40} {'with found':>10} {'without absent':>15} {'median ms':>10}")
    for e in extraction:
        print(f"{e.name:40} {e.with_found:10.1f} {e.without_absent:15.1f} {e.median_ms:10.1f}")

    ours, lead3 = rouge[0], rouge[2]
    mine, theirs = extraction
    beats = ours.rouge1 > lead3.rouge1 and ours.rouge2 > lead3.rouge2
    within = mine.with_found >= theirs.with_found - 1.0
    print()
    print(
        f"summary: ours R-1 {ours.rouge1:.2f} R-2 {ours.rouge2:.2f} vs Lead-3 {lead3.rouge1:.2f} "
        f"{lead3.rouge2:.2f} ({'beats' if beats else 'does NOT beat'} Lead-3 on both); "
        f"extraction with/without {mine.with_found:.1f}/{mine.without_absent:.1f} vs trafilatura "
        f"{theirs.with_found:.1f}/{theirs.without_absent:.1f} "
        f"({'within' if within else 'NOT within'} a point on snippets found)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
