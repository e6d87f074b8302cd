"""Text for people: ages, headline lists, digests and summaries as Telegram HTML."""

from __future__ import annotations

from datetime import datetime


def age_text(published_at: datetime, now: datetime) -> str:
    """How long ago, the way people say it: "just now", "5m ago", "2h ago", "3d ago"."""
    seconds = (now - published_at).total_seconds()
    if seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h ago"
    days = hours // 24
    if days < 60:
        return f"{days}d ago"
    return published_at.strftime("%d %b %Y")
