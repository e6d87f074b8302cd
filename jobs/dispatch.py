"""The digest job: one dispatch pass (bot.digests.dispatch) every DISPATCH_INTERVAL seconds."""

from __future__ import annotations

import logging

from bot.digests.dispatch import dispatch_digests
from bot.services import NewsContext

log = logging.getLogger(__name__)

DISPATCH_INTERVAL = 30


async def send_due_digests(context: NewsContext) -> None:
    """The repeating job: dispatch every due digest; never raise into the scheduler."""
    try:
        report = await dispatch_digests(context.services, context.application.bot)
    except Exception:  # noqa: BLE001 - the next pass retries; the job must keep running
        log.exception("Digest dispatch pass failed")
        return
    if report.did_anything:
        log.info("Digests: %s", report.summary())
