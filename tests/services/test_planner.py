"""Planner service: known answers on the tiny data set, and sums on the real data.

Tiny data (tests/tiny_data.py), as of 2024-12-31, ≥3★, certificates valid 36 months:
10001 has P1 (3★ 2023, food) and P2 (4★ 2024, drink) from a cooperative; 10003 has P3 (5★
2023-12-31, food), P4 (3★ 2019-01-03, expired 2022-01-03) and P5 (2★) from a household;
10002 and 10004 have nothing; P6 (3★, undated) is placed in district 101 only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from geoapp.services.planner import (
    PlannerService,
    TableFilter,
    sort_rows,
    text_matches,
)

GAPS = ("none", "below")


@pytest.fixture()
def service(tiny_app) -> PlannerService:
    return PlannerService(tiny_app.extensions["geoapp"].coverage)


@pytest.fixture()
def params(tiny_app):
    return tiny_app.extensions["geoapp"].coverage.default_params()


def statuses(service, params, edition="2020", **table) -> dict[str, str]:
    view = service.view(edition, params, TableFilter(**table))
    return dict(zip(view.communes["commune_code"], view.communes["status"], strict=True))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, {"10001": "met", "10002": "none", "10003": "below", "10004": "none"}),
        ({"target": 1}, {"10001": "met", "10002": "none", "10003": "met", "10004": "none"}),
        ({"target": 3}, {"10001": "below", "10002": "none", "10003": "below", "10004": "none"}),
        ({"group": "Thực phẩm"}, {"10001": "below", "10003": "below"}),
        ({"group": "Đồ uống"}, {"10001": "below", "10003": "none"}),
        ({"group": "Đồ uống", "group_field": "group_1048"}, {"10001": "below", "10003": "none"}),
        ({"min_stars": 4}, {"10001": "below", "10003": "below"}),
        ({"min_stars": 5}, {"10001": "none", "10003": "below"}),
        ({"producer_type": "cooperative"}, {"10001": "met", "10003": "none"}),
        ({"producer_type": "household"}, {"10001": "none", "10003": "below"}),
        ({"as_of": dt.date(2021, 12, 31)}, {"10001": "none", "10003": "below"}),
    ],
)
def test_status_per_filter(service, params, overrides, expected):
    got = statuses(service, dataclasses.replace(params, **overrides))
    assert {code: got[code] for code in expected} == expected


@pytest.mark.parametrize(("target", "n_gaps"), [(1, 2), (2, 3), (3, 4)])
def test_gap_count_follows_target(service, params, target, n_gaps):
    view = service.view(
        "2020", dataclasses.replace(params, target=target), TableFilter(statuses=GAPS)
    )
    assert len(view.communes) == n_gaps
    assert view.n_communes_total == 4
    assert set(view.communes["status"]) <= set(GAPS)


@pytest.mark.parametrize(
    ("as_of", "n_products_10003", "reason_p4"),
    [
        (dt.date(2022, 1, 2), 1, None),  # P4's certificate still runs on its last day but one
        (dt.date(2022, 1, 3), 0, "certificate expired on 2022-01-03"),
        (dt.date(2018, 12, 31), 0, "recognised after 2018-12-31"),
    ],
)
def test_certificate_expiry_at_as_of(service, params, as_of, n_products_10003, reason_p4):
    at = dataclasses.replace(params, as_of=as_of)
    rows = service.view("2020", at, TableFilter()).communes.set_index("commune_code")
    assert rows.loc["10003", "n_products"] == n_products_10003
    detail = service.commune_detail("2020", "10003", at)
    p4 = next(p for p in detail["products"] if p["product_id"] == "P4")
    assert p4["counted"] is (reason_p4 is None)
    assert p4["reason"] == reason_p4
    assert p4["certificate_expiry"] == "2022-01-03"


def test_district_and_text_filters(service, params):
    assert set(statuses(service, params, district="101")) == {"10001", "10002"}
    assert set(statuses(service, params, text="phuong ba")) == {"10003"}
    assert set(statuses(service, params, text="TÂY")) == {"10001", "10002"}  # district Tây
    assert set(statuses(service, params, text="xa bon")) == {"10004"}
    assert statuses(service, params, text="không có") == {}
    assert statuses(service, params, district="101", statuses=("below",)) == {}


def test_groups_present_follow_taxonomy_column(service, params):
    rows = service.view("2020", params, TableFilter()).communes.set_index("commune_code")
    assert rows.loc["10001", "groups"] == ["Thực phẩm", "Đồ uống"]
    assert rows.loc["10003", "groups"] == ["Thực phẩm"]
    assert rows.loc["10002", "groups"] == []


def test_district_rows_add_up_to_province(service, params):
    view = service.view("2020", params, TableFilter(district="102"))
    totals = view.districts[["communes_met", "communes_below", "communes_none"]].sum()
    assert totals.to_dict() == {"communes_met": 1, "communes_below": 1, "communes_none": 2}
    assert view.district["district_code"] == "102"
    assert view.district["communes_below"] == 1
    assert int(view.districts["n_products"].sum()) == view.province["products_counted"] == 4


def test_edition_2025_rows_and_crosswalk(service, params):
    got = statuses(service, params, edition="2025")
    assert got == {"20001": "met", "20002": "below", "20003": "no_data"}
    detail = service.commune_detail("2025", "20001", params)
    assert [p["commune_code"] for p in detail["predecessors"]] == ["10001", "10002"]
    assert {p["product_id"] for p in detail["products"] if p["counted"]} == {"P1", "P2"}
    old = service.commune_detail("2020", "10004", params)
    assert [s["commune_code"] for s in old["successors"]] == ["20002"]
    assert [o["outlet_id"] for o in old["outlets"]] == ["O2"]


def test_commune_detail_explains_each_product(service, params):
    detail = service.commune_detail("2020", "10003", params)
    by_id = {p["product_id"]: p for p in detail["products"]}
    assert by_id["P3"]["counted"] is True
    assert by_id["P5"]["reason"] == "rated 2★, below 3★"
    assert by_id["P3"]["producer_name"] == "Cơ sở Ba"
    assert [p["product_id"] for p in detail["products"]] == ["P3", "P4", "P5"]  # counted first
    assert service.commune_detail("2020", "99999", params) is None


def test_progress_known_answers(service, params):
    progress = service.progress("2020", params)
    assert progress.years == [2018, 2019, 2020, 2021, 2022, 2023, 2024]
    assert progress.dates[-1] == "2024-12-31"
    assert progress.communes_met == [0, 0, 0, 0, 0, 0, 1]  # 10001 reaches 2 (P1, P2) in 2024
    assert (progress.n_communes, progress.target) == (4, 2)
    # P6 (undated) counts from 2018; P4 from 2019 until it expires on 2022-01-03.
    assert progress.products_counted == [1, 2, 2, 2, 1, 3, 4]
    assert progress.five_star_counted == [0, 0, 0, 0, 0, 1, 1]  # P3
    assert progress.new == [0, 1, 0, 0, 0, 2, 1]
    assert progress.undated == 1  # P6
    west = service.progress("2020", params, "101")
    assert (west.area_name, west.products_counted[-2:], west.n_communes) == ("Tây", [2, 3], 2)
    by_district = progress.by_district.set_index(["area_code", "year"])
    assert by_district.loc[("102", 2024), "products_counted"] == 1
    assert by_district.loc[("101", 2024), "communes_met"] == 1


def test_progress_points_equal_the_map_at_each_year_end(service, params):
    progress = service.progress("2020", params)
    for year, met, counted in zip(
        progress.years, progress.communes_met, progress.products_counted, strict=True
    ):
        at = dataclasses.replace(params, as_of=min(dt.date(year, 12, 31), params.as_of))
        province = service.view("2020", at, TableFilter()).province
        assert (province["communes_met"], province["products_counted"]) == (met, counted)


def test_progress_follows_filters(service, params):
    drinks = service.progress("2020", dataclasses.replace(params, group="Đồ uống", target=1))
    assert drinks.products_counted[-1] == 1  # P2; P5 is rated 2★
    assert drinks.communes_met[-1] == 1
    assert (
        service.progress("2020", dataclasses.replace(params, as_of=dt.date(2017, 6, 1))).years == []
    )


def test_text_match_and_sort():
    frame = pd.DataFrame(
        {
            "commune_code": ["3", "1", "2"],
            "commune_full_name": ["Xã Đại Hòa", "Xã An", "Xã Ba"],
            "district_name": ["Đại Lộc", "Tiên Phước", "Tiên Phước"],
            "n_products": [2, None, 0],
            "status": ["met", "none", "none"],
        }
    )
    keys = pd.Series(["xa dai hoa dai loc", "xa an tien phuoc", "xa ba tien phuoc"])
    assert list(text_matches(keys, "Tiên  phước")) == [False, True, True]
    assert list(sort_rows(frame, "n_products")["commune_code"]) == ["2", "3", "1"]  # NA last
    assert list(sort_rows(frame, "-n_products")["commune_code"]) == ["3", "2", "1"]
    assert list(sort_rows(frame, "commune_full_name")["commune_code"]) == ["1", "2", "3"]
    assert list(sort_rows(frame, "")["commune_code"]) == ["1", "2", "3"]  # status, district


# -- real data ---------------------------------------------------------------------------------


@pytest.fixture()
def real_service(real_app) -> PlannerService:
    return PlannerService(real_app.extensions["geoapp"].coverage)


def independent_commune_count(data_dir, as_of: dt.date) -> int:
    """Products ≥3★ valid at ``as_of`` (36 months; undated count) whose producer has a
    commune, counted straight from the CSV files."""
    products = pd.read_csv(data_dir / "ocop" / "products.csv", dtype=str)
    producers = pd.read_csv(data_dir / "ocop" / "producers.csv", dtype=str)
    stars = pd.to_numeric(products["stars"], errors="coerce")
    dates = pd.to_datetime(products["recognition_date"], errors="coerce")
    deadline = dates + pd.DateOffset(months=36)
    at = pd.Timestamp(as_of)
    valid = dates.isna() | ((dates <= at) & (deadline > at))
    counted = products.loc[(stars >= 3) & valid]
    placed = producers.loc[producers["commune_code"].notna(), "producer_id"]
    return int(counted["producer_id"].isin(placed).sum())


@pytest.mark.realdata
def test_real_sum_of_commune_counts_equals_matched_valid_products(real_app, real_service):
    params = real_app.extensions["geoapp"].coverage.default_params()
    view = real_service.view("2020", params, TableFilter())
    expected = independent_commune_count(
        real_app.extensions["geoapp"].settings.data_dir, params.as_of
    )
    assert int(view.communes["n_products"].sum()) == expected
    assert expected == view.province["products_located_in_commune"]
    assert expected > 0


@pytest.mark.realdata
@pytest.mark.parametrize("edition", ["2020", "2025"])
def test_real_every_commune_exactly_once(real_app, real_service, edition):
    params = real_app.extensions["geoapp"].coverage.default_params()
    view = real_service.view(edition, params, TableFilter())
    codes = list(view.communes["commune_code"])
    boundary = real_app.extensions["geoapp"].store.communes(edition, "display")
    assert len(codes) == len(set(codes)) == len(boundary)
    assert set(codes) == set(boundary["commune_code"])


@pytest.mark.realdata
def test_real_drill_down_adds_up(real_app, real_service):
    params = real_app.extensions["geoapp"].coverage.default_params(target=1)
    view = real_service.view("2020", params, TableFilter())
    province = view.province
    districts = view.districts
    assert len(districts) == 18
    for status in ("met", "below", "none"):
        assert int(districts[f"communes_{status}"].sum()) == province[f"communes_{status}"]
    assert int(districts["n_communes"].sum()) == province["communes"] == 241
    assert int(districts["n_products"].sum()) == province["products_counted"]
    for row in districts.itertuples():
        rows = real_service.view("2020", params, TableFilter(district=row.district_code)).communes
        assert len(rows) == row.n_communes
        assert int(rows["status"].eq("met").sum()) == row.communes_met
        assert int(rows["n_products"].sum()) == row.n_products - row.n_products_district_only
