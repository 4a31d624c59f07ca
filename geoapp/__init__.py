"""OCOP map service: Flask app factory."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask

from geoapp.config import PROJECT_ROOT, Settings, load_settings

if TYPE_CHECKING:
    from geoapp.services.coverage import CoverageService
    from geoapp.services.visitors import VisitorService
    from geoapp.storage.base import Store


@dataclasses.dataclass
class AppState:
    """What one app instance owns: its settings, its store and the services built on it."""

    settings: Settings
    store: Store
    coverage: CoverageService
    visitors: VisitorService


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app. ``config`` overrides settings (keys as in ``geoapp.config.Settings``)."""
    from geoapp import cli, i18n
    from geoapp.services.coverage import CoverageService
    from geoapp.services.visitors import VisitorService
    from geoapp.storage import FileStore
    from geoapp.web import register_blueprints

    settings = load_settings(config)
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(TESTING=settings.testing, SECRET_KEY=settings.secret_key or None)
    app.json.ensure_ascii = False
    store = FileStore(settings.data_dir, settings.ocop_versions_dir)
    coverage = CoverageService(store, settings)
    # Visitors see certificates judged at today's date (tests replace ``visitors.today``).
    visitors = VisitorService(store, settings, coverage, today=dt.date.today)
    app.extensions["geoapp"] = AppState(settings, store, coverage, visitors)
    i18n.init(app)
    register_blueprints(app)
    cli.register(app)
    return app
