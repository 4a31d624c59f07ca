"""Validation of imported rows against the tiny fixture (4 communes in 2 districts)."""

from __future__ import annotations

import datetime as dt

import pytest

from geoapp.domain import validation as v
from geoapp.domain.names import Commune, District, NameMatcher
from tests import tiny_data

TODAY = dt.date(2025, 1, 1)


def matcher() -> NameMatcher:
    communes = tiny_data.communes_2020()
    districts = tiny_data.districts_2020()
    return NameMatcher(
        [
            Commune(r.commune_code, r.commune_name, r.district_code, r.commune_full_name)
            for r in communes.itertuples()
        ],
        [
            District(r.district_code, r.district_name, r.district_full_name)
            for r in districts.itertuples()
        ],
    )


@pytest.fixture(scope="module")
def ref() -> v.Reference:
    existing = {
        "products": tiny_data.products().astype(str),
        "producers": tiny_data.producers().astype(str),
        "outlets": tiny_data.outlets().astype(str),
    }
    return v.build_reference(
        tiny_data.communes_2020(), tiny_data.districts_2020(), matcher(), existing, TODAY
    )


def table(kind: str, headers: list[str], *rows: list[str], sheet: str = "") -> v.Table:
    return v.Table(
        f"{kind}.csv",
        sheet,
        headers,
        [list(r) for r in rows],
        list(range(2, len(rows) + 2)),
        kind=kind,
    )


PRODUCT_HEADERS = ["product_id", "name", "group_148", "stars", "recognition_date", "producer_id"]


def product(*rows, **options):
    return table("products", PRODUCT_HEADERS, *rows, **options)


def codes(result: v.Validated, severity: str = "error") -> list[tuple[int | None, str]]:
    return [(i.row, i.code) for i in result.report.issues if i.severity == severity]


def test_a_clean_file_has_no_issue_and_counts_added(ref):
    result = v.validate([product(["N1", "Mật ong", "Thực phẩm", "4", "2024-05-10", "PR1"])], ref)
    assert result.ok and result.report.issues == []
    assert result.counts["products"] == {"added": 1, "changed": 0, "unchanged": 0}
    record = result.records["products"].iloc[0]
    assert record["recognition_date_precision"] == "day"
    assert record["illustrative"] == "false"


def test_missing_required_field_names_row_column_and_both_languages(ref):
    result = v.validate([product(["N1", "", "Thực phẩm", "3", "", "PR1"])], ref)
    (issue,) = result.report.errors()
    assert (issue.code, issue.row, issue.column, issue.file) == (
        "missing_required",
        2,
        "name",
        "products.csv",
    )
    assert "required" in issue.message("en") and "bắt buộc" in issue.message("vi")


def test_missing_required_column_is_one_file_level_error(ref):
    result = v.validate(
        [table("products", ["product_id", "name", "group_148"], ["N1", "A", "Đồ uống"])], ref
    )
    assert ("missing_column", None) in {(i.code, i.row) for i in result.report.errors()}


@pytest.mark.parametrize("stars", ["0", "6", "3.5", "ba", "-1"])
def test_stars_must_be_a_whole_number_from_1_to_5(ref, stars):
    result = v.validate([product(["N1", "A", "Thực phẩm", stars, "", "PR1"])], ref)
    assert codes(result) == [(2, "bad_stars")]
    assert result.report.errors()[0].value == stars


@pytest.mark.parametrize(
    ("stars", "stored"), [("4.0", "4"), (" 5 ", "5"), ("3 sao", "3"), ("4★", "4")]
)
def test_stars_written_as_excel_numbers_or_with_a_unit_are_accepted(ref, stars, stored):
    result = v.validate([product(["N1", "A", "Thực phẩm", v.clean_cell(stars), "", "PR1"])], ref)
    assert result.ok
    assert result.records["products"].iloc[0]["stars"] == stored


def test_below_three_stars_is_a_warning_not_an_error(ref):
    result = v.validate([product(["N1", "A", "Thực phẩm", "2", "", "PR1"])], ref)
    assert result.ok and codes(result, "warning") == [(2, "low_stars")]


def test_unknown_group_suggests_the_closest(ref):
    result = v.validate([product(["N1", "A", "Do uongg", "3", "", "PR1"])], ref)
    (issue,) = result.report.errors()
    assert issue.code == "unknown_group"
    assert "Đồ uống" in issue.message("en") and "Đồ uống" in issue.message("vi")


def test_group_in_english_or_without_accents_is_canonicalised(ref):
    result = v.validate(
        [
            product(
                ["N1", "A", "beverages", "3", "", "PR1"], ["N2", "B", "thuc pham", "3", "", "PR1"]
            )
        ],
        ref,
    )
    assert result.ok
    assert list(result.records["products"]["group_148"]) == ["Đồ uống", "Thực phẩm"]


def test_group_1048_alone_gives_group_148(ref):
    t = table(
        "products",
        ["product_id", "name", "group_1048", "stars", "producer_id"],
        ["N1", "A", "Thảo dược", "3", "PR1"],
    )
    result = v.validate([t], ref)
    assert result.ok
    assert result.records["products"].iloc[0]["group_148"] == "Dược liệu và sản phẩm từ dược liệu"


@pytest.mark.parametrize("value", ["31/02/2024", "2024-13-01", "hôm qua", "12.5.24"])
def test_dates_that_do_not_parse_are_errors(ref, value):
    result = v.validate([product(["N1", "A", "Thực phẩm", "3", value, "PR1"])], ref)
    assert codes(result) == [(2, "bad_date")]


def test_dates_in_the_future_are_errors(ref):
    result = v.validate([product(["N1", "A", "Thực phẩm", "3", "2025-01-02", "PR1"])], ref)
    assert codes(result) == [(2, "future_date")]
    result = v.validate([product(["N1", "A", "Thực phẩm", "3", "2025-01-01", "PR1"])], ref)
    assert result.ok


@pytest.mark.parametrize(
    ("text", "stored", "precision"),
    [
        ("2024-05-10", "2024-05-10", "day"),
        ("10/05/2024", "2024-05-10", "day"),
        ("5/2024", "2024-05-31", "month"),
        ("2023", "2023-12-31", "year"),
        ("45000", "2023-03-15", "day"),  # an Excel serial number
    ],
)
def test_date_formats(text, stored, precision):
    _, day, got = v.parse_date(text)
    assert (day.isoformat(), got) == (stored, precision)


def test_product_whose_producer_is_unknown(ref):
    result = v.validate([product(["N1", "A", "Thực phẩm", "3", "", "NOPE"])], ref)
    assert codes(result) == [(2, "unknown_producer")]


def test_product_whose_producer_comes_in_the_same_import_is_fine(ref):
    producers = table("producers", ["producer_id", "name", "district_name"], ["NEW", "HTX", "Tây"])
    result = v.validate([product(["N1", "A", "Thực phẩm", "3", "", "NEW"]), producers], ref)
    assert result.ok


def test_duplicate_ids_within_the_file(ref):
    result = v.validate(
        [
            product(
                ["N1", "A", "Thực phẩm", "3", "", "PR1"], ["N1", "B", "Thực phẩm", "3", "", "PR1"]
            )
        ],
        ref,
    )
    (issue,) = result.report.errors()
    assert (issue.code, issue.row) == ("duplicate_id", 3)
    assert "row 2" in issue.message("en") and "dòng 2" in issue.message("vi")


def test_existing_id_with_other_content_is_an_error_unless_updates_are_allowed(ref):
    row = ["P2", "Trà xanh mới", "Đồ uống", "4", "2024-01-10", "PR1"]
    result = v.validate([product(row)], ref)
    (issue,) = result.report.errors()
    assert issue.code == "duplicate_id" and "name" in issue.message("en")
    allowed = v.validate([product(row)], ref, allow_updates=True)
    assert allowed.ok and allowed.counts["products"]["changed"] == 1


def test_existing_record_given_again_is_unchanged_and_absent_columns_keep_their_values(ref):
    # P2 as loaded, without the group_1048 / decision / notes columns of the store
    result = v.validate([product(["P2", "Trà xanh", "Đồ uống", "4", "2024-01-10", "PR1"])], ref)
    assert result.ok
    assert result.counts["products"] == {"added": 0, "changed": 0, "unchanged": 1}


def test_unchanged_rows_are_not_rechecked(ref):
    # P6 is loaded without a date; an identical row is not an error even where a new one would be
    t = table(
        "products",
        ["product_id", "name", "group_148", "stars", "producer_id"],
        ["P6", "Sâm huyện", "Dược liệu và sản phẩm từ dược liệu", "3", "PR3"],
    )
    assert v.validate([t], ref).counts["products"]["unchanged"] == 1


PRODUCER_HEADERS = ["producer_id", "name", "commune_name", "district_name", "lon", "lat"]


def producer(*rows):
    return table("producers", PRODUCER_HEADERS, *rows)


def test_commune_and_district_names_match_without_accents_or_prefix(ref):
    result = v.validate(
        [producer(["N1", "A", "xa mot", "HUYEN TAY", "", ""], ["N2", "B", "Ba", "Đông", "", ""])],
        ref,
    )
    assert result.ok
    frame = result.records["producers"]
    assert list(frame["commune_code"]) == ["10001", "10003"]
    assert list(frame["district_code"]) == ["101", "102"]
    assert list(frame["location_precision"]) == ["commune", "commune"]


def test_unknown_commune_name_suggests_the_closest(ref):
    result = v.validate([producer(["N1", "A", "Xã Hia", "Huyện Tây", "", ""])], ref)
    (issue,) = result.report.errors()
    assert issue.code == "unknown_commune" and issue.column == "commune_name"
    assert "Xã Hai (10002)" in issue.message("en")


def test_unknown_district_name_and_codes(ref):
    result = v.validate(
        [
            table(
                "producers",
                ["producer_id", "commune_code", "district_code", "district_name"],
                ["N1", "", "", "Huyện Tâyy"],
                ["N2", "10009", "", ""],
                ["N3", "", "109", ""],
            )
        ],
        ref,
    )
    found = {(i.row, i.code, i.column) for i in result.report.errors()}
    assert found == {
        (2, "unknown_district", "district_name"),
        (3, "unknown_commune", "commune_code"),
        (4, "unknown_district", "district_code"),
    }
    by_row = {i.row: i for i in result.report.errors()}
    assert "Huyện Tây (101)" in by_row[2].message("en")


def test_commune_in_another_district_is_an_error(ref):
    result = v.validate([producer(["N1", "A", "Xã Một", "Thị xã Đông", "", ""])], ref)
    assert [i.code for i in result.report.errors()] == ["unknown_commune"]
    assert "another district" in result.report.errors()[0].message("en")


def test_coordinates_must_be_numbers_given_together(ref):
    result = v.validate(
        [
            producer(
                ["N1", "A", "Xã Một", "", "abc", "15.55"], ["N2", "B", "Xã Một", "", "108.05", ""]
            )
        ],
        ref,
    )
    assert sorted(codes(result)) == [(2, "bad_coordinates"), (3, "bad_coordinates")]


def test_coordinates_outside_vietnam_and_swapped(ref):
    result = v.validate(
        [
            producer(
                ["N1", "A", "Xã Một", "", "2.35", "48.85"],
                ["N2", "B", "Xã Một", "", "15.55", "108.05"],
            )
        ],
        ref,
    )
    issues = result.report.errors()
    assert [i.code for i in issues] == ["outside_vietnam", "outside_vietnam"]
    assert "swapped" not in issues[0].message("en") and "swapped" in issues[1].message("en")


def test_point_outside_the_stated_commune_error_beyond_2_km_warning_within(ref):
    # Xã Một spans lon 108.0-108.1; 0.01° of longitude at 15.5° N is about 1.07 km
    result = v.validate(
        [
            producer(["N1", "A", "Xã Một", "", "108.11", "15.55"]),  # ~1.1 km east: warning
            producer(["N2", "B", "Xã Một", "", "108.15", "15.55"]),  # ~5.4 km east: error
            producer(["N3", "C", "Xã Một", "", "108.05", "15.55"]),  # inside
        ],
        ref,
    )
    assert codes(result, "warning") == [(2, "outside_commune")]
    assert codes(result, "error") == [(2, "outside_commune")]
    error = result.report.errors()[0]
    assert error.file == "producers.csv" and "km" in error.message("en")
    assert 5.0 <= float(error.message("en").split(" km")[0].split()[-1]) <= 5.6


def test_point_without_a_stated_place_takes_its_commune(ref):
    result = v.validate([producer(["N1", "A", "", "", "108.15", "15.65"])], ref)
    assert result.ok
    row = result.records["producers"].iloc[0]
    assert (row["commune_code"], row["district_code"], row["location_precision"]) == (
        "10004",
        "102",
        "exact",
    )


def test_every_error_of_a_file_is_reported_at_once(ref):
    result = v.validate(
        [
            product(
                ["N1", "", "Thực phẩm", "3", "", "PR1"],
                ["N2", "B", "Rau", "9", "2099-01-01", "X"],
                ["N1", "C", "Thực phẩm", "3", "", "PR1"],
            )
        ],
        ref,
    )
    found = sorted(codes(result))
    assert found == [
        (2, "missing_required"),
        (3, "bad_stars"),
        (3, "future_date"),
        (3, "unknown_group"),
        (3, "unknown_producer"),
        (4, "duplicate_id"),
    ]
    text = result.report.to_text("vi")
    assert text.count("LỖI") == 6 and "dòng 3" in text


def test_xlsx_issue_names_sheet_and_column_letter(ref):
    result = v.validate([product(["N1", "A", "Thực phẩm", "7", "", "PR1"], sheet="Sản phẩm")], ref)
    (issue,) = result.report.errors()
    assert (issue.sheet, issue.column) == ("Sản phẩm", "D (stars)")
    assert issue.text("en").startswith(
        'ERROR products.csv [Sản phẩm], row 2, column D (stars), value "7"'
    )


def test_outlet_checks_kind_status_and_lenient_opened(ref):
    t = table(
        "outlets",
        ["outlet_id", "name", "kind", "status", "district_name", "opened"],
        ["O9", "Điểm bán", "Điểm bán", "", "Tây", "before ~2021-04"],
        ["O10", "Trung tâm", "Trung tâm OCOP", "dự kiến", "Tây", "2026-03-01"],
        ["O11", "X", "kiosk", "", "Tây", "sometime"],
    )
    result = v.validate([t], ref)
    assert sorted(codes(result)) == [(4, "bad_date"), (4, "bad_value")]
    frame = result.records["outlets"]
    assert list(frame["kind"][:2]) == ["sales_point", "centre"]
    assert list(frame["status"][:2]) == ["open", "planned"]


# -- Excel quirks at cell and header level -------------------------------------------------------


def test_clean_cell_handles_excel_values():
    assert v.clean_cell(20335.0) == "20335"
    assert v.clean_cell(108.05) == "108.05"
    assert v.clean_cell(dt.datetime(2024, 5, 10, 0, 0)) == "2024-05-10"
    assert v.clean_cell("\u00a0 Mật  ong \u00a0") == "Mật ong"
    assert v.clean_cell(None) == "" and v.clean_cell(True) == "true"


def test_header_row_is_found_below_a_title():
    rows = [
        ["DANH SÁCH SẢN PHẨM OCOP NĂM 2024", "", ""],
        ["", "", ""],
        ["Mã sản phẩm", "Tên sản phẩm", "Số sao"],
    ]
    assert v.find_header_row(rows) == 2
    assert v.find_header_row([["just", "text"]]) is None


def test_kind_from_headers_and_names():
    assert v.kind_from_headers(["Mã sản phẩm", "Tên sản phẩm", "Số sao"]) == "products"
    assert v.kind_from_headers(["Mã chủ thể", "Tên chủ thể", "Xã"]) == "producers"
    assert v.kind_from_headers(["outlet_id", "name", "kind"]) == "outlets"
    assert v.kind_from_name("Điểm bán") == "outlets" and v.kind_from_name("san_pham") == "products"


def test_unknown_and_duplicate_columns_are_reported(ref):
    t = table(
        "products",
        [*PRODUCT_HEADERS, "Ghi chú riêng", "Số sao"],
        ["N1", "A", "Thực phẩm", "3", "", "PR1", "x", "3"],
    )
    result = v.validate([t], ref)
    assert {(i.code, i.severity) for i in result.report.issues} == {
        ("unknown_column", "warning"),
        ("duplicate_column", "error"),
    }


def test_report_caps_repeated_issues_but_counts_them(ref):
    rows = [[f"N{i}", "A", "Thực phẩm", "9", "", "PR1"] for i in range(v.ISSUES_PER_KIND_CAP + 5)]
    result = v.validate([product(*rows)], ref)
    assert result.report.n_errors == v.ISSUES_PER_KIND_CAP + 5
    assert len(result.report.issues) == v.ISSUES_PER_KIND_CAP
    assert result.report.not_shown["bad_stars"] == 5


def test_progress_is_reported_per_row(ref):
    seen = []

    class Recorder(v.Progress):
        def update(self, n: int = 1) -> None:
            seen.append(n)

    totals = []

    def factory(total, label):
        totals.append(total)
        return Recorder()

    v.validate(
        [
            product(
                ["N1", "A", "Thực phẩm", "3", "", "PR1"], ["N2", "B", "Thực phẩm", "3", "", "PR1"]
            )
        ],
        ref,
        progress=factory,
    )
    assert totals == [2] and sum(seen) == 2
