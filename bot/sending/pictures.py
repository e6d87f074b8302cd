"""Pictures shown as a large link preview, and a message whose picture is refused sent
without it, never not at all.

A digest of ten headlines is longer than the 1,024 characters a photo's caption holds, so
a picture is the message's link preview pointed at the image (large, above the text)
rather than `sendPhoto`: one message either way, and the text never cut for a caption.
Telegram fetches the picture itself; when it refuses the message for it (an image it
cannot read, of the wrong type, too big: a 400 naming the web page or its media), the
same message is sent again with no preview.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from prometheus_client import Counter
from telegram import LinkPreviewOptions
from telegram.error import BadRequest

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

NO_PICTURE = LinkPreviewOptions(is_disabled=True)
# A 400 about the chat itself is no picture's fault: sending again without one would only
# be refused again.
_ABOUT_THE_CHAT = ("chat", "thread", "rights", "bot was", "user is deactivated", "peer")

PICTURES_REFUSED = Counter(
    "newsbot_pictures_refused_total",
    "Messages Telegram refused for their picture, sent again without it",
)


def picture_preview(image_url: str) -> LinkPreviewOptions:
    """The link preview that shows a picture large, above the message's text."""
    # is_disabled is said outright: PTB fills an unset field from Defaults, which disable it.
    return LinkPreviewOptions(
        is_disabled=False, url=image_url, prefer_large_media=True, show_above_text=True
    )


def refuses_picture(error: BadRequest, preview: LinkPreviewOptions) -> bool:
    """Whether a refusal may be the picture's: a preview was asked for and the 400 is not
    about the chat."""
    if preview.is_disabled or not preview.url:
        return False
    message = error.message.lower()
    return not any(marker in message for marker in _ABOUT_THE_CHAT)


def without_refused_pictures(
    send: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """`send`, sending a message again without its preview when the preview is refused."""

    async def send_message(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await send(*args, **kwargs)
        except BadRequest as exc:
            asked = kwargs.get("link_preview_options")
            if not isinstance(asked, LinkPreviewOptions) or not refuses_picture(exc, asked):
                raise
            PICTURES_REFUSED.inc()
            log.info("Picture refused (%s); the message is sent without it", exc.message)
            kwargs["link_preview_options"] = NO_PICTURE
            return await send(*args, **kwargs)

    return send_message
