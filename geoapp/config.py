"""Typed settings for the OCOP map service.

Every setting has a default and can be overridden by a ``GEOAPP_<NAME>`` environment variable
(for example ``GEOAPP_TARGET_PRODUCTS=3``) or by the ``config`` mapping given to ``create_app``.
Values are validated once, at start-up, with messages that name the variable.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

EDITIONS = ("2020", "2025")
MIN_SECRET_KEY_CHARS = 32


class ConfigError(ValueError):
    """A setting has a value the service cannot start with."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """Validated service settings. Paths are absolute after ``load_settings``."""

    data_dir: Path = PROJECT_ROOT / "data"
    boundary_sources: Path = PROJECT_ROOT.parent / "shared" / "data" / "boundaries"
    ocop_sources: Path = PROJECT_ROOT.parent / "shared" / "data" / "ocop"
    target_products: int = 2
    min_stars: int = 3
    certificate_months: int = 36
    as_of: dt.date = dt.date(2024, 12, 31)
    default_edition: str = "2020"
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "© OpenStreetMap contributors"
    # Signs the admin session cookie: required whenever admin is on (never derived from the
    # credentials), except with ``testing`` or ``dev``, which use an explicit throw-away key.
    secret_key: str = ""
    testing: bool = False
    dev: bool = False  # GEOAPP_DEV=1: local development (throw-away secret, cookies over http)
    # Session cookie only over HTTPS: "auto" (on unless testing or dev), true or false.
    cookie_secure: bool | None = None
    admin_session_minutes: int = 8 * 60  # an admin session ends this long after sign-in
    # Flask-Limiter storage of the per-client limits. "" (default): a SQLite file beside the
    # versions folder, shared by the gunicorn workers ("memory://" with testing); or
    # "memory://" (one count per worker), "redis://host:6379", "memcached://host:11211".
    ratelimit_storage_uri: str = ""
    # Per-client limits: "auto" (on unless testing: tests share one app across many requests),
    # true or false.
    ratelimit_enabled: bool | None = None
    ratelimit_reports: str = "20 per minute"  # per client: PNG/PDF reports rendered (not cached)
    ratelimit_data: str = "60 per minute"  # per client: downloads, progress computed (not cached)
    versions_dir: Path | None = None
    admin_user: str = ""
    admin_password_hash: str = ""
    admin_token: str = ""
    # Verify the data at start-up (checksums of the boundary build, the version pointer);
    # GEOAPP_CHECK_DATA=0 only for the commands that rebuild it (make data).
    check_data: bool = True
    bench_routes: bool = False  # GEOAPP_BENCH_ROUTES=1 adds /bench/hello (benchmark floor)
    # Maps with more producers than this cluster their markers (Leaflet.markercluster, which
    # is then fetched); smaller maps draw every marker and do not load the plugin.
    cluster_from_points: int = 300
    # An edition with more communes than this is mapped by area: districts first, then the
    # communes of the visible cells once the map is zoomed in (a country-sized layer).
    map_full_communes_max: int = 2000
    map_communes_min_zoom: int = 9  # ... from this zoom on (about 3.5 degrees across 1280 px)
    # PostGIS store (issue 14): ``postgresql://...`` serves from the database, "" from files.
    database_url: str = ""
    database_schema: str = "geoapp"  # the tables' schema (tests use one schema per test)

    @property
    def boundaries_dir(self) -> Path:
        return self.data_dir / "boundaries"

    @property
    def ocop_dir(self) -> Path:
        return self.data_dir / "ocop"

    @property
    def ocop_versions_dir(self) -> Path:
        """Imported OCOP data versions (default: ``instance/ocop-versions`` beside ``data_dir``)."""
        if self.versions_dir is not None:
            return self.versions_dir
        return self.data_dir.parent / "instance" / "ocop-versions"


def _parse_int(name: str, raw: Any, low: int, high: int) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"GEOAPP_{name.upper()} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"GEOAPP_{name.upper()} must be between {low} and {high}, got {value}")
    return value


def _parse_date(name: str, raw: Any) -> dt.date:
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ConfigError(
            f"GEOAPP_{name.upper()} must be a date as YYYY-MM-DD, got {raw!r}"
        ) from None


def _parse_bool(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"GEOAPP_{name.upper()} must be true or false, got {raw!r}")


def _parse_rate(name: str, raw: Any) -> str:
    from limits import parse_many

    text = str(raw).strip()
    try:
        parse_many(text)
    except ValueError:
        raise ConfigError(
            f"GEOAPP_{name.upper()} must be a rate such as '30 per minute', got {raw!r}"
        ) from None
    return text


def _coerce(field: dataclasses.Field, raw: Any) -> Any:
    name = field.name
    if name == "target_products":
        return _parse_int(name, raw, 1, 10)
    if name == "min_stars":
        return _parse_int(name, raw, 1, 5)
    if name == "certificate_months":
        return _parse_int(name, raw, 1, 240)
    if name in {"cluster_from_points", "map_full_communes_max"}:
        return _parse_int(name, raw, 0, 10_000_000)
    if name == "map_communes_min_zoom":
        return _parse_int(name, raw, 6, 18)
    if name == "database_url":
        value = str(raw).strip()
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ConfigError(
                "GEOAPP_DATABASE_URL must start with postgresql:// (or be empty for the file store)"
            )
        return value
    if name == "database_schema":
        value = str(raw).strip()
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", value):
            raise ConfigError(
                f"GEOAPP_DATABASE_SCHEMA must be a lower-case SQL name, got {value!r}"
            )
        return value
    if name == "as_of":
        return _parse_date(name, raw)
    if name in {"testing", "bench_routes", "dev", "check_data"}:
        return _parse_bool(name, raw)
    if name in {"cookie_secure", "ratelimit_enabled"}:
        if raw is None or str(raw).strip().lower() in {"auto", ""}:
            return None
        return _parse_bool(name, raw)
    if name == "admin_session_minutes":
        return _parse_int(name, raw, 1, 7 * 24 * 60)
    if name in {"ratelimit_reports", "ratelimit_data"}:
        return _parse_rate(name, raw)
    if name == "default_edition":
        value = str(raw).strip()
        if value not in EDITIONS:
            raise ConfigError(
                f"GEOAPP_DEFAULT_EDITION must be one of {', '.join(EDITIONS)}, got {value!r}"
            )
        return value
    if name in {"data_dir", "boundary_sources", "ocop_sources"}:
        return Path(raw).expanduser().resolve()
    if name == "versions_dir":
        return Path(raw).expanduser().resolve() if str(raw or "").strip() else None
    return str(raw)


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build settings from defaults, then ``GEOAPP_*`` variables, then ``overrides``.

    Unknown keys in ``overrides`` are an error, so a typo does not pass silently.
    """
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}; known: {', '.join(fields)}")
    values: dict[str, Any] = {}
    for name, field in fields.items():
        env_name = f"GEOAPP_{name.upper()}"
        if name in overrides:
            values[name] = _coerce(field, overrides[name])
        elif env_name in environ:
            values[name] = _coerce(field, environ[env_name])
    settings = Settings(**values)
    if settings.tile_url.strip().lower() == "none":
        settings = dataclasses.replace(settings, tile_url="none")
    check_secrets(settings)
    return settings


def admin_enabled(settings: Settings) -> bool:
    """Admin pages are on when a user with a password hash, or a token, is configured."""
    return bool((settings.admin_user and settings.admin_password_hash) or settings.admin_token)


def check_secrets(settings: Settings) -> None:
    """Refuse to start with admin on and no real session key (outside testing and dev)."""
    if not admin_enabled(settings) or settings.testing or settings.dev:
        return
    if not settings.secret_key:
        raise ConfigError(
            "GEOAPP_SECRET_KEY is required when admin is enabled (GEOAPP_ADMIN_*): set it to a "
            "long random value, the same for every worker, e.g. from "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`"
        )
    if len(settings.secret_key) < MIN_SECRET_KEY_CHARS:
        raise ConfigError(
            f"GEOAPP_SECRET_KEY must be at least {MIN_SECRET_KEY_CHARS} characters long"
        )


def cookie_secure(settings: Settings) -> bool:
    """Whether the session cookie is sent over HTTPS only ("auto": outside testing and dev)."""
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return not (settings.testing or settings.dev)
