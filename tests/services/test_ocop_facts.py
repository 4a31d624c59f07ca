"""The OCOP facts build: pure rules, then the real sources built into a temporary folder.

Expected values in the real-data tests are facts read in ../shared/data (products.csv,
sales_points.csv, SOURCES.md and the official code lists), not outputs copied from a run.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from geoapp.config import PROJECT_ROOT, load_settings
from geoapp.domain.ocop import (
    CANDIDATE_COLUMNS,
    LOCATION_PRECISIONS,
    OUTLET_COLUMNS,
    OUTLET_KINDS,
    OUTLET_STATUSES,
    PRODUCER_COLUMNS,
    PRODUCER_TYPES,
    PRODUCT_COLUMNS,
)
from geoapp.services.ocop_facts import (
    COPIED_FILES,
    UNMATCHED_COLUMNS,
    OcopBuildError,
    build_ocop_facts,
    merge_source_ids,
    outlet_kind_of,
    outlet_status_of,
    parse_recognition_date,
    producer_type_of,
)

OVERRIDES = PROJECT_ROOT / "data" / "ocop" / "name_overrides.csv"

# --------------------------------------------------------------------------------------------
# pure rules


@pytest.mark.parametrize(
    ("decision", "year", "expected"),
    [
        ("QĐ 14/QĐ-UBND 03/01/2020 (per S02/S11)", "2019", ("2020-01-03", "day")),
        ("UBND tỉnh decision 09/12/2020 (đợt 1 năm 2020)", "2020", ("2020-12-09", "day")),
        ("QĐ 377 (Bộ NN&PTNT) 17/01/2025, national 2024 round 3", "2024", ("2025-01-17", "day")),
        ("2018 provincial round", "2018", ("2018-12-31", "year")),
        ("decision 31/02/2020", "2020", ("2020-12-31", "year")),  # not a real day
        ("provincial (year not given)", "", ("", "unknown")),
        ("", "", ("", "unknown")),
    ],
)
def test_parse_recognition_date(decision, year, expected):
    assert parse_recognition_date(decision, year) == expected


@pytest.mark.parametrize(
    ("derived", "expected"),
    [
        ("cooperative (HTX)", "cooperative"),
        ("cooperative group (THT)", "cooperative_group"),
        ("enterprise (company)", "sme"),
        ("household / individual business (hộ, cơ sở)", "household"),
        ("unknown", "unknown"),
        ("", "unknown"),
    ],
)
def test_producer_type_of(derived, expected):
    assert producer_type_of(derived) == expected


def test_outlet_kind_and_status_rules():
    assert outlet_kind_of("trung tâm OCOP (district-level centre)") == "centre"
    assert outlet_kind_of("điểm giới thiệu và bán sản phẩm OCOP") == "sales_point"
    assert outlet_status_of("điểm trưng bày (planned)", "x", "planned ~2021", "") == "planned"
    assert outlet_status_of("điểm", "x", "being implemented", "Status after 2020 unknown.") == (
        "unconfirmed"
    )
    assert outlet_status_of("cửa hàng", "x", "exists by 2022-11", "Only a photo caption") == "open"


def test_merge_source_ids_keeps_first_seen_order():
    assert merge_source_ids(["S01;S03", "S03;S02", "", "S01"]) == "S01;S03;S02"


# --------------------------------------------------------------------------------------------
# real data


def read_text_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def settings():
    return load_settings()


@pytest.fixture(scope="module")
def built(settings, tmp_path_factory):
    if not (settings.boundaries_dir / "communes_2020.parquet").exists():
        pytest.fail("data/boundaries is not built: run `make data` (make test does it)")
    out = tmp_path_factory.mktemp("ocop")
    messages: list[str] = []
    summary = build_ocop_facts(
        settings.ocop_sources,
        settings.boundary_sources,
        settings.boundaries_dir,
        out,
        echo=messages.append,
        overrides_file=OVERRIDES,
    )
    return {
        "dir": out,
        "summary": summary,
        "messages": messages,
        "products": read_text_csv(out / "products.csv"),
        "producers": read_text_csv(out / "producers.csv"),
        "outlets": read_text_csv(out / "outlets.csv"),
        "unmatched": read_text_csv(out / "unmatched_names.csv"),
        "source_products": read_text_csv(settings.ocop_sources / "products.csv"),
        "source_outlets": read_text_csv(settings.ocop_sources / "sales_points.csv"),
        "candidates": read_text_csv(out / "candidates.csv"),
        "source_candidates": read_text_csv(settings.ocop_sources / "candidates.csv"),
        "communes": read_text_csv(settings.boundary_sources / "qn_communes_2020.csv"),
    }


@pytest.fixture(scope="module")
def polygons(settings):
    communes = gpd.read_parquet(settings.boundaries_dir / "communes_2020.parquet")
    districts = gpd.read_parquet(settings.boundaries_dir / "districts_2020.parquet")
    return (
        communes.set_index(communes["commune_code"].astype(str)).geometry,
        districts.set_index(districts["district_code"].astype(str)).geometry,
    )


@pytest.mark.realdata
def test_columns_exactly_as_the_schema(built):
    assert tuple(built["products"].columns) == PRODUCT_COLUMNS
    assert tuple(built["producers"].columns) == PRODUCER_COLUMNS
    assert tuple(built["outlets"].columns) == OUTLET_COLUMNS
    assert tuple(built["unmatched"].columns) == UNMATCHED_COLUMNS
    assert tuple(built["candidates"].columns) == CANDIDATE_COLUMNS


@pytest.mark.realdata
def test_every_product_is_kept_and_located_or_listed(built):
    products, producers, unmatched = built["products"], built["producers"], built["unmatched"]
    assert len(built["source_products"]) > 0
    assert products["product_id"].tolist() == built["source_products"]["record_id"].tolist()
    assert products["product_id"].is_unique
    precision = products["producer_id"].map(
        producers.set_index("producer_id")["location_precision"]
    )
    assert precision.notna().all(), "a product points to a missing producer"
    listed = set(unmatched["record_id"])
    for product_id, where in zip(products["product_id"], precision, strict=True):
        assert where in {"commune", "district"} or product_id in listed, product_id


@pytest.mark.realdata
def test_every_candidate_is_kept_placed_or_listed(built, polygons):
    candidates, source = built["candidates"], built["source_candidates"]
    assert len(source) > 0
    assert candidates["candidate_id"].tolist() == source["record_id"].tolist()
    listed = set(built["unmatched"]["record_id"])
    communes, districts = polygons
    for row in candidates.itertuples():
        assert row.location_precision in {"commune", "district"} or row.candidate_id in listed
        if row.location_precision == "commune":
            assert row.commune_code in communes.index and row.district_code in districts.index
        elif row.location_precision == "district":
            assert row.commune_code == "" and row.district_code in districts.index
    # The facts of each candidate are carried as the source gives them (stars stay text).
    by_id = source.set_index("record_id")
    for row in candidates.itertuples():
        src = by_id.loc[row.candidate_id]
        assert (row.name, row.stars, row.source_ids, row.decision) == (
            src["product_name"],
            src["stars"],
            src["source_ids"],
            src["decision"],
        )
    assert f"{len(source)} candidates" in built["summary"]
    # Candidates are not products: none of them is in products.csv.
    assert not set(candidates["candidate_id"]) & set(built["products"]["product_id"])


@pytest.mark.realdata
def test_committed_candidates_are_the_built_ones(built):
    committed = read_text_csv(PROJECT_ROOT / "data" / "ocop" / "candidates.csv")
    pd.testing.assert_frame_equal(committed, built["candidates"])


@pytest.mark.realdata
def test_unmatched_names_are_listed_and_printed(built):
    unmatched, messages = built["unmatched"], built["messages"]
    for row in unmatched.itertuples():
        assert any(row.record_id in m and row.raw_value in m for m in messages), row
    # Each listed commune really was given in the source and is not a code of the result.
    source = pd.concat([built["source_products"], built["source_candidates"]]).set_index(
        "record_id"
    )
    products = built["products"].set_index("product_id")
    producers = built["producers"].set_index("producer_id")
    for row in unmatched.loc[unmatched["field"].eq("commune")].itertuples():
        assert source.loc[row.record_id, "commune"] == row.raw_value
        if row.record_id in products.index:
            producer = producers.loc[products.loc[row.record_id, "producer_id"]]
            assert producer["commune_code"] == ""


@pytest.mark.realdata
def test_producer_commune_and_district_codes_agree_with_the_code_list(built):
    district_of = built["communes"].set_index("commune_code")["district_code"]
    for frame in (built["producers"], built["outlets"]):
        located = frame.loc[frame["commune_code"].ne("")]
        assert located["commune_code"].isin(district_of.index).all()
        assert (located["commune_code"].map(district_of) == located["district_code"]).all()
        assert set(frame["location_precision"]) <= set(LOCATION_PRECISIONS)


@pytest.mark.realdata
@pytest.mark.parametrize("table", ["producers", "outlets"])
def test_points_lie_inside_their_commune_or_district(built, polygons, table):
    commune_polygons, district_polygons = polygons
    frame = built[table]
    assert len(frame)
    for row in frame.itertuples():
        point = Point(float(row.lon), float(row.lat))
        if row.location_precision == "commune":
            assert commune_polygons.loc[row.commune_code].contains(point), row
        else:
            assert row.location_precision == "district", row
            assert row.commune_code == ""
            assert district_polygons.loc[row.district_code].contains(point), row
        assert len(row.lon.split(".")[1]) <= 6 and len(row.lat.split(".")[1]) <= 6


@pytest.mark.realdata
def test_points_of_one_place_do_not_stack(built):
    points = pd.concat([built["producers"][["lon", "lat"]], built["outlets"][["lon", "lat"]]])
    assert not points.duplicated().any()


@pytest.mark.realdata
def test_names_matched_as_the_code_list_says(built):
    """Commune codes checked by hand in qn_communes_2020.csv."""
    products = built["products"].set_index("product_id")
    producers = built["producers"].set_index("producer_id")

    def commune_of(product_id: str) -> str:
        return producers.loc[products.loc[product_id, "producer_id"], "commune_code"]

    assert commune_of("QN-P001") == "20410"  # P. Sơn Phong, TP. Hội An
    assert commune_of("QN-P008") == "20854"  # TT. Tiên Kỳ, Tiên Phước
    assert commune_of("QN-P019") == "20656"  # Quế Trung: renamed Thị trấn Trung Phước
    assert commune_of("QN-P045") == "20392"  # Tam Dân, Phú Ninh
    assert commune_of("QN-P046") == "20374"  # Tam Đàn, Phú Ninh (differs only by diacritics)
    assert commune_of("QN-P042") == "20644"  # Quế Xuân 1 (not Quế Xuân 2)
    assert commune_of("QN-P062") == "20638"  # Duy Hải (thôn An Lương)
    assert commune_of("QN-P089") == "20494"  # Mà Cooih: override to Xã Mà Cooi
    assert commune_of("QN-P002") == ""  # no commune in the source: district only
    assert producers.loc[products.loc["QN-P002", "producer_id"], "district_code"] == "503"


@pytest.mark.realdata
def test_producers_one_per_name_and_place(built):
    source, products, producers = built["source_products"], built["products"], built["producers"]
    assert producers["producer_id"].is_unique
    assert producers["producer_id"].str.fullmatch(r"QN-PR\d{3}").all()
    assert set(producers["producer_type"]) <= set(PRODUCER_TYPES)
    by_id = products.set_index("product_id")["producer_id"]
    # Same producer, same place -> one record (QN-P005/QN-P006: Bảo Tâm, TP. Tam Kỳ).
    assert by_id["QN-P005"] == by_id["QN-P006"]
    # Products without a stated producer get a producer record each.
    unnamed = source.loc[source["producer"].eq(""), "record_id"]
    assert len(unnamed) > 0
    unnamed_producers = by_id[unnamed]
    assert unnamed_producers.is_unique
    rows = producers.set_index("producer_id").loc[unnamed_producers]
    assert rows["name"].eq("").all()
    assert rows["notes"].str.contains("producer not stated").all()
    # Every producer is used by at least one product.
    assert set(producers["producer_id"]) == set(products["producer_id"])
    # Source ids of a producer include those of its products.
    producer_sources = producers.set_index("producer_id")["source_ids"]
    for product in products.itertuples():
        assert set(product.source_ids.split(";")) <= set(
            producer_sources[product.producer_id].split(";")
        )


@pytest.mark.realdata
def test_sells_on_site_only_where_a_source_says_so(built):
    producers = built["producers"]
    sellers = producers.loc[producers["sells_on_site"].eq("true")]
    # S25: the OCOP shop of Thăng Bình is run by HTX Nông nghiệp Bình Đào in xã Bình Đào.
    assert sellers["name"].tolist() == ["HTX Nông nghiệp Bình Đào"]
    assert sellers["commune_code"].tolist() == ["20809"]
    assert set(producers["sells_on_site"]) == {"true", "false"}


@pytest.mark.realdata
def test_recognition_dates(built):
    products = built["products"].set_index("product_id")
    assert tuple(products.loc["QN-P001", ["recognition_date", "recognition_date_precision"]]) == (
        "2020-01-03",
        "day",
    )  # QĐ 14/QĐ-UBND 03/01/2020
    assert tuple(products.loc["QN-P070", ["recognition_date", "recognition_date_precision"]]) == (
        "2022-12-29",
        "day",
    )  # QĐ 3610/QĐ-UBND 29/12/2022
    assert tuple(products.loc["QN-P013", ["recognition_date", "recognition_date_precision"]]) == (
        "2018-12-31",
        "year",
    )  # "2018 provincial round"
    assert tuple(products.loc["QN-P020", ["recognition_date", "recognition_date_precision"]]) == (
        "",
        "unknown",
    )
    assert set(products["recognition_date_precision"]) <= {"day", "year", "unknown"}


@pytest.mark.realdata
def test_products_carry_their_facts(built):
    source = built["source_products"].set_index("record_id")
    products = built["products"].set_index("product_id")
    for column, source_column in (
        ("name", "product_name"),
        ("stars", "stars"),
        ("recognition_year", "recognition_year"),
        ("decision", "decision"),
        ("source_ids", "source_ids"),
        ("group_1048", "group_1048_inferred"),
        ("group_148", "group_148_inferred"),
    ):
        assert (products[column] == source[source_column]).all(), column
    assert products["notes"].str.contains("inferred from the product name").all()
    assert products["source_ids"].ne("").all()
    for frame in (built["products"], built["producers"], built["outlets"]):
        assert frame["illustrative"].eq("false").all()


@pytest.mark.realdata
def test_outlets(built):
    outlets = built["outlets"].set_index("outlet_id")
    source_ids = built["source_outlets"]["record_id"].tolist()
    assert source_ids, "no outlets in the source"
    assert outlets.index.tolist() == [*source_ids, "QN-C01", "QN-C02"]
    assert set(outlets["kind"]) <= set(OUTLET_KINDS)
    assert set(outlets["status"]) <= set(OUTLET_STATUSES)
    assert outlets["source_ids"].ne("").all()
    # QN-S01: Trung tâm OCOP Hội An, 72 Nguyễn Thái Học, P. Minh An (S36).
    s01 = outlets.loc["QN-S01"]
    assert (s01["kind"], s01["status"], s01["commune_code"], s01["location_precision"]) == (
        "centre",
        "open",
        "20398",
        "commune",
    )
    assert "72 Nguyễn Thái Học" in s01["address"]
    # QN-S02: only "TP. Tam Kỳ" is given.
    s02 = outlets.loc["QN-S02"]
    assert (s02["commune_code"], s02["district_code"], s02["location_precision"]) == (
        "",
        "502",
        "district",
    )
    assert outlets.loc["QN-S04", "status"] == "planned"
    assert outlets.loc["QN-S02", "kind"] == "sales_point"


@pytest.mark.realdata
def test_the_two_unconfirmed_district_centres(built):
    outlets = built["outlets"].set_index("outlet_id")
    for outlet_id, district_code in (("QN-C01", "514"), ("QN-C02", "504")):
        row = outlets.loc[outlet_id]
        assert (row["kind"], row["status"], row["location_precision"]) == (
            "centre",
            "unconfirmed",
            "district",
        )
        assert row["district_code"] == district_code  # Tiên Phước 514, Tây Giang 504
        assert row["commune_code"] == ""
        assert row["source_ids"] == "review-2020"
        assert "SOURCES.md" in row["notes"]


@pytest.mark.realdata
def test_public_tables_copied_as_they_are(built, settings):
    for name in COPIED_FILES:
        assert filecmp.cmp(settings.ocop_sources / name, built["dir"] / name, shallow=False)


@pytest.mark.realdata
def test_summary_counts(built):
    assert f"{len(built['source_products'])} products" in built["summary"]
    assert f"{len(built['producers'])} producers" in built["summary"]
    assert f"{len(built['outlets'])} outlets" in built["summary"]


@pytest.mark.realdata
def test_same_sources_same_output(built, settings, tmp_path):
    build_ocop_facts(
        settings.ocop_sources,
        settings.boundary_sources,
        settings.boundaries_dir,
        tmp_path,
        echo=lambda _: None,
        overrides_file=OVERRIDES,
    )
    for name in ("products.csv", "producers.csv", "outlets.csv", "unmatched_names.csv"):
        assert filecmp.cmp(built["dir"] / name, tmp_path / name, shallow=False), name


@pytest.mark.realdata
def test_missing_built_boundaries_is_a_clear_error(settings, tmp_path):
    with pytest.raises(OcopBuildError, match="boundaries build"):
        build_ocop_facts(
            settings.ocop_sources,
            settings.boundary_sources,
            tmp_path / "no-boundaries",
            tmp_path / "ocop",
            echo=lambda _: None,
            overrides_file=OVERRIDES,
        )
    assert not (tmp_path / "ocop" / "products.csv").exists()


@pytest.mark.realdata
def test_without_the_override_the_name_is_listed_not_dropped(settings, tmp_path):
    if not (settings.boundaries_dir / "communes_2020.parquet").exists():
        pytest.fail("data/boundaries is not built: run `make data` (make test does it)")
    empty = tmp_path / "overrides.csv"
    empty.write_text("raw_name,district_name,commune_code,reason\n", encoding="utf-8")
    build_ocop_facts(
        settings.ocop_sources,
        settings.boundary_sources,
        settings.boundaries_dir,
        tmp_path / "ocop",
        echo=lambda _: None,
        overrides_file=empty,
    )
    unmatched = pd.read_csv(tmp_path / "ocop" / "unmatched_names.csv", dtype=str)
    row = unmatched.loc[unmatched["record_id"].eq("QN-P089")]
    assert row["raw_value"].tolist() == ["Mà Cooih (growing area)"]
    assert "Xã Mà Cooi (20494)" in row["suggestions"].iloc[0]
    assert row["kept_as"].tolist() == ["district 505 only"]


@pytest.mark.realdata
def test_the_committed_facts_are_the_build_of_the_shared_facts(built, settings):
    """data/ocop/ is what `ocop build` makes of ../shared/data/ocop today: every product, every
    source id (run `make ocop-data` after the shared facts change)."""
    for name in ("products.csv", "producers.csv", "outlets.csv"):
        committed = read_text_csv(settings.data_dir / "ocop" / name)
        pd.testing.assert_frame_equal(committed, built[name.removesuffix(".csv")], obj=name)
    source_ids = {
        part.strip()
        for value in built["source_products"]["source_ids"]
        for part in str(value).split(";")
        if part.strip()
    }
    kept = {
        part.strip()
        for value in built["products"]["source_ids"]
        for part in str(value).split(";")
        if part.strip()
    }
    assert source_ids <= kept
