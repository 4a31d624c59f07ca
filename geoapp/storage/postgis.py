"""The PostGIS store (issue 14): boundaries and versioned OCOP tables in PostgreSQL/PostGIS.

Selected by ``GEOAPP_DATABASE_URL``; the same interface and the same results as ``FileStore``
(``tests/storage/test_store_contract.py`` runs one suite on both). Tables (schema
``GEOAPP_DATABASE_SCHEMA``, created by the Alembic migrations in ``storage/migrations``):

    boundary_loads, boundary_layers, boundary_features   one row per boundary build loaded
                                                         (geometry EPSG:4326, GiST index)
    ocop_versions, ocop_tables, ocop_places             versioned OCOP tables (see pg_versions)
    app_state                                            the one row saying what is served

A request reads one version: the first call in a span opened by ``pin_version`` (the web layer
opens one per request) reads ``app_state``; every later read in that span uses the boundary
load and OCOP version found then. Every worker on every machine sees a switch on its next
request, with no restart. What is read is cached in the process per boundary load and per OCOP
version (both immutable), so a request costs one small query once the caches are warm.

Spatial queries run in SQL: ``communes_covering`` (point in polygon with ``ST_Covers`` on the
GiST index) and ``nearest_places`` (KNN ``<->`` candidates refined by geography distance).
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geoapp.domain.ocop import OcopData
from geoapp.storage.base import DATABASE_EMPTY, REBUILD_BOUNDARIES, DataMissingError, Detail
from geoapp.storage.files import CODE_COLUMNS, _pinned, read_ocop_dir
from geoapp.storage.pg_database import Database
from geoapp.storage.pg_versions import PgVersions

KNN_CANDIDATES = 8  # the KNN order is planar (degrees): refine over k * this many by metres


@dataclass(frozen=True)
class PgState:
    """What one request reads: the data version, and the rows it stands for."""

    version: str
    load_id: int
    version_id: int
    name: str
    boundary_version: str


STATE_SQL = """
SELECT s.instance_id::text, s.boundary_load, v.id, v.name, b.manifest ->> 'build_version'
FROM app_state s
LEFT JOIN boundary_loads b ON b.id = s.boundary_load
JOIN ocop_versions v
  ON v.id = s.current_version OR (s.current_version IS NULL AND v.name = 'seed')
"""


class PostgisStore:
    """Reads one PostGIS database; one instance per app (and a pool per worker process)."""

    def __init__(self, db: Database, cache_root: Path) -> None:
        self.db = db
        self.versions = PgVersions(db, cache_root)
        self._lock = threading.Lock()
        self._layers: OrderedDict[tuple, object] = OrderedDict()
        self._ocop: OrderedDict[int, OcopData] = OrderedDict()

    # -- the served state ------------------------------------------------------------------------

    def _checked_state(self) -> PgState:
        with self.db.connection() as conn:
            row = conn.execute(STATE_SQL).fetchone()
        if row is None or row[1] is None:
            raise DataMissingError(DATABASE_EMPTY, DATABASE_EMPTY)
        instance, load_id, version_id, name, build_version = row
        digest = hashlib.sha256(f"pg:{instance}:{load_id}:{name}".encode()).hexdigest()[:12]
        # The build's own version, as the file store gives it (a reload of the same build
        # keeps every geometry URL cached).
        return PgState(digest, load_id, version_id, name, str(build_version or f"load{load_id}"))

    def _state(self) -> PgState:
        pinned = _pinned.get()
        if pinned is None:
            return self._checked_state()
        state = pinned.get(id(self))
        if state is None:
            state = pinned[id(self)] = self._checked_state()
        return state

    def data_version(self) -> str:
        return self._state().version

    def boundary_version(self) -> str:
        """``build_version`` of the boundary manifest loaded (changes only with the boundaries)."""
        return self._state().boundary_version

    @property
    def ocop_dir(self) -> Path:
        """Local copy of the seed's files (what the import service reads as "the seed")."""
        return self.versions.materialise("seed")

    def current_ocop_dir(self) -> Path:
        return self.versions.materialise(self._state().name)

    # -- caching -------------------------------------------------------------------------------

    def _remember(self, cache: OrderedDict, key, load, keep: int):
        with self._lock:
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
        value = load()
        with self._lock:
            cache[key] = value
            while len(cache) > keep:
                cache.popitem(last=False)
        return value

    # -- boundaries ----------------------------------------------------------------------------

    def _read_layer(self, load_id: int, layer: str, detail: Detail) -> gpd.GeoDataFrame:
        with self.db.connection() as conn:
            found = conn.execute(
                "SELECT columns FROM boundary_layers"
                " WHERE load_id = %s AND layer = %s AND detail = %s",
                (load_id, layer, detail),
            ).fetchone()
            if found is None:
                raise DataMissingError(
                    f"layer {layer} ({detail}) is not in the database: run `flask --app wsgi db"
                    " load` after `flask --app wsgi boundaries build`",
                    f"the boundary layer {layer} is not loaded: {REBUILD_BOUNDARIES}, then"
                    " `flask --app wsgi db load`",
                )
            rows = conn.execute(
                "SELECT props, ST_AsBinary(geom) FROM boundary_features"
                " WHERE load_id = %s AND layer = %s AND detail = %s ORDER BY ord",
                (load_id, layer, detail),
            ).fetchall()
        columns = found[0]
        names = [name for name, _ in columns]
        frame = pd.DataFrame([r[0] for r in rows], columns=names)
        for name, dtype in columns:
            frame[name] = frame[name].astype(dtype)
        geometry = shapely.from_wkb([bytes(r[1]) for r in rows])
        return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")

    def _layer(self, layer: str, detail: Detail) -> gpd.GeoDataFrame:
        load_id = self._state().load_id
        return self._remember(
            self._layers,
            (load_id, layer, detail),
            lambda: self._read_layer(load_id, layer, detail),
            keep=16,
        )

    def communes(self, edition: str, detail: Detail = "full") -> gpd.GeoDataFrame:
        return self._layer(f"communes_{edition}", detail)

    def districts(self, detail: Detail = "full") -> gpd.GeoDataFrame:
        return self._layer("districts_2020", detail)

    def crosswalk(self) -> pd.DataFrame:
        load_id = self._state().load_id

        def load() -> pd.DataFrame:
            with self.db.connection() as conn:
                text = conn.execute(
                    "SELECT crosswalk_csv FROM boundary_loads WHERE id = %s", (load_id,)
                ).fetchone()[0]
            return pd.read_csv(io.StringIO(text), dtype={c: str for c in CODE_COLUMNS})

        return self._remember(self._layers, (load_id, "crosswalk"), load, keep=16)

    # -- OCOP ----------------------------------------------------------------------------------

    def ocop(self) -> OcopData:
        state = self._state()
        return self._remember(
            self._ocop,
            state.version_id,
            lambda: read_ocop_dir(self.versions.materialise(state.name)),
            keep=2,
        )

    # -- spatial queries -----------------------------------------------------------------------

    def communes_covering(self, edition: str, kind: str = "producer") -> pd.Series:
        """Commune code (of ``edition``, full detail) covering each point of ``kind`` of the
        version served, by the point's row; a point in no commune is left out. ``ST_Covers``
        on the GiST index; a point on a shared edge goes to the smaller code (byte order), as
        ``domain.coverage.locate_points`` decides."""
        state = self._state()
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT DISTINCT ON (p.ord) p.ord, f.code FROM ocop_places p"
                " JOIN boundary_features f ON f.load_id = %s AND f.layer = %s"
                "  AND f.detail = 'full' AND ST_Covers(f.geom, p.geom)"
                ' WHERE p.version_id = %s AND p.kind = %s ORDER BY p.ord, f.code COLLATE "C"',
                (state.load_id, f"communes_{edition}", state.version_id, kind),
            ).fetchall()
        return pd.Series(
            [r[1] for r in rows], index=[r[0] for r in rows], dtype="string", name="commune_code"
        )

    def nearest_places(self, lat: float, lon: float, kind: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` places of ``kind`` nearest to (lat, lon) as (place id, metres on the
        WGS 84 spheroid), nearest first: KNN ``<->`` on the GiST index picks candidates by
        planar degrees, the geography distance orders them."""
        state = self._state()
        with self.db.connection() as conn:
            # The point is a bound constant in ORDER BY (not a joined column): only then does
            # the planner walk the GiST index in distance order.
            rows = conn.execute(
                "SELECT c.place_id, ST_Distance(c.geom::geography, ST_SetSRID(ST_MakePoint("
                "  %(lon)s, %(lat)s), 4326)::geography) AS d FROM ("
                "  SELECT p.place_id, p.ord, p.geom FROM ocop_places p"
                "  WHERE p.version_id = %(version)s AND p.kind = %(kind)s"
                "  ORDER BY p.geom <-> ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)"
                "  LIMIT %(candidates)s) c ORDER BY d, c.ord LIMIT %(k)s",
                {"lon": lon, "lat": lat, "version": state.version_id, "kind": kind,
                 "candidates": k * KNN_CANDIDATES, "k": k},
            ).fetchall()  # fmt: skip
        return [(r[0], float(r[1])) for r in rows]
