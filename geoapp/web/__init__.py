"""Blueprints and the one place where errors become HTTP responses."""

from __future__ import annotations

from flask import Flask, g


def register_blueprints(app: Flask) -> None:
    from geoapp.storage import pin_version, unpin_version
    from geoapp.web import (
        admin,
        api,
        bench_routes,
        compression,
        errors,
        map_data,
        ogc,
        ogc_tiles,
        openapi,
        page_cache,
        pages,
        planner,
        reports,
        visitors,
    )

    # First of all hooks: the whole request reads one data version (checked once).
    @app.before_request
    def _pin_data_version() -> None:
        g.geoapp_version_pin = pin_version()

    @app.teardown_request
    def _unpin_data_version(_exc: BaseException | None) -> None:
        unpin_version(g.pop("geoapp_version_pin", None))

    for blueprint in (
        pages.bp,
        api.bp,
        planner.bp,
        visitors.bp,
        admin.bp,
        map_data.bp,
        ogc.bp,
        ogc_tiles.bp,
        openapi.bp,
    ):
        app.register_blueprint(blueprint)
    reports.register(app)  # /embed and /report
    bench_routes.register(app)  # /bench/hello, only with GEOAPP_BENCH_ROUTES=1
    compression.init_app(app)  # gzip/br and ETags
    page_cache.init_app(app)  # must follow compression: it stores the encoded answers
    errors.register(app)
