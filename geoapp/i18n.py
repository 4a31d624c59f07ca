"""Languages of the user interface (Flask-Babel). Place and product names are never translated."""

from __future__ import annotations

from flask import Flask, g, request
from flask_babel import Babel

from geoapp.config import PROJECT_ROOT

LANGUAGES = ("en", "vi")
DEFAULT_LANGUAGE = "en"


def select_locale() -> str:
    requested = request.args.get("lang")
    if requested in LANGUAGES:
        return requested
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def init(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(PROJECT_ROOT / "translations")
    Babel(app, locale_selector=select_locale)

    @app.context_processor
    def language():
        lang = getattr(g, "lang", None) or select_locale()
        return {"lang": lang}
