"""A digest as it is sent: its text, buttons and link preview, each made once a pass."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TypeVar

from telegram import InlineKeyboardMarkup, LinkPreviewOptions

from bot.digests.content import DigestContent, Unseen, compose_digest
from bot.i18n import N_, _, ngettext, using_language
from bot.sending.pictures import picture_preview
from bot.store.digests import (
    ClaimedDigest,
)
from bot.stories.cache import StoryCache
from bot.ui.render import age_text, headline_keyboard, headline_lines, html_escape, local_time_text

T = TypeVar("T")

# Distinct digests and texts a pass keeps; past that the oldest go.
COMPOSED_LIMIT = 4_096


@dataclass(frozen=True)
class RenderedDigest:
    """A digest as it is sent: its text, the buttons under it, the story it previews."""

    text: str
    keyboard: InlineKeyboardMarkup | None
    top_url: str | None
    top_image: str | None = None


class DigestComposer:
    """The digests of one dispatch pass: each distinct one composed once, rendered once."""

    def __init__(self, stories: StoryCache) -> None:
        self._stories = stories
        self._contents: dict[Hashable, DigestContent] = {}
        self._bodies: dict[Hashable, tuple[str, InlineKeyboardMarkup | None]] = {}
        self._previews: dict[Hashable, LinkPreviewOptions] = {}
        self._headings: dict[Hashable, str] = {}

    async def compose(self, digest: ClaimedDigest, unseen: Unseen) -> DigestContent:
        """The chat's digest, shared with every chat of the pass that sees and chooses alike."""
        key = (
            unseen.key,
            digest.news_languages,
            digest.rules,
            digest.only_followed,
            digest.digest_size,
            digest.newest_first,
        )
        content = self._contents.get(key)
        if content is None:
            content = await compose_digest(digest, unseen.headlines, self._stories)
            _keep(self._contents, key, content)
        return content

    def render(
        self,
        content: DigestContent,
        *,
        due_at: datetime,
        now: datetime,
        zone: tzinfo,
        channel: bool,
        language: str,
    ) -> RenderedDigest:
        """`digest_message` and the story buttons in the chat's language; the part below the
        heading is rendered once per distinct stories, ages, wording and language."""
        with using_language(language):
            ages = tuple(age_text(s.lead.published_at, now, zone) for s in content.stories)
            # Ids stand for the items within a pass, as in Unseen.key; cheaper to hash than items.
            stories = tuple((s.lead.id, s.extra_sources, s.followed) for s in content.stories)
            key = (stories, ages, channel, language)
            body = self._bodies.get(key)
            if body is None:
                keyboard = headline_keyboard(
                    [s.lead for s in content.stories],
                    extra_sources={s.lead.id: s.extra_sources for s in content.stories},
                )
                body = (digest_body(content, now=now, zone=zone, channel=channel), keyboard)
                _keep(self._bodies, key, body)
            top = content.stories[0].lead if content.stories else None
            text = self._heading(due_at, zone, channel=channel, language=language) + body[0]
        return RenderedDigest(text, body[1], top.url if top else None, top.image if top else None)

    def _heading(self, due_at: datetime, zone: tzinfo, *, channel: bool, language: str) -> str:
        """`digest_heading`, once per local minute, wording and language: it shows the local
        date and time to the minute, and CLDR formatting costs more than the rest of a render."""
        local = due_at.astimezone(zone).replace(second=0, microsecond=0)
        key = (local.replace(tzinfo=None), channel, language)
        heading = self._headings.get(key)
        if heading is None:
            heading = digest_heading(local, zone, channel=channel)
            _keep(self._headings, key, heading)
        return heading

    def preview(self, url: str | None, image: str | None, *, enabled: bool) -> LinkPreviewOptions:
        """`top_story_preview`, one object per story and setting (the sender reuses its JSON)."""
        key = (url, image, enabled)
        preview = self._previews.get(key)
        if preview is None:
            preview = top_story_preview(url, image, enabled=enabled)
            _keep(self._previews, key, preview)
        return preview


def _keep(cache: dict[Hashable, T], key: Hashable, value: T) -> None:
    if len(cache) >= COMPOSED_LIMIT:
        cache.pop(next(iter(cache)))
    cache[key] = value


def top_story_preview(
    url: str | None, image: str | None = None, *, enabled: bool
) -> LinkPreviewOptions:
    """Telegram's preview of a digest's top story, if wanted: its picture large above the
    text where it has one, else its page small below."""
    if not enabled or not (url or image):
        return LinkPreviewOptions(is_disabled=True)
    if image:
        return picture_preview(image)
    # is_disabled is said outright: PTB fills an unset field from Defaults, which disable it.
    return LinkPreviewOptions(
        is_disabled=False, url=url, prefer_small_media=True, show_above_text=False
    )


def digest_message(
    content: DigestContent,
    *,
    due_at: datetime,
    now: datetime,
    zone: tzinfo,
    channel: bool = False,
) -> str:
    """The digest as Telegram HTML: a dated heading and one numbered line per story.

    A channel's digest is read by its whole audience, so it speaks to nobody in person.
    """
    return digest_heading(due_at, zone, channel=channel) + digest_body(
        content, now=now, zone=zone, channel=channel
    )


def digest_heading(due_at: datetime, zone: tzinfo, *, channel: bool) -> str:
    """The digest's first line: whose digest, and the time it was due in the chat's zone."""
    when = local_time_text(due_at, zone)
    # Translators: the digest's heading; {time} is when it was due, "Thu 27 Nov, 08:00".
    heading = (_("News digest · {time}") if channel else _("Your news digest · {time}")).format(
        time=when
    )
    return f"<b>{html_escape(heading)}</b>"


def digest_body(content: DigestContent, *, now: datetime, zone: tzinfo, channel: bool) -> str:
    """Everything under the heading: the numbered stories and a footer."""
    footer = _("<i>Tap a number for the full summary.</i>")
    followed = sum(1 for s in content.stories if s.followed)
    if followed:
        footer = f"{_followed_note(followed, channel=channel)} {footer}"
    extra_sources = {s.lead.id: s.extra_sources for s in content.stories if s.extra_sources}
    lines = headline_lines(
        [s.lead for s in content.stories], now=now, zone=zone, extra_sources=extra_sources
    )
    return "\n".join(["", "", *lines, "", footer])


def _followed_note(count: int, *, channel: bool) -> str:
    """Why the first stories lead: they match topics the reader (or the channel) follows."""
    if channel:
        return ngettext(
            "<i>The first story matches topics this channel follows.</i>",
            "<i>The first {count} stories match topics this channel follows.</i>",
            count,
        ).format(count=count)
    return ngettext(
        "<i>The first story matches topics you follow.</i>",
        "<i>The first {count} stories match topics you follow.</i>",
        count,
    ).format(count=count)


NOTHING_NEW = N_("No new headlines since your last digest.")
