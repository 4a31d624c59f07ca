"""Errors to HTTP: JSON under /api, HTML elsewhere; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from geoapp.storage.base import DataMissingError, StoreUnavailableError
from geoapp.web.params import BadParameter

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, title: str, message: str, **extra):
    if request.path == "/ogc" or request.path.startswith("/ogc/"):
        from geoapp.web.ogc import exception_response  # OGC API exceptions: code, description

        return exception_response(status, message)
    if wants_json():
        response = jsonify({"error": title, "message": message, "status": status, **extra})
        response.status_code = status
        return response
    html = render_template("error.html", status=status, title=title, message=message)
    return html, status


def register(app: Flask) -> None:
    @app.errorhandler(BadParameter)
    def bad_parameter(exc: BadParameter):
        valid = exc.valid if isinstance(exc.valid, str) else list(exc.valid)
        return error_response(400, "bad parameter", str(exc), parameter=exc.name, valid=valid)

    @app.errorhandler(StoreUnavailableError)
    def store_unavailable(exc: StoreUnavailableError):
        log.warning("store unavailable: %s", exc)
        response = app.make_response(
            error_response(503, "database unavailable", exc.public, retry_after_s=5)
        )
        response.headers["Retry-After"] = "5"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(DataMissingError)
    def data_missing(exc: DataMissingError):
        log.error("data missing: %s", exc)  # the path goes to the log, never to the client
        return error_response(503, "data not available", exc.public)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = make_response(
            error_response(exc.code or 500, exc.name, exc.description or exc.name)
        )
        allowed = getattr(exc, "valid_methods", None)
        if allowed:  # a 405 names the methods the URL takes (RFC 9110)
            response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        return error_response(500, "internal error", "the server could not answer this request")
