"""The followed-stories job: one pass (bot.digests.story_updates) every FOLLOW_INTERVAL seconds."""

from __future__ import annotations

import logging

from bot.digests.story_updates import story_update_pass
from bot.services import NewsContext

log = logging.getLogger(__name__)

# Often enough that an update follows its report within minutes of ingest; each pass
# reads only what was stored since the last.
FOLLOW_INTERVAL = 120


async def send_story_updates(context: NewsContext) -> None:
    """The repeating job: find followed stories' news and send it; never raise into the
    scheduler."""
    try:
        report = await story_update_pass(context.services, context.application.bot)
    except Exception:  # noqa: BLE001 - the next pass tries again; the job must keep running
        log.exception("Story update pass failed")
        return
    if report.did_anything:
        log.info("Story updates: %s", report.summary())
