"""PostGIS fixtures: one fresh schema per test on the server of ``GEOAPP_TEST_DATABASE_URL``.

``.ci/run`` starts a throwaway PostGIS server and sets the URL (and ``CI=1``): there a missing
URL fails the PostGIS tests instead of skipping them. Locally they skip, saying how to enable
them (README, "PostGIS store").
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest

from geoapp import create_app
from geoapp.storage import pg_schema
from geoapp.storage.pg_database import Database
from tests.conftest import REAL_DATA_DIR
from tests.tiny_data import write_tiny_data


def database_url() -> str:
    url = os.environ.get("GEOAPP_TEST_DATABASE_URL", "").strip()
    if url:
        return url
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(
            "GEOAPP_TEST_DATABASE_URL is not set but CI is: the PostGIS tests must run"
            " (.ci/run starts a PostGIS server and sets it)"
        )
    pytest.skip(
        "no PostGIS test database: set GEOAPP_TEST_DATABASE_URL=postgresql://... to run the"
        " PostGIS store tests (README: PostGIS store)"
    )


def new_schema_db() -> Database:
    """A Database on a new, empty schema, migrated to head."""
    db = Database(database_url(), f"t_{uuid.uuid4().hex[:12]}")
    pg_schema.upgrade(db)
    return db


# Pools of the apps made on each schema: closed before the schema is dropped, so that the
# suite does not keep a connection (and a pool thread) per app it made.
_pools: dict[str, list[Database]] = {}


def close_pools(schema: str) -> None:
    for db in _pools.pop(schema, []):
        db.close()


def drop(db: Database) -> None:
    close_pools(db.schema)
    db.close()
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {db.schema} CASCADE")  # a name we made: t_<hex>


@pytest.fixture()
def pg_db():
    db = new_schema_db()
    yield db
    drop(db)


def pg_settings(db: Database) -> dict:
    return {"database_url": db.url, "database_schema": db.schema}


def file_app(data_dir: Path, versions_dir: Path, **settings):
    return create_app(
        {
            "data_dir": data_dir,
            "versions_dir": versions_dir,
            "testing": True,
            "tile_url": "none",
            "as_of": "2024-12-31",
            **settings,
        }
    )


def pg_app(db: Database, data_dir: Path, versions_dir: Path, *, load: bool = True, **settings):
    """An app on the PostGIS store, after ``db load`` of ``data_dir`` (boundaries and OCOP)."""
    if load:
        pg_schema.load(db, data_dir / "boundaries", data_dir / "ocop")
    app = file_app(data_dir, versions_dir, **pg_settings(db), **settings)
    _pools.setdefault(db.schema, []).append(app.extensions["geoapp"].store.db)
    return app


@pytest.fixture()
def tiny_pair(tmp_path, pg_db) -> dict:
    """The same tiny data set on both stores: {"files": app, "postgis": app}."""
    data = write_tiny_data(tmp_path / "data")
    return {
        "files": file_app(data, tmp_path / "versions"),
        "postgis": pg_app(pg_db, data, tmp_path / "unused-versions"),
    }


@pytest.fixture(scope="session")
def real_pair(tmp_path_factory) -> dict:
    """The built data (data/boundaries, data/ocop) on both stores, loaded once per session."""
    if not (REAL_DATA_DIR / "boundaries" / "manifest.json").exists():
        pytest.fail("data/boundaries is not built: run `make data` (make test does it)")
    db = new_schema_db()
    versions = tmp_path_factory.mktemp("real-versions")
    yield {
        "files": file_app(REAL_DATA_DIR, versions / "files"),
        "postgis": pg_app(db, REAL_DATA_DIR, versions / "postgis"),
    }
    drop(db)
