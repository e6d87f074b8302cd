"""Telegram's HTML parse mode as the local Bot API applies it: what the chat page is given."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.playground.telegram_html import TelegramHTMLError, parse_html
from tests.fakebot import FakeBotAPI


def test_markup_becomes_text_and_entities_in_utf16_units() -> None:
    text, entities = parse_html(
        '<b>Top</b> 😀 <a href="https://example.org/a">A &amp; B</a> <tg-spoiler>end</tg-spoiler>'
    )

    assert text == "Top 😀 A & B end"
    assert entities == [
        {"offset": 0, "type": "bold", "length": 3},
        # The emoji is two UTF-16 code units, as Telegram (and JavaScript) count.
        {"offset": 7, "type": "text_link", "url": "https://example.org/a", "length": 5},
        {"offset": 13, "type": "spoiler", "length": 3},
    ]


def test_escaped_markup_from_a_feed_stays_text() -> None:
    text, entities = parse_html("1. &lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;x&lt;/b&gt;")

    assert text == "1. <script>alert(1)</script> <b>x</b>"
    assert entities == []


def test_commands_and_urls_are_detected_outside_code_and_links() -> None:
    text, entities = parse_html("Try /latest or https://example.org/x. <code>/not</code>")

    found = [(e["type"], text[e["offset"] : e["offset"] + e["length"]]) for e in entities]
    assert found == [
        ("bot_command", "/latest"),
        ("url", "https://example.org/x"),
        ("code", "/not"),
    ]


def test_pre_with_a_language_is_one_entity_and_quotes_nest() -> None:
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre><blockquote expandable>'
        "<i>q</i></blockquote>"
    )

    assert text == "x = 1q"
    assert [e["type"] for e in entities] == ["pre", "expandable_blockquote", "italic"]
    assert entities[0]["language"] == "python"


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("<script>x</script>", 'Unsupported start tag "script"'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag "b"'),
    ],
)
def test_markup_telegram_refuses_is_refused(markup: str, error: str) -> None:
    with pytest.raises(TelegramHTMLError, match=error):
        parse_html(markup)


async def test_the_bot_api_answers_with_entities_and_refuses_bad_html() -> None:
    with FakeBotAPI() as fake:
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            sent = await bot.send_message(42, "<b>News</b> &lt;3", parse_mode=ParseMode.HTML)
            with pytest.raises(BadRequest, match="(?i)can't parse entities"):
                await bot.send_message(42, "<blink>News</blink>", parse_mode=ParseMode.HTML)

    assert sent.text == "News <3"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 4)]
    assert len(fake.sent_messages(42)) == 1
