"""Which language an item is in: what its feed declares, else what the detector reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.news.feeds.parse import parse_feed
from bot.news.language import detect_language, detect_languages, normalise_language
from tests.feedserver import rss_feed

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tag", "code"),
    [("de", "de"), ("de-DE", "de"), ("en_us", "en"), (" pt-BR ", "pt"), ("zh-Hant-TW", "zh")],
)
def test_language_tags_become_their_primary_code(tag: str, code: str) -> None:
    assert normalise_language(tag) == code


@pytest.mark.parametrize("tag", ["", "German!", "12", "x", None, 42])
def test_what_is_no_language_tag_is_none(tag: object) -> None:
    assert normalise_language(tag) is None


def test_feed_declarations_are_read_from_rss_dc_and_xml_lang() -> None:
    rss = rss_feed([{"title": "Neue Verhandlungen zum Iran-Krieg?"}]).replace(
        b"<channel>", b"<channel><language>de-DE</language>", 1
    )
    assert parse_feed(rss, url="https://x.example/", now=NOW).entries[0].language == "de"

    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr"><title>Le fil</title>
<entry><title>Les discussions reprennent</title><link href="https://x.example/1"/></entry>
<entry xml:lang="en"><title>Talks resume</title><link href="https://x.example/2"/></entry>
</feed>"""
    parsed = parse_feed(atom, url="https://x.example/", now=NOW)
    assert parsed.language == "fr"
    assert [entry.language for entry in parsed.entries] == ["fr", "en"]

    undeclared = parse_feed(rss_feed([{"title": "Talks"}]), url="https://x.example/", now=NOW)
    assert undeclared.language is None and undeclared.entries[0].language is None


def test_detector_reads_news_text_and_stays_silent_on_too_little() -> None:
    assert detect_language("Neue Verhandlungen zum Iran-Krieg? Die Gespräche beginnen.") == "de"
    assert detect_language("Переговоры в Женеве продолжатся на следующей неделе") == "ru"
    assert detect_language("Les négociations reprendront la semaine prochaine à Genève") == "fr"
    assert detect_language("Brexit") is None
    assert detect_language("", None) is None


def test_an_unclear_item_takes_the_language_of_its_feed() -> None:
    texts = [
        ("Bahn streicht Verbindungen im Fernverkehr wegen des Sturms",),
        ("Die Regierung plant neue Gesetze für den Klimaschutz",),
        ("Brexit",),
    ]
    assert detect_languages(texts) == ["de", "de", "de"]
    # A feed split between languages lends none.
    mixed = [
        ("Bahn streicht Verbindungen im Fernverkehr wegen des Sturms",),
        ("The government plans new laws to protect the climate",),
        ("Brexit",),
    ]
    assert detect_languages(mixed) == ["de", "en", None]
