"""Published counts: numbers, dates and which rows are totals, on literal rows."""

from __future__ import annotations

import pandas as pd

from geoapp.domain.published import (
    district_totals,
    latest_province_total,
    published_figures,
    published_number,
    published_year,
)


def stats_of(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["area", "as_of", "measure", "value", "source_ids"]).astype(
        "string"
    )


STATS = stats_of(
    [
        ("Quảng Nam", "2024-12-26", "certified total", "482 (422 3★, 60 4★)", "S32"),
        ("Quang Nam", "2019 round (QĐ 14/QĐ-UBND 03/01/2020)", "rated ≥3★", "85 of 95", "S01"),
        ("Tiên Phước", "2018-2021", "rated", "32 products", "S15"),
        ("Quảng Nam", "end 2020 (seed)", "rated ≥3★ 2018-2020", "210 (157)", "seed"),
        ("Quảng Nam (province)", "2025-04", "certified OCOP products", "493 (2 5★)", "N30"),
        ("Quảng Nam (province)", "2021", "products registered for OCOP", "110", "N34"),
        ("TX. Điện Bàn", "2018", "provincial OCOP products", "2 (2 3★)", "N15"),
        ("Điện Bàn", "date n/a", "rated", "24 products of 17 producers", "S21b"),
        ("Đông Giang", "2025", "recognised", "23 three-star + 3 four-star", "S27"),
        ("Đại Lộc", "2019 plan", "PLANNED new products (target, not certified)", "300", "N35"),
        ("Đại Lộc", "2022", "rated", "21 products, 4 four-star", "S21"),
        ("Hội An", "2025", "products participating in 2025", "14", "N32"),
    ]
)


def test_published_figures_parse_years_numbers_and_kinds():
    province = published_figures(STATS, "Quảng Nam")
    assert list(province["number"]) == [482, 85, 210, 493, 110]
    assert list(province["year"]) == [2024, 2019, 2020, 2025, 2021]
    assert list(province["kind"]) == ["total", "as_stated", "total", "as_stated", "as_stated"]
    district = published_figures(STATS, "Tien Phuoc")
    assert (district.loc[0, "year"], district.loc[0, "kind"]) == (2021, "total")
    assert list(published_figures(STATS, "Đại Lộc")["kind"]) == ["planned", "as_stated"]
    assert published_year("20 Dec (2023 or 2024)") == 2023
    assert published_number("no number") is None
    assert published_number("23 three-star + 3 four-star") == 26
    # a number that ends a sentence is the figure; the next one is a decision number, a target
    assert published_number("110. KH 1992/KH-UBND 09/04/2021") == 110
    assert published_number("15. Province total target ~120") == 15
    assert published_number("4.5 on average; 12 products") == 12


def test_latest_province_total_is_the_most_recent_certified_count():
    total = latest_province_total(STATS)
    assert (total.number, total.as_of, total.source_ids) == (493, "2025-04", "N30")
    older = STATS.loc[STATS["source_ids"].ne("N30")]
    assert latest_province_total(older).number == 482
    assert latest_province_total(STATS.iloc[1:4]) is None  # no dated certified count


def test_district_totals_skip_targets_and_participants():
    names = pd.Series(
        {"507": "Điện Bàn", "505": "Đông Giang", "506": "Đại Lộc", "503": "Hội An", "502": "Tam Kỳ"}
    )
    totals = district_totals(STATS, names)
    assert totals["507"].number == 24  # "TX. Điện Bàn" and "Điện Bàn" are one district
    assert totals["505"].number == 26
    assert totals["506"].number == 21  # the PLANNED 300 is a target, not a count
    assert "503" not in totals  # participating is not certified
    assert "502" not in totals
