"""Per-client limits of the expensive answers (Flask-Limiter), and their 429 answer.

- ``reports``: PNG and PDF reports, counted only when rendered (a cached report is free);
- ``data``: planner downloads (always made on request) and the progress chart and series,
  counted when computed.

The limits are ``GEOAPP_RATELIMIT_REPORTS`` and ``GEOAPP_RATELIMIT_DATA``, per client address
(behind a proxy, run gunicorn with ``--forwarded-allow-ips`` so that it is the visitor's).
Counts live in ``GEOAPP_RATELIMIT_STORAGE_URI``: by default a SQLite file shared by the worker
processes (``geoapp.storage.ratelimit``; ``memory://`` when testing). Over the limit: 429 with a
JSON body that says which limit and when to retry, and ``Retry-After``.
"""

from __future__ import annotations

from flask import Flask, g, jsonify
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

import geoapp.storage.ratelimit  # noqa: F401 (registers the sqlite:// storage with limits)
from geoapp.config import Settings
from geoapp.services.cache import count_misses

RATE_LIMITS_FILE = "rate-limits.sqlite3"
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


def init_app(app: Flask) -> Limiter:
    """Limit the ``LIMITED`` endpoints of ``app`` (call after the blueprints are registered)."""
    settings: Settings = app.extensions["geoapp"].settings
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=storage_uri(settings),
        strategy="fixed-window",
        key_prefix="geoapp",
    )
    rates = {"reports": settings.ratelimit_reports, "data": settings.ratelimit_data}

    @app.before_request
    def _count_misses() -> None:
        g.geoapp_cache_misses = count_misses()

    for endpoint, (scope, when_computed) in LIMITED.items():
        decorate = limiter.shared_limit(
            rates[scope], scope=scope, deduct_when=_computed if when_computed else None
        )
        app.view_functions[endpoint] = decorate(app.view_functions[endpoint])

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded):
        response = jsonify(
            {
                "error": "too many requests",
                "message": f"rate limit exceeded: {exc.description}; retry later "
                "(see Retry-After, in seconds)",
                "limit": exc.description,
                "status": 429,
            }
        )
        response.status_code = 429
        response.headers["Cache-Control"] = "no-store"
        return response

    app.extensions["geoapp.limiter"] = limiter
    return limiter
