"""Inline-button data: what the bot makes comes back as the same action; nothing else does.

Telegram returns whatever a client sends as callback data, so a forged or stale button
must read as "expired" (the user is told so) and never as some other action.
"""

from __future__ import annotations

import pytest

from bot.ui.callbacks import (
    MAX_BYTES,
    Action,
    ExpiredButton,
    LatestPage,
    Setting,
    Summary,
    TopicPage,
    decode,
    encode,
)


@pytest.mark.parametrize(
    "action",
    [
        Summary(0),
        Summary(1),
        Summary(999_999_999_999),
        LatestPage(0, 10),
        LatestPage(40, 5),
        LatestPage(123_456, 99),
        TopicPage(0, 10, "iran"),
        TopicPage(20, 10, '"nuclear talks" iran'),
        TopicPage(0, 5, "Zürich café"),
        TopicPage(0, 5, "日本の首相"),
        TopicPage(0, 5, "a:b:c"),
        Setting("size", "+"),
        Setting("size", "-"),
        Setting("times", "08:00,18:00"),
        Setting("only", "1"),
        Setting("sub", "off"),
        Setting("start", "on"),
        Setting("lang", ""),
        Setting("lang", "de"),
        Setting("news", "fr"),
        Setting("news", "all"),
    ],
    ids=repr,
)
def test_every_button_the_bot_makes_comes_back_as_the_same_action(action: Action) -> None:
    data = encode(action)
    assert data is not None
    assert len(data.encode("utf-8")) <= MAX_BYTES
    assert decode(data) == action


def test_a_topic_query_too_long_for_a_button_gets_no_button() -> None:
    # Telegram refuses a keyboard whose data passes 64 bytes; encode says None instead.
    fits = TopicPage(0, 10, "x" * (MAX_BYTES - len("t:0:10:")))
    assert encode(fits) is not None
    assert encode(TopicPage(0, 10, fits.query + "x")) is None
    # The limit counts bytes, not characters: 20 CJK characters are 60 bytes.
    assert encode(TopicPage(0, 10, "首" * 19)) is not None
    assert encode(TopicPage(0, 10, "首" * 20)) is None


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "s:" + "1" * (MAX_BYTES - 1),  # oversized
        "t:0:10:" + "x" * MAX_BYTES,  # oversized
        "s:",
        "s:-1",
        "s:01",  # encode never pads
        "s:1.5",
        "s:1e3",
        "s:1234567890123",  # 13 digits: more than any id the bot hands out
        " s:1",
        "s:1 ",
        "s:1\n",
        "S:1",
        "x:1",
        "s:1:2",
        "s:1\u0663",  # Arabic-Indic three: int() would read "13"
        "s:\uff11",  # fullwidth one
        "l:0",
        "l:0:0",  # a page of no items
        "l:0:100",
        "l:-5:10",
        "l:0:10:extra",
        "t:0:10:",  # no query
        "t:0:0:iran",
        "t:x:10:iran",
        "c:size",
        "c:unknown:1",
        "c:size:\u00e9",  # only the ASCII values the keyboard makes
        "c:zone:" + "A" * 41,
        "c:size:<b>",
        "c:SIZE:+",
        "\x00\x01\x02",
        "🔥",
        "s:1\u200b",  # zero-width space
    ],
)
def test_forged_oversized_or_odd_data_is_an_expired_button(data: str | None) -> None:
    with pytest.raises(ExpiredButton):
        decode(data)


def test_expired_button_is_a_value_error_with_a_short_reason() -> None:
    # Handlers may catch ValueError; the reason quotes at most 20 characters of the data.
    with pytest.raises(ValueError, match=r"unknown callback data 'x{20}'$"):
        decode("x" * 60)
