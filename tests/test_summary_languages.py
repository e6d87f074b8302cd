"""Summaries of articles in other languages: their sentence rules and function words."""

from __future__ import annotations

from bot.news.extract import extract_article
from bot.news.extractive import split_sentences, summarize
from bot.news.language import detect_language
from tests.support import page_html


def test_german_ordinals_and_abbreviations_do_not_end_sentences() -> None:
    text = (
        "Am 3. Oktober feiert Deutschland die Einheit, z. B. mit einem Fest in Mainz. "
        "Der 1. FC Köln spielt am 12. Spieltag gegen Dr. Müllers alten Verein. "
        "Die Feiern dauern bis 2017. Danach beginnt der Umbau."
    )
    assert split_sentences(text, "de") == [
        "Am 3. Oktober feiert Deutschland die Einheit, z. B. mit einem Fest in Mainz.",
        "Der 1. FC Köln spielt am 12. Spieltag gegen Dr. Müllers alten Verein.",
        "Die Feiern dauern bis 2017.",
        "Danach beginnt der Umbau.",
    ]


def test_russian_initials_and_spanish_abbreviations_stay_inside_sentences() -> None:
    russian = "В. В. Путин прибыл в Москву. Встреча на ул. Тверской продлится два дня."
    assert split_sentences(russian, "ru") == [
        "В. В. Путин прибыл в Москву.",
        "Встреча на ул. Тверской продлится два дня.",
    ]
    spanish = "El presidente de EE. UU. llegó a Madrid. La Sra. Díaz lo recibió."
    assert split_sentences(spanish, "es") == [
        "El presidente de EE. UU. llegó a Madrid.",
        "La Sra. Díaz lo recibió.",
    ]


def test_english_sentences_split_as_before() -> None:
    text = "Mr. Smith arrived in the U.S. on Monday. He met Gen. Jones. The talks ended."
    assert split_sentences(text) == split_sentences(text, "en")
    assert split_sentences(text) == [
        "Mr. Smith arrived in the U.S. on Monday.",
        "He met Gen. Jones.",
        "The talks ended.",
    ]


def test_german_summary_keeps_whole_sentences() -> None:
    body = (
        "Die Bundesregierung hat am 3. Oktober einen neuen Plan für den Ausbau der Bahn "
        "vorgestellt. Bis zum 31. Dezember sollen die Länder ihre Vorschläge einreichen. "
        "Der Plan sieht Investitionen von 40 Mrd. Euro in Strecken und Bahnhöfe vor. "
        "Kritiker halten die Summe für zu gering, weil viele Brücken marode sind. "
        "Die Opposition fordert, dass der Bund die Bahn stärker kontrolliert."
    )
    summary = summarize(body, title="Neuer Plan für die Bahn", max_sentences=3, language="de")
    sentences = split_sentences(summary, "de")
    assert sentences[0].startswith("Die Bundesregierung hat am 3. Oktober")
    assert all(sentence in body for sentence in sentences)
    assert all(len(sentence.split()) >= 6 for sentence in sentences)


def test_real_german_and_spanish_pages_are_summarised_in_their_language() -> None:
    for name, url, language in [
        ("heise.de.lithium.html", "https://www.heise.de/newsticker/meldung/x.html", "de"),
        ("elpais.com.ciencia.html", "https://elpais.com/elpais/2020/02/18/ciencia/x.html", "es"),
    ]:
        article = extract_article(page_html(name), url=url)
        assert article is not None
        assert detect_language(article.text) == language
        summary = summarize(article.text, title=article.title, language=language)
        assert 100 < len(summary) <= 800
        assert all(sentence in article.text for sentence in split_sentences(summary, language))
