"""The PostgreSQL connection pool of one app process (psycopg 3 + psycopg_pool).

Every failure to reach the database (refused, timed out, dropped, a statement cancelled by
``statement_timeout``) becomes ``StoreUnavailableError``, which the web layer answers with 503:
a worker waits at most ``wait_s`` for a connection, so no request hangs while the database is
down, and the pool reconnects by itself in the background when it is back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from geoapp.storage.base import DATABASE_EMPTY, DataMissingError, StoreUnavailableError

__all__ = ["Database", "StoreUnavailableError", "redact"]
log = logging.getLogger(__name__)


def redact(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://?"
    host, port, name = info.get("host", "localhost"), info.get("port", "5432"), info.get("dbname")
    return f"postgresql://{info.get('user', '')}@{host}:{port}/{name or ''}"


class Database:
    """A lazily opened pool (gunicorn forks workers after ``create_app``: each opens its own).

    ``schema`` is put first on every connection's ``search_path``; times are in seconds.
    """

    def __init__(
        self,
        url: str,
        schema: str = "geoapp",
        *,
        connect_timeout_s: int = 2,
        statement_timeout_s: float = 10.0,
        wait_s: float = 0.5,
        max_size: int = 4,
        fail_fast_s: float = 1.0,
    ) -> None:
        self.url = url
        self.schema = schema
        self.wait_s = wait_s
        self.max_size = max_size
        self.kwargs = {
            "connect_timeout": connect_timeout_s,
            "application_name": "geoapp",
            "options": (
                f"-c statement_timeout={int(statement_timeout_s * 1000)}"
                f" -c lock_timeout={int(statement_timeout_s * 1000)}"
                f" -c search_path={schema},public"
            ),
            # A peer that vanished without closing (a machine down) is noticed within ~20 s.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 2,
        }
        self.fail_fast_s = fail_fast_s
        self._down_until = 0.0
        self._down_reason = ""
        self._pool: ConnectionPool | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def _get_pool(self) -> ConnectionPool:
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self.max_size,
                    kwargs=self.kwargs,
                    timeout=self.wait_s,
                    check=ConnectionPool.check_connection,
                    reconnect_timeout=60,
                    open=False,
                    name="geoapp",
                )
                # Not waiting: the app starts (and answers 503) while the database is down.
                self._pool.open(wait=False)
                self._pid = os.getpid()
            return self._pool

    def _unavailable(self, reason: str) -> StoreUnavailableError:
        # For a moment after a failure every caller fails at once instead of waiting wait_s
        # for the pool again: no worker piles up behind a dead database.
        self._down_until = time.monotonic() + self.fail_fast_s
        self._down_reason = reason
        return StoreUnavailableError(
            f"the database ({redact(self.url)}) is not reachable: {reason};"
            " the service retries by itself"
        )

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection in a transaction (committed on success, rolled back on error)."""
        if time.monotonic() < self._down_until:
            raise StoreUnavailableError(
                f"the database ({redact(self.url)}) is not reachable: {self._down_reason};"
                " the service retries by itself"
            )
        try:
            with self._get_pool().connection(timeout=self.wait_s) as conn:
                yield conn
        except PoolTimeout as exc:
            raise self._unavailable(f"no connection within {self.wait_s:g} s") from exc
        except psycopg.OperationalError as exc:
            text = str(exc).strip()
            raise self._unavailable(text.splitlines()[0] if text else type(exc).__name__) from exc
        except psycopg.errors.UndefinedTable as exc:
            raise DataMissingError(
                f"the database has no geoapp tables in schema {self.schema}:"
                " run `flask --app wsgi db upgrade` and `flask --app wsgi db load`",
                DATABASE_EMPTY,
            ) from exc

    def direct(self) -> psycopg.Connection:
        """A connection outside the pool (migrations, loads: long statements allowed)."""
        kwargs = dict(self.kwargs)
        kwargs["options"] = f"-c search_path={self.schema},public"
        try:
            return psycopg.connect(self.url, **kwargs)
        except psycopg.OperationalError as exc:
            raise StoreUnavailableError(
                f"the database ({redact(self.url)}) is not reachable: {exc}"
            ) from exc

    def close(self) -> None:
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.close()
            self._pool = None
