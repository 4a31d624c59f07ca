"""Failed attempts (sign-ins) per key, counted across every worker process.

Gunicorn runs several worker processes; a limit counted in each of them would let a guesser
multiply the allowance by the number of workers. The attempts therefore live in a small SQLite
file that every worker of the service opens (one connection per call: sign-ins are rare).
Times are Unix seconds (``time.time()``), the clock all processes share.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

SCHEMA = "CREATE TABLE IF NOT EXISTS attempts (key TEXT NOT NULL, at REAL NOT NULL)"
INDEX = "CREATE INDEX IF NOT EXISTS attempts_key ON attempts (key, at)"


class FailedAttempts:
    """At most ``max_failures`` failures per key within ``window_s`` seconds."""

    def __init__(self, path: Path, max_failures: int, window_s: float) -> None:
        self.path = Path(path)
        self.max_failures = max_failures
        self.window_s = window_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as db:
            db.execute(SCHEMA)
            db.execute(INDEX)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    def retry_after(self, key: str, now: float | None = None) -> int:
        """Seconds until ``key`` may try again (0: now)."""
        now = time.time() if now is None else now
        with self._connection() as db:
            db.execute("DELETE FROM attempts WHERE at <= ?", (now - self.window_s,))
            rows = db.execute(
                "SELECT at FROM attempts WHERE key = ? ORDER BY at DESC LIMIT ?",
                (key, self.max_failures),
            ).fetchall()
        if len(rows) < self.max_failures:
            return 0
        oldest_counted = rows[-1][0]
        return int(self.window_s - (now - oldest_counted)) + 1

    def add(self, key: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._connection() as db:
            db.execute("INSERT INTO attempts (key, at) VALUES (?, ?)", (key, now))

    def clear(self, key: str) -> None:
        with self._connection() as db:
            db.execute("DELETE FROM attempts WHERE key = ?", (key,))


REVOKED_SCHEMA = "CREATE TABLE IF NOT EXISTS revoked (sid TEXT PRIMARY KEY, until REAL NOT NULL)"


class RevokedSessions:
    """Session ids signed out before they expire, seen by every worker process.

    A signed cookie stays valid until it expires; signing out records its id here until then
    (``keep_s`` seconds, the session lifetime), so a copy of the cookie is refused too.
    """

    def __init__(self, path: Path, keep_s: float) -> None:
        self.path = Path(path)
        self.keep_s = keep_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as db:
            db.execute(REVOKED_SCHEMA)

    _connection = FailedAttempts._connection

    def revoke(self, sid: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._connection() as db:
            db.execute("DELETE FROM revoked WHERE until <= ?", (now,))
            db.execute(
                "INSERT OR REPLACE INTO revoked (sid, until) VALUES (?, ?)",
                (sid, now + self.keep_s),
            )

    def is_revoked(self, sid: str, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        with self._connection() as db:
            row = db.execute(
                "SELECT 1 FROM revoked WHERE sid = ? AND until > ?", (sid, now)
            ).fetchone()
        return row is not None
