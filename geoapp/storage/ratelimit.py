"""A ``limits`` storage in a SQLite file, so that gunicorn's worker processes share one count.

``limits`` (under Flask-Limiter) stores its counters in memory (one count per worker process:
two workers double the allowance) or in a server (Redis, Memcached, MongoDB) that this service
does not otherwise need. This storage keeps the fixed-window counters in a small SQLite file
that every worker opens, like the admin sign-in failures (``geoapp.storage.attempts``). It is
registered under the scheme ``sqlite``: ``GEOAPP_RATELIMIT_STORAGE_URI=sqlite:////abs/path``.
Only the fixed-window strategy is supported (Flask-Limiter's default). Times are Unix seconds.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from limits.storage import Storage

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS counters "
    "(key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires REAL NOT NULL)"
)


PRUNE_EVERY = 200


class SQLiteStorage(Storage):
    """Fixed-window counters in the SQLite file named by ``sqlite:///<path>``."""

    STORAGE_SCHEME = ["sqlite"]  # noqa: RUF012 (the attribute limits' registry reads)

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options) -> None:
        path = uri.split("://", 1)[1]
        if not path:
            raise ValueError(f"no file in {uri!r}: use sqlite:////absolute/path.sqlite3")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._calls = 0
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    def _db(self) -> sqlite3.Connection:
        """This thread's connection (a connection must not cross threads)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        db = self._db()
        with db:
            db.execute("BEGIN IMMEDIATE")  # one writer at a time: the count is exact
            self._calls += 1
            if self._calls % PRUNE_EVERY == 0:  # the file keeps only live counters
                db.execute("DELETE FROM counters WHERE expires <= ?", (now,))
            db.execute(
                "INSERT INTO counters (key, value, expires) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET "
                "value = CASE WHEN expires <= ? THEN excluded.value ELSE value + excluded.value "
                "END, expires = CASE WHEN expires <= ? THEN excluded.expires ELSE expires END",
                (key, amount, now + expiry, now, now),
            )
            (value,) = db.execute("SELECT value FROM counters WHERE key = ?", (key,)).fetchone()
        return int(value)

    def get(self, key: str) -> int:
        row = (
            self._db()
            .execute("SELECT value FROM counters WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._db().execute("SELECT expires FROM counters WHERE key = ?", (key,)).fetchone()
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            self._db().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        with self._db() as db:
            return db.execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM counters WHERE key = ?", (key,))
