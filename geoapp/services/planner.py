"""Planner workbench: gap tables, commune details, progress over time and downloads.

Everything is built on ``CoverageService`` so the map, the tables, the figures and the files
follow the same counting rules (``geoapp.domain.coverage``). Geometries are EPSG:4326
(degrees); nothing here measures distances or areas.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from geoapp.domain import candidates as cand
from geoapp.domain import coverage as cov
from geoapp.domain import eligibility as elig
from geoapp.domain.names import normalize_text
from geoapp.domain.ocop import PRODUCER_TYPES
from geoapp.services import exports
from geoapp.services.cache import LruCache
from geoapp.services.coverage import CoverageService
from geoapp.services.exports import LIST_FIELDS, LIST_SEPARATOR
from geoapp.services.geojson import json_value
from geoapp.services.progress import Progress, compute_progress

STATUS_RANK = {status: rank for rank, status in enumerate(cov.STATUSES)}
GROUP_FIELDS = {"2019": "group_1048", "2023": "group_148"}

# Columns of the commune table (API rows, CSV, XLSX, GeoJSON and GeoPackage), per edition.
# ``n_candidates``: products in the pipeline, not certified (``domain.candidates``), never part
# of ``n_products`` or ``status``.
COMMUNE_FIELDS = {
    "2020": [
        "commune_code",
        "commune_full_name",
        "district_code",
        "district_name",
        "n_products",
        "target",
        "missing",
        "status",
        "groups",
        "product_names",
        "district_named",
        "district_published",
        "n_candidates",
    ],
    "2025": [
        "commune_code",
        "commune_full_name",
        "former_province",
        "n_products",
        "target",
        "missing",
        "status",
        "groups",
        "product_names",
        "n_candidates",
    ],
}
TEXT_SORT_FIELDS = frozenset(
    {"commune_code", "commune_full_name", "district_code", "district_name", "former_province"}
)
DISTRICT_FIELDS = [
    "district_code",
    "district_name",
    "n_products",
    "n_products_district_only",
    "n_communes",
    "communes_met",
    "communes_below",
    "communes_none",
    "share_met",
    "n_named",
    "n_published",
    "published_as_of",
    "published_sources",
    "named_share",
    "completeness_low",
    "n_candidates",
    "n_candidates_district_only",
]


@dataclasses.dataclass(frozen=True)
class FilterChoices:
    """The values the filters accept, taken from the data.

    ``districts`` are (code, name) pairs of the 2020 districts; ``groups`` maps a taxonomy
    ("2019", "2023") to the product groups present in the products table.
    """

    districts: tuple[tuple[str, str], ...]
    groups: Mapping[str, tuple[str, ...]]
    producer_types: tuple[str, ...] = PRODUCER_TYPES


@dataclasses.dataclass(frozen=True)
class TableFilter:
    """What limits and orders the commune table (the coverage itself is not changed).

    ``statuses`` empty means every status; ``text`` is matched without case or diacritics
    against commune name, district name and code; ``sort`` is a column name, ``-`` first for
    descending order (empty: status, then district, then commune).
    """

    district: str | None = None
    statuses: tuple[str, ...] = ()
    text: str = ""
    sort: str = ""


@dataclasses.dataclass(frozen=True)
class PlannerView:
    """One view of the workbench: the filtered commune rows (with their display geometry in
    EPSG:4326), every district's summary, the province figures and the chosen district's row."""

    edition: str
    params: cov.CoverageParams
    table: TableFilter
    communes: gpd.GeoDataFrame
    n_communes_total: int
    districts: pd.DataFrame
    province: dict[str, Any]
    district: dict[str, Any] | None

    @property
    def fields(self) -> list[str]:
        return COMMUNE_FIELDS[self.edition]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NA -> None, numpy scalars -> Python)."""
    rows = frame.astype(object).to_dict("records")
    return [{k: json_value(v) for k, v in row.items()} for row in rows]


# -- the commune table -------------------------------------------------------------------------


def search_key(frame: pd.DataFrame) -> pd.Series:
    """What the text filter searches: names and codes without case or diacritics."""
    columns = [
        c
        for c in ("commune_full_name", "commune_name_en", "district_name", "former_province")
        if c in frame.columns
    ]
    parts = frame[["commune_code", *columns]].astype("string").fillna("")
    joined = parts.apply(lambda row: " ".join(row), axis=1)
    return joined.map(normalize_text).astype("string")


def text_matches(keys: pd.Series, text: str) -> pd.Series:
    """Rows whose key contains every word of ``text`` ("tien phuoc" finds "Tiên Phước")."""
    words = normalize_text(text).split()
    keep = pd.Series(True, index=keys.index)
    for word in words:
        keep &= keys.str.contains(word, regex=False).fillna(False)
    return keep


def sort_rows(frame: pd.DataFrame, sort: str) -> pd.DataFrame:
    """Order the commune table; ties (and missing values, always last) by commune code."""
    if not sort:
        keys = pd.DataFrame(
            {
                "status": frame["status"].map(STATUS_RANK),
                "district": _text_key(frame.get("district_name", frame.get("former_province"))),
                "name": _text_key(frame["commune_full_name"]),
                "code": frame["commune_code"],
            },
            index=frame.index,
        )
        order = keys.sort_values(["status", "district", "name", "code"], kind="stable").index
        return frame.loc[order]
    descending = sort.startswith("-")
    column = sort.lstrip("-")
    values = frame[column]
    if column == "status":
        key = values.map(STATUS_RANK)
    elif column in LIST_FIELDS:
        key = _text_key(values.map(lambda items: LIST_SEPARATOR.join(items)))
    elif column in TEXT_SORT_FIELDS:
        key = _text_key(values)
    else:
        key = pd.to_numeric(values, errors="coerce")
    keys = pd.DataFrame({"key": key, "code": frame["commune_code"]}, index=frame.index)
    present = keys.loc[keys["key"].notna()].sort_values(
        ["key", "code"], ascending=[not descending, True], kind="stable"
    )
    absent = keys.loc[keys["key"].isna()].sort_values("code", kind="stable")
    return frame.loc[list(present.index) + list(absent.index)]


def _text_key(values: pd.Series | None) -> pd.Series:
    if values is None:
        return pd.Series(dtype="string")
    return values.astype("string").fillna("").map(normalize_text)


def groups_by_commune(counted: pd.DataFrame, group_field: str) -> dict[str, list[str]]:
    """Sorted distinct product groups (``group_field``) of the counted products per commune."""
    located = counted.dropna(subset=["commune_code"]).drop_duplicates("product_id")
    result: dict[str, list[str]] = {}
    for code, groups in located.groupby("commune_code", sort=False)[group_field]:
        result[str(code)] = sorted({str(g) for g in groups.dropna()})
    return result


# -- progress ----------------------------------------------------------------------------------


class PlannerService:
    """Tables, details, progress and files for the planner; cached per data version."""

    def __init__(self, coverage: CoverageService) -> None:
        self.coverage = coverage
        self.store = coverage.store
        self._cache = LruCache(max_entries=128)

    def _cached(self, kind: str, *key: Any, compute):
        return self._cache.get_or_compute((self.store.data_version(), kind, *key), compute)

    # -- filter values -------------------------------------------------------------------------

    def choices(self) -> FilterChoices:
        def build() -> FilterChoices:
            districts = self.store.districts("display").sort_values("district_code")
            products = self.store.ocop().products
            groups = {
                taxonomy: tuple(sorted({str(g) for g in products[field].dropna()}))
                for taxonomy, field in GROUP_FIELDS.items()
            }
            pairs = tuple(
                (str(code), str(name))
                for code, name in zip(
                    districts["district_code"], districts["district_name"], strict=True
                )
            )
            return FilterChoices(pairs, groups)

        return self._cached("choices", compute=build)

    # -- tables --------------------------------------------------------------------------------

    def commune_table(self, edition: str, params: cov.CoverageParams) -> gpd.GeoDataFrame:
        """Every commune once, with coverage, the groups of its counted products and a
        ``search_key``; display geometry in EPSG:4326."""

        def build() -> gpd.GeoDataFrame:
            result = self.coverage.coverage(edition, params)
            frame = result.communes.copy()
            groups = groups_by_commune(result.counted, params.group_field)
            frame["groups"] = [groups.get(str(code), []) for code in frame["commune_code"]]
            pipeline = cand.per_commune(
                self.store.ocop().candidates, edition, self.store.crosswalk()
            )
            frame["n_candidates"] = (
                frame["commune_code"].astype("string").map(pipeline).fillna(0).astype(int)
            )
            frame["search_key"] = search_key(frame)
            keep = [*COMMUNE_FIELDS[edition], "search_key", frame.geometry.name]
            return frame[keep]

        return self._cached("communes", edition, params, compute=build)

    def view(self, edition: str, params: cov.CoverageParams, table: TableFilter) -> PlannerView:
        """The commune rows ``table`` selects, the district summaries and province figures."""
        result = self.coverage.coverage(edition, params)
        frame = self.commune_table(edition, params)
        keep = pd.Series(True, index=frame.index)
        if table.district and "district_code" in frame.columns:
            keep &= frame["district_code"].eq(table.district).fillna(False)
        if table.statuses:
            keep &= frame["status"].isin(table.statuses).fillna(False)
        if table.text:
            keep &= text_matches(frame["search_key"], table.text)
        rows = sort_rows(frame.loc[keep.to_numpy(dtype=bool)], table.sort)
        districts = self._districts(result.districts)
        chosen = None
        if table.district:
            match = districts.loc[districts["district_code"].eq(table.district)]
            chosen = records(match)[0] if len(match) else None
        return PlannerView(
            edition=edition,
            params=params,
            table=table,
            communes=rows.drop(columns="search_key").reset_index(drop=True),
            n_communes_total=len(frame),
            districts=districts.reset_index(drop=True),
            province=result.province,
            district=chosen,
        )

    def _districts(self, summary: pd.DataFrame) -> pd.DataFrame:
        """The district summaries with their candidates (0 where none)."""
        if not len(summary):
            return pd.DataFrame(columns=DISTRICT_FIELDS)
        return cand.with_district_counts(summary, self.store.ocop().candidates)[DISTRICT_FIELDS]

    def candidates_in(self, edition: str, code: str) -> list[dict[str, Any]]:
        """The candidates (in the pipeline, not certified) of one commune of ``edition``."""
        candidates = self.store.ocop().candidates
        chosen = cand.in_commune(candidates, edition, self.store.crosswalk(), code)
        return records(pd.DataFrame(chosen[list(cand.DETAIL_COLUMNS)]))

    def api_payload(self, view: PlannerView, filters: Mapping[str, str]) -> dict[str, Any]:
        """The JSON of ``/api/coverage``: filters, province figures, districts, communes."""
        return {
            "edition": view.edition,
            "filters": dict(filters),
            "criteria": {
                "as_of": view.params.as_of.isoformat(),
                "target": view.params.target,
                "min_stars": view.params.min_stars,
                "certificate_months": view.params.certificate_months,
                "group": view.params.group,
                "group_field": view.params.group_field,
                "producer_type": view.params.producer_type,
            },
            "province": view.province,
            "district": view.district,
            "districts": records(view.districts),
            "n_communes": len(view.communes),
            "n_communes_total": view.n_communes_total,
            "communes": records(pd.DataFrame(view.communes[view.fields])),
        }

    # -- commune details -----------------------------------------------------------------------

    def commune_detail(
        self, edition: str, code: str, params: cov.CoverageParams
    ) -> dict[str, Any] | None:
        """A commune's coverage row, products (counted or why not), producers, outlets and
        its successor (2020 -> 2025) or predecessors (2025 -> 2020); ``None`` if unknown."""
        table = self.commune_table(edition, params)
        match = table.loc[table["commune_code"].eq(code)]
        if match.empty:
            return None
        row = records(pd.DataFrame(match[COMMUNE_FIELDS[edition]]))[0]
        data = self.store.ocop()
        producer_commune = self._producer_communes(edition)
        in_commune = producer_commune.loc[producer_commune.eq(code)].index
        producers = data.producers.loc[data.producers["producer_id"].isin(in_commune)]
        eligibility = self.coverage.eligibility(edition, params)
        products = eligibility.loc[eligibility["producer_id"].isin(in_commune)]
        producer_names = producers.set_index("producer_id")["name"]
        product_rows = [
            {
                "product_id": product["product_id"],
                "name": product["name"],
                "group": product[params.group_field],
                "group_1048": product["group_1048"],
                "group_148": product["group_148"],
                "stars": product["stars"],
                "recognition_year": product["recognition_year"],
                "recognition_date": product["recognition_date"],
                "certificate_expiry": product["certificate_expiry"],
                "date_basis": product["date_basis"],
                "producer_id": product["producer_id"],
                "producer_name": producer_names.get(product["producer_id"]),
                "producer_type": product["producer_type"],
                "counted": bool(product["counts"]),
                "reason_code": product["reason"],
                "reason": elig.reason_text(product, params),
                "illustrative": bool(product.get("illustrative", False)),
            }
            for _, product in products.iterrows()
        ]
        product_rows.sort(key=lambda p: (not p["counted"], -(_int(p["stars"]) or 0), p["name"]))
        return {
            "edition": edition,
            "commune": row,
            "products": [{k: json_value(v) for k, v in p.items()} for p in product_rows],
            "producers": records(
                pd.DataFrame(
                    producers[["producer_id", "name", "producer_type", "location_precision"]]
                ).sort_values("producer_id")
            ),
            "outlets": self._outlets_in(edition, code),
            "candidates": self.candidates_in(edition, code),
            "successors": self._crosswalk_links(edition, code) if edition == "2020" else [],
            "predecessors": self._crosswalk_links(edition, code) if edition == "2025" else [],
        }

    def _producer_communes(self, edition: str) -> pd.Series:
        """Commune code (of ``edition``) of every producer, indexed by ``producer_id``."""

        def build() -> pd.Series:
            producers = self.coverage.producers(edition)
            return pd.Series(
                producers["commune_code"].astype("string").to_numpy(),
                index=producers["producer_id"].to_numpy(),
            )

        return self._cached("producer_communes", edition, compute=build)

    def _outlets_in(self, edition: str, code: str) -> list[dict[str, Any]]:
        outlets = self.store.ocop().outlets
        if edition == "2020":
            chosen = outlets.loc[outlets["commune_code"].eq(code).fillna(False)]
        else:
            precise = ~outlets["location_precision"].isin(["district"]).fillna(False)
            located = cov.locate_points(
                outlets.geometry[precise.to_numpy(dtype=bool)],
                self.store.communes("2025"),
                "commune_code",
            )
            chosen = outlets.loc[located.loc[located.eq(code).fillna(False)].index]
        columns = ["outlet_id", "name", "kind", "status", "address", "location_precision"]
        return records(pd.DataFrame(chosen[columns]).sort_values("outlet_id"))

    def _crosswalk_links(self, edition: str, code: str) -> list[dict[str, Any]]:
        crosswalk = self.store.crosswalk()
        if edition == "2020":
            codes = crosswalk.loc[crosswalk["old_commune_code"].eq(code), "new_commune_code"]
            other = self.store.communes("2025", "display")
            columns = ["commune_code", "commune_full_name"]
        else:
            codes = crosswalk.loc[crosswalk["new_commune_code"].eq(code), "old_commune_code"]
            other = self.store.communes("2020", "display")
            columns = ["commune_code", "commune_full_name", "district_name"]
        wanted = sorted({str(c) for c in codes.dropna()})
        found = pd.DataFrame(other.loc[other["commune_code"].isin(wanted), columns])
        return records(found.sort_values("commune_code"))

    # -- progress ------------------------------------------------------------------------------

    def progress(
        self, edition: str, params: cov.CoverageParams, district: str | None = None
    ) -> Progress:
        """Year-end progress of the province or one 2020 district (``services.progress``)."""
        return self._cached(
            "progress",
            edition,
            params,
            district,
            compute=lambda: compute_progress(self.coverage, edition, params, district),
        )

    # -- downloads (``geoapp.services.exports``) ---------------------------------------------

    def download_name(self, view: PlannerView, group_taxonomy: str, extension: str) -> str:
        return exports.download_name(view, group_taxonomy, extension)

    def to_csv(self, view: PlannerView) -> bytes:
        return exports.to_csv(view)

    def to_geojson(self, view: PlannerView) -> bytes:
        return exports.to_geojson(view)

    def to_geopackage(self, view: PlannerView) -> bytes:
        return exports.to_geopackage(view, self.store.districts("display"))

    def to_xlsx(self, view: PlannerView, progress: Progress, filters: Mapping[str, str]) -> bytes:
        return exports.to_xlsx(view, progress, filters)


def _int(value: Any) -> int | None:
    plain = json_value(value)
    return int(plain) if plain is not None else None
