"""What a reader notices about summaries: whole sentences, the story, no site junk."""

from __future__ import annotations

import json
import time

import pytest

from bot.news.extractive import split_sentences, summarize
from tests.support import CNNDM, SEED_DOCUMENT

SEED = SEED_DOCUMENT


def _seed_article() -> str:
    """The seed's first paragraph block: the article, without the headline list after it."""
    return SEED.read_text(encoding="utf-8").split("\n\n", 1)[0]


def _cnndm_rows() -> list[dict]:
    """The first 8 CNN/DailyMail test articles of SummEval, as tests/data keeps them."""
    lines = CNNDM.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _extracted_sentences(summary: str, text: str) -> list[str]:
    """The article sentences the summary is made of; fails unless whole and in order."""
    remaining = summary
    used = []
    for sentence in split_sentences(text.replace("(CNN)", "")):
        if remaining.startswith(sentence):
            used.append(sentence)
            remaining = remaining[len(sentence) :].lstrip()
    assert remaining == "", f"not whole article sentences in article order: {remaining!r}"
    return used


# --- sentence splitting -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Smith met Dr. Jones in Washington. They talked for an hour.",
            ["Mr. Smith met Dr. Jones in Washington.", "They talked for an hour."],
        ),
        (
            "The U.S. economy grew. The U.K. and the E.U. disagreed.",
            ["The U.S. economy grew.", "The U.K. and the E.U. disagreed."],
        ),
        (
            "Troops left the U.S. The talks ended.",
            ["Troops left the U.S.", "The talks ended."],
        ),
        (
            "Sen. J. D. Vance spoke. George W. Bush did not.",
            ["Sen. J. D. Vance spoke.", "George W. Bush did not."],
        ),
        (
            'He said "We will win." Then he left.',
            ['He said "We will win."', "Then he left."],
        ),
        (
            '"Why now?" she asked. "Because we must!" he replied.',
            ['"Why now?" she asked.', '"Because we must!" he replied.'],
        ),
        (
            "The deal is worth $3.5 billion. It closes at 5 p.m. Tuesday.",
            ["The deal is worth $3.5 billion.", "It closes at 5 p.m. Tuesday."],
        ),
        (
            "The No. 1 seed lost on Jan. 5 to Apple Inc. rivals. Fans left.",
            ["The No. 1 seed lost on Jan. 5 to Apple Inc. rivals.", "Fans left."],
        ),
        (
            "The answer was no. Then he left for No. 10 Downing Street.",
            ["The answer was no.", "Then he left for No. 10 Downing Street."],
        ),
        (
            "Wait... What happened? Nobody knows!",
            ["Wait...", "What happened?", "Nobody knows!"],
        ),
        (
            "A heading without a stop\nThe first paragraph. The second sentence.",
            ["A heading without a stop", "The first paragraph.", "The second sentence."],
        ),
    ],
)
def test_split_sentences_handles_abbreviations_initials_and_quotes(
    text: str, expected: list[str]
) -> None:
    assert split_sentences(text) == expected


def test_split_sentences_keeps_detached_closing_quote_with_its_sentence() -> None:
    text = "He wrote that 'anyone can get in. ' Paul Merson replied on Twitter."
    assert split_sentences(text) == [
        "He wrote that 'anyone can get in. '",
        "Paul Merson replied on Twitter.",
    ]


def test_split_sentences_separates_captions_run_into_prose() -> None:
    # Scraped pages paste picture captions in without a full stop.
    text = "The guard slipped on a manhole cover at the palace The incident was filmed."
    assert split_sentences(text) == [
        "The guard slipped on a manhole cover at the palace",
        "The incident was filmed.",
    ]


def test_split_sentences_of_nothing_is_empty() -> None:
    assert split_sentences("") == []
    assert split_sentences("  \n\t ") == []


# --- boilerplate --------------------------------------------------------------------

_STORY = [
    "The Senate passed a sweeping climate bill on Tuesday after months of talks between parties.",
    "The bill commits the country to cutting emissions by 40 percent by 2030 and funds solar.",
    "Supporters called the measure the most important environmental law in a generation.",
    "Critics warned that the bill would raise costs for consumers and small businesses.",
    "The House is expected to take up the bill next week, and the president says he will sign it.",
    "Analysts said the vote showed a rare moment of agreement on energy policy in the Senate.",
]
_JUNK = [
    "By Jane Doe, CNN",
    "PUBLISHED: 12:01 EST, 1 May 2013 | UPDATED: 13:02 EST, 1 May 2013",
    "Scroll down for video",
    "Read more: How the climate bill was saved at the last minute of the Senate session.",
    "Click here to get the latest climate news delivered to your inbox every morning.",
    "Sign up for our daily newsletter to get the climate bill news first every morning.",
    "Follow us on Twitter and Facebook for more news about the Senate climate bill.",
    "Share this article with friends who care about the Senate climate bill vote.",
    "Senator John Smith (pictured) celebrates the climate bill vote in the Senate on Tuesday.",
    "The Senate chamber after the climate bill vote on Tuesday (file photo).",
    "Photo: Getty Images",
]


def test_boilerplate_never_reaches_the_summary() -> None:
    lines = ["(CNN) -- " + _STORY[0]]
    for junk, story in zip(_JUNK, _STORY[1:] + _STORY[1:], strict=False):
        lines += [junk, story]
    summary = summarize("\n".join(lines + _JUNK[len(_STORY) :]))
    assert summary.startswith("The Senate passed a sweeping climate bill")
    for marker in (
        "(CNN)",
        "By Jane",
        "PUBLISHED",
        "UPDATED",
        "Scroll down",
        "Read more",
        "Click here",
        "Sign up",
        "Follow us",
        "Share this",
        "(pictured)",
        "file photo",
        "Getty",
    ):
        assert marker not in summary


def test_boilerplate_only_text_gives_no_summary() -> None:
    assert summarize("Read more: Click here.\nShare this article\nFollow us on Twitter.") == ""


# --- shape of the summary -----------------------------------------------------------


def test_summary_is_three_to_five_sentences_in_article_order_about_600_chars() -> None:
    text = "\n".join(_STORY * 2 + [s.replace("Senate", "committee") for s in _STORY])
    summary = summarize(text)
    assert 3 <= len(_extracted_sentences(summary, text)) <= 5
    assert 250 <= len(summary) <= 800


def test_long_sentences_never_make_an_absurdly_long_summary() -> None:
    filler = "and the committee discussed the budget line by line late into the night"
    text = " ".join(f"Member {i} spoke about item {i} {filler} again {i}." for i in range(30))
    summary = summarize(text)
    assert 0 < len(summary) <= 800


def test_max_sentences_is_respected() -> None:
    text = "\n".join(_STORY)
    assert len(_extracted_sentences(summarize(text, max_sentences=2), text)) == 2


def test_short_text_returns_what_is_there() -> None:
    two = _STORY[0] + " " + _STORY[1]
    assert summarize(two) == two
    assert summarize("Breaking: markets fall") == "Breaking: markets fall"


@pytest.mark.parametrize("junk", ["", "   ", "\x00\x01\x02\xff\xfe", "<p></p>", "!!! ??? ..."])
def test_empty_or_garbage_text_is_handled(junk: str) -> None:
    summary = summarize(junk)
    assert isinstance(summary, str)
    assert "\x00" not in summary


def test_title_is_accepted_and_output_still_comes_from_the_text() -> None:
    text = "\n".join(_STORY)
    summary = summarize(text, title="Senate passes climate bill")
    assert summary
    assert _extracted_sentences(summary, text)


# --- content ------------------------------------------------------------------------


def test_seed_article_summary_carries_the_story() -> None:
    summary = summarize(_seed_article())
    lowered = summary.lower()
    # What was done: executions for drugs, religion and South Korean media.
    assert "executed" in lowered
    assert "drugs" in lowered
    assert "religious" in lowered
    assert "south korean media" in lowered
    # Who says so, and on what evidence.
    assert "Unification Ministry" in summary
    assert "testimonies" in lowered and "500" in summary and "defected" in lowered
    assert 3 <= len(_extracted_sentences(summary, _seed_article())) <= 5
    assert len(summary) <= 800


def test_cnndm_summaries_are_non_empty_extracts_in_order() -> None:
    rows = _cnndm_rows()
    assert len(rows) == 8
    for row in rows:
        summary = summarize(row["article"])
        assert summary, row["id"]
        assert len(summary) <= 800, row["id"]
        assert 3 <= len(_extracted_sentences(summary, row["article"])) <= 5, row["id"]


def test_summarize_is_fast_enough_to_call_inline() -> None:
    text = _seed_article()
    summarize(text)  # warm caches
    started = time.perf_counter()
    for _ in range(20):
        summarize(text)
    per_call = (time.perf_counter() - started) / 20
    assert per_call < 0.02  # a few ms in practice; generous for slow CI machines


def test_inline_dateline_header_is_stripped() -> None:
    text = (
        "By . Daily Mail Reporter . PUBLISHED: 11:43 EST, 18 January 2013 . | . "
        "UPDATED: 12:10 EST, 18 January 2013 . A man has been arrested after a dog was "
        "found abandoned in a park in south London on Friday. Police said the animal was "
        "in good health and had been taken to a shelter nearby. The RSPCA said it was "
        "appealing for witnesses to come forward with any information."
    )
    summary = summarize(text)
    assert summary.startswith("A man has been arrested")
    assert "PUBLISHED" not in summary and "Reporter" not in summary
