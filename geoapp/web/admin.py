"""Admin pages: sign in, upload a CSV/XLSX file, preview its validation and changes, confirm.

Enabled only when credentials are set in the environment: ``GEOAPP_ADMIN_USER`` with
``GEOAPP_ADMIN_PASSWORD_HASH`` (a werkzeug hash, e.g. from
``python -c "from werkzeug.security import generate_password_hash as g; print(g('...'))"``),
and/or ``GEOAPP_ADMIN_TOKEN``. Otherwise every /admin page answers 404. There is no default
password. Forms carry a per-session CSRF token; failed sign-ins are limited per client address
(``MAX_FAILURES`` in ``FAILURE_WINDOW_S``, counted across the worker processes in
``instance/admin-sign-in-failures.sqlite3``, beside the versions folder). Uploads are limited
to 10 MB; the upload is kept in a staging folder beside the versions until it is confirmed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import shutil
import time
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.security import check_password_hash
from werkzeug.utils import secure_filename

from geoapp.domain.text_safety import strip_control
from geoapp.services.imports import ImportRejected, ImportService, describe_version
from geoapp.storage.attempts import FailedAttempts
from geoapp.storage.versions import StaleBaseError, VersionError
from geoapp.web.state import app_state

bp = Blueprint("admin", __name__, url_prefix="/admin")

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
FORM_OVERHEAD_BYTES = 64 * 1024
MAX_FAILURES = 5
FAILURE_WINDOW_S = 15 * 60
STAGING_TTL_S = 2 * 60 * 60
SIGN_IN_FAILURES_FILE = "admin-sign-in-failures.sqlite3"
ALLOWED_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".txt")
MAX_SHOWN_ISSUES = 500


def failures() -> FailedAttempts:
    """The app's failed sign-ins, shared by its worker processes (a file beside the versions)."""
    extensions = current_app.extensions
    if "geoapp.sign_in_failures" not in extensions:
        path = app_state().settings.ocop_versions_dir.parent / SIGN_IN_FAILURES_FILE
        extensions["geoapp.sign_in_failures"] = FailedAttempts(path, MAX_FAILURES, FAILURE_WINDOW_S)
    return extensions["geoapp.sign_in_failures"]


def admin_enabled() -> bool:
    settings = app_state().settings
    return bool((settings.admin_user and settings.admin_password_hash) or settings.admin_token)


def _secret_from_credentials(settings) -> bytes:
    """A session key derived from the admin credentials (same in every worker) when
    ``GEOAPP_SECRET_KEY`` is not set."""
    material = f"{settings.admin_user}\0{settings.admin_password_hash}\0{settings.admin_token}"
    return hashlib.sha256(b"geoapp-admin-session\0" + material.encode()).digest()


@bp.record_once
def _configure(state) -> None:
    app = state.app
    # Flask's defaults are None (no limit, no SameSite): set them unless configured otherwise.
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    settings = app.extensions["geoapp"].settings
    enabled = (settings.admin_user and settings.admin_password_hash) or settings.admin_token
    if enabled and not app.secret_key:
        app.secret_key = _secret_from_credentials(settings)


def _service() -> ImportService:
    state = app_state()
    return ImportService(state.store, state.settings)


def _lang() -> str:
    from geoapp.i18n import current_language

    return current_language()


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


@bp.app_context_processor
def _inject():
    if request.blueprint != "admin":
        return {}
    return {"csrf_token": csrf_token, "signed_in": bool(session.get("admin"))}


@bp.before_request
def _guard():
    if not admin_enabled():
        abort(404)
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        expected = session.get("csrf", "")
        if not expected or not hmac.compare_digest(str(sent).encode(), str(expected).encode()):
            return _page("admin_error.html", 400, message="csrf")
    if request.endpoint not in {"admin.login"} and not session.get("admin"):
        return redirect(url_for("admin.login", next=request.path))
    return None


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    return _page("admin_error.html", 413, message="too_large", limit_mb=MAX_UPLOAD_BYTES // 2**20)


def _page(template: str, status: int = 200, **context):
    response = current_app.make_response((render_template(template, lang=_lang(), **context),
                                          status))  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return _page("admin_login.html", token_enabled=bool(app_state().settings.admin_token))
    client = request.remote_addr or "unknown"
    wait = failures().retry_after(client)
    if wait:
        response = _page("admin_login.html", 429, error="rate_limited",
                         wait_min=max(1, round(wait / 60)))  # fmt: skip
        response.headers["Retry-After"] = str(wait)
        return response
    settings = app_state().settings
    user = request.form.get("user", "")
    secret = request.form.get("password", "")
    ok = False
    if settings.admin_user and settings.admin_password_hash and secret:
        same_user = hmac.compare_digest(user.encode(), settings.admin_user.encode())
        ok = check_password_hash(settings.admin_password_hash, secret) and same_user
    if not ok and settings.admin_token and secret:
        ok = hmac.compare_digest(secret.encode(), settings.admin_token.encode())
    if not ok:
        failures().add(client)
        return _page("admin_login.html", 401, error="bad_credentials",
                     token_enabled=bool(settings.admin_token))  # fmt: skip
    failures().clear(client)
    session.clear()
    session["admin"] = True
    session["csrf"] = secrets.token_urlsafe(32)
    target = request.args.get("next", "")
    if not target.startswith("/admin") or target.startswith("//"):
        target = url_for("admin.upload")
    return redirect(target)


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("admin.login"))


@bp.get("/")
def home():
    return redirect(url_for("admin.upload"))


def _staging_root() -> Path:
    return app_state().settings.ocop_versions_dir / ".staging"


def _clean_staging(root: Path) -> None:
    if not root.is_dir():
        return
    now = time.time()
    for path in root.iterdir():
        try:
            if now - path.stat().st_mtime > STAGING_TTL_S:
                shutil.rmtree(path, ignore_errors=True)
        except FileNotFoundError:
            continue


def _history_rows() -> tuple[list[tuple[str, str]], str]:
    """(version name, history line) newest first, and the name of the version served."""
    service = _service()
    rows = [(info.name, describe_version(info)) for info in reversed(service.history())]
    return rows, service.current_version() or "seed"


@bp.get("/import")
def upload():
    history, current = _history_rows()
    return _page("admin_import.html", history=history, current=current,
                 limit_mb=MAX_UPLOAD_BYTES // 2**20)  # fmt: skip


def _rejected(exc: ImportRejected):
    return _page("admin_error.html", 400, message="rejected", detail=str(exc))


def _preview(staged: Path, meta: dict, status: int = 200, notice: str = ""):
    lang = _lang()
    try:
        plan = _service().plan(
            [(meta["name"], (staged / "upload").read_bytes())],
            allow_updates=meta["allow_updates"],
        )
    except ImportRejected as exc:
        return _rejected(exc)
    issues = sorted(plan.report.issues, key=lambda i: (i.severity != "error", i.file, i.row or 0))
    return _page(
        "admin_preview.html",
        status,
        plan=plan,
        issues=issues[:MAX_SHOWN_ISSUES],
        hidden_issues=max(0, len(issues) - MAX_SHOWN_ISSUES) + sum(plan.report.not_shown.values()),
        summary=plan.summary(lang),
        token=staged.name,
        name=meta["name"],
        allow_updates=meta["allow_updates"],
        base=plan.base or "seed",
        notice=notice,
        ui_lang=lang,
    )


@bp.post("/import")
def preview():
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        return _page("admin_error.html", 400, message="no_file")
    name = secure_filename(upload_file.filename) or "upload.csv"
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        return _page("admin_error.html", 400, message="bad_type")
    data = upload_file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return _too_large(None)
    root = _staging_root()
    root.mkdir(parents=True, exist_ok=True)
    _clean_staging(root)
    staged = root / secrets.token_hex(16)  # hex: survives secure_filename unchanged
    staged.mkdir()
    (staged / "upload").write_bytes(data)
    meta = {"name": name, "allow_updates": request.form.get("allow_updates") == "1"}
    (staged / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    session["staged"] = staged.name
    return _preview(staged, meta)


def _staged_upload() -> tuple[Path, dict] | None:
    token = request.form.get("token", "")
    if not token or token != session.get("staged"):
        return None
    staged = _staging_root() / secure_filename(token)
    if not (staged / "upload").exists():
        return None
    return staged, json.loads((staged / "meta.json").read_text(encoding="utf-8"))


@bp.post("/import/confirm")
def confirm():
    found = _staged_upload()
    if found is None:
        return _page("admin_error.html", 400, message="expired")
    staged, meta = found
    service = _service()
    try:
        plan = service.plan(
            [(meta["name"], (staged / "upload").read_bytes())], allow_updates=meta["allow_updates"]
        )
    except ImportRejected as exc:
        return _rejected(exc)
    expected = request.form.get("base", "")
    if not plan.ok or (plan.base or "seed") != expected:
        return _preview(staged, meta, 409, notice="changed")
    try:
        version = service.apply(plan, note=f"admin upload {meta['name']}")
    except StaleBaseError:
        return _preview(staged, meta, 409, notice="changed")
    except ImportRejected:
        return _preview(staged, meta, 409)
    shutil.rmtree(staged, ignore_errors=True)
    session.pop("staged", None)
    return _page("admin_done.html", version=version, summary=plan.summary(_lang()))


@bp.post("/rollback")
def rollback():
    name = request.form.get("version", "")
    try:
        current = _service().rollback(name)
    except ImportRejected as exc:
        return _rejected(exc)
    except VersionError:
        known = ", ".join(["seed", *(info.name for info in _service().history())])
        shown = strip_control(name.strip())
        shown = shown if len(shown) <= 20 else shown[:20] + "…"
        return _page("admin_error.html", 400, message="bad_version", name=shown, known=known)
    return _page("admin_done.html", version=current or "seed", summary="", rollback=True)
