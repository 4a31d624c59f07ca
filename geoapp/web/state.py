"""Access to the app's settings, store and services from a request."""

from __future__ import annotations

from flask import current_app

from geoapp import AppState


def app_state() -> AppState:
    return current_app.extensions["geoapp"]
