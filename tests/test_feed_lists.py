"""OPML files through Telegram: an upload imports feeds, /export sends them back as a file.

The real bot and PTB against the loopback Bot API: a user sends a document, the bot asks
getFile and downloads it from base_file_url, and /export's sendDocument upload is read
back from the fake. The files are in tests/data/opml (README: what each one is).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.news.opml import parse_opml, read_outlines
from bot.services import SERVICES_KEY
from bot.store.models import ChatFeed, Source
from tests.botharness import ADMIN_ID, USER_ID, BotUser, running_bot
from tests.fakebot import UploadedFile
from tests.support import DATA, NEWS_FEEDS, FakeClock

OPML = DATA / "opml"
READER_EXPORT = OPML / "reader-export.opml"
LATIN1 = OPML / "opml1-latin1.opml"
MIXED = OPML / "mixed.opml"
NEIGHBOUR = 5151
GROUP_ID = -100880
GROUP_ADMIN = 61
GROUP_MEMBER = 62

# What tests/data/opml/reader-export.opml lists, in order, once each.
READER_FEEDS = [
    ("https://rss.nytimes.com/services/xml/rss/nyt/World.xml", "NYT > World News"),
    ("https://www.theguardian.com/us-news/rss", "US news | The Guardian"),
    (
        "https://www.ctvnews.ca/rss/ctvnews-ca-top-stories-public-rss-1.822009",
        "CTVNews.ca - Top Stories",
    ),
    ("https://news.google.com/rss?hl=en-US&gl=US&ceid=US:en", "Top stories - Google News"),
    ("https://www.japantimes.co.jp/feed/", "The Japan Times"),
    ("https://japantoday.com/feed", "Japan Today"),
    ("https://indianexpress.com/feed/", "The Indian Express"),
    ("https://feeds.bbci.co.uk/urdu/rss.xml", "BBC News اردو"),
    ("https://www.theverge.com/rss/index.xml", "The Verge - All Posts"),
    ("https://www.heise.de/rss/heise-atom.xml", "heise online News"),
]


@pytest.fixture
async def user(settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    async with running_bot(settings, clock) as bot_user:
        yield bot_user


@pytest.fixture
async def feeds_user(settings: Settings, clock: FakeClock) -> AsyncIterator[BotUser]:
    allowed = settings.model_copy(update={"user_feeds": True, "user_feeds_max": 3})
    async with running_bot(allowed, clock) as bot_user:
        yield bot_user


async def send_file(
    user: BotUser,
    data: bytes,
    file_name: str,
    *,
    chat_id: int = ADMIN_ID,
    mime_type: str = "text/x-opml",
    **kwargs: Any,
) -> str:
    """Send a document as a user would and return the bot's one reply in that chat."""
    before = len(user.fake.calls("sendMessage", chat_id=chat_id))
    user.fake.upload_document(chat_id, data, file_name=file_name, mime_type=mime_type, **kwargs)
    calls = await user.fake.wait_for(
        "sendMessage", lambda c: c.chat_id == chat_id, count=before + 1, timeout=10
    )
    return str(calls[-1].params["text"])


async def export(user: BotUser, *, chat_id: int = ADMIN_ID, **kwargs: Any) -> tuple[str, bytes]:
    """/export's file: its name and bytes, as the fake received the upload."""
    before = len(user.fake.calls("sendDocument", chat_id=chat_id))
    user.fake.send_command(chat_id, "/export", **kwargs)
    calls = await user.fake.wait_for(
        "sendDocument", lambda c: c.chat_id == chat_id, count=before + 1, timeout=10
    )
    upload = calls[-1].params["document"]
    assert isinstance(upload, UploadedFile)
    return str(calls[-1].params.get("caption")), upload.data


async def sources(user: BotUser) -> list[tuple[str, str, bool]]:
    """Every source row as (url, title, a chat's own), by id: what an import changes."""
    async with user.application.bot_data[SERVICES_KEY].database.session() as session:
        rows = await session.execute(
            select(Source.url, Source.title, Source.user_feed)
            .where(Source.kind == "feed")
            .order_by(Source.id)
        )
        return [(url, title, bool(own)) for url, title, own in rows]


async def source_ids(user: BotUser) -> dict[str, int]:
    """Each feed's source ID by its URL, as replies and /sources show them."""
    async with user.application.bot_data[SERVICES_KEY].database.session() as session:
        rows = await session.execute(select(Source.url, Source.id).where(Source.kind == "feed"))
        return {url: id_ for url, id_ in rows}


async def own_feeds(user: BotUser, chat_id: int) -> list[str]:
    async with user.application.bot_data[SERVICES_KEY].database.session() as session:
        rows = await session.execute(
            select(Source.url)
            .join(ChatFeed, ChatFeed.source_id == Source.id)
            .where(ChatFeed.chat_id == chat_id)
            .order_by(Source.id)
        )
        return list(rows.scalars())


async def settle(user: BotUser, chat_id: int = USER_ID, **kwargs: Any) -> None:
    """Wait until the bot has answered everything sent to it before this /help."""
    user.fake.send_command(chat_id, "/help", **kwargs)
    await user.fake.wait_for(
        "sendMessage", lambda c: c.chat_id == chat_id and "<b>Commands</b>" in c.params["text"]
    )
    await asyncio.sleep(0.3)  # an answer to an earlier update would have had time too


# ------------------------------------------------------------------ the bot's feeds


async def test_an_admin_imports_a_readers_export_and_exports_it_back(user: BotUser) -> None:
    answer = await send_file(user, READER_EXPORT.read_bytes(), "subscriptions.opml")
    assert await sources(user) == [(url, title, False) for url, title in READER_FEEDS]
    ids = await source_ids(user)
    nyt, heise = READER_FEEDS[0][0], READER_FEEDS[-1][0]
    lines = answer.splitlines()
    assert lines[:3] == [
        "<b>Feed list imported</b>",
        "✅ Added 10 feeds:",
        f"• {ids[nyt]}. NYT &gt; World News ({nyt})",
    ]
    assert f"• {ids[heise]}. heise online News ({heise})" in lines
    assert lines[-3:] == [
        "↩️ Skipped 1 feed:",
        f"• NYT &gt; World News ({nyt}) — listed twice in the file",
        "They will be fetched within a minute.",
    ]
    listing = await user.reply_to("/sources", chat_id=ADMIN_ID)
    assert f"{ids[heise]}. heise online News — ⏳ not fetched yet" in listing

    caption, data = await export(user)
    assert caption == "The bot's 10 feeds, as OPML: any feed reader can import them."
    (sent,) = user.fake.calls("sendDocument")
    assert sent.result["document"]["file_name"] == "newsbot-sources.opml"
    assert [(f.url, f.title) for f in parse_opml(data)] == READER_FEEDS

    # The exported file, sent back, adds nothing: every feed is there already.
    again = await send_file(user, data, "newsbot-sources.opml", mime_type="application/xml")
    assert again.splitlines()[:2] == ["<b>Feed list imported</b>", "↩️ Skipped 10 feeds:"]
    assert (
        "• The Japan Times (https://www.japantimes.co.jp/feed/) — already one of the bot's feeds"
        in again.splitlines()
    )
    assert again.endswith("Nothing was added.")
    assert len(await sources(user)) == 10


async def test_an_opml_1_file_in_latin_1_with_lowercase_attributes(user: BotUser) -> None:
    answer = await send_file(user, LATIN1.read_bytes(), "europa.xml", mime_type="text/xml")
    assert "✅ Added 6 feeds:" in answer
    ids = await source_ids(user)
    standard, monde = "https://www.derstandard.at/rss/inland", "https://www.lemonde.fr/rss/une.xml"
    assert f"• {ids[standard]}. derStandard.at - Österreich ({standard})" in answer
    assert f"• {ids[monde]}. Le Monde.fr - Actualités à la Une ({monde})" in answer
    second = await send_file(user, LATIN1.read_bytes(), "europa.xml", mime_type="text/xml")
    assert "↩️ Skipped 6 feeds:" in second and "Added" not in second
    assert [title for _, title, _ in await sources(user)][:2] == [
        "SPIEGEL ONLINE - Schlagzeilen",
        "Golem.de",
    ]


async def test_bad_outlines_are_refused_and_listed_while_good_ones_are_added(
    user: BotUser,
) -> None:
    answer = await send_file(user, MIXED.read_bytes(), "mixed.opml")
    mirror, router, breaking = (
        "https://www.mirror.co.uk/news/?service=rss",
        "http://192.168.1.1/status.rss",
        "https://feeds.breakingnews.ie/bntopstories",
    )
    ids = await source_ids(user)
    assert answer.splitlines() == [
        "<b>Feed list imported</b>",
        "✅ Added 3 feeds:",
        f"• {ids[mirror]}. Mirror - News ({mirror})",
        # An admin's feeds may be on private addresses, as with /addsource.
        f"• {ids[router]}. Router status ({router})",
        f"• {ids[breaking]}. BreakingNews.ie ({breaking})",
        "↩️ Skipped 1 feed:",
        f"• BreakingNews.ie again ({breaking}) — listed twice in the file",
        "⛔ Refused 4 feeds:",
        "• FTP mirror (ftp://ftp.example.org/pub/news.rss) — not an http(s) address",
        "• Podcast app link (feed://www.example.org/podcast.xml) — not an http(s) address",
        "• Broken (https://) — not a valid address",
        "• Spaced out (https://example.org/my feed.xml) — not a valid address",
        "They will be fetched within a minute.",
    ]
    assert [url for url, _, _ in await sources(user)] == [mirror, router, breaking]


def many_outlines(count: int) -> bytes:
    outlines = "".join(
        f'<outline type="rss" text="Feed {n}" xmlUrl="https://feeds{n}.example.org/rss"/>'
        for n in range(count)
    )
    return f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>'.encode()


def padded(size: int) -> bytes:
    """A valid OPML file of one feed, made `size` bytes long by a comment."""
    head = b'<?xml version="1.0"?><opml version="2.0"><body>'
    tail = b'<outline xmlUrl="https://big.example.org/rss"/></body></opml>'
    return head + b"<!--" + b"x" * (size - len(head) - len(tail) - 7) + b"-->" + tail


NOTHING = "Nothing was changed."
BAD_FILES = {
    "an HTML page": (
        (OPML / "not-xml.opml").read_bytes(),
        "That file is not an OPML feed list: it is not even XML.",
    ),
    "the billion laughs": (
        (OPML / "billion-laughs.opml").read_bytes(),
        "That file declares XML entities, which a feed list never needs, so I did not read it.",
    ),
    "an external entity": (
        (OPML / "external-entity.opml").read_bytes(),
        "That file declares XML entities, which a feed list never needs, so I did not read it.",
    ),
    "an RSS feed": (
        (NEWS_FEEDS / "FeedReader__Rss20NYTimes.xml").read_bytes(),
        "That file is XML, but not an OPML feed list.",
    ),
    "an empty list": (
        b'<?xml version="1.0"?><opml version="2.0"><head/><body/></opml>',
        "That file lists no feeds: none of its outlines has an xmlUrl.",
    ),
    "1,001 feeds": (
        many_outlines(1001),
        "That file lists more than 1000 feeds, more than I import at once.",
    ),
}


@pytest.mark.parametrize("kind", BAD_FILES)
async def test_a_bad_file_gets_a_clear_reply_and_changes_nothing(user: BotUser, kind: str) -> None:
    await send_file(user, LATIN1.read_bytes(), "europa.opml")
    before = await sources(user)
    data, reason = BAD_FILES[kind]
    assert await send_file(user, data, "feeds.opml") == f"{reason} {NOTHING}"
    assert await sources(user) == before


async def test_a_file_over_the_size_cap_is_refused_before_download(user: BotUser) -> None:
    await send_file(user, LATIN1.read_bytes(), "europa.opml")
    before, downloads = await sources(user), user.fake.downloads()
    big = padded(1024 * 1024 + 1)
    assert len(read_outlines(big)) == 1  # a good file, but for its size
    refused = f"That file is larger than 1 MB, too large for a feed list. {NOTHING}"
    assert await send_file(user, big, "big.opml") == refused
    assert user.fake.downloads() == downloads  # file_size said enough
    # Without file_size (optional in the Bot API) it is refused by the bytes read.
    assert await send_file(user, big, "big.opml", report_size=False) == refused
    assert len(user.fake.downloads()) == len(downloads) + 1
    assert await sources(user) == before
    just_under = await send_file(user, padded(1024 * 1024), "big.opml", report_size=False)
    assert "✅ Added 1 feed:" in just_under


# ------------------------------------------------------------------ who may


async def test_non_admins_are_refused_and_other_files_get_no_answer(user: BotUser) -> None:
    refused = "This bot reads only the feeds its administrators chose; see /sources."
    assert await send_file(user, LATIN1.read_bytes(), "europa.opml", chat_id=USER_ID) == refused
    assert await user.reply_to("/export") == refused
    # A group that expects no file hears nothing, and so does a private chat's photo album.
    user.fake.upload_document(
        GROUP_ID,
        LATIN1.read_bytes(),
        file_name="europa.opml",
        user_id=GROUP_MEMBER,
        chat_type="supergroup",
    )
    user.fake.upload_document(
        USER_ID, b"%PDF-1.4", file_name="menu.pdf", mime_type="application/pdf"
    )
    await settle(user, GROUP_ID, user_id=GROUP_MEMBER, chat_type="supergroup")
    await settle(user)
    assert not [c for c in user.fake.sent_messages(GROUP_ID) if "Commands" not in c.params["text"]]
    texts = [c.params["text"] for c in user.fake.sent_messages(USER_ID)]
    assert texts.count(refused) == 2 and len(texts) == 3
    assert await sources(user) == []
    assert user.fake.downloads() == []


async def test_a_download_that_fails_is_answered(user: BotUser) -> None:
    user.fake.fail_next(
        "getFile", 400, "Bad Request: wrong file_id or the file is temporarily unavailable"
    )
    answer = await send_file(user, LATIN1.read_bytes(), "europa.opml")
    assert answer == "I could not fetch that file from Telegram. Please send it again."
    assert await sources(user) == []


async def test_an_admin_with_nothing_to_export_is_told_how_to_add(user: BotUser) -> None:
    answer = await user.reply_to("/export", chat_id=ADMIN_ID)
    assert answer == "No feeds yet. Add one with /addsource URL."


# ------------------------------------------------------------------ a chat's own feeds


async def test_a_chat_imports_feeds_of_its_own_up_to_its_limit(feeds_user: BotUser) -> None:
    user = feeds_user
    added = await user.reply_to("/addsource https://www.japantimes.co.jp/feed/", chat_id=ADMIN_ID)
    assert added.startswith("Added source ")
    answer = await send_file(
        user, READER_EXPORT.read_bytes(), "subscriptions.opml", chat_id=USER_ID
    )
    lines = answer.splitlines()
    ids = await source_ids(user)
    (nyt, _), (guardian, _), (ctv, ctv_title) = READER_FEEDS[:3]
    assert lines[:5] == [
        "<b>Feed list imported</b>",
        "✅ Added 3 feeds:",
        f"• {ids[nyt]}. NYT &gt; World News ({nyt})",
        f"• {ids[guardian]}. US news | The Guardian ({guardian})",
        f"• {ids[ctv]}. {ctv_title} ({ctv})",
    ]
    assert "↩️ Skipped 2 feeds:" in lines
    assert (
        "• The Japan Times (https://www.japantimes.co.jp/feed/)"
        " — the bot reads it for everyone already"
    ) in lines
    assert "⛔ Refused 6 feeds:" in lines
    assert (
        "• Japan Today (https://japantoday.com/feed) — this chat has 3 feeds of its own, "
        "the most it may"
    ) in lines
    assert lines[-1] == "Only this chat sees their headlines. They will be fetched within a minute."
    assert await own_feeds(user, USER_ID) == [url for url, _ in READER_FEEDS[:3]]
    assert "<b>This chat's own feeds (3)</b>" in await user.reply_to("/sources")

    caption, data = await export(user, chat_id=USER_ID)
    assert caption == "This chat's 3 own feeds, as OPML: any feed reader can import them."
    assert [(f.url, f.title) for f in parse_opml(data)] == READER_FEEDS[:3]
    (sent,) = user.fake.calls("sendDocument")
    assert sent.result["document"]["file_name"] == "newsbot-chat-feeds.opml"
    assert await user.reply_to("/export", chat_id=NEIGHBOUR) == (
        "This chat has no feeds of its own yet. Add one with /addfeed URL, or send me an OPML file."
    )
    # The admin's /export is the bot's feeds, not this chat's.
    _caption, shared = await export(user, chat_id=ADMIN_ID)
    assert [f.url for f in parse_opml(shared)] == ["https://www.japantimes.co.jp/feed/"]


async def test_a_chats_import_refuses_private_addresses(feeds_user: BotUser) -> None:
    answer = await send_file(feeds_user, MIXED.read_bytes(), "mixed.opml", chat_id=USER_ID)
    assert (
        "• Router status (http://192.168.1.1/status.rss)"
        " — on a private or local network, which this bot does not read"
    ) in answer.splitlines()
    assert "✅ Added 2 feeds:" in answer
    assert await own_feeds(feeds_user, USER_ID) == [
        "https://www.mirror.co.uk/news/?service=rss",
        "https://feeds.breakingnews.ie/bntopstories",
    ]
    # /addfeed applies the same rule.
    assert await feeds_user.reply_to("/addfeed http://192.168.1.1/status.rss") == (
        "“http://192.168.1.1/status.rss” is on a private or local network, "
        "which this bot does not read."
    )


async def test_in_a_group_only_administrators_import(feeds_user: BotUser) -> None:
    user = feeds_user
    user.fake.set_admins(GROUP_ID, [GROUP_ADMIN])
    group: dict[str, Any] = {"chat_id": GROUP_ID, "chat_type": "supergroup"}
    refused = await send_file(
        user, LATIN1.read_bytes(), "europa.opml", user_id=GROUP_MEMBER, **group
    )
    assert refused == "Only this chat's administrators can change its digest settings."
    assert await sources(user) == []
    done = await send_file(user, LATIN1.read_bytes(), "europa.opml", user_id=GROUP_ADMIN, **group)
    assert "✅ Added 3 feeds:" in done and "⛔ Refused 3 feeds:" in done
    assert len(await own_feeds(user, GROUP_ID)) == 3
    assert await own_feeds(user, GROUP_MEMBER) == []
    # Anyone in the group may take its list away.
    caption, data = await export(user, user_id=GROUP_MEMBER, **group)
    assert len(parse_opml(data)) == 3 and caption.startswith("This chat's 3 own feeds")


async def test_a_german_chat_gets_the_report_in_german(feeds_user: BotUser) -> None:
    added = await feeds_user.reply_to("/addfeed https://www.spiegel.de/schlagzeilen/index.rss")
    assert added.startswith("Added feed ")
    answer = await send_file(
        feeds_user, LATIN1.read_bytes(), "europa.opml", chat_id=USER_ID, language_code="de"
    )
    assert answer.splitlines()[:2] == ["<b>Feedliste importiert</b>", "✅ 2 Feeds hinzugefügt:"]
    assert "— bereits einer der eigenen Feeds dieses Chats" in answer
