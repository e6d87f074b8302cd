"""Scheduled work: feed polling, digest dispatch and retention, as a few repeating jobs."""

from __future__ import annotations

from telegram.ext import Application


def schedule_jobs(application: Application) -> None:  # type: ignore[type-arg]
    """Add the repeating jobs to the application's JobQueue."""
