"""Trending topics and story grouping read each item in its own language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.news.feeds.parse import parse_feed
from bot.news.grouping import group_stories
from bot.news.language import detect_language
from bot.news.text import fold, stop_words
from bot.news.trending import trending_topics
from tests.support import LANGUAGE_FEEDS, NEWS_FEEDS

NOW = datetime(2017, 1, 7, 12, 0, tzinfo=UTC)
FEEDS = [
    NEWS_FEEDS / "FeedReader__Rss20Spiegel.xml",
    NEWS_FEEDS / "FeedReader__Rss10OrfAt.xml",
    NEWS_FEEDS / "miniflux__encoding_ISO-8859-1.xml",
    NEWS_FEEDS / "FeedReader__Rss20Reuters.xml",
    NEWS_FEEDS / "FeedReader__Rss20NYTimes.xml",
    *sorted(LANGUAGE_FEEDS.glob("*.xml")),
]


@dataclass(frozen=True)
class Item:
    id: int
    title: str
    description: str = ""
    language: str | None = None
    source: str = "wire"
    published_at: datetime | None = NOW
    story_words: str | None = None  # as a row stored before migration 0010: read afresh


def feed_items() -> list[Item]:
    """Every item of the feeds, in the language its feed declares or the detector reads."""
    items: list[Item] = []
    for path in FEEDS:
        feed = parse_feed(path.read_bytes(), url="https://feeds.example/", now=NOW)
        for entry in feed.entries:
            language = entry.language or detect_language(entry.title, entry.description)
            items.append(Item(len(items), entry.title, entry.description, language, path.name))
    return items


def test_no_function_word_of_any_language_trends() -> None:
    items = feed_items()
    languages = {item.language for item in items}
    assert {"en", "de", "fr", "es", "ru"} <= languages
    function_words = set().union(*(stop_words(language) for language in languages))

    topics = trending_topics(items, limit=20)

    assert len(topics) == 20
    labels = [topic.label for topic in topics]
    # Acronyms ("US", "EU") are names whatever a stop list says.
    assert not [
        label
        for label in labels
        for word in label.split()
        if not word.isupper() and fold(word) in function_words
    ]
    # What the feeds were about that January still comes through, in every script.
    assert {"Donald Trump", "Paris", "Москве", "Madrid"} <= set(labels)


def test_two_german_headlines_sharing_only_function_words_stay_apart() -> None:
    items = [
        # Read with English rules, "die der von den für das" made these one story.
        Item(1, "Was die Regierung in der Krise von den Bürgern für das Land will", language="de"),
        Item(2, "Was die Fans in der Liga von den Spielern für das Geld erwarten", language="de"),
        Item(3, "Wie die Bahn in der Kälte mit den Weichen kämpft", language="de"),
    ]
    assert [story.member_ids for story in group_stories(items)] == [[1], [2], [3]]


def test_same_german_story_from_two_sources_is_one() -> None:
    items = [
        Item(1, "Bahn streicht Verbindungen im Fernverkehr wegen Sturmtief", language="de"),
        Item(2, "Sturmtief: Bahn streicht Verbindungen im Fernverkehr", language="de", source="b"),
        Item(3, "Lufthansa verhandelt mit Piloten über neue Tarife", language="de"),
    ]
    assert [story.member_ids for story in group_stories(items)] == [[1, 2], [3]]


def test_a_story_in_two_languages_merges_on_its_names_only() -> None:
    items = [
        Item(
            1,
            "Merkel and Macron meet in Meseberg over Brexit",
            "Angela Merkel hosted Emmanuel Macron at Meseberg to discuss Brexit.",
            "en",
        ),
        Item(
            2,
            "Merkel und Macron beraten in Meseberg über den Brexit",
            "Die Kanzlerin empfängt den französischen Präsidenten.",
            "de",
            source="tagesschau",
        ),
        # One shared name is a subject, not a story.
        Item(
            3,
            "Merkel visits flood victims in Saxony",
            "Chancellor Angela Merkel met residents in Saxony on Friday.",
            "en",
            source="dw",
        ),
        Item(4, "Macron kündigt Rentenreform an", "", "de", source="faz"),
    ]
    assert [story.member_ids for story in group_stories(items)] == [[1, 2], [3], [4]]
