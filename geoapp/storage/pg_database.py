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
from collections.abc import Iterator

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from geoapp.storage.base import DataMissingError

log = logging.getLogger(__name__)


class StoreUnavailableError(DataMissingError):
    """The database cannot be reached now (the service answers 503 and retries by itself)."""


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
        wait_s: float = 1.5,
        max_size: int = 4,
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

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection in a transaction (committed on success, rolled back on error)."""
        try:
            with self._get_pool().connection(timeout=self.wait_s) as conn:
                yield conn
        except PoolTimeout as exc:
            raise StoreUnavailableError(
                f"the database ({redact(self.url)}) is not reachable: no connection within"
                f" {self.wait_s:g} s; the service retries by itself"
            ) from exc
        except psycopg.OperationalError as exc:
            raise StoreUnavailableError(
                f"the database ({redact(self.url)}) is not reachable: {exc.sqlstate or ''}"
                f" {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}".strip()
            ) from exc
        except psycopg.errors.UndefinedTable as exc:
            raise DataMissingError(
                f"the database has no geoapp tables in schema {self.schema}:"
                " run `flask --app wsgi db upgrade` and `flask --app wsgi db load`"
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
