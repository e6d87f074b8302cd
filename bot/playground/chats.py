"""The simulated people and chats of the playground: who talks to the bot, where, as what."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    """A simulated Telegram user."""

    key: str
    id: int
    first_name: str
    username: str


@dataclass(frozen=True)
class PlaygroundChat:
    """One chat the page can switch to; a forum topic is its supergroup plus a thread."""

    key: str
    title: str
    kind: str
    id: int
    members: tuple[Person, ...]
    admins: tuple[Person, ...] = ()
    thread_id: int | None = None
    topic: str = ""

    @property
    def is_forum(self) -> bool:
        """Topics exist only in forum supergroups."""
        return self.thread_id is not None

    def member(self, key: str | None) -> Person:
        """The member speaking; the first one unless another is named. KeyError if unknown."""
        if key is None:
            return self.members[0]
        for person in self.members:
            if person.key == key:
                return person
        raise KeyError(key)


# Ada is one of the bot's own administrators (ADMIN_IDS), Ben an ordinary reader.
ADA = Person("ada", 700_001, "Ada", "ada_admin")
BEN = Person("ben", 700_002, "Ben", "ben_reader")

CHATS: tuple[PlaygroundChat, ...] = (
    PlaygroundChat("ada", "Ada · bot admin", "private", ADA.id, (ADA,)),
    PlaygroundChat("ben", "Ben", "private", BEN.id, (BEN,)),
    PlaygroundChat(
        "group", "Newsroom", "supergroup", -1_001_700_000_001, (ADA, BEN), admins=(BEN,)
    ),
    PlaygroundChat(
        "topic",
        "Readers' forum",
        "supergroup",
        -1_001_700_000_002,
        (BEN, ADA),
        admins=(ADA,),
        thread_id=17,
        topic="Tech",
    ),
    PlaygroundChat("channel", "Morning Brief", "channel", -1_001_700_000_003, (), admins=(ADA,)),
)
BOT_ADMINS: tuple[Person, ...] = (ADA,)


def chat_by_key(key: str) -> PlaygroundChat:
    """The chat the page names; KeyError if there is none."""
    for chat in CHATS:
        if chat.key == key:
            return chat
    raise KeyError(key)
