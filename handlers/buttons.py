"""Every inline button comes here first: its data is checked, then the right handler acts."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

from telegram import Update

from bot.i18n import N_, _
from bot.services import NewsContext
from bot.ui import callbacks
from handlers.alerts import QUIET, alert_me_button, quiet_button, stop_button
from handlers.headlines import show_page
from handlers.language import NEWS, PICK, language_choice_button, news_languages_button
from handlers.rules import delete_button
from handlers.sources import toggle_button
from handlers.story import follow_button, story_button, unfollow_button
from handlers.subscription import settings_button
from handlers.summary import summary_button
from handlers.zones import zone_button

EXPIRED = N_("This button has expired.")
ALREADY_SENT = N_("Already sent, just above.")
REPEAT_WINDOW = timedelta(minutes=10)
_TAPS_KEY = "newsbot.button_taps"


class RecentTaps:
    """Buttons whose answer is a new message, remembered for a while so a second tap is a no-op.

    Two quick taps arrive as two updates; without this each would send the same summary.
    It is a debounce of one gesture, kept in memory: a restart forgets it, harmlessly.
    """

    def __init__(self, window: timedelta = REPEAT_WINDOW, size: int = 10_000) -> None:
        self.window = window
        self.size = size
        self._seen: OrderedDict[tuple[int, int, str], datetime] = OrderedDict()

    def first_tap(self, key: tuple[int, int, str], now: datetime) -> bool:
        """Whether this tap is the first on that button within the window (and remember it)."""
        while self._seen and next(iter(self._seen.values())) <= now - self.window:
            self._seen.popitem(last=False)
        if key in self._seen:
            return False
        self._seen[key] = now
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True

    def forget(self, key: tuple[int, int, str]) -> None:
        """Let the button be tapped again, because its answer never went out."""
        self._seen.pop(key, None)


def _sends_a_message(action: callbacks.Action) -> bool:
    """Whether the button's answer is a new message rather than an edit of its own."""
    if isinstance(action, (callbacks.Summary, callbacks.StoryCard, callbacks.AlertMe)):
        return True
    if isinstance(action, callbacks.TopicPage):
        return action.offset == 0
    if isinstance(
        action,
        (
            callbacks.LatestPage,
            callbacks.SourceToggle,
            callbacks.FollowStory,
            callbacks.UnfollowStory,
            callbacks.RuleDelete,
            callbacks.AlertStop,
        ),
    ):
        return False
    return action.name == "start" or (action.name == "zone" and action.value in ("", "city"))


async def on_button(update: Update, context: NewsContext) -> None:
    """Route a button press; a stale or forged one gets a polite "expired"."""
    query = update.callback_query
    assert query is not None
    try:
        action = callbacks.decode(query.data)
    except callbacks.ExpiredButton:
        await query.answer(_(EXPIRED))
        return
    message = query.message
    if message is None or not _sends_a_message(action):
        await _act(update, context, action)
        return
    taps: RecentTaps = context.application.bot_data.setdefault(_TAPS_KEY, RecentTaps())
    # Subscribing is per person who may change settings; everything else is per chat.
    tapper = f":{query.from_user.id}" if isinstance(action, callbacks.Setting) else ""
    key = (message.chat.id, message.message_id, (query.data or "") + tapper)
    if not taps.first_tap(key, context.services.clock.now()):
        await query.answer(_(ALREADY_SENT))
        return
    try:
        await _act(update, context, action)
    except BaseException:
        taps.forget(key)
        raise


async def _act(update: Update, context: NewsContext, action: callbacks.Action) -> None:
    if isinstance(action, callbacks.Summary):
        await summary_button(update, context, action.article_id)
    elif isinstance(action, callbacks.StoryCard):
        await story_button(update, context, action.article_id)
    elif isinstance(action, callbacks.FollowStory):
        await follow_button(update, context, action.article_id)
    elif isinstance(action, callbacks.UnfollowStory):
        await unfollow_button(update, context, action.article_id)
    elif isinstance(action, (callbacks.LatestPage, callbacks.TopicPage)):
        await show_page(update, context, action)
    elif isinstance(action, callbacks.SourceToggle):
        await toggle_button(update, context, action)
    elif isinstance(action, callbacks.RuleDelete):
        await delete_button(update, context, action)
    elif isinstance(action, callbacks.AlertStop):
        await stop_button(update, context, action)
    elif isinstance(action, callbacks.AlertMe):
        await alert_me_button(update, context, action)
    elif action.name == QUIET:
        await quiet_button(update, context, action)
    elif action.name == "zone":
        await zone_button(update, context, action)
    elif action.name == PICK:
        await language_choice_button(update, context, action)
    elif action.name == NEWS:
        await news_languages_button(update, context, action)
    else:
        await settings_button(update, context, action)
