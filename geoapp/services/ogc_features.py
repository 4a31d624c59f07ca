"""Collections of OGC API - Features over the store: feature tables, extents and item queries.

Every geometry is WGS 84 longitude/latitude (OGC CRS84, the axis order of EPSG:4326 as used in
GeoJSON), at full detail (not the map's simplified copy), coordinates rounded to 6 decimals
(about 0.1 m). Each table is built once per data version (and coverage parameters, for the
collections that carry coverage): the features are serialised then, so a page of items is a
slice of ready JSON texts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoapp.domain import coverage as cov
from geoapp.domain.ocop import APPROXIMATE_PRECISIONS
from geoapp.services.cache import LruCache
from geoapp.services.coverage import CoverageService
from geoapp.services.geojson import json_value, round_coordinates
from geoapp.storage.base import Store

OGC_COORDINATE_DECIMALS = 6
# Periods in force of the boundary editions (``datetime`` of communes and districts): the 2020
# edition until the two-tier local government of 2025-07-01, the 2025 edition from then on.
EDITION_PERIODS: dict[str, tuple[dt.date, dt.date | None]] = {
    "2020": (dt.date(2020, 1, 1), dt.date(2025, 6, 30)),
    "2025": (dt.date(2025, 7, 1), None),
}
FIELD_TYPES = ("string", "integer", "number", "boolean")


@dataclasses.dataclass(frozen=True)
class Field:
    """A feature property: its name, JSON type and (optional) JSON Schema format."""

    name: str
    type: str = "string"
    format: str | None = None


def _fields(*specs: str | tuple[str, str] | tuple[str, str, str]) -> tuple[Field, ...]:
    return tuple(Field(s) if isinstance(s, str) else Field(*s) for s in specs)


_COVERAGE_FIELDS = _fields(
    ("n_products", "integer"),
    ("target", "integer"),
    ("missing", "integer"),
    "status",
    "product_names",
)


@dataclasses.dataclass(frozen=True)
class CollectionSpec:
    """One collection. ``geometry`` is None for a table without geometry; ``temporal`` is
    ``"edition"`` (the edition's period in force), ``"recognition"`` (products' recognition
    dates) or None; ``coverage`` says whether the coverage parameters apply."""

    id: str
    id_field: str
    fields: tuple[Field, ...]
    geometry: str | None
    temporal: str | None = None
    edition: str | None = None
    coverage: bool = False

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def queryables(self) -> tuple[Field, ...]:
        """Properties that can be filtered on (``name=value``); ``target`` of communes is the
        coverage parameter of the same name, not a filter."""
        return tuple(f for f in self.fields if not (self.coverage and f.name == "target"))


COLLECTIONS: tuple[CollectionSpec, ...] = (
    CollectionSpec(
        "communes_2020",
        "commune_code",
        _fields(
            "commune_code",
            "commune_name",
            "commune_full_name",
            "commune_type",
            "commune_name_en",
            "district_code",
            "district_name",
            "district_full_name",
            ("area_km2", "number"),
        )
        + _COVERAGE_FIELDS,
        "MultiPolygon",
        "edition",
        "2020",
        True,
    ),
    CollectionSpec(
        "communes_2025",
        "commune_code",
        _fields(
            "commune_code",
            "commune_name",
            "commune_full_name",
            "commune_type",
            "commune_name_en",
            "former_province",
            ("share_in_former_qn", "number"),
            ("area_km2", "number"),
        )
        + _COVERAGE_FIELDS,
        "MultiPolygon",
        "edition",
        "2025",
        True,
    ),
    CollectionSpec(
        "districts_2020",
        "district_code",
        _fields(
            "district_code",
            "district_name",
            "district_full_name",
            "district_type",
            "district_name_en",
            ("area_km2", "number"),
            ("n_communes", "integer"),
            ("communes_met", "integer"),
            ("communes_below", "integer"),
            ("communes_none", "integer"),
            ("share_met", "number"),
            ("n_products", "integer"),
            ("n_products_district_only", "integer"),
        ),
        "MultiPolygon",
        "edition",
        "2020",
        True,
    ),
    CollectionSpec(
        "producers",
        "producer_id",
        _fields(
            "producer_id",
            "name",
            "producer_type",
            "commune_code",
            "commune_name",
            "district_code",
            "district_name",
            "location_precision",
            ("approximate", "boolean"),
            ("n_products", "integer"),
            ("max_stars", "integer"),
            "product_ids",
            "product_names",
            ("first_recognised", "string", "date"),
            ("last_recognised", "string", "date"),
            "source_ids",
            ("illustrative", "boolean"),
        ),
        "Point",
        "recognition",
    ),
    CollectionSpec(
        "outlets",
        "outlet_id",
        _fields(
            "outlet_id",
            "name",
            "kind",
            "status",
            "address",
            "commune_code",
            "commune_name",
            "district_code",
            "district_name",
            "location_precision",
            ("approximate", "boolean"),
            "operator",
            "opened",
            "source_ids",
            "notes",
            ("illustrative", "boolean"),
        ),
        "Point",
    ),
    CollectionSpec(
        "crosswalk_2020_2025",
        "old_commune_code",
        _fields(
            "old_commune_code",
            "old_commune_full_name",
            "old_district_code",
            "new_commune_code",
            "new_commune_full_name",
            ("overlap_share", "number"),
            "file_new_commune_code",
            ("agrees", "boolean"),
            "method",
        ),
        None,
    ),
)
COLLECTION_IDS = tuple(spec.id for spec in COLLECTIONS)


class QueryError(ValueError):
    """A query value the collection cannot use (the web layer answers 400)."""

    def __init__(self, name: str, value: str, reason: str) -> None:
        self.name, self.value, self.reason = name, value, reason
        super().__init__(f"invalid value {value!r} for parameter '{name}': {reason}")


@dataclasses.dataclass(frozen=True)
class ItemQuery:
    """What to select. ``bbox`` is (west, south, east, north) in CRS84 degrees (west > east
    crosses the antimeridian); ``interval`` holds inclusive dates, None for an open end;
    ``properties`` maps a queryable to the value it must equal (as given in the URL)."""

    bbox: tuple[float, float, float, float] | None = None
    interval: tuple[dt.date | None, dt.date | None] | None = None
    properties: Mapping[str, str] = dataclasses.field(default_factory=dict)
    limit: int = 100
    offset: int = 0
    coverage: cov.CoverageParams | None = None
    filter: str | None = None  # CQL2 text (geoapp.services.ogc_filter)


@dataclasses.dataclass(frozen=True)
class FeatureTable:
    """A collection's rows: ``frame`` (typed properties, plus ``geometry`` when spatial) and
    each row's GeoJSON Feature text; ``dates`` holds the producers' recognition dates."""

    frame: pd.DataFrame
    features: list[str]
    positions: dict[str, int]
    dates: pd.DataFrame | None = None


@dataclasses.dataclass(frozen=True)
class ItemPage:
    features: list[str]
    number_matched: int


@dataclasses.dataclass(frozen=True)
class Extent:
    """Bounding box in CRS84 degrees (None without geometry) and the period (None: open)."""

    bbox: tuple[float, float, float, float] | None
    interval: tuple[dt.date | None, dt.date | None] | None


def spec_of(collection_id: str) -> CollectionSpec | None:
    return next((s for s in COLLECTIONS if s.id == collection_id), None)


def _typed(frame: pd.DataFrame, fields: tuple[Field, ...]) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for f in fields:
        column = frame[f.name] if f.name in frame.columns else pd.Series(None, index=frame.index)
        if f.type == "integer":
            out[f.name] = pd.to_numeric(column, errors="coerce").round().astype("Int64")
        elif f.type == "number":
            out[f.name] = pd.to_numeric(column, errors="coerce").astype("Float64").round(6)
        elif f.type == "boolean":
            text = column.astype("string").str.lower()
            out[f.name] = text.map({"true": True, "false": False}).astype("boolean")
        else:
            out[f.name] = column.astype("string").replace("", pd.NA)
    return out


def _serialise(spec: CollectionSpec, props: pd.DataFrame, geometry) -> FeatureTable:
    if geometry is not None:
        geoms = round_coordinates(np.asarray(geometry, dtype=object), OGC_COORDINATE_DECIMALS)
        geometry_json = list(shapely.to_geojson(geoms))
    else:
        geometry_json = [None] * len(props)
    texts = []
    records = props.astype(object).to_dict("records")
    for record, geom in zip(records, geometry_json, strict=True):
        clean = {k: json_value(v) for k, v in record.items()}
        fid = json.dumps(str(clean[spec.id_field]), ensure_ascii=False)
        body = json.dumps(clean, ensure_ascii=False, separators=(",", ":"))
        texts.append(
            f'{{"type":"Feature","id":{fid},"geometry":{geom or "null"},"properties":{body}}}'
        )
    frame = props.reset_index(drop=True)
    if geometry is not None:
        frame = gpd.GeoDataFrame(frame, geometry=list(geometry), crs="EPSG:4326")
    positions = {str(code): i for i, code in enumerate(frame[spec.id_field])}
    return FeatureTable(frame, texts, positions)


def _joined(values) -> str | None:
    items = [str(v) for v in (values if values is not None else []) if v is not None]
    return "; ".join(items) if items else None


class OgcFeaturesService:
    """Tables and queries of the OGC API collections, cached per data version."""

    def __init__(self, store: Store, coverage: CoverageService) -> None:
        self.store = store
        self.coverage = coverage
        self._cache = LruCache(max_entries=32)

    def table(self, spec: CollectionSpec, params: cov.CoverageParams | None = None) -> FeatureTable:
        if spec.coverage and params is None:
            params = self.coverage.default_params()
        key = (self.store.data_version(), spec.id, params if spec.coverage else None)
        return self._cache.get_or_compute(key, lambda: self._build(spec, params))

    def _build(self, spec: CollectionSpec, params: cov.CoverageParams | None) -> FeatureTable:
        if spec.id.startswith("communes_"):
            result = self.coverage.coverage(spec.edition, params)
            shapes = self.store.communes(spec.edition, "full")[["commune_code", "geometry"]]
            frame = result.communes.drop(columns="geometry").copy()
            frame["product_names"] = frame["product_names"].map(_joined)
            frame = shapes.merge(frame, on="commune_code", how="left", validate="one_to_one")
        elif spec.id == "districts_2020":
            summary = self.coverage.coverage("2020", params).districts
            frame = self.store.districts("full").merge(
                summary.drop(columns=["district_name", "n_communes"], errors="ignore"),
                on="district_code",
                how="left",
                validate="one_to_one",
            )
        elif spec.id == "producers":
            return self._producers(spec)
        elif spec.id == "outlets":
            frame = self._with_place_names(self.store.ocop().outlets)
        else:
            return _serialise(spec, _typed(self.store.crosswalk(), spec.fields), None)
        return _serialise(spec, _typed(frame, spec.fields), frame.geometry.values)

    def _producers(self, spec: CollectionSpec) -> FeatureTable:
        data = self.store.ocop()
        products = data.products.copy()
        products["date"] = pd.to_datetime(products["recognition_date"], errors="coerce").dt.date
        products["stars"] = pd.to_numeric(products["stars"], errors="coerce")
        products = products.sort_values(["producer_id", "product_id"])
        grouped = products.groupby("producer_id", sort=False)
        frame = self._with_place_names(data.producers)
        by_id = frame["producer_id"]
        frame["n_products"] = by_id.map(grouped["product_id"].nunique()).fillna(0)
        frame["max_stars"] = by_id.map(grouped["stars"].max())
        frame["product_ids"] = by_id.map(grouped["product_id"].agg(_joined))
        frame["product_names"] = by_id.map(grouped["name"].agg(_joined))
        dates = products.dropna(subset=["date"])
        dated = dates.groupby("producer_id")["date"]
        frame["first_recognised"] = by_id.map(dated.min().map(dt.date.isoformat))
        frame["last_recognised"] = by_id.map(dated.max().map(dt.date.isoformat))
        table = _serialise(spec, _typed(frame, spec.fields), frame.geometry.values)
        return dataclasses.replace(table, dates=dates[["producer_id", "date"]])

    def _with_place_names(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        communes = self.store.communes("2020", "full").set_index("commune_code")
        districts = self.store.districts("full").set_index("district_code")
        out = frame.copy()
        out["commune_name"] = out["commune_code"].map(communes["commune_full_name"])
        out["district_name"] = out["district_code"].map(districts["district_full_name"])
        out["approximate"] = out["location_precision"].isin(APPROXIMATE_PRECISIONS)
        return out

    def extent(self, spec: CollectionSpec) -> Extent:
        table = self.table(spec)
        bbox = None
        if spec.geometry is not None and len(table.frame):
            west, south, east, north = table.frame.geometry.total_bounds
            if np.isfinite(west):
                bbox = tuple(round(float(v), 6) for v in (west, south, east, north))
        interval = None
        if spec.temporal == "edition":
            interval = EDITION_PERIODS[spec.edition]
        elif spec.temporal == "recognition" and table.dates is not None and len(table.dates):
            interval = (table.dates["date"].min(), table.dates["date"].max())
        return Extent(bbox, interval)

    def feature(
        self, spec: CollectionSpec, feature_id: str, params: cov.CoverageParams | None = None
    ) -> str | None:
        """The GeoJSON text of one feature, None if there is no such id."""
        table = self.table(spec, params)
        position = table.positions.get(feature_id)
        return None if position is None else table.features[position]

    def items(self, spec: CollectionSpec, query: ItemQuery) -> ItemPage:
        """The page ``query.offset`` .. ``+ limit`` of the features matching ``query``, in the
        table's order (the store's), and how many match in all."""
        table = self.table(spec, query.coverage)
        frame = table.frame
        keep = np.ones(len(frame), dtype=bool)
        if query.bbox is not None:
            if spec.geometry is None:
                raise QueryError("bbox", ",".join(map(str, query.bbox)), "no geometry here")
            keep &= _in_bbox(frame, query.bbox)
        if query.interval is not None:
            keep &= self._in_interval(spec, table, query.interval)
        for name, raw in query.properties.items():
            field = spec.field(name)
            if field is None:
                raise QueryError(name, raw, "not a queryable of this collection")
            keep &= frame[name].eq(_value(field, raw)).fillna(False).to_numpy(dtype=bool)
        if query.filter is not None:
            from geoapp.services.ogc_filter import FilterError, cql2_mask

            names = {f.name for f in spec.queryables}
            try:
                keep &= cql2_mask(frame, query.filter, names, spec.geometry is not None)
            except FilterError as exc:
                raise QueryError("filter", query.filter, exc.reason) from None
        matched = np.flatnonzero(keep)
        page = matched[query.offset : query.offset + query.limit]
        return ItemPage([table.features[i] for i in page], len(matched))

    @staticmethod
    def _in_interval(spec: CollectionSpec, table: FeatureTable, interval) -> np.ndarray:
        start, end = interval
        n = len(table.frame)
        if spec.temporal == "edition":
            valid_from, valid_to = EDITION_PERIODS[spec.edition]
            overlaps = (end is None or valid_from <= end) and (
                start is None or valid_to is None or start <= valid_to
            )
            return np.full(n, overlaps)
        dates = table.dates
        inside = pd.Series(True, index=dates.index)
        if start is not None:
            inside &= dates["date"] >= start
        if end is not None:
            inside &= dates["date"] <= end
        producers = set(dates.loc[inside, "producer_id"])
        return table.frame["producer_id"].isin(producers).to_numpy(dtype=bool)


def _in_bbox(frame: gpd.GeoDataFrame, bbox: tuple[float, float, float, float]) -> np.ndarray:
    west, south, east, north = bbox
    if west <= east:
        boxes = [shapely.box(west, south, east, north)]
    else:  # across the antimeridian
        boxes = [shapely.box(west, south, 180, north), shapely.box(-180, south, east, north)]
    keep = np.zeros(len(frame), dtype=bool)
    for box in boxes:
        keep[frame.sindex.query(box, predicate="intersects")] = True
    return keep


def _value(field: Field, raw: str):
    """``raw`` (a query-string value) as a value of ``field``'s type."""
    if field.type == "integer":
        try:
            return int(raw)
        except ValueError:
            raise QueryError(field.name, raw, "not a whole number") from None
    if field.type == "number":
        try:
            return float(raw)
        except ValueError:
            raise QueryError(field.name, raw, "not a number") from None
    if field.format == "date":
        try:
            return dt.date.fromisoformat(raw).isoformat()
        except ValueError:
            raise QueryError(field.name, raw, "not a date (YYYY-MM-DD)") from None
    if field.type == "boolean":
        if raw.lower() not in {"true", "false"}:
            raise QueryError(field.name, raw, "not true or false")
        return raw.lower() == "true"
    return raw
