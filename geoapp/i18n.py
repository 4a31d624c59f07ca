"""Languages of the user interface (Flask-Babel). Place and product names are never translated.

Vietnamese is the default. The language of a request is, in order: the ``lang`` query parameter
(``?lang=en``), the ``lang`` cookie (set whenever ``lang`` is given, so the choice sticks), the
browser's Accept-Language, then Vietnamese. Messages live in ``translations/`` (English source
strings in code and templates; ``translations/vi/LC_MESSAGES/messages.po``). The ``.mo`` files are
compiled by ``make translations`` (``pybabel compile``); when one is missing or older than its
``.po``, ``init`` compiles it so a fresh checkout works without ``make``.
"""

from __future__ import annotations

import logging
import urllib.parse
from pathlib import Path

from flask import Flask, Response, g, request
from flask_babel import Babel

from geoapp.config import PROJECT_ROOT

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
COOKIE_NAME = "lang"
COOKIE_MAX_AGE_S = 365 * 24 * 3600
TRANSLATIONS_DIR = PROJECT_ROOT / "translations"

log = logging.getLogger(__name__)


def select_locale() -> str:
    requested = request.args.get("lang")
    if requested in LANGUAGES:
        return requested
    remembered = request.cookies.get(COOKIE_NAME)
    if remembered in LANGUAGES:
        return remembered
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def current_language() -> str:
    lang = getattr(g, "lang", None)
    if lang is None:
        lang = g.lang = select_locale()
    return lang


def language_links() -> list[dict[str, str | bool]]:
    """A link per language to the current page with the same query and ``lang`` set."""
    from geoapp.web.security import local_path_link

    current = current_language()
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    links = []
    for lang in LANGUAGES:
        query = urllib.parse.urlencode([*args, ("lang", lang)])
        links.append(
            {
                "lang": lang,
                "name": LANGUAGE_NAMES[lang],
                # percent-encoded, one leading slash: "//host" or "/\\host" would be a link
                # to another site
                "url": local_path_link(request.path, query),
                "current": lang == current,
            }
        )
    return links


def compile_catalogues(directory: Path = TRANSLATIONS_DIR, *, force: bool = False) -> list[Path]:
    """Compile every ``.po`` under ``directory`` whose ``.mo`` is missing or older."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalogue = read_po(handle, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as handle:
            write_mo(handle, catalogue)
        written.append(mo_path)
    return written


def init(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LANGUAGE
    try:
        compile_catalogues()
    except OSError as exc:  # a read-only install: the build step must have compiled them
        log.warning("could not compile the message catalogues: %s", exc)
    Babel(app, locale_selector=current_language)

    @app.context_processor
    def language():
        return {"lang": current_language(), "language_links": language_links}

    @app.after_request
    def remember_language(response: Response) -> Response:
        requested = request.args.get("lang")
        if requested in LANGUAGES and request.cookies.get(COOKIE_NAME) != requested:
            response.set_cookie(
                COOKIE_NAME,
                requested,
                max_age=COOKIE_MAX_AGE_S,
                samesite="Lax",
                httponly=True,
                secure=bool(app.config.get("SESSION_COOKIE_SECURE")),
            )
        if response.mimetype == "text/html":
            response.vary.add("Cookie")
            response.vary.add("Accept-Language")
        return response
