"""The embedded default store: GeoParquet boundaries and CSV OCOP records under ``data/``.

Layout (written by ``flask boundaries build`` and ``flask ocop build``)::

    data/boundaries/communes_2020.parquet, communes_2020_display.parquet
    data/boundaries/communes_2025.parquet, communes_2025_display.parquet
    data/boundaries/districts_2020.parquet, districts_2020_display.parquet
    data/boundaries/crosswalk_2020_2025.csv, manifest.json
    data/ocop/products.csv, producers.csv, outlets.csv, province_stats.csv

Everything read is cached per data version; the version changes when any of these files
changes, so a rebuild is picked up without a restart.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geoapp.domain.ocop import OUTLET_COLUMNS, PRODUCER_COLUMNS, PRODUCT_COLUMNS, OcopData
from geoapp.storage.base import DataMissingError, Detail

OCOP_FILES = ("products.csv", "producers.csv", "outlets.csv", "province_stats.csv")
CODE_COLUMNS = ("commune_code", "district_code", "old_commune_code", "new_commune_code")


def boundary_file(boundaries_dir: Path, layer: str, detail: Detail) -> Path:
    """Path of one processed boundary layer, e.g. ``communes_2020`` at ``display`` detail."""
    suffix = "_display" if detail == "display" else ""
    return boundaries_dir / f"{layer}{suffix}.parquet"


def read_ocop_csv(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read one OCOP table with codes and ids kept as text and missing cells as ``<NA>``."""
    if not path.exists():
        raise DataMissingError(f"{path} is missing: run `flask --app wsgi ocop build`")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataMissingError(f"{path} lacks column(s): {', '.join(missing)}")
    frame = frame.astype("string")
    if "illustrative" in frame.columns:
        frame["illustrative"] = frame["illustrative"].fillna("false").str.lower().eq("true")
    return frame


def points_frame(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """Turn a table with ``lon``/``lat`` text columns into points in EPSG:4326."""
    lon = pd.to_numeric(frame["lon"], errors="coerce")
    lat = pd.to_numeric(frame["lat"], errors="coerce")
    out = frame.assign(lon=lon, lat=lat)
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


class FileStore:
    """Reads the processed files under ``data_dir``; one instance per app."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.boundaries_dir = self.data_dir / "boundaries"
        self.ocop_dir = self.data_dir / "ocop"
        self._lock = threading.Lock()
        self._version: str | None = None
        self._cache: dict[tuple, object] = {}

    def _watched_files(self) -> list[Path]:
        return [self.boundaries_dir / "manifest.json"] + [self.ocop_dir / f for f in OCOP_FILES]

    def data_version(self) -> str:
        digest = hashlib.sha256()
        for path in self._watched_files():
            try:
                stat = path.stat()
            except FileNotFoundError:
                digest.update(f"{path.name}:missing".encode())
                continue
            digest.update(f"{path.name}:{stat.st_mtime_ns}:{stat.st_size}".encode())
        return digest.hexdigest()[:12]

    def _cached(self, key: tuple, load):
        version = self.data_version()
        with self._lock:
            if version != self._version:
                self._cache.clear()
                self._version = version
            if key not in self._cache:
                self._cache[key] = load()
            return self._cache[key]

    def _read_layer(self, layer: str, detail: Detail) -> gpd.GeoDataFrame:
        path = boundary_file(self.boundaries_dir, layer, detail)
        if not path.exists():
            raise DataMissingError(f"{path} is missing: run `flask --app wsgi boundaries build`")
        return gpd.read_parquet(path)

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
                raise DataMissingError(f"{path} is missing: run `flask --app wsgi boundaries build`")
            return pd.read_csv(path, dtype={c: str for c in CODE_COLUMNS})

        return self._cached(("crosswalk",), load)

    def ocop(self) -> OcopData:
        def load() -> OcopData:
            products = read_ocop_csv(self.ocop_dir / "products.csv", PRODUCT_COLUMNS)
            products["stars"] = pd.to_numeric(products["stars"], errors="coerce").astype("Int64")
            products["recognition_year"] = pd.to_numeric(
                products["recognition_year"], errors="coerce"
            ).astype("Int64")
            producers = points_frame(
                read_ocop_csv(self.ocop_dir / "producers.csv", PRODUCER_COLUMNS)
            )
            outlets = points_frame(read_ocop_csv(self.ocop_dir / "outlets.csv", OUTLET_COLUMNS))
            stats = read_ocop_csv(self.ocop_dir / "province_stats.csv", ())
            return OcopData(products, producers, outlets, stats)

        return self._cached(("ocop",), load)
