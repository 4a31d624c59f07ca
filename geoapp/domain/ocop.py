"""The OCOP data model: column names of each table and the container the store hands out.

Coordinates are WGS 84 longitude/latitude (EPSG:4326). Commune and district codes are the GSO
codes of the 2020 edition (communes: 5 digits, districts: 3 digits), stored as strings.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import pandas as pd

PRODUCT_COLUMNS = (
    "product_id",
    "name",
    "group_1048",
    "group_148",
    "stars",
    "recognition_year",
    "recognition_date",
    "recognition_date_precision",
    "decision",
    "producer_id",
    "source_ids",
    "notes",
    "illustrative",
)
PRODUCER_COLUMNS = (
    "producer_id",
    "name",
    "producer_type",
    "commune_code",
    "district_code",
    "lon",
    "lat",
    "location_precision",
    "sells_on_site",
    "source_ids",
    "notes",
    "illustrative",
)
OUTLET_COLUMNS = (
    "outlet_id",
    "name",
    "kind",
    "status",
    "address",
    "commune_code",
    "district_code",
    "lon",
    "lat",
    "location_precision",
    "operator",
    "opened",
    "source_ids",
    "notes",
    "illustrative",
)

# Products registered or scored whose certification no source confirms (``candidates.csv``):
# shown to planners as "in the pipeline", never counted as OCOP. ``stars`` stays text ("3?").
CANDIDATE_COLUMNS = (
    "candidate_id",
    "name",
    "producer",
    "producer_type",
    "commune_code",
    "district_code",
    "location_precision",
    "place_given",
    "stars",
    "recognition_year",
    "decision",
    "group_1048",
    "group_148",
    "source_ids",
    "notes",
)

# Provenance of imported records: file name, row ("sheet:row" for a workbook), import time (UTC,
# ISO 8601). Optional: tables written before imports existed lack them and read as empty. The
# shipped facts (the seed) leave them empty and name their sources in ``source_ids``.
PROVENANCE_COLUMNS = ("source_file", "source_row", "imported_at")

PRODUCER_TYPES = ("cooperative", "sme", "cooperative_group", "household", "unknown")
OUTLET_KINDS = ("centre", "sales_point")
OUTLET_STATUSES = ("open", "planned", "unconfirmed")
LOCATION_PRECISIONS = ("exact", "address", "commune", "district")
APPROXIMATE_PRECISIONS = frozenset({"commune", "district"})


def empty_candidates() -> pd.DataFrame:
    """A candidates table with no row (a version folder written before candidates existed)."""
    return pd.DataFrame({c: pd.Series(dtype="string") for c in CANDIDATE_COLUMNS})


@dataclasses.dataclass(frozen=True)
class OcopData:
    """Products, producers and outlets as loaded from a store.

    ``producers`` and ``outlets`` are GeoDataFrames of points in EPSG:4326; ``products`` is a
    plain DataFrame joined to producers by ``producer_id``. ``province_stats`` holds the published
    province and district totals as text, with their source ids. ``candidates`` (plain, text
    columns ``CANDIDATE_COLUMNS``, 2020 ``commune_code``/``district_code``) are products in the
    pipeline, not certified: no count of OCOP products includes them.
    """

    products: pd.DataFrame
    producers: gpd.GeoDataFrame
    outlets: gpd.GeoDataFrame
    province_stats: pd.DataFrame
    candidates: pd.DataFrame = dataclasses.field(default_factory=lambda: empty_candidates())

    @property
    def has_illustrative(self) -> bool:
        return any(
            bool(frame["illustrative"].any()) if len(frame) else False
            for frame in (self.products, self.producers, self.outlets)
        )
