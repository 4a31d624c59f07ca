"""Coverage on literal geometries with known answers (see tests/tiny_data.py)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from geoapp.domain import coverage as cov
from geoapp.domain import eligibility as elig
from geoapp.domain.published import PublishedTotal
from tests import tiny_data


def load():
    products = tiny_data.products()
    producers = tiny_data.producers().astype({"lon": float, "lat": float})
    producers = gpd.GeoDataFrame(
        producers, geometry=gpd.points_from_xy(producers.lon, producers.lat), crs="EPSG:4326"
    )
    producers["commune_code"] = producers["commune_code"].replace("", pd.NA)
    return products, producers


def params(**kw) -> cov.CoverageParams:
    return cov.CoverageParams(as_of=kw.pop("as_of", dt.date(2024, 12, 31)), **kw)


def coverage_of(p: cov.CoverageParams) -> pd.DataFrame:
    products, producers = load()
    counted = cov.counted_products(products, producers, p)
    return cov.commune_coverage(tiny_data.communes_2020(), counted, p.target).set_index(
        "commune_code"
    )


def test_counts_and_status_on_grid():
    result = coverage_of(params())
    assert result["n_products"].to_dict() == {"10001": 2, "10002": 0, "10003": 1, "10004": 0}
    assert result["status"].to_dict() == {
        "10001": "met",
        "10002": "none",
        "10003": "below",
        "10004": "none",
    }
    assert result.loc["10003", "missing"] == 1
    assert result.loc["10001", "product_names"] == ["Mật ong <rừng>", "Trà xanh"]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (1, {"10001": "met", "10003": "met"}),
        (2, {"10001": "met", "10003": "below"}),
        (3, {"10001": "below", "10003": "below"}),
    ],
)
def test_target_changes_status(target, expected):
    result = coverage_of(params(target=target))
    assert {c: result.loc[c, "status"] for c in expected} == expected


def test_expired_certificate_is_not_counted():
    # P4 was recognised 2019-01-03; 36 months later (2022-01-03) it expired.
    before = coverage_of(params(as_of=dt.date(2021, 12, 31)))
    after = coverage_of(params(as_of=dt.date(2022, 1, 3)))
    assert "Bánh tráng cũ" in before.loc["10003", "product_names"]
    assert "Bánh tráng cũ" not in after.loc["10003", "product_names"]


def test_not_yet_recognised_is_not_counted():
    result = coverage_of(params(as_of=dt.date(2023, 7, 1)))
    # P2 (2024-01-10) and P3 (2023-12-31) do not exist yet; P1 (2023-06-01) does.
    assert result.loc["10001", "product_names"] == ["Mật ong <rừng>"]
    assert result.loc["10003", "n_products"] == 0


def test_min_stars_filters():
    result = coverage_of(params(min_stars=5))
    assert result["n_products"].to_dict() == {"10001": 0, "10002": 0, "10003": 1, "10004": 0}


def test_district_only_product_counts_for_district_not_commune():
    products, producers = load()
    p = params()
    counted = cov.counted_products(products, producers, p)
    communes = tiny_data.communes_2020()
    coverage = cov.commune_coverage(communes, counted, p.target)
    summary = cov.district_summary(tiny_data.districts_2020(), communes, coverage, counted)
    west = summary.set_index("district_code").loc["101"]
    assert west["n_products"] == 3  # P1, P2 in 10001 + P6 known only by district
    assert west["n_products_district_only"] == 1
    assert (west["communes_met"], west["communes_none"]) == (1, 1)
    assert west["share_met"] == pytest.approx(0.5)
    assert coverage["n_products"].sum() == 3  # P6 is in no commune


def test_province_summary():
    products, producers = load()
    p = params()
    eligibility = elig.product_eligibility(products, producers, p)
    coverage = cov.commune_coverage(tiny_data.communes_2020(), elig.counted(eligibility), p.target)
    published = PublishedTotal("Tiny", 12, "2025-04", "certified total", "S1")
    summary = cov.province_summary(coverage, eligibility, p, published)
    assert summary["communes_met"] == 1
    assert summary["communes_below"] == 1
    assert summary["communes_none"] == 2
    assert summary["five_star_products"] == 1
    assert summary["products_counted"] == 4
    assert summary["products_undated_counted"] == 1
    assert summary["products_district_only"] == 1
    assert summary["products_in_communes_sum"] + summary["products_district_only"] == 4
    assert summary["products_recorded"] == len(products)
    assert summary["completeness_share"] == pytest.approx(len(products) / 12)
    assert summary["published_total_as_of"] == "2025-04"
    assert sum(summary["products_excluded"].values()) == len(products) - 4


def test_unknown_commune_code_is_ignored_not_crashing():
    products, producers = load()
    producers.loc[producers.producer_id == "PR2", "commune_code"] = "99999"
    counted = cov.counted_products(products, producers, params())
    result = cov.commune_coverage(tiny_data.communes_2020(), counted, 2).set_index("commune_code")
    assert result.loc["10003", "n_products"] == 0
    assert "99999" not in result.index


def test_empty_product_table_gives_all_none():
    products, producers = load()
    counted = cov.counted_products(products.iloc[0:0], producers, params())
    result = cov.commune_coverage(tiny_data.communes_2020(), counted, 2)
    assert set(result["status"]) == {"none"}
    assert result["n_products"].sum() == 0


def test_locate_points_on_shared_edges_goes_to_smaller_code():
    communes = tiny_data.communes_2020()
    points = gpd.GeoSeries(
        [Point(108.1, 15.55), Point(108.05, 15.6), Point(108.1, 15.6), Point(109.0, 15.0)],
        crs="EPSG:4326",
    )
    located = cov.locate_points(points, communes, "commune_code")
    assert located.tolist()[:3] == ["10001", "10001", "10001"]
    assert located.isna().tolist() == [False, False, False, True]


def test_edition_2025_uses_crosswalk_and_points_and_marks_no_data():
    products, producers = load()
    producers.loc[producers.producer_id == "PR2", "location_precision"] = "exact"
    # an exact point in the 2025 west commune although its old commune is in the east
    producers.loc[producers.producer_id == "PR2", "geometry"] = Point(108.05, 15.52)
    p = params()
    producers_2025 = cov.producers_in_2025(
        producers, tiny_data.communes_2025(), tiny_data.crosswalk()
    )
    moved = cov.counted_products(products, producers_2025, p)
    communes = tiny_data.communes_2025()
    in_scope = communes["former_province"].eq("Quảng Nam")
    result = cov.commune_coverage(communes, moved, p.target, in_scope).set_index("commune_code")
    assert result.loc["20001", "n_products"] == 3  # P1, P2 by crosswalk + P3 by point
    assert result.loc["20002", "n_products"] == 0
    assert result.loc["20003", "status"] == "no_data"
    assert pd.isna(result.loc["20003", "n_products"])


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (dt.date(2020, 1, 3), 36, dt.date(2023, 1, 3)),
        (dt.date(2021, 1, 31), 1, dt.date(2021, 2, 28)),
        (dt.date(2023, 11, 30), 3, dt.date(2024, 2, 29)),
    ],
)
def test_add_months(start, months, expected):
    assert cov.add_months(start, months) == expected
