"""The `newsbot` command line, run as a user runs it: a subprocess on a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.config import Settings
from tests.support import ROOT


def newsbot(
    settings: Settings, *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))},
        "DATABASE_URL": settings.database_url,
        "SEEDS_DIR": settings.seeds_dir,
        "SOURCES_OPML": settings.sources_opml,
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=120,
    )


def test_seed_then_latest_prints_all_seventeen(settings: Settings) -> None:
    assert newsbot(settings, "seed").returncode == 0
    again = newsbot(settings, "seed")
    assert "17 items, 0 new" in again.stdout
    listing = json.loads(newsbot(settings, "latest", "-n", "50", "--json").stdout)
    assert len(listing) == 17
    assert {"id", "title", "url", "source", "published_at"} <= set(listing[0])
    text = newsbot(settings, "latest", "-n", "3").stdout
    assert text.splitlines()[0].startswith("1. North Korean authorities")


def test_topic_json_and_text(settings: Settings) -> None:
    newsbot(settings, "seed")
    iran = json.loads(newsbot(settings, "topic", "iran", "--json").stdout)
    assert len(iran) == 3 and all("Iran" in item["title"] for item in iran)
    none = newsbot(settings, "topic", "zzzyzx")
    assert none.returncode == 0 and "No headlines match" in none.stderr


def test_sources_add_list_remove(settings: Settings) -> None:
    added = newsbot(settings, "sources", "add", "https://feeds.example.org/world.xml")
    assert added.returncode == 0 and "Added source" in added.stdout
    duplicate = newsbot(settings, "sources", "add", "https://feeds.example.org/world.xml")
    assert duplicate.returncode == 1 and "already reading" in duplicate.stderr
    bad = newsbot(settings, "sources", "add", "file:///etc/passwd")
    assert bad.returncode == 1 and "not an http(s) feed URL" in bad.stderr
    listed = json.loads(newsbot(settings, "sources", "list", "--json").stdout)
    feed = next(s for s in listed if s["url"] == "https://feeds.example.org/world.xml")
    assert newsbot(settings, "sources", "remove", str(feed["id"])).returncode == 0
    assert newsbot(settings, "sources", "remove", "99999").returncode == 1


def test_run_without_token_says_how_to_get_one(settings: Settings, tmp_path: Path) -> None:
    result = newsbot(settings, "run", env={"TELEGRAM_BOT_TOKEN": ""}, cwd=tmp_path)
    assert result.returncode == 2
    assert "@BotFather" in result.stderr and ".env" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_setting_stops_with_one_line(settings: Settings) -> None:
    result = newsbot(settings, "latest", env={"DEFAULT_TIMEZONE": "Mars/Olympus"})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "newsbot: Bad setting DEFAULT_TIMEZONE: 'Mars/Olympus' is not a known time zone "
        "(e.g. Europe/Berlin, UTC)"
    )


def test_bad_seed_file_is_reported_not_raised(settings: Settings, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = newsbot(settings, "seed", str(empty))
    assert result.returncode == 1
    assert result.stderr.strip() == f"newsbot: {empty}: empty file"


def test_help_lists_every_command(settings: Settings) -> None:
    out = newsbot(settings, "--help").stdout
    for command in ("run", "seed", "db", "latest", "topic", "sources"):
        assert command in out


def test_digest_preview_merges_stories_and_records_nothing(settings: Settings) -> None:
    newsbot(settings, "seed")
    preview = newsbot(settings, "digest", "--preview")
    assert preview.returncode == 0
    assert preview.stdout.startswith("Digest for a new subscriber · ")
    assert preview.stdout.count("+1 source") == 2
    again = json.loads(newsbot(settings, "digest", "--preview", "--json").stdout)
    assert len(again) == 10 and sum(item["extra_sources"] for item in again) == 2
    missing = newsbot(settings, "digest", "--chat", "12345")
    assert missing.returncode == 1 and "no chat 12345" in missing.stderr


def test_story_lists_every_report_of_a_merged_story(settings: Settings) -> None:
    newsbot(settings, "seed")
    digest = json.loads(newsbot(settings, "digest", "--preview", "--json").stdout)
    merged = next(item for item in digest if item["extra_sources"] == 1)
    # The seed is one outlet: its two reports of a story are one outlet's.
    assert merged["outlets"] == 1
    story = json.loads(newsbot(settings, "story", str(merged["id"]), "--json").stdout)
    assert story["outlets"] == 1 and len(story["reports"]) == 2
    assert merged["id"] in {report["id"] for report in story["reports"]}
    for report in story["reports"]:
        assert {"source", "title", "url", "published_at"} <= set(report)
    # Headlines without text: nothing to summarise, and the card says nothing made up.
    assert story["summary"] == ""
    text = newsbot(settings, "story", str(story["reports"][1]["id"])).stdout
    assert text.splitlines()[0] == story["title"]
    assert newsbot(settings, "story", "999").returncode == 1
    listing = json.loads(newsbot(settings, "latest", "--json").stdout)
    assert all(item["outlets"] == 1 for item in listing)
    # The seed document names no pictures.
    assert all(item["image"] is None for item in listing) and story["image"] is None


def test_summary_article_and_topics(settings: Settings) -> None:
    newsbot(settings, "seed")
    summary = json.loads(newsbot(settings, "summary", "1", "--json").stdout)
    assert "Unification Ministry" in summary["summary"] and "500" in summary["summary"]
    article = json.loads(newsbot(settings, "article", "1", "--json").stdout)
    assert {"id", "title", "url", "source", "published_at", "body", "summary"} <= set(article)
    assert article["body"].count("\n") == 7 and article["summary"] == summary["summary"]
    assert newsbot(settings, "summary", "999").returncode == 1
    topics = json.loads(newsbot(settings, "topics", "--json").stdout)
    labels = {t["topic"] for t in topics}
    assert {"Trump", "Iran", "TrumpRx"} <= labels


def test_run_serves_users_until_interrupted(settings: Settings, tmp_path: Path) -> None:
    """`newsbot run` as a process: start-up, the command menu, a reply, a clean stop on Ctrl-C."""
    import signal

    from tests.fakebot import FakeBotAPI

    with FakeBotAPI() as fake:
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))},
            "DATABASE_URL": settings.database_url,
            "SEEDS_DIR": settings.seeds_dir,
            "SOURCES_OPML": settings.sources_opml,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "LOG_LEVEL": "DEBUG",
        }
        # A file, not a pipe: a full pipe would block the bot's logging.
        log_path = tmp_path / "newsbot.log"
        with log_path.open("w") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                env=environment,
                cwd=tmp_path,
                stdout=log_file,
                stderr=log_file,
            )
            try:
                fake.wait_for_sync("setMyCommands", timeout=60)
                fake.send_command(4242, "/latest 2")
                (reply,) = fake.wait_for_sync("sendMessage", timeout=30)
            finally:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=60)
        log = log_path.read_text()
    assert reply.params["text"].startswith("<b>Latest headlines</b>\n\n1. North Korean authorities")
    assert process.returncode == 0
    assert "newsbot started as @" in log
    assert fake.token not in log and fake.token.split(":")[1] not in log
