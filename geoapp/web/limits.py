"""Per-client limits of the expensive answers (Flask-Limiter), and their 429 answer.

- ``reports``: PNG and PDF reports, counted only when rendered (a cached report is free);
- ``data``: planner downloads (always made on request) and the progress chart and series,
  counted when computed.

The limits are ``GEOAPP_RATELIMIT_REPORTS`` and ``GEOAPP_RATELIMIT_DATA``, per client address
(behind a proxy, run gunicorn with ``--forwarded-allow-ips`` so that it is the visitor's).
Counts live in ``GEOAPP_RATELIMIT_STORAGE_URI``: by default a SQLite file shared by the worker
processes (``geoapp.storage.ratelimit``; ``memory://`` when testing). Over the limit: 429 with a
JSON body that says which limit and when to retry, and ``Retry-After``. A worker also works on
at most ``RENDER_SLOTS`` of these answers at once; one more gets 429 at once ("busy"), so the
threads that answer the pages and ``/healthz`` are never all taken by reports.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import threading
import time
from pathlib import Path

from flask import Flask, g, jsonify, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

import geoapp.storage.ratelimit  # noqa: F401 (registers the sqlite:// storage with limits)
from geoapp.config import Settings
from geoapp.services.cache import count_misses

RATE_LIMITS_FILE = "rate-limits.sqlite3"
# Expensive answers in progress at once in one worker process (rendering or waiting for the
# renderer); one more is refused at once (429, retry in a second) instead of holding a thread
# that /healthz and the pages need. Keep it below gunicorn's threads (gunicorn.conf.py).
RENDER_SLOTS = 3
BUSY_RETRY_S = 2
# ... and they compute one at a time across the workers (the others wait up to RENDER_WAIT_S):
# on two cores, one stays free for the pages and /healthz.
RENDER_LOCK_FILE = "render.lock"
RENDER_WAIT_S = 15.0
# endpoint -> (scope, counted only when something was computed)
LIMITED = {
    "reports.coverage_png": ("reports", True),
    "reports.coverage_pdf": ("reports", True),
    "planner.download": ("data", False),
    "planner.progress_svg": ("data", True),
    "planner.api_progress": ("data", True),
}


def storage_uri(settings: Settings) -> str:
    if settings.ratelimit_storage_uri:
        return settings.ratelimit_storage_uri
    if settings.testing:
        return "memory://"
    return f"sqlite:///{settings.ocop_versions_dir.parent / RATE_LIMITS_FILE}"


def _computed(_response) -> bool:
    return bool(g.get("geoapp_cache_misses"))


class Busy(Exception):
    """Every render slot of this worker is taken, or the renderer stayed busy too long."""


class RenderLock:
    """One computation at a time across the worker processes (``flock`` on a file), re-entrant
    within a thread (a report's computation computes the area report inside it)."""

    def __init__(self, path: Path, wait_s: float = RENDER_WAIT_S) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.wait_s = wait_s
        self._local = threading.local()

    @contextlib.contextmanager
    def held(self):
        if getattr(self._local, "depth", 0):
            self._local.depth += 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + self.wait_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise Busy() from None
                    time.sleep(0.02)
            self._local.depth = 1
            try:
                yield
            finally:
                self._local.depth = 0
        finally:
            os.close(fd)  # releases the lock


def with_render_slot(view, slots: threading.BoundedSemaphore):
    """``view`` run only while it holds one of ``slots`` (never waits for one)."""

    @functools.wraps(view)
    def limited(*args, **kwargs):
        if not slots.acquire(blocking=False):
            raise Busy()
        try:
            return view(*args, **kwargs)
        finally:
            slots.release()

    return limited


def too_many(message: str, limit: str, retry_after_s: int | None = None):
    body = {"error": "too many requests", "message": message, "limit": limit, "status": 429}
    response = jsonify(body)
    response.status_code = 429
    response.headers["Cache-Control"] = "no-store"
    if retry_after_s is not None:
        response.headers["Retry-After"] = str(retry_after_s)
    return response


def init_app(app: Flask) -> Limiter:
    """Limit the ``LIMITED`` endpoints of ``app`` (call after the blueprints are registered)."""
    settings: Settings = app.extensions["geoapp"].settings
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    enabled = settings.ratelimit_enabled
    app.config.setdefault("RATELIMIT_ENABLED", not settings.testing if enabled is None else enabled)
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=storage_uri(settings),
        strategy="fixed-window",
        key_prefix="geoapp",
    )
    rates = {"reports": settings.ratelimit_reports, "data": settings.ratelimit_data}

    render_lock = RenderLock(settings.ocop_versions_dir.parent / RENDER_LOCK_FILE)

    @app.before_request
    def _count_misses() -> None:
        guard = render_lock.held if request.endpoint in LIMITED else None
        g.geoapp_cache_misses = count_misses(guard)

    slots = threading.BoundedSemaphore(RENDER_SLOTS)  # per worker process: threads share it
    for endpoint, (scope, when_computed) in LIMITED.items():
        decorate = limiter.shared_limit(
            rates[scope], scope=scope, deduct_when=_computed if when_computed else None
        )
        view = with_render_slot(app.view_functions[endpoint], slots)
        app.view_functions[endpoint] = decorate(view)

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded):
        message = f"rate limit exceeded: {exc.description}; retry later (Retry-After, seconds)"
        return too_many(message, exc.description)

    @app.errorhandler(Busy)
    def _busy(_exc: Busy):
        message = "the server is busy with other reports; retry in a few seconds"
        return too_many(message, f"{RENDER_SLOTS} at once per worker", BUSY_RETRY_S)

    app.extensions["geoapp.limiter"] = limiter
    return limiter
