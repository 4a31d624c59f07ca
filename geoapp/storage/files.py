"""The embedded default store: GeoParquet boundaries and CSV OCOP records under ``data/``.

Layout (written by ``flask boundaries build`` and ``flask ocop build``)::

    data/boundaries/communes_2020.parquet, communes_2020_display.parquet
    data/boundaries/communes_2025.parquet, communes_2025_display.parquet
    data/boundaries/districts_2020.parquet, districts_2020_display.parquet
    data/boundaries/crosswalk_2020_2025.csv, manifest.json
    data/ocop/products.csv, producers.csv, outlets.csv, province_stats.csv, candidates.csv

Imports write new versions of the OCOP tables under a versions folder (see
``geoapp.storage.versions``); when one is current it is served instead of ``data/ocop``.

Everything read is cached per data version; the version changes when any of these files (or the
current-version pointer) changes, so a rebuild or an import is picked up without a restart, by
every worker process, because each one re-checks the files on every call, or once per span
opened with ``pin_version`` (the web layer opens one per request: a request reads one version).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from contextvars import ContextVar, Token
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geoapp.domain.ocop import (
    CANDIDATE_COLUMNS,
    OUTLET_COLUMNS,
    PRODUCER_COLUMNS,
    PRODUCT_COLUMNS,
    PROVENANCE_COLUMNS,
    OcopData,
    empty_candidates,
)
from geoapp.storage.base import (
    REBUILD_BOUNDARIES,
    REBUILD_OCOP,
    DataMissingError,
    Detail,
)
from geoapp.storage.versions import VersionStore

OCOP_FILES = (
    "products.csv",
    "producers.csv",
    "outlets.csv",
    "province_stats.csv",
    "candidates.csv",
)
CODE_COLUMNS = (
    "commune_code",
    "district_code",
    "old_commune_code",
    "old_district_code",
    "new_commune_code",
    "file_new_commune_code",
)


# Inside a span (``pin_version``): the state each store found first, by store id.
_pinned: ContextVar[dict[int, tuple[str, Path]] | None] = ContextVar(
    "geoapp_pinned_data_version", default=None
)


def pin_version() -> Token:
    """From now on in this context (a request), every store keeps the data version it sees
    first, and checks its files only then.

    What is pinned is the version: the OCOP tables of an imported version are its own files,
    so a request reads one version's tables throughout. A boundary rebuild rewrites its files
    in place; a request in flight across one may read a new file, which is then not cached
    under the old version (see ``FileStore._cached``).
    """
    return _pinned.set({})


def unpin_version(token: Token | None = None) -> None:
    """End the span opened by ``pin_version`` (its token); stores check every call again."""
    if token is None:
        _pinned.set(None)
        return
    try:
        _pinned.reset(token)
    except ValueError:  # the token belongs to another context: end whatever span is open
        _pinned.set(None)


def boundary_file(boundaries_dir: Path, layer: str, detail: Detail) -> Path:
    """Path of one processed boundary layer, e.g. ``communes_2020`` at ``display`` detail."""
    suffix = "_display" if detail == "display" else ""
    return boundaries_dir / f"{layer}{suffix}.parquet"


def read_ocop_csv(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read one OCOP table with codes and ids kept as text and missing cells as ``<NA>``."""
    if not path.exists():
        raise DataMissingError(
            f"{path} is missing: run `flask --app wsgi ocop build`",
            f"the OCOP table {path.name} is missing: {REBUILD_OCOP}",
        )
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataMissingError(
            f"{path} lacks column(s): {', '.join(missing)}",
            f"the OCOP table {path.name} lacks column(s) {', '.join(missing)}: {REBUILD_OCOP}",
        )
    frame = frame.astype("string")
    if columns:
        for column in PROVENANCE_COLUMNS:
            if column not in frame.columns:
                frame[column] = pd.Series(pd.NA, index=frame.index, dtype="string")
    if "illustrative" in frame.columns:
        frame["illustrative"] = frame["illustrative"].fillna("false").str.lower().eq("true")
    return frame


def read_candidates(ocop_dir: Path) -> pd.DataFrame:
    """``candidates.csv`` of an OCOP folder (text columns); a folder written before candidates
    existed (an older version) has none: an empty table."""
    path = ocop_dir / "candidates.csv"
    if not path.exists():
        return empty_candidates()
    frame = read_ocop_csv(path, CANDIDATE_COLUMNS)
    return frame[list(CANDIDATE_COLUMNS)].reset_index(drop=True)


def points_frame(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """Turn a table with ``lon``/``lat`` text columns into points in EPSG:4326."""
    lon = pd.to_numeric(frame["lon"], errors="coerce")
    lat = pd.to_numeric(frame["lat"], errors="coerce")
    out = frame.assign(lon=lon, lat=lat)
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def read_ocop_dir(ocop_dir: Path) -> OcopData:
    """The OCOP tables of one version folder (the PostGIS store reads its copies the same way)."""
    products = read_ocop_csv(ocop_dir / "products.csv", PRODUCT_COLUMNS)
    products["stars"] = pd.to_numeric(products["stars"], errors="coerce").astype("Int64")
    products["recognition_year"] = pd.to_numeric(
        products["recognition_year"], errors="coerce"
    ).astype("Int64")
    producers = points_frame(read_ocop_csv(ocop_dir / "producers.csv", PRODUCER_COLUMNS))
    outlets = points_frame(read_ocop_csv(ocop_dir / "outlets.csv", OUTLET_COLUMNS))
    stats = read_ocop_csv(ocop_dir / "province_stats.csv", ())
    return OcopData(products, producers, outlets, stats, read_candidates(ocop_dir))


class FileStore:
    """Reads the processed files under ``data_dir``; one instance per app."""

    def __init__(self, data_dir: Path, versions_dir: Path | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.boundaries_dir = self.data_dir / "boundaries"
        self.ocop_dir = self.data_dir / "ocop"
        self.versions = VersionStore(versions_dir) if versions_dir is not None else None
        self._lock = threading.Lock()
        self._version: str | None = None
        self._cache: dict[tuple, object] = {}
        self._pointer_stat: tuple | None = None
        self._pointer_current: str | None = None
        self._pointer_path = str(self.versions.pointer_path) if self.versions else None
        self._watched_by_version: dict[str | None, tuple[Path, tuple[str, ...]]] = {}
        self._state_memo: tuple[tuple, str] | None = None
        self._boundary_memo: tuple[tuple, str] | None = None

    def _current_version(self) -> str | None:
        """Name of the imported version being served, None for the seed (re-checked per call)."""
        if self._pointer_path is None:
            return None
        try:
            stat = os.stat(self._pointer_path)
        except FileNotFoundError:
            return None
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if key != self._pointer_stat:
            # CURRENT is replaced whole (os.replace), so a read sees the old or the new file.
            self._pointer_current = self.versions.current()
            self._pointer_stat = key
        return self._pointer_current

    def current_ocop_dir(self) -> Path:
        """The folder whose OCOP tables are served now: the current version, else the seed."""
        name = self._current_version()
        return self.ocop_dir if name is None else self.versions.root / name

    def _watched(self, name: str | None) -> tuple[Path, tuple[str, ...]]:
        """The OCOP folder of version ``name`` and the files whose change makes a new version."""
        found = self._watched_by_version.get(name)
        if found is None:
            ocop_dir = self.ocop_dir if name is None else self.versions.root / name
            paths = [self.boundaries_dir / "manifest.json"] + [ocop_dir / f for f in OCOP_FILES]
            found = (ocop_dir, tuple(str(path) for path in paths))
            self._watched_by_version[name] = found
        return found

    def _state(self) -> tuple[str, Path]:
        """(data version, OCOP folder), pinned for the current span if one is open."""
        pinned = _pinned.get()
        if pinned is None:
            return self._checked_state()
        state = pinned.get(id(self))
        if state is None:
            state = pinned[id(self)] = self._checked_state()
        return state

    def _checked_state(self) -> tuple[str, Path]:
        """(data version, OCOP folder) from the files now: a few ``stat`` calls, and a hash
        only when one of them changed."""
        name = self._current_version()
        ocop_dir, watched = self._watched(name)
        stats = []
        for path in watched:
            try:
                stat = os.stat(path)
                stats.append((stat.st_mtime_ns, stat.st_size))
            except FileNotFoundError:
                stats.append(None)
        key = (name, tuple(stats))
        known = self._state_memo
        if known is not None and known[0] == key:
            return known[1], ocop_dir
        digest = hashlib.sha256(f"ocop:{name or 'seed'}".encode())
        for path, stat in zip(watched, stats, strict=True):
            filename = os.path.basename(path)
            if stat is None:
                digest.update(f"{filename}:missing".encode())
            else:
                digest.update(f"{filename}:{stat[0]}:{stat[1]}".encode())
        version = digest.hexdigest()[:12]
        self._state_memo = (key, version)
        return version, ocop_dir

    def data_version(self) -> str:
        return self._state()[0]

    def boundary_version(self) -> str:
        """``build_version`` of the boundary manifest (re-read only when the file changes)."""
        path = self.boundaries_dir / "manifest.json"
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            message = f"{path} is missing: run `flask --app wsgi boundaries build`"
            raise DataMissingError(message) from None
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        known = self._boundary_memo
        if known is None or known[0] != key:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            known = self._boundary_memo = (key, str(manifest["build_version"]))
        return known[1]

    def _cached(self, key: tuple, load):
        """``load()`` once per data version. The cache holds the newest version only: a
        request pinned to a version replaced since reads afresh and leaves the cache alone
        (otherwise it and the requests on the new version would keep emptying it)."""
        version, ocop_dir = self._state()
        newest = self._state_memo[1] if self._state_memo is not None else version
        with self._lock:
            if version != self._version and version == newest:
                self._cache.clear()
                self._version = version
            if version == self._version:
                if key not in self._cache:
                    self._cache[key] = load(ocop_dir) if key == ("ocop",) else load()
                return self._cache[key]
        return load(ocop_dir) if key == ("ocop",) else load()

    def _read_layer(self, layer: str, detail: Detail) -> gpd.GeoDataFrame:
        path = boundary_file(self.boundaries_dir, layer, detail)
        if not path.exists():
            raise DataMissingError(
                f"{path} is missing: run `flask --app wsgi boundaries build`",
                f"the boundary layer {path.stem} is missing: {REBUILD_BOUNDARIES}",
            )
        try:
            return gpd.read_parquet(path)
        except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
            raise DataMissingError(
                f"{path} is unreadable: {exc}",
                f"the boundary layer {path.stem} is unreadable: {REBUILD_BOUNDARIES}",
            ) from exc

    def communes(self, edition: str, detail: Detail = "full") -> gpd.GeoDataFrame:
        return self._cached(
            ("communes", edition, detail), lambda: self._read_layer(f"communes_{edition}", detail)
        )

    def districts(self, detail: Detail = "full") -> gpd.GeoDataFrame:
        return self._cached(
            ("districts", detail), lambda: self._read_layer("districts_2020", detail)
        )

    def crosswalk(self) -> pd.DataFrame:
        def load() -> pd.DataFrame:
            path = self.boundaries_dir / "crosswalk_2020_2025.csv"
            if not path.exists():
                raise DataMissingError(
                    f"{path} is missing: run `flask --app wsgi boundaries build`",
                    f"the boundary crosswalk {path.name} is missing: {REBUILD_BOUNDARIES}",
                )
            return pd.read_csv(path, dtype={c: str for c in CODE_COLUMNS})

        return self._cached(("crosswalk",), load)

    def ocop(self) -> OcopData:
        return self._cached(("ocop",), read_ocop_dir)

    def communes_covering(self, edition: str, kind: str = "producer") -> pd.Series:
        from geoapp.domain.coverage import locate_points

        data = self.ocop()
        points = (data.producers if kind == "producer" else data.outlets).geometry
        return locate_points(points, self.communes(edition), "commune_code").dropna()
