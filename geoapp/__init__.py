"""OCOP map service: Flask app factory."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask

from geoapp.config import PROJECT_ROOT, Settings, cookie_secure, load_settings

if TYPE_CHECKING:
    from geoapp.services.coverage import CoverageService
    from geoapp.services.planner import PlannerService
    from geoapp.services.visitors import VisitorService
    from geoapp.storage.base import Store


@dataclasses.dataclass
class AppState:
    """What one app instance owns: its settings, its store and the services built on it."""

    settings: Settings
    store: Store
    coverage: CoverageService
    visitors: VisitorService
    planner: PlannerService


def make_store(settings: Settings) -> Store:
    """PostGIS when ``GEOAPP_DATABASE_URL`` is set, else the embedded file store."""
    if settings.database_url:
        import tempfile
        from pathlib import Path

        from geoapp.storage.pg_database import Database
        from geoapp.storage.postgis import PostgisStore

        db = Database(settings.database_url, settings.database_schema)
        # A local, disposable copy of immutable version files (see storage.pg_versions).
        return PostgisStore(db, Path(tempfile.gettempdir()) / "geoapp-pg-cache")
    from geoapp.storage import FileStore

    return FileStore(settings.data_dir, settings.ocop_versions_dir)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app. ``config`` overrides settings (keys as in ``geoapp.config.Settings``)."""
    from geoapp import cli, i18n
    from geoapp.services.coverage import CoverageService
    from geoapp.services.planner import PlannerService
    from geoapp.services.visitors import VisitorService
    from geoapp.storage.integrity import DataChecker
    from geoapp.web import limits, register_blueprints, security

    settings = load_settings(config)
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(
        TESTING=settings.testing,
        SECRET_KEY=session_key(settings),
        SESSION_COOKIE_SECURE=cookie_secure(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=settings.admin_session_minutes),
    )
    app.json.ensure_ascii = False
    store = make_store(settings)
    # The files of the embedded store are checked (a database store checks its own data).
    checker = DataChecker(
        settings.boundaries_dir, settings.ocop_dir, getattr(store, "versions", None)
    )
    if settings.check_data and hasattr(store, "boundaries_dir"):
        checker.require_intact()  # refuse to start on missing or damaged data
    app.extensions["geoapp.data_checker"] = checker
    coverage = CoverageService(store, settings)
    # Visitors see certificates judged at today's date (tests replace ``visitors.today``).
    visitors = VisitorService(store, settings, coverage, today=dt.date.today)
    planner = PlannerService(coverage)
    app.extensions["geoapp"] = AppState(settings, store, coverage, visitors, planner)
    i18n.init(app)
    register_blueprints(app)
    limits.init_app(app)
    security.init_app(app)  # last: the headers are set first, seen by the page cache
    cli.register(app)
    return app


def session_key(settings: Settings) -> str | None:
    """``GEOAPP_SECRET_KEY``; with testing a fixed key and with dev a random one per process
    (``load_settings`` refuses admin without a key otherwise)."""
    if settings.secret_key:
        return settings.secret_key
    if settings.testing:
        return "testing-only-session-key-not-secret"
    if settings.dev:
        return secrets.token_hex(32)
    return None
