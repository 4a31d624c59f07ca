"""Failed attempts shared through one SQLite file (as by gunicorn's worker processes)."""

from __future__ import annotations

from geoapp.storage.attempts import FailedAttempts

WINDOW_S = 900.0


def test_attempts_add_up_across_instances_and_expire(tmp_path):
    path = tmp_path / "instance" / "attempts.sqlite3"
    one, two = FailedAttempts(path, 3, WINDOW_S), FailedAttempts(path, 3, WINDOW_S)
    one.add("1.2.3.4", now=100.0)
    two.add("1.2.3.4", now=101.0)
    assert one.retry_after("1.2.3.4", now=102.0) == 0  # two failures: still allowed
    one.add("1.2.3.4", now=102.0)
    assert two.retry_after("1.2.3.4", now=110.0) == int(WINDOW_S - 10) + 1
    assert two.retry_after("5.6.7.8", now=110.0) == 0  # other clients are not held up
    assert one.retry_after("1.2.3.4", now=100.0 + WINDOW_S + 0.5) == 0  # the first expired


def test_a_success_clears_the_key(tmp_path):
    attempts = FailedAttempts(tmp_path / "a.sqlite3", 2, WINDOW_S)
    for at in (1.0, 2.0, 3.0):
        attempts.add("k", now=at)
    assert attempts.retry_after("k", now=4.0) > 0
    attempts.clear("k")
    assert attempts.retry_after("k", now=4.0) == 0
