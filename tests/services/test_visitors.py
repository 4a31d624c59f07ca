"""Visitor service: products judged at today's date by the one eligibility rule.

Tiny data (tests/tiny_data.py), certificates valid 36 months: PR1 (commune 10001, next to outlet
O1) makes P1 (3★, recognised 2023-06-01, so expired on 2026-06-01) and P2 (4★, 2024-01-10,
expires 2027-01-10); PR2 (10003) makes P3 (5★, year 2023), P4 (3★, 2019-01-03, expired
2022-01-03) and P5 (2★); PR3 (district 101 only) makes P6 (3★, no recognition date). Here PR2 and
PR3 sell on site.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geoapp.config import load_settings
from geoapp.domain import eligibility as elig
from geoapp.services.visitor_index import visitor_rule
from geoapp.services.visitors import NearbyQuery, VisitorService
from geoapp.storage import FileStore
from tests.tiny_data import write_tiny_data

EXPIRY_DAY = dt.date(2026, 6, 1)  # P1's certificate expires on this day
NEAR_O1 = {"lat": 15.52, "lon": 108.02}


class Clock:
    """A settable ``today``."""

    def __init__(self, day: dt.date) -> None:
        self.day = day

    def __call__(self) -> dt.date:
        return self.day


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    data_dir = write_tiny_data(tmp_path_factory.mktemp("visitor-service"))
    path = data_dir / "ocop" / "producers.csv"
    producers = pd.read_csv(path, dtype=str, keep_default_na=False)
    producers.loc[producers["producer_id"].isin(["PR2", "PR3"]), "sells_on_site"] = "true"
    producers.to_csv(path, index=False)
    return data_dir


@pytest.fixture()
def clock() -> Clock:
    return Clock(EXPIRY_DAY)


@pytest.fixture()
def service(data_dir, clock) -> VisitorService:
    # The planners' as_of is years away from "today": visitors must not use it.
    config = load_settings({"data_dir": data_dir, "testing": True, "as_of": "2020-01-01"})
    return VisitorService(FileStore(data_dir), config, today=clock)


def products_of(service: VisitorService, place_id: str, **filters) -> dict[str, dict] | None:
    places = service.nearby(NearbyQuery(**NEAR_O1, limit=50, **filters))
    by_id = {p["id"]: p for p in places}
    if place_id not in by_id:
        return None
    return {item["product_id"]: item for item in by_id[place_id]["products"]}


def test_a_certificate_expiring_today_is_expired_and_not_an_ocop_product(service):
    o1 = products_of(service, "O1")
    assert o1["P1"]["ocop_status"] == "expired"
    assert o1["P1"]["certificate_expiry"] == EXPIRY_DAY.isoformat()
    assert o1["P2"]["ocop_status"] == "ocop"
    # Valid products come first, whatever the stars.
    assert list(o1) == ["P2", "P1"]


def test_the_day_before_expiry_it_is_still_valid(service, clock):
    clock.day = EXPIRY_DAY - dt.timedelta(days=1)
    assert products_of(service, "O1")["P1"]["ocop_status"] == "ocop"


def test_stars_and_group_filters_pass_only_products_valid_today(service, clock):
    assert set(products_of(service, "O1", min_stars=3)) == {"P2"}
    assert products_of(service, "O1", group="Thực phẩm") is None  # P1 expired
    assert products_of(service, "O1", min_stars=3, kinds=("centre",)) is not None
    # PR2's 3★ P4 expired in 2022: at ≥3★ only P3 (5★) is listed.
    assert set(products_of(service, "PR2", min_stars=3)) == {"P3"}
    clock.day = dt.date(2027, 1, 10)  # P2 expires too, and P3 expired on 2026-12-31
    assert products_of(service, "O1", min_stars=3) is None
    assert products_of(service, "O1", group="Đồ uống") is None
    assert products_of(service, "PR2", min_stars=3) is None
    # Without a filter the place is still listed, every product saying why it is not OCOP.
    unfiltered = products_of(service, "O1")
    assert {k: v["ocop_status"] for k, v in unfiltered.items()} == {
        "P1": "expired",
        "P2": "expired",
    }


def test_products_recognised_after_today_are_not_yet_ocop(service, clock):
    clock.day = dt.date(2021, 6, 1)
    o1 = products_of(service, "O1")
    assert o1["P1"]["ocop_status"] == "not_yet_recognised"
    assert o1["P1"]["recognised_on"] == "2023-06-01"
    pr2 = products_of(service, "PR2")
    assert pr2["P3"]["ocop_status"] == "not_yet_recognised"  # known by year: from 31 December
    assert pr2["P4"]["ocop_status"] == "ocop"  # 2019-01-03 + 36 months
    assert set(products_of(service, "PR2", min_stars=3)) == {"P4"}


def test_an_undated_product_counts_but_says_its_date_is_not_recorded(service):
    p6 = products_of(service, "PR3", min_stars=3)["P6"]
    assert p6["ocop_status"] == "ocop" and p6["date_recorded"] is False
    assert p6["certificate_expiry"] is None
    assert products_of(service, "O1")["P2"]["date_recorded"] is True


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(day=st.dates(min_value=dt.date(2017, 1, 1), max_value=dt.date(2031, 12, 31)))
def test_statuses_agree_with_the_eligibility_rule(service, clock, day):
    # A random day, and two days on which a certificate ends (the boundary cases).
    for today in (day, dt.date(2022, 1, 3), EXPIRY_DAY):
        clock.day = today
        data = service.store.ocop()
        rule = visitor_rule(today, service.settings.certificate_months)
        expected = elig.product_eligibility(data.products, data.producers, rule)
        valid = expected["certificate_valid"] & pd.to_numeric(expected["stars"]).ge(1)
        listed = {}
        for place in service.nearby(NearbyQuery(**NEAR_O1, limit=50)):
            listed |= {p["product_id"]: p["ocop_status"] for p in place["products"]}
        assert set(listed) == set(expected["product_id"])  # every product is at some place
        for product_id, ok in zip(expected["product_id"], valid, strict=True):
            assert (listed[product_id] == "ocop") == bool(ok), (today, product_id)


def test_the_catalogue_is_cached_per_day_and_changes_at_midnight(service, clock):
    first = service.catalogue()
    assert service.catalogue() is first
    clock.day = EXPIRY_DAY + dt.timedelta(days=1)
    assert service.catalogue() is not first
    clock.day = EXPIRY_DAY
    assert service.catalogue() is first  # the previous day is still cached


def test_search_results_carry_the_same_status(service, clock):
    hit = service.search("mat ong", 1)[0]
    assert (hit["id"], hit["ocop_status"], hit["certificate_expiry"]) == (
        "P1",
        "expired",
        EXPIRY_DAY.isoformat(),
    )
    assert service.search("tra xanh", 1)[0]["ocop_status"] == "ocop"
    clock.day = EXPIRY_DAY - dt.timedelta(days=1)
    assert service.search("mat ong", 1)[0]["ocop_status"] == "ocop"
