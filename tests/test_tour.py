"""A tour of every command, printed as a user sees it: the reply text and its buttons.

The transcript is printed during the run (not only on failure), so a test run shows
what each command answers on each store backend.
"""

from __future__ import annotations

import pytest

from bot.config import Settings
from tests.botharness import ADMIN_ID, USER_ID, BotUser, buttons, running_bot
from tests.fakebot import Call
from tests.support import FakeClock

GROUP = -100777
GROUP_ADMIN = 91

TOUR: list[tuple[str, dict[str, object]]] = [
    ("/start", {}),
    ("/help", {}),
    ("/latest 5", {}),
    ("/latest abc", {}),
    ("/topic iran", {}),
    ('/topic "north korea"', {}),
    ("/topic", {}),
    ("/topic quantum gravity", {}),
    ("/summary 1", {}),
    ("/summary 99999999", {}),
    ("/subscribe 07:30 18:00 Europe/Berlin", {}),
    ("/subscribe 25:61", {}),
    ("/timezone +05:30", {}),
    ("/digesttime 08:00 20:00", {}),
    ("/follow nuclear talks", {}),
    ("/mute tariffs", {}),
    ("/following", {}),
    ("/settings", {}),
    ("/unfollow nuclear talks", {}),
    ("/unmute tariffs", {}),
    ("/unsubscribe", {}),
    ("/sources", {}),
    ("/addsource https://feeds.example.org/world.xml", {"chat_id": ADMIN_ID, "user_id": ADMIN_ID}),
    ("/removesource 2", {"chat_id": ADMIN_ID, "user_id": ADMIN_ID}),
    ("/stats", {"chat_id": ADMIN_ID, "user_id": ADMIN_ID}),
    ("/stats", {}),
    ("/subscribe", {"chat_id": GROUP, "chat_type": "supergroup", "user_id": 5}),
    ("/subscribe 09:00", {"chat_id": GROUP, "chat_type": "supergroup", "user_id": GROUP_ADMIN}),
    ("/latest 3", {"chat_id": GROUP, "chat_type": "supergroup", "user_id": 5}),
]


def shown(call: Call) -> str:
    """A sent message as a reader sees it: its text, then its buttons in rows."""
    lines = [f"  | {line}" for line in str(call.params["text"]).splitlines()]
    for row in buttons(call):
        lines.append("  | " + "  ".join(f"[{label}]" for label, _ in row))
    return "\n".join(lines)


async def test_tour_of_every_command(
    settings: Settings, clock: FakeClock, backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    transcript = [f"\n===== newsbot, as a user sees it ({backend}) ====="]
    async with running_bot(settings, clock) as user:
        user.fake.set_admins(GROUP, [GROUP_ADMIN])
        for command, where in TOUR:
            (reply,) = await user.command(command, **where)  # type: ignore[arg-type]
            chat = where.get("chat_id", USER_ID)
            who = "group" if chat == GROUP else ("admin" if chat == ADMIN_ID else "private")
            transcript.append(f"\n[{who}] > {command}\n{shown(reply)}")
            assert reply.params["text"] and "Something went wrong" not in reply.params["text"]
            assert len(reply.params["text"]) <= 4096
        transcript.append(await _press_summary_button(user))
    with capsys.disabled():
        print("\n".join(transcript))


async def _press_summary_button(user: BotUser) -> str:
    (listing,) = await user.command("/latest 2")
    data = buttons(listing)[0][1][1]
    await user.press(listing, data)
    summary = (
        await user.fake.wait_for(
            "sendMessage",
            lambda c: c.chat_id == USER_ID,
            count=len(user.fake.sent_messages(USER_ID)) + 1,
        )
    )[-1]
    return f"\n[private] (taps button 2 under /latest 2)\n{shown(summary)}"
