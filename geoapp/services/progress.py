"""Progress towards the 2025 targets, year by year, for the province or one 2020 district.

What the target is about is communes: each should have ``target`` products counted. So the
series are the communes meeting the target at each year end (at the as-of date in the as-of
year), the five-star products against their own target, and the products counted; all come
from ``CoverageService.coverage`` at that date, so every point equals what the map shows for
the same date. Published totals stay apart (their own panel): they count certificates the
data does not name, and round results ("85 rated in the 2019 round") are not totals at all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pandas as pd

from geoapp.domain import coverage as cov
from geoapp.domain import eligibility as elig
from geoapp.domain import published as pub
from geoapp.services.coverage import PROVINCE_2020_NAME, CoverageService
from geoapp.services.geojson import json_value

PROGRESS_FIELDS = [
    "area_code",
    "area_name",
    "year",
    "date",
    "communes_met",
    "n_communes",
    "products_counted",
    "five_star_counted",
    "new",
]
# Reasons that depend on the product and the filters, not on the date.
_FILTER_REASONS = frozenset({"no_rating", "below_min_stars", "other_group", "other_producer_type"})


@dataclasses.dataclass(frozen=True)
class Progress:
    """Year-end figures for one area; every list is aligned with ``years``.

    ``communes_met`` of ``n_communes`` meet the target of ``target`` products;
    ``products_counted`` and ``five_star_counted`` count at each year end; ``new`` are the
    products in the filters recognised that year. ``undated`` products counted at the as-of
    date have no recognition year (they are in no ``new``). ``published`` holds the area's
    published totals (``kind`` total) and ``published_other`` everything else it published.
    """

    area_code: str
    area_name: str
    years: list[int]
    dates: list[str]
    communes_met: list[int]
    n_communes: int
    target: int
    products_counted: list[int]
    five_star_counted: list[int]
    five_star_target: int
    new: list[int]
    undated: int
    by_district: pd.DataFrame
    published: pd.DataFrame
    published_other: pd.DataFrame

    def rows(self) -> pd.DataFrame:
        """One row per year (the ``progress`` sheet of the workbook)."""
        return pd.DataFrame(
            {
                "year": self.years,
                "date": self.dates,
                "communes_met": self.communes_met,
                "n_communes": [self.n_communes] * len(self.years),
                "products_counted": self.products_counted,
                "five_star_counted": self.five_star_counted,
                "new": self.new,
            }
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "area_code": self.area_code,
            "area_name": self.area_name,
            "years": self.years,
            "dates": self.dates,
            "communes_met": self.communes_met,
            "n_communes": self.n_communes,
            "target": self.target,
            "products_counted": self.products_counted,
            "five_star_counted": self.five_star_counted,
            "five_star_target": self.five_star_target,
            "new": self.new,
            "undated": self.undated,
            "published": _records(self.published),
            "published_other": _records(self.published_other),
            "by_district": _records(self.by_district),
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = frame.astype(object).to_dict("records")
    return [{k: json_value(v) for k, v in row.items()} for row in rows]


def year_ends(as_of: dt.date) -> list[dt.date]:
    """31 December of every year from the programme's start to ``as_of``'s year, the last
    one replaced by ``as_of`` itself (none before the programme started)."""
    first = elig.PROGRAMME_START.year
    return [min(dt.date(year, 12, 31), as_of) for year in range(first, as_of.year + 1)]


def compute_progress(
    coverage: CoverageService, edition: str, params: cov.CoverageParams, district: str | None
) -> Progress:
    """The progress of the province (``district`` None) or of one 2020 district."""
    dates = year_ends(params.as_of)
    results = [coverage.coverage(edition, dataclasses.replace(params, as_of=d)) for d in dates]
    districts = coverage.store.districts("display")
    names = districts.set_index("district_code")["district_name"]
    by_district = _by_district(results if edition == "2020" else [], names)
    if district:
        area_code, area_name = district, str(names.get(district, district))
    else:
        area_code, area_name = "49", PROVINCE_2020_NAME
    at_as_of = coverage.coverage(edition, params)
    yearly = [_area_figures(r, district) for r in results]
    eligibility = _in_area(at_as_of.eligibility, district)
    in_filter = eligibility.loc[~eligibility["reason"].isin(_FILTER_REASONS)]
    dated = in_filter.loc[in_filter["date_basis"].ne("unknown"), "recognised_on"]
    new_by_year = pd.to_datetime(dated).dt.year.value_counts()
    counted_now = elig.counted(eligibility)
    published = pub.published_figures(coverage.store.ocop().province_stats, area_name)
    return Progress(
        area_code=str(area_code),
        area_name=area_name,
        years=[d.year for d in dates],
        dates=[d.isoformat() for d in dates],
        communes_met=[f["communes_met"] for f in yearly],
        n_communes=_area_figures(at_as_of, district)["n_communes"],
        target=params.target,
        products_counted=[f["products_counted"] for f in yearly],
        five_star_counted=[f["five_star_counted"] for f in yearly],
        five_star_target=cov.TARGET_FIVE_STAR,
        new=[int(new_by_year.get(d.year, 0)) for d in dates],
        undated=int(counted_now["date_basis"].eq("unknown").sum()),
        by_district=by_district,
        published=published.loc[published["kind"].eq("total")].reset_index(drop=True),
        published_other=published.loc[published["kind"].ne("total")].reset_index(drop=True),
    )


def _in_area(eligibility: pd.DataFrame, district: str | None) -> pd.DataFrame:
    if not district:
        return eligibility
    return eligibility.loc[eligibility["district_code"].eq(district).fillna(False)]


def _area_figures(result: Any, district: str | None) -> dict[str, int]:
    """Communes met, communes scored, products and five-star products counted in an area."""
    communes = result.communes
    scored = communes.loc[communes["status"].ne("no_data")]
    if district:
        scored = scored.loc[scored["district_code"].eq(district).fillna(False)]
    counted = _in_area(result.counted, district)
    stars = pd.to_numeric(counted["stars"], errors="coerce")
    return {
        "communes_met": int(scored["status"].eq("met").sum()),
        "n_communes": len(scored),
        "products_counted": len(counted),
        "five_star_counted": int(stars.eq(5).sum()),
    }


def _by_district(results: list[Any], names: pd.Series) -> pd.DataFrame:
    """One row per 2020 district and year end."""
    columns = [c for c in PROGRESS_FIELDS if c != "new"]
    frames = []
    for result in results:
        summary = result.districts[["district_code", "communes_met", "n_communes", "n_products"]]
        summary = summary.rename(
            columns={"district_code": "area_code", "n_products": "products_counted"}
        )
        stars = pd.to_numeric(result.counted["stars"], errors="coerce")
        five = result.counted.loc[stars.eq(5).to_numpy(dtype=bool)].groupby("district_code").size()
        summary["five_star_counted"] = summary["area_code"].map(five).fillna(0).astype(int)
        summary["area_name"] = summary["area_code"].map(names)
        summary["year"] = result.params.as_of.year
        summary["date"] = result.params.as_of.isoformat()
        frames.append(summary[columns])
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)
