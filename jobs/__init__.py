"""Scheduled work: polling, digests, alerts, story updates, retention: a few repeating jobs.

A job per kind of work, never a job per chat or per feed: each pass claims what is due
in the database, so any number of instances share the work and a restart resumes it.
"""

from __future__ import annotations

from telegram.ext import Application

from jobs.alerts import ALERT_INTERVAL, send_alerts
from jobs.dispatch import DISPATCH_INTERVAL, send_due_digests
from jobs.ingest import POLL_INTERVAL, poll_feeds
from jobs.retention import PRUNE_INTERVAL, prune_old_articles
from jobs.story_updates import FOLLOW_INTERVAL, send_story_updates
from jobs.watchdog import WATCH_INTERVAL, watch_heartbeats


def schedule_jobs(application: Application) -> None:
    """Add the repeating jobs to the application's JobQueue."""
    queue = application.job_queue
    assert queue is not None, "python-telegram-bot[job-queue] is required"
    queue.run_repeating(poll_feeds, interval=POLL_INTERVAL, first=5, name="poll")
    queue.run_repeating(send_due_digests, interval=DISPATCH_INTERVAL, first=10, name="dispatch")
    queue.run_repeating(send_alerts, interval=ALERT_INTERVAL, first=15, name="alerts")
    queue.run_repeating(send_story_updates, interval=FOLLOW_INTERVAL, first=20, name="follow")
    queue.run_repeating(prune_old_articles, interval=PRUNE_INTERVAL, first=60, name="prune")
    queue.run_repeating(
        watch_heartbeats, interval=WATCH_INTERVAL, first=WATCH_INTERVAL, name="watchdog"
    )
