"""Report data for one area (the province, a district or a commune) and the report cache.

The service selects the area, sums its figures with the coverage domain and hands plain data
to the renderers (``geoapp.render.static_map``, ``geoapp.render.pdf_report``), which the web
layer calls; rendered files are cached here by their parameters and the store's data version,
so a data import invalidates them. Geometries are EPSG:4326 (longitude/latitude, degrees).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from geoapp.domain import coverage as cov
from geoapp.services.cache import LruCache
from geoapp.services.coverage import PROVINCE_2020_NAME, CoverageService, Payload

AreaKind = Literal["province", "district", "commune"]

BOUNDARY_SOURCES = (
    "Boundaries: dvhcvn (GPL-3.0), vietnamese-provinces-database (MIT), vietnam63 (MIT), "
    "sapnhap.bando.com.vn"
)
OCOP_SOURCES = (
    "OCOP facts: public pages of the Quảng Nam press and government (baoquangnam.vn, "
    "quangnam.gov.vn, ocop.quangnam.gov.vn and others); every product and published total "
    "names its source ids, listed in SOURCES.md of the facts"
)
GAP_STATUSES = ("none", "below")


@dataclasses.dataclass(frozen=True)
class ReportRequest:
    """What a report shows: the edition, the coverage parameters and the area.

    ``district`` is a 2020 district code (edition 2020 only), ``commune`` a commune code of the
    edition; ``bbox`` (west, south, east, north in degrees, EPSG:4326) overrides the map extent.
    """

    edition: str
    params: cov.CoverageParams
    district: str | None = None
    commune: str | None = None
    bbox: tuple[float, float, float, float] | None = None

    def args(self) -> dict[str, str]:
        """The area as query-string values (for file names and links)."""
        out = {"edition": self.edition}
        if self.district:
            out["district"] = self.district
        if self.commune:
            out["commune"] = self.commune
        return out


@dataclasses.dataclass(frozen=True)
class AreaReport:
    """Everything a map or report of one area shows.

    ``communes`` holds every commune of the edition (EPSG:4326) with the coverage columns and
    ``in_area``; ``districts`` the 2020 district shapes; ``extent`` the bounds to show (degrees);
    ``counts`` the communes per status inside the area; ``summary`` the area's figures (as
    ``province_summary``); ``district_table`` one row per district in the area (edition 2020);
    ``gaps`` the communes of the area below the target, most missing first.
    """

    request: ReportRequest
    area_kind: AreaKind
    area_name: str
    communes: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    extent: tuple[float, float, float, float]
    counts: dict[str, int]
    summary: dict[str, Any]
    district_table: pd.DataFrame
    gaps: pd.DataFrame
    source_ids: tuple[str, ...]
    data_version: str

    @property
    def products_counted(self) -> int:
        return int(self.summary["products_counted"])

    @property
    def sources(self) -> tuple[str, str]:
        return BOUNDARY_SOURCES, OCOP_SOURCES


class ReportService:
    """Builds area reports from the coverage service and caches rendered files."""

    def __init__(self, coverage: CoverageService, max_entries: int = 64) -> None:
        self.coverage = coverage
        self.store = coverage.store
        self._cache = LruCache(max_entries=max_entries)

    # -- choices the web layer validates against --------------------------------------------

    def commune_names(self, edition: str) -> dict[str, str]:
        """Commune code -> full name of the edition, in code order."""
        frame = self.store.communes(edition, "display").sort_values("commune_code")
        return dict(zip(frame["commune_code"], frame["commune_full_name"], strict=True))

    def commune_district(self, commune: str) -> str | None:
        """The 2020 district code of a 2020 commune (``None`` if unknown)."""
        frame = self.store.communes("2020", "display")
        match = frame.loc[frame["commune_code"] == commune, "district_code"]
        return None if match.empty else str(match.iloc[0])

    # -- report data --------------------------------------------------------------------------

    def area_report(self, request: ReportRequest) -> AreaReport:
        """The figures, gap list and map layers of ``request``'s area (cached)."""
        key = (self.store.data_version(), "area", request)
        return self._cache.get_or_compute(key, lambda: self._build(request))

    def _build(self, request: ReportRequest) -> AreaReport:
        result = self.coverage.coverage(request.edition, request.params)
        communes = result.communes.copy()
        counted = result.counted
        districts = self.store.districts("display")
        if request.commune:
            kind: AreaKind = "commune"
            in_area = communes["commune_code"].eq(request.commune)
            counted = counted.loc[counted["commune_code"].eq(request.commune).fillna(False)]
        elif request.district:
            kind = "district"
            in_area = communes["district_code"].eq(request.district)
            counted = counted.loc[counted["district_code"].eq(request.district).fillna(False)]
        else:
            kind = "province"
            in_area = pd.Series(True, index=communes.index)
        in_area = in_area.fillna(False).astype(bool)
        communes["in_area"] = in_area.to_numpy()
        area = communes.loc[communes["in_area"]]
        summary = self.coverage.area_summary(result, request.district, request.commune)
        counts = {s: int(area["status"].eq(s).sum()) for s in cov.STATUSES}
        # Frame the communes with data: edition 2025's far islands of Đà Nẵng have none.
        scored = area.loc[area["status"].ne("no_data")]
        framed = scored if len(scored) else area
        return AreaReport(
            request=request,
            area_kind=kind,
            area_name=self._area_name(request, communes, districts),
            communes=communes,
            districts=districts,
            extent=request.bbox or tuple(float(v) for v in framed.total_bounds),
            counts=counts,
            summary=summary,
            district_table=self._district_table(result.districts, request),
            gaps=self._gaps(area, request.edition),
            source_ids=_source_ids(counted),
            data_version=self.store.data_version(),
        )

    @staticmethod
    def _area_name(
        request: ReportRequest, communes: gpd.GeoDataFrame, districts: gpd.GeoDataFrame
    ) -> str:
        if request.commune:
            row = communes.loc[communes["commune_code"].eq(request.commune)].iloc[0]
            if request.edition == "2020":
                return f"{row['commune_full_name']}, {row['district_full_name']}"
            return str(row["commune_full_name"])
        if request.district:
            row = districts.loc[districts["district_code"].eq(request.district)].iloc[0]
            return str(row["district_full_name"])
        return PROVINCE_2020_NAME

    @staticmethod
    def _district_table(summary: pd.DataFrame, request: ReportRequest) -> pd.DataFrame:
        if summary.empty:
            return summary
        table = summary
        if request.district:
            table = table.loc[table["district_code"].eq(request.district)]
        elif request.commune and request.edition == "2020":
            table = table.iloc[0:0]
        return table.sort_values("district_code").reset_index(drop=True)

    @staticmethod
    def _gaps(area: gpd.GeoDataFrame, edition: str) -> pd.DataFrame:
        place = "district_full_name" if edition == "2020" else "former_province"
        gaps = area.loc[area["status"].isin(GAP_STATUSES)]
        columns = ["commune_code", "commune_full_name", place, "n_products", "missing", "status"]
        frame = pd.DataFrame(gaps[columns]).rename(columns={place: "place"})
        frame = frame.sort_values(
            ["missing", "place", "commune_full_name"], ascending=[False, True, True]
        )
        return frame.reset_index(drop=True)

    # -- rendered files -----------------------------------------------------------------------

    def cached_file(self, kind: str, key: Hashable, build: Callable[[], Payload]) -> Payload:
        """A rendered file cached under ``kind``, ``key`` and the current data version."""
        return self._cache.get_or_compute((self.store.data_version(), kind, key), build)


def _source_ids(counted: pd.DataFrame) -> tuple[str, ...]:
    """Source ids (``S01`` ...) named by the counted products, sorted."""
    if "source_ids" not in counted.columns:
        return ()
    ids: set[str] = set()
    for value in counted["source_ids"].dropna():
        ids.update(part.strip() for part in str(value).replace(",", ";").split(";") if part.strip())
    return tuple(sorted(ids))
