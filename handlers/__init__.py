"""Telegram update handlers, one module per command family; `register` wires them all."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from handlers import (
    admin,
    alerts,
    channels,
    fallback,
    feed_lists,
    headlines,
    inline,
    language,
    membership,
    rules,
    sources,
    start,
    story,
    subscription,
    summary,
    topics,
    zones,
)
from handlers.buttons import on_button
from handlers.errors import on_error

COMMAND_HANDLERS = {
    "start": start.start,
    "help": start.help_command,
    "latest": headlines.latest,
    "topic": headlines.topic,
    "summary": summary.summary,
    "story": story.story,
    "subscribe": subscription.subscribe,
    "unsubscribe": subscription.unsubscribe,
    "settings": subscription.settings,
    "timezone": zones.timezone,
    "digesttime": subscription.digesttime,
    "follow": topics.follow,
    "unfollow": topics.unfollow,
    "following": topics.following,
    "mute": topics.mute,
    "unmute": topics.unmute,
    "filter": rules.filter_command,
    "filters": rules.filters_command,
    "unfilter": rules.unfilter,
    "alert": alerts.alert,
    "alerts": alerts.alerts_command,
    "quiet": alerts.quiet,
    "sources": sources.sources,
    "addfeed": sources.addfeed,
    "removefeed": sources.removefeed,
    "export": feed_lists.export,
    "addsource": admin.addsource,
    "removesource": admin.removesource,
    "stats": admin.stats,
    "channel": channels.channel,
    "language": language.language,
}


def register(application: Application) -> None:
    """Add every command, the button router and the error handler to the application."""
    # New messages and channel posts only: an edit must never run its command a second time.
    new_messages = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
    # Before everything (group -2): every handler of the update writes in the chat's language.
    application.add_handler(TypeHandler(Update, language.use_chat_language), group=-2)
    # Before any command runs (group -1): a command from a chat marked inactive revives it.
    application.add_handler(
        MessageHandler(new_messages & filters.COMMAND, membership.reactivate_on_command), group=-1
    )
    application.add_handler(
        ChatMemberHandler(membership.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, membership.on_migrate))
    application.add_handler(
        MessageHandler(filters.StatusUpdate.CHAT_SHARED, channels.on_chat_shared)
    )
    for name, callback in COMMAND_HANDLERS.items():
        application.add_handler(CommandHandler(name, callback, filters=new_messages))
    application.add_handler(MessageHandler(new_messages & feed_lists.OPML_FILES, feed_lists.upload))
    private = new_messages & filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(private & filters.COMMAND, fallback.unknown_command))
    application.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, fallback.text_search)
    )
    group_replies = new_messages & filters.ChatType.GROUPS & filters.REPLY & filters.TEXT
    application.add_handler(MessageHandler(group_replies & ~filters.COMMAND, zones.city_reply))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(InlineQueryHandler(inline.on_inline_query))
    application.add_error_handler(on_error)
