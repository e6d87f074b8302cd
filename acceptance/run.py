"""Acceptance run: `newsbot run` as a process against telegram-test-api.

Usage: `python -m acceptance.run` (or `make acceptance`). Prints one PASS/FAIL line per check
and a summary; exits 1 if any check failed or the run could not be set up.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from acceptance.gapshim import BotCall, GapState, start_shim

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TOKEN = "4242:acceptance"
BOT_USER = {"id": 666, "is_bot": True, "first_name": "Test First name"}
REPLY_SECONDS = 20.0
START_SECONDS = 60.0
DIGEST_SLACK_SECONDS = 75.0
"""The dispatch job runs every 30 s; a digest due at T must be out well within this."""

USER_FROB, USER_BLOCKED, USER_BACK, GROUP_ADMIN = 1001, 1004, 1005, 1002
GROUP, SUPERGROUP = -2001, -1002001
SILENT_GROUP, SILENT_SUPERGROUP = -2002, -1002002
CHANNEL = -1003001


class SetupError(Exception):
    """The emulator or the bot did not come up; nothing can be checked."""


@dataclass(frozen=True)
class Check:
    """One acceptance check's outcome."""

    name: str
    passed: bool
    detail: str


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, probe: Callable[[], bool], seconds: float) -> None:
    """Poll until probe() is true, or raise SetupError naming what never happened."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.3)
    raise SetupError(f"gave up after {seconds:.0f}s waiting for {what}")


class Emulator:
    """telegram-test-api's client side: post as a user, read what the bot sent."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=10)
        self.clock = int(time.time())

    def say(self, chat: dict[str, Any], text: str, user: dict[str, Any] | None = None) -> None:
        """Post a message into a chat; a leading /word is marked as a command."""
        message: dict[str, Any] = {"botToken": TOKEN, "chat": chat, "text": text}
        message.update(self._stamp(user))
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        self.post_message(message)

    def post_message(self, message: dict[str, Any]) -> None:
        """Queue any `message` update, service fields such as migrate_to_chat_id included."""
        self.http.post(f"{self.url}/sendMessage", json=message).raise_for_status()

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """What the bot delivered to a chat, oldest first, per the emulator's history."""
        answer = self.http.post(f"{self.url}/getUpdatesHistory", json={"token": TOKEN}).json()
        return [
            entry["message"]
            for entry in answer["result"]
            if str(entry["message"].get("chat_id")) == str(chat_id)
        ]

    def _stamp(self, user: dict[str, Any] | None) -> dict[str, Any]:
        self.clock = max(self.clock + 1, int(time.time()))
        stamp: dict[str, Any] = {"date": self.clock}
        if user is not None:
            stamp["from"] = user
        return stamp


def private(user_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A private chat and its user."""
    user = {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"}
    return {"id": user_id, "type": "private", "first_name": user["first_name"]}, user


def member_update(chat: dict[str, Any], user: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """A `my_chat_member` update: the bot's status in a chat went from old to new."""

    def status(name: str) -> dict[str, Any]:
        member: dict[str, Any] = {"status": name, "user": BOT_USER}
        if name == "kicked":
            member["until_date"] = 0
        return member

    return {
        "my_chat_member": {
            "chat": chat,
            "from": user,
            "date": int(time.time()),
            "old_chat_member": status(old),
            "new_chat_member": status(new),
        }
    }


def channel_post(chat: dict[str, Any], text: str) -> dict[str, Any]:
    """A `channel_post` update: the channel itself posted text."""
    return {
        "channel_post": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": chat,
            "sender_chat": chat,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        }
    }


def next_reply(emulator: Emulator, chat_id: int, before: int) -> str:
    """The text of the first message the bot sends to chat_id after `before` earlier ones."""
    found: list[str] = []

    def arrived() -> bool:
        messages = emulator.bot_messages(chat_id)
        if len(messages) > before:
            found.append(str(messages[before].get("text", "")))
            return True
        return False

    with contextlib.suppress(SetupError):
        wait_for(f"a reply in chat {chat_id}", arrived, REPLY_SECONDS)
    return found[0] if found else ""


def ask(emulator: Emulator, chat: dict[str, Any], user: dict[str, Any] | None, text: str) -> str:
    """Say text in a chat and return the bot's reply there ("" if none came in time)."""
    before = len(emulator.bot_messages(chat["id"]))
    emulator.say(chat, text, user)
    return next_reply(emulator, chat["id"], before)


def logged(log: Path, line: str) -> Callable[[], bool]:
    """A probe: has the bot logged this line yet? (Its log is how a handler's end shows.)"""
    return lambda: line in log.read_text()


def digest_time() -> datetime:
    """The first whole minute at least 50 s away: time enough to set every chat up."""
    soon = datetime.now(UTC) + timedelta(seconds=50)
    return soon.replace(second=0, microsecond=0) + timedelta(minutes=1)


def sends_since(calls: list[BotCall], since: float) -> list[BotCall]:
    """The calls made at or after a moment."""
    return [call for call in calls if call.at >= since]


@contextlib.contextmanager
def process(argv: list[str], log: Path, **kwargs: Any) -> Iterator[subprocess.Popen[bytes]]:
    """Run a child with its output in a log file; SIGTERM it (then SIGKILL) on the way out."""
    with log.open("wb") as out:
        child = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, **kwargs)
        try:
            yield child
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait(timeout=5)


def bot_environment(workdir: Path, shim_url: str) -> dict[str, str]:
    """The bot's settings: the shim as Bot API, a fresh SQLite store, no feed sources."""
    empty_opml = workdir / "no-sources.opml"
    empty_opml.write_text('<?xml version="1.0"?><opml version="2.0"><head/><body/></opml>\n')
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return keep | {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": f"{shim_url}/bot",
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'newsbot.db'}",
        "SOURCES_OPML": str(empty_opml),
        "DEFAULT_TIMEZONE": "UTC",
        "LOG_LEVEL": "INFO",
        "TELEGRAM_RATE_LIMIT": "0",
    }


def scenario(emulator: Emulator, gaps: GapState, log: Path) -> list[Check]:
    """Drive every situation the acceptance run covers and check what the bot did."""
    checks: list[Check] = []
    due = digest_time()
    hhmm = due.strftime("%H:%M")

    frob_chat, frob_user = private(USER_FROB)
    answer = ask(emulator, frob_chat, frob_user, "/frobnicate")
    checks.append(Check("/frobnicate gets a reply mentioning /help", "/help" in answer, answer))
    answer = ask(emulator, frob_chat, frob_user, "what happened to the climate talks")
    checks.append(Check("plain text gets a reply", bool(answer.strip()), answer[:80]))
    answer = ask(emulator, frob_chat, frob_user, "/summary")
    cli_words = ("command line", "newsbot summary", "cli", "terminal")
    clean = "/summary" in answer and not any(word in answer.lower() for word in cli_words)
    checks.append(Check("/summary usage does not mention the command line", clean, answer))

    admin = {"id": GROUP_ADMIN, "is_bot": False, "first_name": "admin"}
    group = {"id": GROUP, "type": "group", "title": "Upgraded group"}
    supergroup = {"id": SUPERGROUP, "type": "supergroup", "title": "Upgraded group"}
    silent = {"id": SILENT_GROUP, "type": "group", "title": "Silently upgraded group"}
    gaps.admins |= {(GROUP, GROUP_ADMIN), (SUPERGROUP, GROUP_ADMIN), (SILENT_GROUP, GROUP_ADMIN)}
    ask(emulator, group, admin, f"/subscribe {hhmm}")
    ask(emulator, silent, admin, f"/subscribe {hhmm}")
    # The emulator queues any `message`, so the upgrade's two service messages go through it.
    upgrade = {"botToken": TOKEN, "from": admin, "date": int(time.time())}
    emulator.post_message({**upgrade, "chat": group, "migrate_to_chat_id": SUPERGROUP})
    emulator.post_message({**upgrade, "chat": supergroup, "migrate_from_chat_id": GROUP})
    wait_for("the group's move", logged(log, f"Group {GROUP} became"), 20)
    migrated_at = time.time()
    answer = ask(emulator, supergroup, admin, "/settings")
    checks.append(
        Check(f"supergroup /settings shows the group's time {hhmm}", hhmm in answer, answer[:120])
    )
    # The silent group's upgrade is seen only as the answer to a send (shim: 400 ChatMigrated).
    gaps.migrated[SILENT_GROUP] = SILENT_SUPERGROUP

    channel = {"id": CHANNEL, "type": "channel", "title": "Acceptance channel"}
    gaps.inject(channel_post(channel, f"/subscribe {hhmm} UTC"))
    wait_for("the channel's confirmation", lambda: bool(emulator.bot_messages(CHANNEL)), 20)

    blocked_chat, blocked_user = private(USER_BLOCKED)
    back_chat, back_user = private(USER_BACK)
    ask(emulator, blocked_chat, blocked_user, f"/subscribe {hhmm}")
    ask(emulator, back_chat, back_user, f"/subscribe {hhmm}")
    gaps.blocked |= {USER_BLOCKED, USER_BACK}
    blocked_at = time.time()
    gaps.inject(member_update(blocked_chat, blocked_user, "member", "kicked"))
    gaps.inject(member_update(back_chat, back_user, "member", "kicked"))
    for user_id in (USER_BLOCKED, USER_BACK):
        wait_for(f"block of {user_id}", logged(log, f"Chat {user_id}: the bot was kicked"), 20)
    gaps.blocked.discard(USER_BACK)
    gaps.inject(member_update(back_chat, back_user, "kicked", "member"))
    wait_for(f"unblock of {USER_BACK}", logged(log, f"Chat {USER_BACK}: the bot is member"), 20)

    setup_left = due.timestamp() - time.time()
    if setup_left < 5:
        raise SetupError(f"setting up overran the digest time {hhmm} UTC by {-setup_left:.0f}s")
    print(f"# chats set up; digests due at {hhmm} UTC, waiting up to {setup_left + 75:.0f}s")
    targets = (SUPERGROUP, SILENT_SUPERGROUP, CHANNEL, USER_BACK)
    wait_digests(emulator, targets, due.timestamp())
    checks += digest_checks(emulator, gaps, due, migrated_at, blocked_at)
    return checks


def wait_digests(emulator: Emulator, chat_ids: tuple[int, ...], due: float) -> None:
    """Wait until each chat got a message at or after `due`, or the slack ran out."""

    def all_arrived() -> bool:
        return all(
            any(m.get("date", 0) >= due - 1 for m in emulator.bot_messages(c)) for c in chat_ids
        )

    deadline = due + DIGEST_SLACK_SECONDS
    while time.time() < deadline and not all_arrived():
        time.sleep(1)


def digest_checks(
    emulator: Emulator, gaps: GapState, due: datetime, migrated_at: float, blocked_at: float
) -> list[Check]:
    """What the digest run delivered, attempted, and did not attempt."""
    start = due.timestamp()
    hhmm = due.strftime("%H:%M")

    def delivered(chat_id: int) -> tuple[bool, str]:
        calls = [c for c in sends_since(gaps.sends_to(chat_id), start) if c.answered == "emulator"]
        if not calls:
            return False, "nothing delivered after the digest time"
        late = calls[0].at - start
        head = calls[0].text.splitlines()[0] if calls[0].text else ""
        return 0 <= late <= DIGEST_SLACK_SECONDS, f"{late:.0f}s after {hhmm} UTC: {head[:60]}"

    checks = []
    ok, detail = delivered(SUPERGROUP)
    checks.append(Check("the group's digest reaches the new supergroup id", ok, detail))
    stale = sends_since(gaps.sends_to(GROUP), migrated_at)
    checks.append(
        Check("nothing is sent to the old group id after the upgrade", not stale, f"{len(stale)}")
    )
    ok, detail = delivered(SILENT_SUPERGROUP)
    refused = [c for c in gaps.sends_to(SILENT_GROUP) if c.answered == "shim"]
    checks.append(
        Check(
            "a send answered ChatMigrated is followed to the supergroup [shim answer]",
            ok and bool(refused),
            f"{len(refused)} refused at the old id; {detail}",
        )
    )
    ok, detail = delivered(CHANNEL)
    checks.append(Check(f"the channel gets its digest at {hhmm} UTC [shim update]", ok, detail))
    attempts = sends_since(gaps.sends_to(USER_BLOCKED), blocked_at)
    checks.append(
        Check(
            "no send is attempted to the user who blocked the bot [shim update]",
            not attempts,
            f"{len(attempts)} attempts",
        )
    )
    ok, detail = delivered(USER_BACK)
    checks.append(Check("the user who blocked then unblocked gets the digest", ok, detail))
    return checks


def log_check(log: Path) -> Check:
    """No traceback anywhere in the bot's output."""
    text = log.read_text()
    count = text.count("Traceback")
    first = text[text.find("Traceback") :].splitlines()[-1:] if count else []
    return Check("no traceback in the bot's log", count == 0, f"{count} {first}")


def run(workdir: Path) -> list[Check]:
    """Start the emulator, the shim and the bot; drive; stop everything."""
    node_modules = HERE / "node_modules" / "telegram-test-api"
    if not node_modules.is_dir():
        raise SetupError("telegram-test-api is not installed: run `npm ci` in acceptance/")
    port = free_port()
    emulator_url = f"http://127.0.0.1:{port}"
    gaps = GapState(emulator_url=emulator_url)
    shim = start_shim(gaps)
    shim_url = f"http://127.0.0.1:{shim.server_address[1]}"
    emulator_log, bot_log = workdir / "emulator.log", workdir / "newsbot.log"
    newsbot = Path(sys.executable).with_name("newsbot")
    try:
        with process(["node", str(HERE / "emulator.js"), str(port)], emulator_log, cwd=HERE):
            wait_for("the emulator", lambda: "listening" in emulator_log.read_text(), 20)
            env = bot_environment(workdir, shim_url)
            with process([str(newsbot), "run"], bot_log, cwd=workdir, env=env) as bot:
                started = "newsbot started as"

                def up() -> bool:
                    if bot.poll() is not None:
                        raise SetupError(f"newsbot run exited with {bot.returncode}")
                    return started in bot_log.read_text()

                wait_for("the bot", up, START_SECONDS)
                checks = scenario(Emulator(emulator_url), gaps, bot_log)
                if bot.poll() is not None:
                    checks.append(Check("the bot ran to the end", False, f"exit {bot.returncode}"))
            checks.append(log_check(bot_log))
        return checks
    except SetupError:
        print(bot_log.read_text()[-3000:] if bot_log.exists() else "(no bot log)")
        raise
    finally:
        shim.shutdown()


def main(argv: list[str] | None = None) -> int:
    """Run the acceptance checks and print one line each and a summary."""
    parser = argparse.ArgumentParser(prog="python -m acceptance.run", description=__doc__)
    parser.add_argument("--keep-log", metavar="FILE", help="copy the bot's log here afterwards")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="newsbot-acceptance-") as tmp:
        try:
            checks = run(Path(tmp))
        except SetupError as exc:
            print(f"FAIL set-up: {exc}")
            return 1
        finally:
            if args.keep_log and (Path(tmp) / "newsbot.log").exists():
                Path(args.keep_log).write_text((Path(tmp) / "newsbot.log").read_text())
    for check in checks:
        print(f"{'PASS' if check.passed else 'FAIL'} {check.name} — {check.detail}")
    failed = sum(not check.passed for check in checks)
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
