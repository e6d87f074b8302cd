"""One story, one link: the forms a feed writes a link in come to the same stored URL."""

import pytest

from bot.news.text import canonical_url


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("https://news.example/a/b", "https://news.example/a/b"),
        ("  https://news.example/a/b\n", "https://news.example/a/b"),
        ("https://News.Example/a/b", "https://news.example/a/b"),
        ("HTTPS://news.example/a/b", "https://news.example/a/b"),
        ("https://news.example/a/b?utm_source=rss&utm_medium=feed", "https://news.example/a/b"),
        ("https://news.example/a/b?id=7&fbclid=x", "https://news.example/a/b?id=7"),
        ("https://news.example/a/b#comments", "https://news.example/a/b"),
        ("https://news.example", "https://news.example/"),
        ("https://news.example:8080/a%20b//c;d", "https://news.example:8080/a%20b//c;d"),
        ("https://news.example/a\tb", "https://news.example/ab"),
        ("https://news.example/été", "https://news.example/été"),
        ("mailto:desk@news.example", "mailto:desk@news.example"),
        ("", None),
    ],
)
def test_a_link_is_stored_in_one_form(written: str, stored: str | None) -> None:
    assert canonical_url(written) == stored
