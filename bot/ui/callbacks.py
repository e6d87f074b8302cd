"""Callback data of inline buttons: short, typed, and checked when it comes back.

Telegram caps callback data at 64 bytes and hands back whatever a client sends, so
every button's data is parsed strictly here; anything else is "expired".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
_INT = r"(0|[1-9]\d{0,11})"


class ExpiredButton(ValueError):
    """Callback data this bot did not make, or can no longer act on."""


@dataclass(frozen=True)
class Summary:
    """Open the full summary of an article."""

    article_id: int


@dataclass(frozen=True)
class StoryCard:
    """Open the card of the story an article belongs to: every outlet's report."""

    article_id: int


@dataclass(frozen=True)
class FollowStory:
    """Follow the story an article belongs to: an update when it has news."""

    article_id: int


@dataclass(frozen=True)
class UnfollowStory:
    """Stop following the story followed from this article."""

    article_id: int


@dataclass(frozen=True)
class LatestPage:
    """Show /latest from the `offset`-th story, `size` a page, as the list stood at `anchor`.

    `anchor` is the newest article id the first page saw, so items that arrive while
    someone pages never shift a story from one page to another.
    """

    offset: int
    size: int
    anchor: int | None = None


@dataclass(frozen=True)
class TopicPage:
    """Show /topic results for `query` from an offset."""

    offset: int
    size: int
    query: str


@dataclass(frozen=True)
class Setting:
    """Change one chat setting from the /settings keyboard."""

    name: str
    value: str


@dataclass(frozen=True)
class SourceToggle:
    """Switch one of the bot's feeds off for this chat, or back on, from /sources."""

    source_id: int


@dataclass(frozen=True)
class RuleDelete:
    """Delete one of the chat's rules, from /filters (by the rule's id, not its number)."""

    rule_id: int


@dataclass(frozen=True)
class AlertStop:
    """Stop one of the chat's alerts (by the rule's id): from an alert it sent, or from
    /alerts (`listed`), which is shown again."""

    rule_id: int
    listed: bool = False


@dataclass(frozen=True)
class AlertMe:
    """Alert the chat when an item matching a /topic query comes in."""

    query: str


Action = (
    Summary
    | StoryCard
    | FollowStory
    | UnfollowStory
    | LatestPage
    | TopicPage
    | Setting
    | SourceToggle
    | RuleDelete
    | AlertStop
    | AlertMe
)
_SETTING_NAMES = {
    "size",
    "only",
    "empty",
    "preview",
    "order",
    "sub",
    "times",
    "zone",
    "start",
    "lang",
    "news",
    "quiet",
}


def encode(action: Action) -> str | None:
    """The callback data for an action, or None if it cannot fit in 64 bytes."""
    if isinstance(action, Summary):
        data = f"s:{action.article_id}"
    elif isinstance(action, StoryCard):
        data = f"k:{action.article_id}"
    elif isinstance(action, FollowStory):
        data = f"f:{action.article_id}"
    elif isinstance(action, UnfollowStory):
        data = f"u:{action.article_id}"
    elif isinstance(action, LatestPage):
        data = f"l:{action.offset}:{action.size}"
        if action.anchor is not None:
            data += f":{action.anchor}"
    elif isinstance(action, TopicPage):
        data = f"t:{action.offset}:{action.size}:{action.query}"
    elif isinstance(action, SourceToggle):
        data = f"o:{action.source_id}"
    elif isinstance(action, RuleDelete):
        data = f"rd:{action.rule_id}"
    elif isinstance(action, AlertStop):
        data = f"{'al' if action.listed else 'as'}:{action.rule_id}"
    elif isinstance(action, AlertMe):
        data = f"am:{action.query}"
    else:
        data = f"c:{action.name}:{action.value}"
    return data if len(data.encode("utf-8")) <= MAX_BYTES else None


def decode(data: str | None) -> Action:
    """Parse callback data, raising ExpiredButton for anything not made by encode()."""
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        raise ExpiredButton("empty or oversized callback data")
    # ASCII only: int() also reads other scripts' digits ("s:1\u0663" would open item 13).
    if match := re.fullmatch(rf"s:{_INT}", data, re.ASCII):
        return Summary(int(match.group(1)))
    if match := re.fullmatch(rf"k:{_INT}", data, re.ASCII):
        return StoryCard(int(match.group(1)))
    if match := re.fullmatch(rf"f:{_INT}", data, re.ASCII):
        return FollowStory(int(match.group(1)))
    if match := re.fullmatch(rf"u:{_INT}", data, re.ASCII):
        return UnfollowStory(int(match.group(1)))
    if match := re.fullmatch(rf"l:{_INT}:([1-9]\d?)(?::{_INT})?", data, re.ASCII):
        anchor = match.group(3)
        return LatestPage(
            int(match.group(1)), int(match.group(2)), int(anchor) if anchor is not None else None
        )
    if match := re.fullmatch(rf"o:{_INT}", data, re.ASCII):
        return SourceToggle(int(match.group(1)))
    if match := re.fullmatch(rf"rd:{_INT}", data, re.ASCII):
        return RuleDelete(int(match.group(1)))
    if match := re.fullmatch(rf"a([sl]):{_INT}", data, re.ASCII):
        return AlertStop(int(match.group(2)), listed=match.group(1) == "l")
    if match := re.fullmatch(r"am:(.+)", data, re.DOTALL):
        return AlertMe(match.group(1))
    if match := re.fullmatch(rf"t:{_INT}:([1-9]\d?):(.+)", data, re.ASCII | re.DOTALL):
        return TopicPage(int(match.group(1)), int(match.group(2)), match.group(3))
    match = re.fullmatch(r"c:([a-z]+):([\w:+\-/,]{0,40})", data, re.ASCII)
    if match and match.group(1) in _SETTING_NAMES:
        return Setting(match.group(1), match.group(2))
    raise ExpiredButton(f"unknown callback data {data[:20]!r}")
