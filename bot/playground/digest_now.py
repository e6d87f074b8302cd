"""The page's "send the digest now": the real dispatch, made due for one chat right away."""

from __future__ import annotations

from telegram.ext import Application

from bot.digests.dispatch import DispatchReport, dispatch_digests
from bot.services import services_of
from bot.store.chats import bring_digest_forward


async def send_digest_now(application: Application, chat_id: int) -> DispatchReport | None:
    """Run the dispatch pass with this chat due; None if the chat is not subscribed."""
    services = services_of(application)
    async with services.database.session() as session:
        due = await bring_digest_forward(session, chat_id, now=services.clock.now())
    if not due:
        return None
    return await dispatch_digests(services, application.bot)
