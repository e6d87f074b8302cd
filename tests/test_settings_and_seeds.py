"""Bad settings and bad seed files stop with one clear line; good ones load."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.bootstrap import load_seeds, prepare_store
from bot.config import Settings, SettingsError, load_settings
from bot.news.opml import parse_opml
from bot.news.seeds import SeedError, derive_title, load_seed_file, parse_seed
from bot.store.articles import count_articles
from bot.store.db import Database
from bot.store.sources import source_statuses
from tests.support import SEED_DOCUMENT, SEEDS, FakeClock


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("TELEGRAM_API_BASE_URL", "not a url", "TELEGRAM_API_BASE_URL"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus", "DEFAULT_TIMEZONE"),
        ("DEFAULT_DIGEST_TIMES", "08:00,25:00", "DEFAULT_DIGEST_TIMES"),
        ("DEFAULT_DIGEST_TIMES", "7pm", "DEFAULT_DIGEST_TIMES"),
        ("FEED_POLL_INTERVAL", "soon", "FEED_POLL_INTERVAL"),
        ("RETENTION_DAYS", "0", "RETENTION_DAYS"),
        ("ADMIN_IDS", "alice", "ADMIN_IDS"),
        ("DATABASE_URL", "mysql://root@localhost/x", "DATABASE_URL"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
    ],
)
def test_bad_setting_names_itself_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, named: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    message = str(caught.value)
    assert message.startswith(f"Bad setting {named}:")
    assert "\n" not in message


def test_settings_defaults_and_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "11, 22")
    monkeypatch.setenv("DEFAULT_DIGEST_TIMES", "18:30 07:05")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    settings = load_settings(_env_file=None)
    assert settings.admin_ids == [11, 22]
    assert settings.default_digest_times == ["07:05", "18:30"]
    assert settings.database_url == "postgresql+asyncpg://postgres@127.0.0.1/test"
    monkeypatch.delenv("DATABASE_URL")
    assert load_settings(_env_file=None).database_url.startswith("sqlite+aiosqlite:///./data/")


def test_paid_broadcasts_raise_the_default_send_rate_but_not_a_chosen_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TELEGRAM_RATE_LIMIT", raising=False)
    monkeypatch.delenv("TELEGRAM_PAID_BROADCAST", raising=False)
    assert load_settings(_env_file=None).send_rate == 30
    monkeypatch.setenv("TELEGRAM_PAID_BROADCAST", "true")
    assert load_settings(_env_file=None).send_rate == 1000
    monkeypatch.setenv("TELEGRAM_RATE_LIMIT", "250")
    assert load_settings(_env_file=None).send_rate == 250


def test_seed_document_shape() -> None:
    document = load_seed_file(SEED_DOCUMENT)
    assert document.article is not None
    assert len(document.article.paragraphs) == 8
    assert document.article.title == (
        "North Korean authorities have reportedly executed people for drugs, religious "
        "activities, and sharing South Korean media"
    )
    assert len(document.headlines) == 16
    assert (
        "Antonio José Seguro Poised for Landslide Win in Portugal Presidential Runoff"
        in document.headlines
    )


def test_headlines_only_and_article_only_documents() -> None:
    only_headlines = parse_seed("Markets Slide as Rates Rise\nStorm Hits Coast\n", name="h.txt")
    assert only_headlines.article is None
    assert only_headlines.headlines == ("Markets Slide as Rates Rise", "Storm Hits Coast")
    only_article = parse_seed(
        "The council met on Monday. It voted to close the bridge.\nRepairs start in May.\n",
        name="a.txt",
    )
    assert only_article.headlines == ()
    assert only_article.article is not None
    assert only_article.article.title == "The council met on Monday"


def test_long_leads_get_a_short_title_cut_at_a_word() -> None:
    lead = (
        "Officials in the northern province said on Tuesday that heavy rains, which began late "
        "last week and intensified over the weekend, had displaced thousands of residents. "
        "More follows."
    )
    title = derive_title(lead)
    assert len(title) <= 120 and title.endswith("…")
    assert lead.startswith(title.rstrip("…").rstrip())


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"   \n\n  ", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("Caf\u00e9 Opens Downtown\n".encode("latin-1"), "not UTF-8"),
    ],
)
async def test_bad_seed_files_fail_whole_and_name_the_file(
    database: Database, clock: FakeClock, tmp_path: Path, content: bytes, reason: str
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    good = SEED_DOCUMENT
    with pytest.raises(SeedError) as caught:
        await load_seeds(database, [good, bad], now=clock.now())
    assert str(bad) in str(caught.value) and reason in str(caught.value)
    async with database.session() as session:
        assert await count_articles(session) == 0


async def test_missing_seed_file_is_named(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(SeedError, match="nope.txt: no such file"):
        await load_seeds(database, [missing], now=clock.now())


async def test_first_start_anywhere_loads_the_seeds_and_sources_installed_with_the_bot(
    database: Database,
    settings: Settings,
    clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Started from a folder with no seeds/ in it, with SEEDS_DIR and SOURCES_OPML unset.
    monkeypatch.chdir(tmp_path)
    shipped = settings.model_copy(update={"seeds_dir": "", "sources_opml": ""})
    await prepare_store(database, shipped, now=clock.now())
    async with database.session() as session:
        assert await count_articles(session) == 17
        feeds = [s.url for s in await source_statuses(session) if s.kind == "feed"]
    default_list = parse_opml((SEEDS / "sources.opml").read_bytes())
    assert len(default_list) >= 10
    assert feeds == [outline.url for outline in default_list]
