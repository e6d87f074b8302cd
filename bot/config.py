"""Settings: the one place configuration is read, from the environment and `.env`."""

from __future__ import annotations

import re
from datetime import time
from importlib.resources import files
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/newsbot.db"
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class SettingsError(Exception):
    """A setting has a value the bot cannot run with; the message names it."""


def parse_clock_time(value: str) -> time:
    """Parse "HH:MM" (24-hour clock) or raise ValueError with a readable message."""
    match = _TIME.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a time of day as HH:MM (00:00 to 23:59)")
    return time(int(match.group(1)), int(match.group(2)))


def load_zone(name: str) -> ZoneInfo:
    """Load an IANA zone by name or raise ValueError naming it."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a known time zone (e.g. Europe/Berlin, UTC)") from None


def shipped_seeds() -> Path:
    """The `seeds` folder installed with the bot, wherever the bot is started from."""
    return Path(str(files("seeds")))


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part for part in re.split(r"[,\s]+", value.strip()) if part]
    return value


class Settings(BaseSettings):
    """Every knob of the bot; `.env.example` documents each one."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: str = ""
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    database_url: str = DEFAULT_DATABASE_URL
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    default_timezone: str = "UTC"
    default_digest_times: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["08:00"])
    default_digest_size: int = Field(default=10, ge=1, le=50)
    feed_poll_interval: int = Field(default=900, ge=60, description="seconds")
    retention_days: int = Field(default=30, ge=1)
    log_level: str = "INFO"
    seeds_dir: str = ""
    sources_opml: str = ""
    fetch_timeout: float = Field(default=20.0, gt=0)
    fetch_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    fetch_concurrency: int = Field(default=16, ge=1)
    fetch_per_host: int = Field(default=2, ge=1)
    fetch_allow_private: bool = False
    user_feeds: bool = False
    user_feeds_max: int = Field(default=10, ge=1)
    # An OPML file sent to the bot: refused whole above these. Telegram lets a bot download
    # at most 20 MB; a list of 1,000 feeds is about 150 KB.
    opml_max_bytes: int = Field(default=1024 * 1024, ge=1024, le=20 * 1024 * 1024)
    opml_max_feeds: int = Field(default=1000, ge=1)
    feed_max_items: int = Field(default=300, ge=1)
    source_max_failures: int = Field(default=10, ge=1)
    digest_grace_hours: float = Field(default=2.0, ge=0)
    story_updates_per_day: int = Field(default=3, ge=1, le=24)
    story_follow_days: float = Field(default=3.0, gt=0)
    # Alerts a chat gets an hour as messages of their own; the rest go as one message.
    alerts_per_hour: int = Field(default=10, ge=1, le=100)
    trending_window_hours: int = Field(default=24, ge=1)
    trending_topics: int = Field(default=10, ge=1, le=30)
    # Messages per second for the whole bot token; unset: 30, or 1,000 with paid broadcasts.
    telegram_rate_limit: float | None = Field(default=None, ge=0)
    telegram_paid_broadcast: bool = False
    # Digests over aiohttp straight to the Bot API; False: through python-telegram-bot.
    telegram_lean_digests: bool = True
    receive_updates: bool = True
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: str = ""
    # /healthz, /readyz and /metrics on this port; None: not served.
    health_port: int | None = Field(default=None, ge=1, le=65535)
    health_host: str = "127.0.0.1"
    summary_api_url: str = ""
    summary_api_key: str = ""
    summary_model: str = ""
    summary_api_timeout: float = Field(default=20.0, gt=0)

    @field_validator("health_port", mode="before")
    @classmethod
    def _optional_port(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admin_ids(cls, value: object) -> object:
        return _split(value)

    @field_validator("default_digest_times", mode="before")
    @classmethod
    def _digest_times_list(cls, value: object) -> object:
        return _split(value)

    @field_validator("default_digest_times")
    @classmethod
    def _digest_times(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one time, e.g. 08:00")
        if len(value) > 6:
            raise ValueError("at most 6 times a day")
        return sorted({parse_clock_time(v).strftime("%H:%M") for v in value})

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return load_zone(value).key

    @field_validator("telegram_api_base_url", "webhook_url", "summary_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("use 1 to 256 letters, digits, _ or - (Telegram's rule)")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("postgres://"):
            value = "postgresql+asyncpg://" + value.removeprefix("postgres://")
        elif value.startswith("postgresql://"):
            value = "postgresql+asyncpg://" + value.removeprefix("postgresql://")
        elif value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                f"{value!r} is not supported: use sqlite+aiosqlite:///PATH "
                "or postgresql+asyncpg://USER@HOST/DB"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"{value!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value

    @property
    def send_rate(self) -> float:
        """Messages per second the bot may send: Telegram's free 30, or its paid 1,000."""
        if self.telegram_rate_limit is not None:
            return self.telegram_rate_limit
        return 1000.0 if self.telegram_paid_broadcast else 30.0

    @property
    def zone(self) -> ZoneInfo:
        """The default zone for new chats."""
        return ZoneInfo(self.default_timezone)

    @property
    def seeds_path(self) -> Path:
        """Where the seed documents are: SEEDS_DIR, else the ones installed with the bot."""
        return Path(self.seeds_dir) if self.seeds_dir else shipped_seeds()

    @property
    def sources_opml_path(self) -> Path:
        """The default source list: SOURCES_OPML, else the one installed with the bot."""
        return Path(self.sources_opml) if self.sources_opml else shipped_seeds() / "sources.opml"


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation failure into one line naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"Bad setting {name}: {message}") from None
