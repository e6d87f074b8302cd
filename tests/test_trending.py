"""Trending topics: the seed's five topics, real feeds that read like a front page, odd input."""

from __future__ import annotations

import re
from dataclasses import dataclass

import feedparser

from bot.news.seeds import load_seed_file
from bot.news.text import STOP_WORDS, fold, stem
from bot.news.trending import HEADLINE_FILLER, Topic, trending_topics
from tests.support import NEWS_FEEDS, SEED_DOCUMENT

SEED = SEED_DOCUMENT

# English feeds covering 5-7 January 2017 (index.json).
JANUARY_2017 = [
    "FeedReader__Rss20NYTimes.xml",
    "FeedReader__Rss20Reuters.xml",
    "FeedReader__Rss20BreakingNews.xml",
    "FeedReader__Rss20CTVNews.xml",
    "FeedReader__Rss20TheMirror.xml",
    "FeedReader__AtomTheVerge.xml",
    "FeedReader__Rss20JapanToday.xml",
    "FeedReader__Rss20IndianExpress.xml",
    "FeedReader__Rss20JapanTimes.xml",
]


@dataclass(frozen=True)
class Item:
    title: str | None
    description: str | None = ""
    language: str | None = None


def seed_items() -> list[Item]:
    """The seed's article (its derived title, its whole text) then its headlines, as loaded."""
    document = load_seed_file(SEED)
    assert document.article is not None
    return [Item(document.article.title, document.article.body)] + [
        Item(headline) for headline in document.headlines
    ]


def feed_items(filenames: list[str]) -> list[Item]:
    items = []
    for filename in filenames:
        parsed = feedparser.parse((NEWS_FEEDS / filename).read_bytes())
        items += [Item(e.get("title"), e.get("summary")) for e in parsed.entries]
    return items


def assert_well_formed(topics: list[Topic]) -> None:
    """No stop word or filler as a topic, counts descending then labels, queries match labels."""
    for topic in topics:
        words = re.findall(r"[^\W_]+", topic.label)
        assert words, topic
        for word in words:
            # "US" is a name; "us" would be a stop word.
            assert word.isupper() or fold(word) not in STOP_WORDS, topic
        if len(words) == 1:
            assert stem(fold(words[0])) not in HEADLINE_FILLER, topic
        assert re.findall(r"[^\W_]+", topic.query) == words, topic
        assert topic.count >= 2, topic
    order = [(-t.count, t.label.casefold(), t.label) for t in topics]
    assert order == sorted(order)


def test_seed_surfaces_its_topics_with_item_counts():
    topics = trending_topics(seed_items())
    counts = {topic.label: topic.count for topic in topics}

    assert counts["Trump"] == 5
    assert counts["Iran"] == 3
    assert counts["TrumpRx"] == 2
    assert counts["nuclear talks"] == 2
    assert counts["Russia-Ukraine"] == 2
    assert 8 <= len(topics) <= 10
    assert_well_formed(topics)


def test_seed_result_is_deterministic():
    items = seed_items()
    assert trending_topics(items) == trending_topics(items) == trending_topics(list(items))


def test_singular_and_plural_are_one_topic_labelled_by_the_commoner():
    items = [
        Item("Ceasefire Talks Resume In Doha"),
        Item("Ceasefire Talk Stalls Again"),
        Item("Ceasefire Talks Collapse Overnight"),
    ]
    assert trending_topics(items) == [Topic("Ceasefire Talks", 3, "Ceasefire Talks")]


def test_count_is_items_mentioning_not_word_frequency():
    items = [
        Item("Volcano Erupts Near Grindavik", "The volcano erupted; the volcano is still active."),
        Item("Grindavik Evacuated As Volcano Rumbles", "Residents fled the volcano."),
        Item("Volcano Ash Grounds Flights", "Ash from the volcano closed airports."),
        Item("Airlines Count Cost Of Volcano", ""),
    ]
    counts = {t.label: t.count for t in trending_topics(items)}
    assert counts["volcano"] == 4


def test_body_capitals_decide_the_label_and_filler_never_trends():
    items = [
        Item("Storm Hits New York", "The storm hit New York on Monday, officials said."),
        Item("New York Braces For Storm", "New York said the storm would hit late."),
        Item("Officials Say Storm Weakens", "The storm weakened over New York, officials said."),
        Item("Storm Clean-Up Begins", "The storm left damage, officials said."),
    ]
    labels = [t.label for t in trending_topics(items)]
    # "storm" is written in lower case in the bodies, "New York" in capitals.
    assert "New York" in labels
    assert "storm" in labels
    assert not {"Officials", "officials", "Say", "Monday", "New", "York"} & set(labels)


def test_odd_input_does_not_break_trending():
    items = [
        Item(None, None),
        Item("", ""),
        Item("🔥🔥🔥", "🚀 🎉"),
        Item("<b>&amp;</b>", "&nbsp;"),
        Item("Zürich Café Reopens", "Das Café in Zürich öffnet wieder."),
        Item("Zurich Cafe Reopens After Fire", ""),
        Item("日本の首相が訪米へ", "首相は来週ワシントンを訪れる。"),
    ]
    topics = trending_topics(items)
    assert_well_formed(topics)
    # Diacritics fold away for counting; the label keeps the spelling the text uses.
    assert [(t.label, t.count) for t in topics] == [("Café Reopens", 2)]
    assert trending_topics([]) == []
    assert trending_topics(seed_items(), limit=0) == []


def test_real_feeds_read_like_a_front_page():
    topics = trending_topics(feed_items(JANUARY_2017))
    labels = {topic.label for topic in topics}

    assert 8 <= len(topics) <= 10
    assert_well_formed(topics)
    # What those three days were about, as a reader of these feeds would list them.
    assert {"Fort Lauderdale", "Obama", "China", "Japan"} <= labels
    assert labels & {"Trump", "Donald Trump"}


def test_feed_boilerplate_is_not_a_topic():
    # Every Guardian description ends "Continue reading..."; Google News lists its outlets.
    topics = trending_topics(feed_items(["rss-parser__guardian.rss"]))
    assert_well_formed(topics)
    assert "reading" not in {t.label.casefold() for t in topics}
    google = trending_topics(feed_items(["feed-extractor__rss-feed-standard-realworld.xml"]))
    assert "full coverage" not in {t.label.casefold() for t in google}
