"""Parts of the visitor catalogue: each product's status today, and the search entries.

A product's visitor status comes from the one eligibility rule (``geoapp.domain.eligibility``)
judged at today's date, with no filter but a rating (``min_stars`` 1):

- ``ocop``: its certificate is valid today (or its recognition date is not recorded, so the rule
  counts it and its expiry cannot be checked: ``date_recorded`` is false);
- ``expired``: its certificate expired on ``certificate_expiry`` (the data records no renewals);
- ``not_yet_recognised``: its recognition is dated after today;
- ``no_rating``: no confirmed star rating.

Only ``ocop`` products are shown as OCOP products and pass a stars or group filter.
Locations are WGS 84 degrees (EPSG:4326).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from geoapp.domain import eligibility as elig
from geoapp.domain.ocop import OcopData
from geoapp.domain.search import SearchEntry
from geoapp.storage.base import Store

PRODUCT_STATUSES = ("ocop", "expired", "not_yet_recognised", "no_rating")
# The rule's reasons, as a visitor sees them. Placement reasons do not matter to a visitor:
# a product made in a commune outside the scored edition is still a valid OCOP product.
STATUS_OF_REASON = {
    elig.COUNTED: "ocop",
    "district_only": "ocop",
    "outside_edition": "ocop",
    "unplaced": "ocop",
    "expired": "expired",
    "not_yet_recognised": "not_yet_recognised",
    "before_programme": "not_yet_recognised",
    "no_rating": "no_rating",
    "below_min_stars": "no_rating",  # a rating under 1 star is no rating
}
COORDINATE_DECIMALS = 6


@dataclasses.dataclass(frozen=True)
class ProductStatus:
    """A product's visitor status (one of ``PRODUCT_STATUSES``) and its dates (ISO 8601)."""

    ocop_status: str
    certificate_expiry: str | None
    recognised_on: str | None
    date_recorded: bool

    def fields(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def visitor_rule(today: dt.date, certificate_months: int) -> elig.EligibilityFilter:
    """The eligibility filter of the visitor pages: valid today, any rating, every group."""
    return elig.EligibilityFilter(as_of=today, min_stars=1, certificate_months=certificate_months)


def _iso(value: Any) -> str | None:
    return pd.Timestamp(value).date().isoformat() if pd.notna(value) else None


def product_statuses(eligibility: pd.DataFrame) -> dict[str, ProductStatus]:
    """Each product's ``ProductStatus`` by ``product_id``, from ``product_eligibility``."""
    out: dict[str, ProductStatus] = {}
    for row in eligibility[
        ["product_id", "reason", "certificate_expiry", "recognised_on", "date_basis"]
    ].itertuples(index=False):
        status = STATUS_OF_REASON.get(str(row.reason))
        if status is None:  # a filter reason: the visitor rule sets no group or producer type
            raise ValueError(f"unexpected eligibility reason {row.reason!r}")
        out[row.product_id] = ProductStatus(
            status,
            _iso(row.certificate_expiry),
            _iso(row.recognised_on),
            str(row.date_basis) != "unknown",
        )
    return out


def text_or_none(value: Any) -> str | None:
    """The stripped text of a cell, ``None`` for NA, NaN or blank."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    text = str(value).strip()
    return text or None


def stars_or_none(value: Any) -> int | None:
    """A star rating as a whole number, ``None`` when missing or not a number."""
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(number) else int(number)


def _point(lat: Any, lon: Any) -> tuple[float | None, float | None]:
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        return None, None
    if np.isnan(lat_f) or np.isnan(lon_f):
        return None, None
    return round(lat_f, COORDINATE_DECIMALS), round(lon_f, COORDINATE_DECIMALS)


def _area_entries(store: Store, district_names: dict[str, str]) -> list[SearchEntry]:
    entries: list[SearchEntry] = []
    districts = store.districts("display")
    inner = districts.geometry.representative_point()
    for row, pt in zip(districts.itertuples(index=False), inner, strict=True):
        entries.append(
            SearchEntry(
                "district",
                row.district_code,
                row.district_full_name,
                (row.district_name,),
                *_point(pt.y, pt.x),
                extra=(("edition", "2020"), ("approximate", True)),
            )
        )
    for edition in ("2020", "2025"):
        communes = store.communes(edition, "display")
        inner = communes.geometry.representative_point()
        for row, pt in zip(communes.itertuples(index=False), inner, strict=True):
            extra: list[tuple[str, Any]] = [("edition", edition), ("approximate", True)]
            if edition == "2020":
                extra.append(("district_name", district_names.get(row.district_code)))
            else:
                extra.append(("former_province", getattr(row, "former_province", None)))
            entries.append(
                SearchEntry(
                    "commune",
                    row.commune_code,
                    row.commune_full_name,
                    (row.commune_name,),
                    *_point(pt.y, pt.x),
                    extra=tuple(extra),
                )
            )
    return entries


def search_entries(
    store: Store,
    data: OcopData,
    commune_names: dict[str, str],
    district_names: dict[str, str],
    statuses: dict[str, ProductStatus],
) -> list[SearchEntry]:
    """Districts, communes (both editions), outlets, producers and products to search; each
    product carries its visitor status (``product_statuses``)."""
    entries = _area_entries(store, district_names)
    precise = {"exact", "address"}
    for row in data.outlets.itertuples(index=False):
        entries.append(
            SearchEntry(
                "outlet",
                row.outlet_id,
                text_or_none(row.name) or row.outlet_id,
                tuple(a for a in (text_or_none(row.address),) if a),
                *_point(row.lat, row.lon),
                extra=(
                    ("kind", text_or_none(row.kind)),
                    ("approximate", text_or_none(row.location_precision) not in precise),
                    ("district_name", district_names.get(text_or_none(row.district_code) or "")),
                ),
            )
        )
    return entries + _producer_and_product_entries(data, commune_names, district_names, statuses)


def _producer_and_product_entries(
    data: OcopData,
    commune_names: dict[str, str],
    district_names: dict[str, str],
    statuses: dict[str, ProductStatus],
) -> list[SearchEntry]:
    entries: list[SearchEntry] = []
    precise = {"exact", "address"}
    producer_point: dict[str, tuple[float | None, float | None, bool]] = {}
    producer_name: dict[str, str | None] = {}
    for row in data.producers.itertuples(index=False):
        lat, lon = _point(row.lat, row.lon)
        approximate = text_or_none(row.location_precision) not in precise
        producer_point[row.producer_id] = (lat, lon, approximate)
        producer_name[row.producer_id] = text_or_none(row.name)
        if not text_or_none(row.name):
            continue
        entries.append(
            SearchEntry(
                "producer",
                row.producer_id,
                text_or_none(row.name),
                (),
                lat,
                lon,
                extra=(
                    ("approximate", approximate),
                    ("commune_name", commune_names.get(text_or_none(row.commune_code) or "")),
                    ("district_name", district_names.get(text_or_none(row.district_code) or "")),
                ),
            )
        )
    for row in data.products.itertuples(index=False):
        lat, lon, approximate = producer_point.get(row.producer_id, (None, None, True))
        entries.append(
            SearchEntry(
                "product",
                row.product_id,
                text_or_none(row.name) or row.product_id,
                (),
                lat,
                lon,
                extra=(
                    ("approximate", approximate),
                    ("stars", stars_or_none(row.stars)),
                    ("group", text_or_none(row.group_148)),
                    ("producer_id", row.producer_id),
                    ("producer_name", producer_name.get(row.producer_id)),
                    *statuses[row.product_id].fields().items(),
                ),
            )
        )
    return entries
