"""Per-commune OCOP coverage against the target of N products rated at least M stars.

Whether a product counts is decided by ``geoapp.domain.eligibility.product_eligibility``
(stars, group, producer type, certificate validity at ``as_of``, placement in the edition);
this module only adds the counted products up per commune, district and province.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoapp.domain import eligibility as elig
from geoapp.domain.eligibility import add_months, certificate_expiry  # noqa: F401 (re-export)
from geoapp.domain.published import PublishedTotal

STATUSES = ("none", "below", "met", "no_data")

# Province targets for 2021-2025.
TARGET_FIVE_STAR = 5
# A district whose recorded products are under this share of its published total has its
# communes hatched: there, "no product recorded" may well not mean "no product".
LOW_COMPLETENESS = 0.5


@dataclasses.dataclass(frozen=True)
class CoverageParams(elig.EligibilityFilter):
    """What to count (``EligibilityFilter``) and the target: products per commune."""

    target: int = 2


def counted_products(
    products: pd.DataFrame,
    producers: pd.DataFrame,
    params: elig.EligibilityFilter,
    *,
    edition: str = "2020",
    communes_in_scope: pd.Index | None = None,
) -> pd.DataFrame:
    """Products that count at ``params`` (see ``product_eligibility``), with their producer's
    commune and district codes, ``certificate_expiry`` and ``date_known``."""
    return elig.counted(
        elig.product_eligibility(
            products, producers, params, edition=edition, communes_in_scope=communes_in_scope
        )
    )


def status_of(counts: pd.Series, target: int) -> pd.Series:
    """``none`` for 0, ``below`` under ``target``, ``met`` at or above it."""
    values = np.where(counts <= 0, "none", np.where(counts < target, "below", "met"))
    return pd.Series(values, index=counts.index, dtype="string")


def commune_coverage(
    communes: pd.DataFrame,
    counted: pd.DataFrame,
    target: int,
    in_scope: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per commune: ``n_products``, ``product_names``, ``missing``, ``status``.

    ``counted`` holds one row per counted product with a ``commune_code`` (missing where only
    the district is known; those rows are ignored here). Communes where ``in_scope`` is False
    get status ``no_data`` and null counts instead of zero.
    """
    located = counted.dropna(subset=["commune_code"]).drop_duplicates("product_id")
    grouped = located.groupby("commune_code", sort=False)
    n_products = grouped["product_id"].nunique()
    named = located.loc[located["name"].notna(), ["commune_code", "name"]]
    named = named.sort_values(["commune_code", "name"])  # code point order, as sorted()
    codes = named["commune_code"].to_numpy(dtype=object)
    cuts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    names = {
        group[0]: [str(n) for n in texts]
        for group, texts in zip(
            np.split(codes, cuts),
            np.split(named["name"].to_numpy(dtype=object), cuts),
            strict=True,
        )
        if len(group)
    }
    result = communes[["commune_code"]].copy()
    result["n_products"] = result["commune_code"].map(n_products).fillna(0).astype("Int64")
    result["product_names"] = [names.get(code, []) for code in result["commune_code"]]
    result["target"] = target
    result["missing"] = (target - result["n_products"]).clip(lower=0).astype("Int64")
    result["status"] = status_of(result["n_products"], target)
    if in_scope is not None:
        out = ~in_scope.to_numpy(dtype=bool)
        result.loc[out, "status"] = "no_data"
        result.loc[out, ["n_products", "missing"]] = pd.NA
        result.loc[out, "product_names"] = pd.Series([[]] * int(out.sum()), dtype=object).values
    return result


def locate_points(points: gpd.GeoSeries, polygons: gpd.GeoDataFrame, code_column: str) -> pd.Series:
    """Code of the polygon containing each point (EPSG:4326 both), ``<NA>`` outside all.

    A point on an edge shared by two polygons goes to the one with the smaller code, so the
    answer does not depend on row order.
    """
    result = pd.Series(pd.NA, index=points.index, dtype="string")
    present = points.notna() & ~points.is_empty
    if not present.any():
        return result
    located = points[present]
    # The tree holds the points and each polygon is prepared once as the query: far faster
    # than testing every point against an unprepared polygon (300,000 points on the 2025
    # communes: well under a second instead of about 9 s).
    tree = shapely.STRtree(np.asarray(located.values))
    polygon_at, point_at = tree.query(np.asarray(polygons.geometry.values), predicate="intersects")
    codes = polygons[code_column].to_numpy(dtype=object)[polygon_at]
    hits = pd.Series(codes, index=point_at, dtype="string")
    best = hits.groupby(level=0).min()
    result.loc[located.index[best.index.to_numpy()]] = best.to_numpy()
    return result


def district_summary(
    districts: pd.DataFrame,
    communes: pd.DataFrame,
    coverage: pd.DataFrame,
    counted: pd.DataFrame,
    named: pd.Series | None = None,
    published: Mapping[str, PublishedTotal] | None = None,
) -> pd.DataFrame:
    """Per district: products counted (commune-located and district-only), communes met /
    below / none, the share of communes meeting the target (0-1) and the data's completeness:
    ``n_named`` products recorded (``named``: district code -> count, whatever the filters)
    against ``n_published``, the district's published total, where one is known."""
    merged = coverage.merge(communes[["commune_code", "district_code"]], on="commune_code")
    status_counts = (
        merged.pivot_table(
            index="district_code",
            columns="status",
            values="commune_code",
            aggfunc="count",
            fill_value=0,
        )
        .reindex(columns=["met", "below", "none"], fill_value=0)
        .rename(columns=lambda c: f"communes_{c}")
    )
    unique = counted.drop_duplicates("product_id")
    products_total = unique.groupby("district_code")["product_id"].nunique()
    district_only = (
        unique.loc[unique["commune_code"].isna()].groupby("district_code")["product_id"].nunique()
    )
    result = districts[["district_code", "district_name"]].copy()
    result = result.merge(status_counts, left_on="district_code", right_index=True, how="left")
    for column in ("communes_met", "communes_below", "communes_none"):
        result[column] = result[column].fillna(0).astype(int)
    result["n_communes"] = result[["communes_met", "communes_below", "communes_none"]].sum(axis=1)
    result["n_products"] = result["district_code"].map(products_total).fillna(0).astype(int)
    result["n_products_district_only"] = (
        result["district_code"].map(district_only).fillna(0).astype(int)
    )
    result["share_met"] = np.where(
        result["n_communes"] > 0, result["communes_met"] / result["n_communes"].clip(lower=1), 0.0
    )
    return add_completeness(result, named, published)


def add_completeness(
    districts: pd.DataFrame,
    named: pd.Series | None,
    published: Mapping[str, PublishedTotal] | None,
) -> pd.DataFrame:
    """``districts`` with ``n_named``, ``n_published``, ``published_as_of``,
    ``published_sources``, ``named_share`` (0-1, capped at 1; NA without a published total)
    and ``completeness_low`` (named share under ``LOW_COMPLETENESS``)."""
    out = districts.copy()
    codes = out["district_code"].astype(str)
    named = named if named is not None else pd.Series(dtype=int)
    published = published or {}
    out["n_named"] = codes.map(named).fillna(0).astype(int)
    out["n_published"] = pd.array([_number(published.get(c)) for c in codes], dtype="Int64")
    out["published_as_of"] = pd.array(
        [published[c].as_of if c in published else None for c in codes], dtype="string"
    )
    out["published_sources"] = pd.array(
        [published[c].source_ids if c in published else None for c in codes], dtype="string"
    )
    share = out["n_named"] / out["n_published"].astype("Float64")
    out["named_share"] = share.clip(upper=1.0)
    out["completeness_low"] = out["named_share"].lt(LOW_COMPLETENESS).fillna(False).astype(bool)
    return out.reset_index(drop=True)


def _number(total: PublishedTotal | None) -> int | None:
    return total.number if total is not None else None


def province_summary(
    coverage: pd.DataFrame,
    eligibility: pd.DataFrame,
    params: CoverageParams,
    published: PublishedTotal | None = None,
) -> dict:
    """Province figures against the 2025 targets, what each reason leaves out and the data's
    completeness (products recorded against the latest published total)."""
    scored = coverage.loc[coverage["status"] != "no_data"]
    counted = elig.counted(eligibility)
    in_commune = counted["commune_code"].notna()
    five_star = int(pd.to_numeric(counted["stars"], errors="coerce").eq(5).sum())
    n_communes = len(scored)
    met = int(scored["status"].eq("met").sum())
    recorded = len(eligibility)
    excluded = elig.excluded_by_reason(eligibility)
    return {
        "as_of": params.as_of.isoformat(),
        "target": params.target,
        "min_stars": params.min_stars,
        "communes": n_communes,
        "communes_met": met,
        "communes_below": int(scored["status"].eq("below").sum()),
        "communes_none": int(scored["status"].eq("none").sum()),
        "communes_no_data": int(len(coverage) - n_communes),
        "share_met": met / n_communes if n_communes else 0.0,
        "products_counted": len(counted),
        "products_located_in_commune": int(in_commune.sum()),
        "products_district_only": int((~in_commune).sum()),
        "products_in_communes_sum": int(pd.to_numeric(scored["n_products"]).fillna(0).sum()),
        "products_undated_counted": int(counted["date_basis"].eq("unknown").sum()),
        "products_year_only_counted": int(counted["date_basis"].eq("year").sum()),
        "products_excluded": excluded,
        "products_excluded_district_only": excluded["district_only"],
        "five_star_products": five_star,
        "five_star_target": TARGET_FIVE_STAR,
        "products_recorded": recorded,
        "published_total": published.number if published else None,
        "published_total_as_of": published.as_of if published else None,
        "published_total_sources": published.source_ids if published else None,
        "completeness_share": recorded / published.number if published else None,
    }


def producers_in_2025(
    producers: gpd.GeoDataFrame,
    communes_2025: gpd.GeoDataFrame,
    crosswalk: pd.DataFrame,
    by_point: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """``producers`` with ``commune_code`` replaced by their 2025 commune (``<NA>`` if none).

    A producer with an exact (or address) location is found by point in polygon; one placed
    only at its old commune follows the crosswalk (old code -> new code); a district-only
    producer has no 2025 commune. Pass the result to ``counted_products`` to count on 2025.
    ``by_point`` (2025 code per producer row, e.g. from the store's ``ST_Covers`` query)
    replaces the point in polygon done here; it must follow ``locate_points``' rules.
    """
    precise = producers["location_precision"].isin(["exact", "address"]).fillna(False)
    if by_point is None:
        by_point = locate_points(producers.geometry[precise], communes_2025, "commune_code")
    successor = crosswalk.set_index("old_commune_code")["new_commune_code"]
    by_crosswalk = producers["commune_code"].map(successor).astype("string")
    result = producers.copy()
    result["commune_code"] = by_crosswalk.where(~precise, by_point.reindex(producers.index))
    return result
