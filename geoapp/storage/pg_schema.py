"""Creating and filling the PostGIS schema: ``flask --app wsgi db upgrade`` and ``db load``.

``upgrade`` runs the Alembic migrations in ``storage/migrations``. ``load`` copies the boundary
build (``data/boundaries``: every layer at both details, the crosswalk and the manifest) and the
OCOP version the file store serves now into the database, in one transaction, and switches to
it. The first load makes that OCOP version the database's seed; a later one with other OCOP
tables adds a version (action ``load``), so history and rollback keep working.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from psycopg.types.json import Jsonb

from geoapp.storage.files import OCOP_FILES, boundary_file
from geoapp.storage.pg_database import Database
from geoapp.storage.pg_versions import csv_text, write_version
from geoapp.storage.versions import utc_now

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LAYERS = ("communes_2020", "communes_2025", "districts_2020")
OPTIONAL_OCOP_FILES = ("candidates.csv", "name_overrides.csv")  # older folders lack them


def alembic_config(db: Database):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    url = db.url.replace("postgresql://", "postgresql+psycopg://", 1)
    config.attributes["url"] = url.replace("postgres://", "postgresql+psycopg://", 1)
    config.attributes["schema"] = db.schema
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(db), revision)


def _json_value(value):
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _layer_rows(frame: gpd.GeoDataFrame) -> tuple[list[list[str]], list[tuple]]:
    """(column names and dtypes, rows of (ord, code, props, WKB)) of one layer."""
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    names = [c for c in frame.columns if c != frame.geometry.name]
    columns = [[name, str(frame[name].dtype)] for name in names]
    wkb = shapely.to_wkb(frame.geometry.values, include_srid=False)
    records = frame[names].astype(object).to_dict("records")
    rows = [
        (i, str(record[names[0]]), {k: _json_value(v) for k, v in record.items()}, wkb[i])
        for i, record in enumerate(records)
    ]
    return columns, rows


def _insert_boundaries(cur, boundaries_dir: Path) -> int:
    manifest_path = boundaries_dir / "manifest.json"
    crosswalk = boundaries_dir / "crosswalk_2020_2025.csv"
    for path in (manifest_path, crosswalk):
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `flask --app wsgi boundaries build`")
    cur.execute(
        "INSERT INTO boundary_loads (manifest, crosswalk_csv) VALUES (%s, %s) RETURNING id",
        (
            Jsonb(json.loads(manifest_path.read_text(encoding="utf-8"))),
            crosswalk.read_text("utf-8"),
        ),
    )
    load_id = cur.fetchone()[0]
    for layer in LAYERS:
        for detail in ("full", "display"):
            columns, rows = _layer_rows(
                gpd.read_parquet(boundary_file(boundaries_dir, layer, detail))
            )
            cur.execute(
                "INSERT INTO boundary_layers (load_id, layer, detail, columns)"
                " VALUES (%s, %s, %s, %s)",
                (load_id, layer, detail, Jsonb(columns)),
            )
            cur.executemany(
                "INSERT INTO boundary_features (load_id, layer, detail, ord, code, props, geom)"
                " VALUES (%s, %s, %s, %s, %s, %s, ST_GeomFromWKB(%s, 4326))",
                [(load_id, layer, detail, o, code, Jsonb(p), g) for o, code, p, g in rows],
            )
    return load_id


def _ocop_texts(ocop_dir: Path) -> dict[str, str]:
    texts = {}
    for file_name in dict.fromkeys((*OCOP_FILES, *OPTIONAL_OCOP_FILES)):
        path = ocop_dir / file_name
        if path.exists():
            texts[file_name] = csv_text(path)
        elif file_name not in OPTIONAL_OCOP_FILES:
            raise FileNotFoundError(f"{path} is missing: run `flask --app wsgi ocop build`")
    return texts


def _served_texts(cur) -> dict[str, str] | None:
    cur.execute(
        "SELECT t.file_name, t.content FROM app_state s JOIN ocop_versions v"
        " ON v.id = s.current_version OR (s.current_version IS NULL AND v.name = 'seed')"
        " JOIN ocop_tables t ON t.version_id = v.id"
    )
    rows = cur.fetchall()
    return {name: text for name, text in rows} if rows else None


def load(db: Database, boundaries_dir: Path, ocop_dir: Path, *, if_empty: bool = False) -> str:
    """Load a boundary build and an OCOP folder in one transaction; returns a summary.

    ``if_empty``: do nothing when the database already serves data (``make run`` loads the
    first time only, so it never replaces what was imported into the database since).
    """
    texts = _ocop_texts(Path(ocop_dir))
    with db.direct() as conn, conn.cursor() as cur:
        cur.execute("SELECT boundary_load FROM app_state FOR UPDATE")
        previous = cur.fetchone()[0]
        if if_empty and previous is not None:
            return f"the database already serves boundary load {previous}: nothing loaded"
        load_id = _insert_boundaries(cur, Path(boundaries_dir))
        served = _served_texts(cur)
        cur.execute("SELECT v.name FROM app_state s LEFT JOIN ocop_versions v"
                    " ON v.id = s.current_version")  # fmt: skip
        current = cur.fetchone()[0]
        what = "OCOP tables unchanged"
        if served is None:
            manifest = {"version": "seed", "created": utc_now(), "action": "load",
                        "source": str(ocop_dir)}  # fmt: skip
            write_version(cur, "seed", "load", manifest, texts)
            what = "OCOP tables loaded as the seed"
        elif served != texts:
            cur.execute(
                "SELECT coalesce(max(substr(name, 2)::integer), 0) + 1 FROM ocop_versions"
                " WHERE name <> 'seed'"
            )
            name = f"v{cur.fetchone()[0]:04d}"
            record = {"version": name, "created": utc_now(), "action": "load", "base": current,
                      "source": str(ocop_dir)}  # fmt: skip
            version_id = write_version(cur, name, "load", record, texts)
            event = {"at": record["created"], "action": "load", "version": name, "from": current}
            cur.execute(
                "UPDATE app_state SET current_version = %s, events = events || %s",
                (version_id, Jsonb([event])),
            )
            what = f"OCOP tables loaded as {name}"
        cur.execute("UPDATE app_state SET boundary_load = %s", (load_id,))
        # The previous load stays for requests still pinned to it; older ones go.
        cur.execute(
            "DELETE FROM boundary_loads WHERE id < %s AND id IS DISTINCT FROM %s",
            (load_id, previous),
        )
    return f"boundary load {load_id} served; {what}"
