"""Logging set-up: readable lines on stderr, and secrets kept out of every one of them."""

from __future__ import annotations

import logging
from collections.abc import Iterable

REDACTED = "<redacted>"


class RedactSecrets(logging.Filter):
    """Replace secrets (the bot token) wherever they would appear in a log line."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = message
        for secret in self.secrets:
            cleaned = cleaned.replace(secret, REDACTED)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            for secret in self.secrets:
                text = text.replace(secret, REDACTED)
            record.exc_text, record.exc_info = text, None
        return True


def configure_logging(level: str, *, secrets: Iterable[str] = ()) -> None:
    """Log to stderr at `level`; quiet chatty libraries (httpx logs request URLs with the token)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("httpx", "httpcore", "alembic", "apscheduler"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
