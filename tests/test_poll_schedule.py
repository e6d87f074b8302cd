"""When a feed is polled again: interval, server hints, backoff, jitter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.news.feeds.poll_schedule import next_fetch_after_success, next_fetch_delay, stable_jitter

DUE = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_next_fetch_delay_clamps_to_what_the_server_says():
    assert next_fetch_delay(900, None, error_count=0) == 900
    assert next_fetch_delay(900, 60, error_count=0) == 900  # never faster than our interval
    assert next_fetch_delay(900, 1800, error_count=0) == 1800  # the server asks for slower
    assert next_fetch_delay(900, 30 * 86400, error_count=0) == 3600  # but at most 4x ours
    assert next_fetch_delay(10, None, error_count=0) == 60  # min_seconds
    assert next_fetch_delay(10, None, error_count=0, min_seconds=5) == 10


def test_next_fetch_delay_backs_off_on_errors():
    assert next_fetch_delay(900, None, error_count=1) == 1800
    assert next_fetch_delay(900, None, error_count=3) == 7200
    assert next_fetch_delay(900, None, error_count=50) == 86400  # capped at 24 h
    assert next_fetch_delay(900, 10 * 3600, error_count=1) == 10 * 3600  # Retry-After wins
    assert next_fetch_delay(900, 30 * 86400, error_count=1) == 86400  # within the cap


def test_next_fetch_delay_jitter_is_injected_and_only_adds():
    assert next_fetch_delay(900, None, error_count=0, jitter=0.1) == pytest.approx(990)
    assert next_fetch_delay(900, None, error_count=0, jitter=-0.5) == 900
    assert stable_jitter("source-1") == stable_jitter("source-1")
    assert 0 <= stable_jitter("source-2") < 0.1


def test_next_fetch_counts_from_when_the_feed_was_due_not_from_a_late_pass():
    late = DUE + timedelta(seconds=40)
    assert next_fetch_after_success(DUE, late, 900, pass_seconds=60) == DUE + timedelta(seconds=900)


def test_jitter_spreads_feeds_but_never_past_the_pass_that_would_take_them():
    late = DUE + timedelta(seconds=40)
    spread = next_fetch_after_success(DUE, late, 900, jitter=0.1, pass_seconds=60)
    # The next pass at or after due + 900 s runs at late + 900 s: stay 6 s clear of it.
    assert spread == late + timedelta(seconds=894)
    on_time = next_fetch_after_success(DUE, DUE, 60, jitter=0.1, pass_seconds=60)
    assert on_time == DUE + timedelta(seconds=60)  # no room before the next pass: no jitter


def test_a_feed_overdue_by_more_than_its_interval_starts_a_fresh_cadence():
    back = DUE + timedelta(hours=3)  # the bot was down
    assert next_fetch_after_success(DUE, back, 900, pass_seconds=60) == back + timedelta(
        seconds=900
    )
