"""The SQLite storage of the rate limits: fixed windows that expire, exact across threads."""

from __future__ import annotations

import threading

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from geoapp.storage import ratelimit


def test_counts_expire_and_clear(tmp_path, monkeypatch):
    storage = storage_from_string(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    assert isinstance(storage, ratelimit.SQLiteStorage) and storage.check()
    now = [1000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    assert storage.incr("k", 60) == 1 and storage.incr("k", 60, 2) == 3
    assert storage.get("k") == 3 and storage.get_expiry("k") == 1060.0
    now[0] = 1061.0
    assert storage.get("k") == 0 and storage.incr("k", 60) == 1  # a new window
    storage.clear("k")
    assert storage.get("k") == 0


def test_the_limit_is_exact_across_threads_and_connections(tmp_path):
    uri = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    limiters = [FixedWindowRateLimiter(storage_from_string(uri)) for _ in range(2)]
    limit = parse("25 per minute")
    granted = []

    def hammer(limiter):
        for _ in range(20):
            granted.append(limiter.hit(limit, "client"))

    threads = [threading.Thread(target=hammer, args=(limiters[n % 2],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 25 and len(granted) == 80
