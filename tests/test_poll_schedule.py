"""When a feed is polled again: interval, server hints, backoff, jitter."""

from __future__ import annotations

import pytest

from bot.news.feeds.poll_schedule import next_fetch_delay, stable_jitter


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
