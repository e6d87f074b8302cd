"""Full summaries: from the stored body, from the article page fetched on demand, cached."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp import web

from bot.news.abstractive import AbstractiveSummarizer
from bot.news.http.fetcher import SafeFetcher
from bot.store.articles import NewArticle, add_articles, get_article
from bot.store.db import Database
from bot.store.sources import add_source
from bot.stories.summary import article_summary
from tests.feedserver import FeedServer
from tests.support import PAGES, FakeClock, page_html

BODY = (
    "The city council voted on Monday to close the old bridge for repairs. "
    "Engineers found cracks in two of its supports last month. "
    "The closure will last until the end of May, officials said. "
    "Buses will run a free shuttle across the river during the works. "
    "Local shops fear a drop in trade while the bridge is shut."
)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


@pytest.fixture
async def fetcher() -> AsyncIterator[SafeFetcher]:
    async with SafeFetcher(timeout=3, max_redirects=5) as client:
        yield client


async def store_item(database: Database, clock: FakeClock, **fields: Any) -> int:
    async with database.session() as session:
        source = await add_source(
            session, "https://news.example/feed", now=clock.now(), title="Example News"
        )
        (article_id,) = await add_articles(
            session,
            source.id,
            [
                NewArticle(
                    title=str(fields.pop("title", "Bridge to close")),
                    published_at=clock.now(),
                    **fields,
                )
            ],
            now=clock.now(),
        )
    return article_id


async def test_body_is_summarised_and_cached_until_it_changes(
    database: Database, clock: FakeClock
) -> None:
    article_id = await store_item(database, clock, body=BODY, url="https://news.example/bridge")
    first = await article_summary(database, article_id, fetcher=None)
    assert first is not None and first.note == ""
    assert first.summary.startswith("The city council voted on Monday to close the old bridge")
    async with database.session() as session:
        article = await get_article(session, article_id)
        assert article is not None and article.summary == first.summary
        article.summary = "A cached summary."  # what is cached is what is served
    cached = await article_summary(database, article_id, fetcher=None)
    assert cached is not None and cached.summary == "A cached summary."
    async with database.session() as session:
        article = await get_article(session, article_id)
        assert article is not None
        article.body = "A new body replaces the old one entirely. " + BODY
    changed = await article_summary(database, article_id, fetcher=None)
    assert changed is not None and changed.summary.startswith(
        "A new body replaces the old one entirely."
    )


async def test_headline_page_is_fetched_extracted_stored_and_summarised(
    database: Database, clock: FakeClock, server: FeedServer, fetcher: SafeFetcher
) -> None:
    expectations = json.loads((PAGES / "expectations.json").read_text())
    name = "bbc.com.52241221.html"
    url = server.add("/story.html", page_html(name), content_type="text/html; charset=utf-8")
    article_id = await store_item(database, clock, url=url, description="Feed blurb.")
    summary = await article_summary(database, article_id, fetcher=fetcher, allow_private=True)
    assert summary is not None and summary.note == ""
    assert summary.summary and summary.summary != "Feed blurb."
    async with database.session() as session:
        article = await get_article(session, article_id)
    assert article is not None and article.body
    assert all(snippet in article.body for snippet in expectations[name]["with"][:2])
    # The second time nothing is fetched: the body is stored.
    requests = len(server.requests_to("/story.html"))
    await article_summary(database, article_id, fetcher=fetcher, allow_private=True)
    assert len(server.requests_to("/story.html")) == requests


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/status/404", "404"),
        ("/data.json", "holds no readable text"),
        ("/empty.html", "holds no readable text"),
    ],
)
async def test_unusable_pages_fall_back_to_the_description(
    database: Database,
    clock: FakeClock,
    server: FeedServer,
    fetcher: SafeFetcher,
    caplog: pytest.LogCaptureFixture,
    path: str,
    logged: str,
) -> None:
    server.add("/data.json", b'{"not": "an article"}', content_type="application/json")
    server.add("/empty.html", b"", content_type="text/html")
    article_id = await store_item(
        database, clock, url=server.url(path), description="What the feed said."
    )
    with caplog.at_level(logging.INFO, logger="bot.stories.summary"):
        summary = await article_summary(database, article_id, fetcher=fetcher, allow_private=True)
    assert summary is not None
    assert summary.summary == "What the feed said."
    # The reader gets plain words; the reason is for the operator, in the log.
    assert summary.note == "The full article could not be read here; here is its description."
    assert logged in caplog.text and logged not in summary.note


async def test_links_to_private_addresses_are_refused(
    database: Database,
    clock: FakeClock,
    server: FeedServer,
    fetcher: SafeFetcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.add(
        "/story.html",
        b"<html><body><p>" + BODY.encode() + b"</p></body></html>",
        content_type="text/html",
    )
    article_id = await store_item(
        database, clock, url=server.url("/story.html"), description="Blurb."
    )
    with caplog.at_level(logging.INFO, logger="bot.stories.summary"):
        summary = await article_summary(database, article_id, fetcher=fetcher, allow_private=False)
    assert summary is not None and summary.summary == "Blurb."
    assert "loopback" not in summary.note and "loopback" in caplog.text
    assert server.requests_to("/story.html") == []


async def test_no_link_and_no_body_says_so(database: Database, clock: FakeClock) -> None:
    article_id = await store_item(database, clock, description="Only this.")
    summary = await article_summary(database, article_id, fetcher=None)
    assert summary is not None and summary.summary == "Only this."
    assert summary.note == "The source gave no link to a full article; here is its description."


async def _add(
    database: Database, clock: FakeClock, feed: str, title: str, description: str = ""
) -> int:
    async with database.session() as session:
        source = await add_source(session, feed, now=clock.now(), title=feed.split("/")[2])
        (article_id,) = await add_articles(
            session,
            source.id,
            [NewArticle(title=title, description=description, published_at=clock.now())],
            now=clock.now(),
        )
    return article_id


async def test_a_bare_headline_shows_its_other_reports_and_related_items(
    database: Database, clock: FakeClock
) -> None:
    bare = await _add(
        database, clock, "https://a.example/rss", "Iceland volcano erupts, thousands evacuated"
    )
    other = await _add(
        database,
        clock,
        "https://b.example/rss",
        "Thousands evacuated as Iceland volcano erupts",
        "Lava reached the outskirts of Grindavik overnight.",
    )
    related = await _add(
        database,
        clock,
        "https://c.example/rss",
        "Tourism board counts record visitors to Iceland despite volcano",
    )
    await _add(database, clock, "https://d.example/rss", "Football: Iceland beat Norway 2-1")
    summary = await article_summary(database, bare, fetcher=None, now=clock.now())
    assert summary is not None and summary.summary == ""
    assert summary.note == (
        "The source gave only this headline: no text, and no link to a full article. "
        "Here is what else is known."
    )
    assert [h.id for h in summary.context.other_reports] == [other]
    assert [h.id for h in summary.context.related] == [related]


async def test_a_headline_nothing_else_tells_says_where_to_go(
    database: Database, clock: FakeClock
) -> None:
    alone = await _add(database, clock, "https://a.example/rss", "Quiet day at the harbour")
    summary = await article_summary(database, alone, fetcher=None, now=clock.now())
    assert summary is not None and summary.context.is_empty
    assert summary.note.endswith(
        "Nothing else in store tells this story yet; /latest has the newest headlines."
    )


ASKED = web.AppKey("asked", list)


def chat_completions(answer: web.Response | None) -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        payload = await request.json()
        request.app[ASKED].append(payload)
        return answer or web.json_response(
            {
                "choices": [
                    {
                        "message": {
                            "content": f"An abstract of {len(payload['messages'][1]['content'])}"
                            " characters."
                        }
                    }
                ]
            }
        )

    app = web.Application()
    app[ASKED] = []
    app.router.add_post("/v1/chat/completions", handler)
    return app


@pytest.mark.parametrize("failure", [None, "500", "garbage", "empty"])
async def test_abstractive_endpoint_with_extractive_fallback(
    database: Database,
    clock: FakeClock,
    aiohttp_server_factory: Callable[[web.Application], Awaitable[str]],
    failure: str | None,
) -> None:
    answers = {
        None: None,
        "500": web.Response(status=500, text="overloaded"),
        "garbage": web.Response(text="<html>not json</html>"),
        "empty": web.json_response({"choices": [{"message": {"content": "  "}}]}),
    }
    app = chat_completions(answers[failure])
    base = await aiohttp_server_factory(app)
    summarizer = AbstractiveSummarizer(f"{base}/v1", api_key="k", model="tiny", timeout=2)
    article_id = await store_item(database, clock, body=BODY)
    try:
        summary = await article_summary(database, article_id, fetcher=None, abstractive=summarizer)
    finally:
        await summarizer.aclose()
    assert summary is not None and len(app[ASKED]) == 1
    assert app[ASKED][0]["model"] == "tiny"
    if failure is None:
        assert summary.summary.startswith("An abstract of ")
    else:
        assert summary.summary.startswith("The city council voted on Monday")


@pytest.fixture
async def aiohttp_server_factory() -> AsyncIterator[Callable[[web.Application], Awaitable[str]]]:
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()
