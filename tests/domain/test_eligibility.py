"""The one counting rule: literal products, every reason, in the order the rule checks them."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from geoapp.domain.eligibility import (
    COUNTED,
    REASONS,
    EligibilityFilter,
    excluded_by_reason,
    product_eligibility,
    reason_text,
)

PRODUCERS = pd.DataFrame(
    {
        "producer_id": ["A", "B", "D", "X"],
        "commune_code": ["c1", "c2", pd.NA, pd.NA],
        "district_code": ["d1", "d1", "d2", pd.NA],
        "producer_type": ["cooperative", "household", "household", pd.NA],
        "location_precision": ["commune", "exact", "district", pd.NA],
    }
)


def products(*rows: tuple) -> pd.DataFrame:
    columns = ["product_id", "name", "stars", "recognition_year", "recognition_date",
               "recognition_date_precision", "group_148", "producer_id"]  # fmt: skip
    return pd.DataFrame(list(rows), columns=columns)


ROWS = products(
    ("P1", "day", "3", "2023", "2023-05-01", "day", "food", "A"),
    ("P2", "year only", "4", "2022", "2022-12-31", "year", "drink", "B"),
    ("P3", "undated", "3", "", "", "unknown", "food", "A"),
    ("P4", "old", "3", "2019", "2019-01-03", "day", "food", "B"),
    ("P5", "two stars", "2", "2023", "2023-05-01", "day", "food", "A"),
    ("P6", "no rating", "", "2023", "2023-05-01", "day", "food", "A"),
    ("P7", "district only", "3", "2023", "2023-05-01", "day", "food", "D"),
    ("P8", "nowhere", "3", "2023", "2023-05-01", "day", "food", "X"),
    ("P9", "future", "3", "2025", "2025-03-01", "day", "food", "A"),
)


def reasons(rule: EligibilityFilter, **kw) -> dict[str, str]:
    frame = product_eligibility(ROWS, PRODUCERS, rule, **kw)
    return dict(zip(frame["product_id"], frame["reason"], strict=True))


def test_every_reason_at_the_end_of_2024():
    got = reasons(EligibilityFilter(as_of=dt.date(2024, 12, 31)))
    assert got == {
        "P1": COUNTED,
        "P2": COUNTED,  # taken as recognised on 2022-12-31
        "P3": COUNTED,  # undated: counts from the programme's start
        "P4": "expired",  # 2019-01-03 + 36 months = 2022-01-03
        "P5": "below_min_stars",
        "P6": "no_rating",
        "P7": COUNTED,  # edition 2020: counts for its district
        "P8": "unplaced",
        "P9": "not_yet_recognised",
    }


def test_edition_2025_leaves_district_only_products_out():
    got = reasons(EligibilityFilter(as_of=dt.date(2024, 12, 31)), edition="2025")
    assert got["P7"] == "district_only"
    assert got["P1"] == COUNTED


def test_a_commune_outside_the_scope_is_outside_the_edition():
    got = reasons(
        EligibilityFilter(as_of=dt.date(2024, 12, 31)), communes_in_scope=pd.Index(["c1"])
    )
    assert got["P2"] == "outside_edition"  # its commune c2 is not scored
    assert got["P1"] == COUNTED


def test_nothing_counts_before_the_programme_started():
    frame = product_eligibility(ROWS, PRODUCERS, EligibilityFilter(as_of=dt.date(2017, 1, 1)))
    assert not frame["counts"].any()
    assert frame.set_index("product_id").loc["P3", "reason"] == "before_programme"


def test_a_year_only_product_counts_from_the_last_day_of_its_year():
    day_before = reasons(EligibilityFilter(as_of=dt.date(2022, 12, 30)))
    assert day_before["P2"] == "not_yet_recognised"
    assert reasons(EligibilityFilter(as_of=dt.date(2022, 12, 31)))["P2"] == COUNTED


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [(dt.date(2022, 1, 2), COUNTED), (dt.date(2022, 1, 3), "expired")],
)
def test_a_certificate_runs_until_the_day_before_its_expiry(as_of, expected):
    assert reasons(EligibilityFilter(as_of=as_of))["P4"] == expected


def test_filters_come_before_dates_and_places():
    rule = EligibilityFilter(as_of=dt.date(2024, 12, 31), group="drink", producer_type="household")
    got = reasons(rule)
    assert got["P2"] == COUNTED
    assert got["P1"] == "other_group"
    assert got["P9"] == "other_group"  # the first failing check wins
    assert reasons(EligibilityFilter(as_of=dt.date(2024, 12, 31), producer_type="household"))[
        "P1"
    ] == ("other_producer_type")


def test_exclusions_add_up_to_the_products_recorded():
    frame = product_eligibility(ROWS, PRODUCERS, EligibilityFilter(as_of=dt.date(2024, 12, 31)))
    excluded = excluded_by_reason(frame)
    assert set(excluded) == set(REASONS)
    assert sum(excluded.values()) + int(frame["counts"].sum()) == len(ROWS)


def test_reason_texts_name_the_date_and_stars():
    rule = EligibilityFilter(as_of=dt.date(2024, 12, 31))
    frame = product_eligibility(ROWS, PRODUCERS, rule).set_index("product_id", drop=False)
    assert reason_text(frame.loc["P4"], rule) == "certificate expired on 2022-01-03"
    assert reason_text(frame.loc["P5"], rule) == "rated 2★, below 3★"
    assert reason_text(frame.loc["P1"], rule) is None


def test_duplicate_producers_are_refused():
    twice = pd.concat([PRODUCERS, PRODUCERS.iloc[:1]])
    with pytest.raises(pd.errors.MergeError):
        product_eligibility(ROWS, twice, EligibilityFilter(as_of=dt.date(2024, 12, 31)))
