"""Benchmark routes, only with GEOAPP_BENCH_ROUTES=1.

``/bench/hello``: the framework's floor (a constant text); ``/bench/warm``: whether the worker
that answers has finished warming its caches (``geoapp.web.warmup``).
"""

from __future__ import annotations

import os

from flask import Flask, Response, current_app, jsonify


def hello() -> Response:
    return Response("hello", mimetype="text/plain")


def warm_state() -> Response:
    """Whether the answering worker has warmed its caches for the current data version."""
    warmed = current_app.extensions.get("geoapp.warmed") or {}
    version = current_app.extensions["geoapp"].store.data_version()
    return jsonify(
        {"pid": os.getpid(), "warmed": warmed.get("version") == version, "version": version}
    )


def register(app: Flask) -> None:
    """Add the benchmark routes when the setting ``bench_routes`` is on."""
    if app.extensions["geoapp"].settings.bench_routes:
        app.add_url_rule("/bench/hello", "bench_hello", hello)
        app.add_url_rule("/bench/warm", "bench_warm", warm_state)
