"""Blueprints and the one place where errors become HTTP responses."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from geoapp.web import api, errors, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    errors.register(app)
