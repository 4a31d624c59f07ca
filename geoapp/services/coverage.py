"""Coverage per commune, district and province for an edition, cached per data version."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import geopandas as gpd
import pandas as pd

from geoapp.config import Settings
from geoapp.domain import candidates as cand
from geoapp.domain import coverage as cov
from geoapp.domain import eligibility as elig
from geoapp.domain import published
from geoapp.domain.ocop import APPROXIMATE_PRECISIONS
from geoapp.domain.published import PublishedTotal
from geoapp.services.cache import LruCache
from geoapp.services.geojson import feature_collection
from geoapp.storage.base import Store

PROVINCE_2020_NAME = "Quảng Nam"


@dataclasses.dataclass(frozen=True)
class CoverageResult:
    """Coverage of one edition at one set of parameters.

    ``communes`` is the display-detail GeoDataFrame (EPSG:4326) with names and coverage
    columns; ``districts`` is the per-district summary (edition 2020 only, else empty);
    ``province`` holds the province figures.
    """

    edition: str
    params: cov.CoverageParams
    communes: gpd.GeoDataFrame
    districts: pd.DataFrame
    province: dict[str, Any]
    counted: pd.DataFrame
    eligibility: pd.DataFrame


@dataclasses.dataclass(frozen=True)
class Payload:
    """Serialised bytes with their ETag (a hash of the content).

    ``encoded`` keeps the body's gzip and brotli variants, made on first use and then kept as
    long as the payload is cached (``geoapp.services.compression.encoded_variant``).
    """

    body: bytes
    etag: str
    mimetype: str
    encoded: dict[str, bytes] = dataclasses.field(default_factory=dict, compare=False, repr=False)


def payload(body: bytes, mimetype: str) -> Payload:
    return Payload(body, hashlib.sha256(body).hexdigest()[:20], mimetype)


class CoverageService:
    """Computes coverage from a store; results are cached per data version and parameters."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._cache = LruCache(max_entries=128)

    def default_params(self, **overrides: Any) -> cov.CoverageParams:
        base = cov.CoverageParams(
            as_of=self.settings.as_of,
            target=self.settings.target_products,
            min_stars=self.settings.min_stars,
            certificate_months=self.settings.certificate_months,
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        return dataclasses.replace(base, **given)

    def _cached(self, kind: str, *key: Any, compute):
        return self._cache.get_or_compute((self.store.data_version(), kind, *key), compute)

    def coverage(self, edition: str, params: cov.CoverageParams) -> CoverageResult:
        return self._cached(
            "coverage", edition, params, compute=lambda: self._compute(edition, params)
        )

    def producers(self, edition: str) -> gpd.GeoDataFrame:
        """Producers (EPSG:4326 points) with ``commune_code`` in the communes of ``edition``."""
        producers = self.store.ocop().producers
        if edition == "2020":
            return producers
        return self._cached(
            "producers",
            edition,
            compute=lambda: cov.producers_in_2025(
                producers,
                self.store.communes("2025"),
                self.store.crosswalk(),
                self.store.communes_covering("2025", "producer"),
            ),
        )

    def eligibility(self, edition: str, params: elig.EligibilityFilter) -> pd.DataFrame:
        """Every product with ``counts`` and ``reason`` (``product_eligibility``) at ``params``
        on the communes of ``edition`` that are scored."""
        rule = elig.filter_of(params)
        return self._cached(
            "eligibility", edition, rule, compute=lambda: self._eligibility(edition, rule)
        )

    def _eligibility(self, edition: str, params: elig.EligibilityFilter) -> pd.DataFrame:
        communes = self.store.communes(edition, "display")
        scope = self._in_scope(edition, communes)
        codes = communes["commune_code"] if scope is None else communes.loc[scope, "commune_code"]
        return elig.product_eligibility(
            self.store.ocop().products,
            self.producers(edition),
            params,
            edition=edition,
            communes_in_scope=pd.Index(codes.astype(str)),
        )

    @staticmethod
    def _in_scope(edition: str, communes: pd.DataFrame) -> pd.Series | None:
        """Communes scored in ``edition`` (``None``: all): in 2025, the former Quảng Nam."""
        if edition == "2020":
            return None
        return communes["former_province"].eq(PROVINCE_2020_NAME).fillna(False).astype(bool)

    def published(self) -> tuple[PublishedTotal | None, dict[str, PublishedTotal]]:
        """The latest published province total and each 2020 district's published total."""

        def build():
            stats = self.store.ocop().province_stats
            names = self.store.districts("display").set_index("district_code")["district_name"]
            return published.latest_province_total(stats), published.district_totals(stats, names)

        return self._cached("published", compute=build)

    def named_by_district(self) -> pd.Series:
        """Products recorded per 2020 district code, whatever the filters."""

        def build() -> pd.Series:
            data = self.store.ocop()
            district_of = data.producers.set_index("producer_id")["district_code"]
            return data.products["producer_id"].map(district_of).value_counts()

        return self._cached("named_by_district", compute=build)

    def _compute(self, edition: str, params: cov.CoverageParams) -> CoverageResult:
        data = self.store.ocop()
        eligibility = self.eligibility(edition, params)
        counted = elig.counted(eligibility)
        communes = self.store.communes(edition, "display")
        coverage = cov.commune_coverage(
            communes, counted, params.target, self._in_scope(edition, communes)
        )
        joined = communes.merge(coverage, on="commune_code", validate="one_to_one")
        province_total, district_totals = self.published()
        if edition == "2020":
            districts = cov.district_summary(
                self.store.districts("display"),
                communes,
                coverage,
                counted,
                self.named_by_district(),
                district_totals,
            )
            joined = self._with_district_completeness(joined, districts)
        else:
            districts = pd.DataFrame()
            joined["completeness_low"] = joined["commune_code"].isin(self._low_2025_communes())
        province = cov.province_summary(coverage, eligibility, params, province_total)
        province["has_illustrative"] = data.has_illustrative
        result = CoverageResult(edition, params, joined, districts, province, counted, eligibility)
        province.update(self.area_summary(result))
        return result

    def area_summary(
        self, result: CoverageResult, district: str | None = None, commune: str | None = None
    ) -> dict[str, Any]:
        """The figures of ``province_summary`` for the province, one 2020 district or one
        commune of ``result``: communes of the area, products recorded there (every reason)
        and, as completeness, the area's published total where one is known."""
        communes, eligibility = result.communes, result.eligibility
        province_total, district_totals = self.published()
        if commune:
            kind, published_total = "commune", None
            in_area = communes["commune_code"].eq(commune)
            rows = eligibility["commune_code"].eq(commune)
        elif district:
            kind, published_total = "district", district_totals.get(district)
            in_area = communes["district_code"].eq(district)
            rows = eligibility["district_code"].eq(district)
        else:
            kind, published_total = "province", province_total
            in_area = pd.Series(True, index=communes.index)
            rows = pd.Series(True, index=eligibility.index)
        summary = cov.province_summary(
            communes.loc[in_area.fillna(False).to_numpy(dtype=bool)],
            eligibility.loc[rows.fillna(False).to_numpy(dtype=bool)],
            result.params,
            published_total,
        )
        summary.update(
            edition=result.edition,
            area_kind=kind,
            has_illustrative=result.province["has_illustrative"],
            products_recorded_province=len(eligibility),
            province_published_total=province_total.number if province_total else None,
            province_published_total_as_of=province_total.as_of if province_total else None,
        )
        return summary

    def _low_2025_communes(self) -> set[str]:
        """2025 communes made (in part) of 2020 communes whose district has few of its
        published products named here (edition 2020's ``completeness_low``)."""
        result = self.coverage("2020", self.default_params())
        low = result.communes.loc[result.communes["completeness_low"].fillna(False).astype(bool)]
        crosswalk = self.store.crosswalk()
        chosen = crosswalk["old_commune_code"].isin(low["commune_code"])
        return set(crosswalk.loc[chosen, "new_commune_code"].dropna().astype(str))

    @staticmethod
    def _with_district_completeness(
        communes: gpd.GeoDataFrame, districts: pd.DataFrame
    ) -> gpd.GeoDataFrame:
        columns = ["district_code", "n_named", "n_published", "named_share", "completeness_low"]
        renamed = districts[columns].rename(
            columns={
                "n_named": "district_named",
                "n_published": "district_published",
                "named_share": "district_named_share",
            }
        )
        return communes.merge(renamed, on="district_code", how="left", validate="many_to_one")

    def communes_geojson(self, edition: str, params: cov.CoverageParams) -> Payload:
        def build() -> Payload:
            result = self.coverage(edition, params)
            columns = [
                "commune_code",
                "commune_full_name",
                "commune_type",
                "n_products",
                "target",
                "missing",
                "status",
                "product_names",
            ]
            if edition == "2020":
                columns += [
                    "district_code",
                    "district_name",
                    "district_named",
                    "district_published",
                    "district_named_share",
                    "completeness_low",
                ]
            else:
                columns += ["former_province", "completeness_low"]
            return payload(feature_collection(result.communes, columns), "application/geo+json")

        return self._cached("communes.geojson", edition, params, compute=build)

    def districts_geojson(self, params: cov.CoverageParams) -> Payload:
        def build() -> Payload:
            summary = self.coverage("2020", params).districts
            shapes = self.store.districts("display")[
                ["district_code", "district_full_name", "geometry"]
            ]
            frame = shapes.merge(summary, on="district_code", validate="one_to_one")
            label_points = frame.geometry.representative_point()
            frame["label_lon"] = label_points.x.round(5)
            frame["label_lat"] = label_points.y.round(5)
            return payload(feature_collection(frame), "application/geo+json")

        return self._cached("districts.geojson", params, compute=build)

    def producers_geojson(self) -> Payload:
        def build() -> Payload:
            data = self.store.ocop()
            products = data.products.sort_values(["stars", "name"], ascending=[False, True])
            listed: dict[str, list[dict]] = {}
            for row in products[["producer_id", "name", "stars", "group_148"]].itertuples():
                listed.setdefault(row.producer_id, []).append(
                    {"name": row.name, "stars": row.stars, "group": row.group_148}
                )
            frame = self._with_place_names(data.producers)
            frame["products"] = [listed.get(pid, []) for pid in frame["producer_id"]]
            frame["main_group"] = [
                items[0]["group"] if items else None for items in frame["products"]
            ]
            frame["approximate"] = frame["location_precision"].isin(APPROXIMATE_PRECISIONS)
            columns = [
                "producer_id",
                "name",
                "producer_type",
                "commune_code",
                "commune_name",
                "district_code",
                "district_name",
                "location_precision",
                "approximate",
                "products",
                "main_group",
                "source_ids",
                "illustrative",
            ]
            located = frame.loc[frame.geometry.notna() & ~frame.geometry.is_empty]
            return payload(feature_collection(located, columns), "application/geo+json")

        return self._cached("producers.geojson", compute=build)

    def outlets_geojson(self) -> Payload:
        def build() -> Payload:
            frame = self._with_place_names(self.store.ocop().outlets)
            frame["approximate"] = frame["location_precision"].isin(APPROXIMATE_PRECISIONS)
            columns = [
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
                "approximate",
                "operator",
                "opened",
                "source_ids",
                "notes",
                "illustrative",
            ]
            located = frame.loc[frame.geometry.notna() & ~frame.geometry.is_empty]
            return payload(feature_collection(located, columns), "application/geo+json")

        return self._cached("outlets.geojson", compute=build)

    def candidates_geojson(self, edition: str) -> Payload:
        """Products in the pipeline (not certified), one point per commune of ``edition`` (and
        per 2020 district for those known only by district): a layer of their own, which no
        coverage figure includes."""

        def build() -> Payload:
            frame = cand.layer_points(
                self.store.ocop().candidates,
                edition,
                self.store.crosswalk(),
                self.store.communes(edition, "display"),
                self.store.districts("display") if edition == "2020" else None,
            )
            return payload(feature_collection(frame), "application/geo+json")

        return self._cached("candidates.geojson", edition, compute=build)

    def _with_place_names(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        communes = self.store.communes("2020", "display")
        districts = self.store.districts("display")
        commune_names = communes.set_index("commune_code")["commune_full_name"]
        district_names = districts.set_index("district_code")["district_full_name"]
        out = frame.copy()
        out["commune_name"] = out["commune_code"].map(commune_names)
        out["district_name"] = out["district_code"].map(district_names)
        return out
