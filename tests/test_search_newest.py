"""/topic ranks the newest matches, found alike on both backends however common the word.

PostgreSQL looks for a common word's newest matches among the newest rows first and
widens the span when too few match there; SQLite's FTS5 gives them newest first. On a
store larger than the first span, both must rank exactly the newest matches.
"""

from __future__ import annotations

from datetime import timedelta

from bot.news.query import parse_query
from bot.store.articles import NewArticle, add_articles
from bot.store.db import Database
from bot.store.search import SEARCH_CANDIDATES, search_articles
from bot.store.sources import add_source
from tests.support import FakeClock

ITEMS = 21_000
# Every 7th item says "harbour" (enough among the newest rows), every 66th "glacier" (too
# few there: the span widens), every 3,000th "lighthouse" (fewer than enough anywhere).
EVERY = {"harbour": 7, "glacier": 66, "lighthouse": 3_000}
WORDS = ["market", "council", "weather", "school", "bridge", "festival", "river", "vote"]


def title(number: int) -> str:
    words = [WORDS[number % len(WORDS)], WORDS[(number // 8) % len(WORDS)], f"n{number}"]
    words += [word for word, every in EVERY.items() if number % every == 0]
    return " ".join(words)


async def test_the_newest_matches_of_common_and_rare_words(
    database: Database, clock: FakeClock
) -> None:
    start = clock.now() - timedelta(days=20)
    async with database.session() as session:
        source = await add_source(session, "https://many.example/feed", now=clock.now())
        ids = await add_articles(
            session,
            source.id,
            [
                NewArticle(
                    title=title(n),
                    published_at=start + timedelta(seconds=60 * n),
                    guid=f"n{n}",
                    language="en",
                )
                for n in range(ITEMS)
            ],
            now=clock.now(),
        )
    number_of = {article_id: n for n, article_id in enumerate(ids)}
    for word, every in EVERY.items():
        matching = sorted((i for i, n in number_of.items() if n % every == 0), reverse=True)
        async with database.session() as session:
            result = await search_articles(
                session, parse_query(word), limit=SEARCH_CANDIDATES, now=clock.now()
            )
        assert result.total_candidates == min(SEARCH_CANDIDATES, len(matching)), word
        assert {h.id for h in result.headlines} == set(matching[:SEARCH_CANDIDATES]), word
