"""Blueprints and the one place where errors become HTTP responses."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from geoapp.web import api, errors, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(__import__("geoapp.web.planner", fromlist=["bp"]).bp)
    __import__("geoapp.web.reports", fromlist=["register"]).register(app)  # /embed, /report
    app.register_blueprint(__import__("geoapp.web.visitors", fromlist=["bp"]).bp)  # /nearby
    app.register_blueprint(__import__("geoapp.web.admin", fromlist=["bp"]).bp)  # /admin
    app.register_blueprint(__import__("geoapp.web.map_data", fromlist=["bp"]).bp)  # TopoJSON
    __import__("geoapp.web.bench_routes", fromlist=["register"]).register(app)  # /bench/hello
    __import__("geoapp.web.compression", fromlist=["init_app"]).init_app(app)  # gzip/br, ETags
    __import__("geoapp.web.page_cache", fromlist=["init_app"]).init_app(app)  # after compression
    errors.register(app)
