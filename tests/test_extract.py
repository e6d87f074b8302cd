"""Main-text extraction as a reader sees it: the article, without the page around it."""

from __future__ import annotations

import json
import random
import re
import socket

import pytest

from bot.news.extract import ExtractedArticle, extract_article
from tests.support import PAGES, page_html

_PARAGRAPH = (
    "<p>The city council approved the new transit plan on Monday, adding bus lanes on {n} "
    "avenues and extending evening service across the northern districts of the city.</p>"
)
ARTICLE_PAGE = f"""<!doctype html>
<html lang="en"><head>
<title>Council approves transit plan | Example News</title>
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-03-05T10:00:00Z">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article>
<h1>Council approves transit plan</h1>
{"".join(_PARAGRAPH.format(n=n) for n in range(2, 8))}
<p>Read more: Why the buses are always late</p>
<p>Subscribe now to our eNews edition for the full story.</p>
<p>© 2024 Example News. This article is the copyrighted property of Example News.</p>
</article>
<footer>Contact us | Privacy policy | Terms</footer>
</body></html>"""


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _expectations() -> dict[str, dict]:
    return json.loads((PAGES / "expectations.json").read_text(encoding="utf-8"))


def test_article_text_title_author_and_date() -> None:
    article = extract_article(ARTICLE_PAGE, url="https://example.com/news/transit")
    assert isinstance(article, ExtractedArticle)
    assert "approved the new transit plan on Monday" in article.text
    assert article.title == "Council approves transit plan"
    assert article.author == "Jane Doe"
    assert article.date == "2024-03-05"
    assert len(article.paragraphs) >= 6
    assert all(p.strip() for p in article.paragraphs)


def test_page_furniture_is_not_in_the_text() -> None:
    article = extract_article(ARTICLE_PAGE.encode("utf-8"))
    assert article is not None
    for junk in ("Home", "Privacy policy", "Read more", "Subscribe now", "©", "copyrighted"):
        assert junk not in article.text


def test_bytes_and_str_give_the_same_text() -> None:
    from_bytes = extract_article(ARTICLE_PAGE.encode("utf-8"))
    from_str = extract_article(ARTICLE_PAGE)
    assert from_bytes is not None and from_str is not None
    assert from_bytes.text == from_str.text


@pytest.mark.parametrize(
    "document",
    [
        b"",
        "",
        b"   \n\t",
        b"Just a line of plain text, not a web page at all.",
        "Plain text with a < sign and a > sign but no markup.",
        b'{"title": "JSON is not an article", "items": [1, 2, 3]}',
        b"\x00\x01\x02\x03" * 500,
        b"<html><head><title>Empty</title></head><body></body></html>",
        b"<html><body><nav><a href='/'>Home</a></nav></body></html>",
    ],
)
def test_not_an_article_gives_none(document: bytes | str) -> None:
    assert extract_article(document) is None


def test_random_binary_garbage_gives_none() -> None:
    rng = random.Random(7)
    for _ in range(5):
        blob = bytes(rng.randrange(256) for _ in range(4096))
        assert extract_article(blob) is None


def test_extraction_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("extract_article tried to open a connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    article = extract_article(ARTICLE_PAGE, url="https://example.com/news/transit")
    assert article is not None


# --- real pages (tests/data/pages) -----------------------------------------------------

# Pages from several sites, layouts and languages (English, German, Spanish).
SAMPLE_PAGES = [
    "bbc.com.52241221.html",
    "cbsnews.com.carolina.html",
    "nytimes.com.blackouts.html",
    "theverge.com.ios13.html",
    "dw.com.colonial.html",
    "nationnews.com-schools.html",
    "heise.de.lithium.html",
    "latercera.com-laagenda.html",
]


@pytest.mark.parametrize("page", SAMPLE_PAGES)
def test_corpus_page_keeps_the_story_and_drops_the_furniture(page: str) -> None:
    expectation = _expectations()[page]
    article = extract_article(page_html(page), url=expectation["url"])
    assert article is not None
    text = _normalise(article.text)
    for snippet in expectation["with"]:
        assert _normalise(snippet) in text
    for snippet in expectation["without"]:
        assert _normalise(snippet) not in text


def test_corpus_pages_overall_share_of_snippets() -> None:
    # 18 of the 61 pages of trafilatura's evaluation set: the eight above and every sixth
    # page in name order; 53 snippets to find and 54 to leave out.
    expectations = _expectations()
    assert len(expectations) == 18
    found = expected = absent = unwanted = 0
    for page, expectation in expectations.items():
        article = extract_article(page_html(page), url=expectation["url"])
        text = _normalise(article.text) if article else ""
        expected += len(expectation["with"])
        found += sum(_normalise(s) in text for s in expectation["with"])
        unwanted += len(expectation["without"])
        absent += sum(_normalise(s) not in text for s in expectation["without"])
    # On all 61 pages this measures 96.7 % found and 93.5 % absent, on these 18 98.1 % and
    # 92.6 %: the thresholds allow two snippets missed and five kept, no more.
    assert found / expected >= 0.95
    assert absent / unwanted >= 0.90


def test_corpus_page_metadata() -> None:
    expectation = _expectations()["bbc.com.52241221.html"]
    article = extract_article(page_html("bbc.com.52241221.html"))
    assert article is not None
    assert article.title
    assert article.date is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", article.date)
    assert expectation["with"]


def test_truncated_page_is_handled() -> None:
    page = ARTICLE_PAGE.encode("utf-8")
    for cut in (10, 100, len(page) // 2):
        result = extract_article(page[:cut])
        assert result is None or isinstance(result, ExtractedArticle)
