"""Search in the language of each article: real feeds served on loopback, both backends.

A reader who types the singular ("Verhandlung", "élection", "мороз") finds the headline
that uses the plural or another case, because the article was stemmed in its own
language and the query in the reader's language as well as English.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.config import Settings
from bot.news.http.fetcher import SafeFetcher
from bot.news.query import matches, parse_query
from bot.news.text import search_document, terms
from bot.store.db import Database
from bot.store.models import Article
from bot.store.search import search_articles
from tests.feedserver import FeedServer, rss_feed
from tests.support import (
    LANGUAGE_FEEDS,
    NEWS_FEEDS,
    FakeClock,
    ingest_feeds,
    schema_before,
    serving_feeds,
)
from tests.test_cli import newsbot

GERMAN = [
    NEWS_FEEDS / "FeedReader__Rss20Spiegel.xml",
    NEWS_FEEDS / "FeedReader__Rss10OrfAt.xml",
    NEWS_FEEDS / "miniflux__encoding_ISO-8859-1.xml",
    NEWS_FEEDS / "miniflux__rdf_UTF8.xml",
    LANGUAGE_FEEDS / "FeedReader__Rss20DaStandardAt.xml",
]
FRENCH = [
    LANGUAGE_FEEDS / "FeedReader__Rss20LeParisien.xml",
    LANGUAGE_FEEDS / "FeedReader__Rss20LeFigaro.xml",
]
SPANISH = [LANGUAGE_FEEDS / "FeedReader__Rss10Minutos20.xml"]
RUSSIAN = [LANGUAGE_FEEDS / "FeedReader__Rss20YandexRussia-repaired.xml"]
EVERY_LANGUAGE = GERMAN + FRENCH + SPANISH + RUSSIAN


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    # Golem's feed is ISO-8859-1, said only by its XML declaration.
    with serving_feeds(EVERY_LANGUAGE) as feed_server:
        yield feed_server


async def ingest(
    database: Database,
    fetcher: SafeFetcher,
    settings: Settings,
    server: FeedServer,
    clock: FakeClock,
    feeds: list[Path],
) -> list[Article]:
    """Read the feeds through the real path; return what was stored."""
    await ingest_feeds(database, fetcher, settings, server, clock, feeds)
    async with database.session() as session:
        return list((await session.scalars(select(Article).order_by(Article.id))).all())


async def found_ids(
    database: Database, words: str, languages: list[str], clock: FakeClock
) -> set[int]:
    async with database.session() as session:
        result = await search_articles(
            session, parse_query(words, languages), limit=500, now=clock.now()
        )
    return {headline.id for headline in result.headlines}


def inflected(articles: list[Article], pattern: str) -> list[tuple[str, Article]]:
    """Each (word, article) where the article's title or description has a word matching."""
    return [
        (word, article)
        for article in articles
        for word in dict.fromkeys(re.findall(pattern, f"{article.title} {article.description}"))
    ]


async def test_german_singular_finds_every_plural_in_ungen(
    database: Database,
    fetcher: SafeFetcher,
    settings: Settings,
    server: FeedServer,
    clock: FakeClock,
) -> None:
    articles = await ingest(database, fetcher, settings, server, clock, GERMAN)
    assert {article.language for article in articles} == {"de"}
    plurals = inflected(articles, r"\b\w+ungen\b")
    assert len(plurals) >= 10
    missed = []
    for plural, article in plurals:
        singular = plural[: -len("en")]  # "Verhandlungen" -> "Verhandlung"
        if article.id not in await found_ids(database, singular, ["de", "en"], clock):
            missed.append((singular, article.title))
    assert missed == []


async def test_french_and_spanish_singulars_find_their_plurals(
    database: Database,
    fetcher: SafeFetcher,
    settings: Settings,
    server: FeedServer,
    clock: FakeClock,
) -> None:
    articles = await ingest(database, fetcher, settings, server, clock, FRENCH + SPANISH)
    # Le Parisien declares no language: the detector reads it as French.
    assert {article.language for article in articles} == {"fr", "es"}
    singular_of = {
        # "journaux" -> "journal", but "réseaux" -> "réseau".
        "fr": [("ions", "ion"), ("ments", "ment"), ("eaux", "eau"), ("(?<!e)aux", "al")],
        "es": [("ciones", "ción"), ("dades", "dad")],
    }
    checked, missed = 0, []
    for language, rules in singular_of.items():
        own = [article for article in articles if article.language == language]
        for ending, replacement in rules:
            for plural, article in inflected(own, rf"\b\w+{ending}\b"):
                singular = re.sub(f"{ending}$", replacement, plural)
                checked += 1
                if article.id not in await found_ids(database, singular, [language, "en"], clock):
                    missed.append((singular, article.title))
    assert checked >= 30
    assert missed == []


async def test_russian_case_and_number_forms_find_each_other(
    database: Database,
    fetcher: SafeFetcher,
    settings: Settings,
    server: FeedServer,
    clock: FakeClock,
) -> None:
    articles = await ingest(database, fetcher, settings, server, clock, RUSSIAN)
    # Yandex declares no language either.
    assert {article.language for article in articles} == {"ru"}
    # The form a reader types, and the form the headline uses.
    pairs = [
        ("мороз", "морозов"),  # genitive plural
        ("Москва", "Москве"),  # prepositional
        ("гостиница", "гостинице"),
        ("пожар", "пожара"),  # genitive
        ("холод", "холодов"),
        ("автобус", "автобусах"),  # prepositional plural
        ("космонавт", "космонавтов"),
        ("жертва", "жертв"),
    ]
    for typed, written in pairs:
        expected = {a.id for a in articles if re.search(rf"\b{written}\b", a.title)}
        assert expected, written
        assert expected <= await found_ids(database, typed, ["ru", "en"], clock), typed


async def test_english_search_is_as_before_beside_other_languages(
    database: Database,
    fetcher: SafeFetcher,
    settings: Settings,
    server: FeedServer,
    clock: FakeClock,
) -> None:
    articles = await ingest(database, fetcher, settings, server, clock, GERMAN + RUSSIAN)
    trump = {a.id for a in articles if "Trump" in f"{a.title} {a.description}"}
    assert trump and trump <= await found_ids(database, "Trump", ["en"], clock)
    # A German reader's query still works for words that are the same in both languages.
    assert trump <= await found_ids(database, "Trump", ["de", "en"], clock)


def test_cli_topic_reads_the_singular_in_the_language_asked_for(
    settings: Settings, server: FeedServer
) -> None:
    feed = rss_feed(
        [
            {
                "title": "Neue Verhandlungen zum Iran-Krieg?",
                "link": "https://www.tagesschau.de/ausland/iran-verhandlungen-100.html",
                "description": "Die Gespräche sollen in Genf stattfinden.",
                "pubDate": "Mon, 30 Nov 2026 07:00:00 GMT",
            },
            {
                "title": "Bahn streicht Verbindungen im Fernverkehr",
                "link": "https://www.tagesschau.de/wirtschaft/bahn-100.html",
                "pubDate": "Mon, 30 Nov 2026 06:00:00 GMT",
            },
        ],
        title="tagesschau.de",
    ).replace(b"<channel>", b"<channel><language>de</language>", 1)
    url = server.add("/tagesschau.xml", feed)
    assert newsbot(settings, "sources", "add", url).returncode == 0
    assert newsbot(settings, "ingest").returncode == 0

    found = newsbot(settings, "topic", "--language", "de", "Verhandlung", "--json")
    assert [item["title"] for item in json.loads(found.stdout)] == [
        "Neue Verhandlungen zum Iran-Krieg?"
    ]
    article = json.loads(
        newsbot(settings, "article", str(json.loads(found.stdout)[0]["id"]), "--json").stdout
    )
    assert article["language"] == "de"
    connection = newsbot(settings, "topic", "--language", "de-DE", "Verbindung", "--json")
    assert [item["title"] for item in json.loads(connection.stdout)] == [
        "Bahn streicht Verbindungen im Fernverkehr"
    ]
    bad = newsbot(settings, "topic", "--language", "deutsch!", "Verhandlung")
    assert bad.returncode == 2 and "not a language code" in bad.stderr


async def test_rows_stored_before_languages_are_still_found(
    database: Database, clock: FakeClock
) -> None:
    """A store made before 0005 keeps its rows: unknown language, read as English."""
    title = "Drug talks resume in Geneva"
    async with schema_before(database, "0005") as connection:
        await connection.execute(
            text(
                "INSERT INTO sources (url, title, kind, active, allow_private, "
                "interval_seconds, error_count, created_at) "
                "VALUES ('https://old.example/feed', 'Old', 'feed', true, false, 900, 0, :now)"
            ),
            {"now": clock.now()},
        )
        # What add_articles wrote before: English terms, no language column.
        await connection.execute(
            text(
                "INSERT INTO articles (source_id, key, title, description, published_at, "
                "fetched_at, search_text) VALUES ((SELECT id FROM sources), 'g:1', :title, "
                "'', :now, :now, :terms)"
            ),
            {"title": title, "now": clock.now(), "terms": search_document(title)},
        )

    async with database.session() as session:
        stored = (await session.scalars(select(Article))).one()
        result = await search_articles(
            session, parse_query("drugs", ["de", "en"]), limit=5, now=clock.now()
        )
    assert stored.language is None
    assert [headline.title for headline in result.headlines] == [title]


async def test_ranking_reads_each_titles_terms_from_what_ingest_stored(
    database: Database,
    fetcher: SafeFetcher,
    settings: Settings,
    server: FeedServer,
    clock: FakeClock,
) -> None:
    """Ingest keeps how many of an item's search terms are its title's, in its language;
    /topic ranks from them exactly as from reading every title again (as it still does
    for rows stored before 0012)."""
    articles = await ingest(database, fetcher, settings, server, clock, EVERY_LANGUAGE)
    assert [a.title_terms for a in articles] == [len(terms(a.title, a.language)) for a in articles]
    # Each language's commonest title words: many matches, in titles and descriptions alike.
    queries = []
    for language in ("de", "fr", "es", "ru"):
        counts = Counter(
            word
            for a in articles
            if a.language == language
            for word in {w.casefold() for w in re.findall(r"\w{5,}", a.title)}
        )
        queries += [(word, language) for word, _ in counts.most_common(4)]
    queries += [
        (f"{first} {second}", language) for (first, language), (second, _) in pairwise(queries)
    ]

    async def rankings() -> list[list[int]]:
        found = []
        for words, language in queries:
            async with database.session() as session:
                result = await search_articles(
                    session, parse_query(words, [language, "en"]), limit=500, now=clock.now()
                )
            found.append([headline.id for headline in result.headlines])
        return found

    from_stored = await rankings()
    async with database.session() as session:
        await session.execute(text("UPDATE articles SET title_terms = NULL"))
    assert from_stored == await rankings()
    assert sum(len(ids) >= 3 for ids in from_stored) >= 12


def test_a_followed_or_muted_word_matches_items_in_their_own_language() -> None:
    muted = parse_query("Verhandlung")  # a chat that reads English, as every chat does today
    title = "Neue Verhandlungen zum Iran-Krieg?"
    assert matches(muted, title, "", "de")
    assert not matches(muted, "Bahn streicht Verbindungen", "", "de")
    russian = parse_query("мороз")
    assert matches(russian, "В Москве из-за сильных морозов объявлен «оранжевый» уровень", "", "ru")
