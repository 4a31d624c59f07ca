"""The boundary build on the real sources (../shared/data/boundaries), built once per module."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geoapp.config import load_settings
from geoapp.domain import boundaries as geo
from geoapp.services import boundary_build
from geoapp.services.boundary_build import BoundaryBuildError, build_boundaries

pytestmark = pytest.mark.realdata

SOURCES = load_settings().boundary_sources
MISSING_IN_FILE = {"20338", "20383", "20602", "20672", "20761", "20822", "20830", "20863"}
README_TEXT = "# committed readme: the build must keep me\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    if not (SOURCES / "qn_communes_2020.geojson").exists():
        pytest.skip(f"raw boundary sources not found in {SOURCES}")
    out = tmp_path_factory.mktemp("data") / "boundaries"
    out.mkdir()
    (out / "README.md").write_text(README_TEXT)
    lines: list[str] = []
    summary = build_boundaries(SOURCES, out, echo=lines.append)
    assert "241 communes" in summary
    return out


def read(built: Path, name: str) -> gpd.GeoDataFrame:
    return gpd.read_parquet(built / f"{name}.parquet")


def crosswalk(built: Path) -> pd.DataFrame:
    return pd.read_csv(built / "crosswalk_2020_2025.csv", dtype=str, keep_default_na=False)


def file_hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --------------------------------------------------------------------------------------------
# outputs and counts


def test_outputs_written_and_readme_kept(built):
    names = {p.name for p in built.iterdir()}
    for layer in ("communes_2020", "districts_2020", "communes_2025"):
        assert f"{layer}.parquet" in names
        assert f"{layer}_display.parquet" in names
    assert {"crosswalk_2020_2025.csv", "manifest.json", "README.md", "reports"} <= names
    assert (built / "README.md").read_text() == README_TEXT
    assert {p.name for p in (built / "reports").iterdir()} == {
        "area_moved_2020.csv",
        "crosswalk_disagreements.csv",
    }
    assert not list(built.parent.glob(".boundaries-build-*")), "staging folder left behind"


@pytest.mark.parametrize(
    ("layer", "count", "columns"),
    [
        (
            "communes_2020",
            241,
            [
                "commune_code",
                "commune_name",
                "commune_full_name",
                "commune_type",
                "commune_name_en",
                "commune_full_name_2020_03",
                "district_code",
                "district_name",
                "district_full_name",
                "area_km2",
                "geometry",
            ],
        ),
        (
            "districts_2020",
            18,
            [
                "district_code",
                "district_name",
                "district_full_name",
                "district_type",
                "district_name_en",
                "n_communes",
                "area_km2",
                "geometry",
            ],
        ),
        (
            "communes_2025",
            94,
            [
                "commune_code",
                "commune_name",
                "commune_full_name",
                "commune_type",
                "commune_name_en",
                "former_province",
                "share_in_former_qn",
                "area_km2",
                "geometry",
            ],
        ),
    ],
)
@pytest.mark.parametrize("suffix", ["", "_display"])
def test_layer_counts_columns_and_validity(built, layer, count, columns, suffix):
    frame = read(built, layer + suffix)
    assert len(frame) == count
    assert list(frame.columns) == columns
    assert frame.crs.to_epsg() == 4326
    code = columns[0]
    assert frame[code].is_unique
    digits = 3 if layer.startswith("districts") else 5
    assert frame[code].str.fullmatch(rf"\d{{{digits}}}").all()
    geoms = frame.geometry.to_numpy()
    assert shapely.is_valid(geoms).all()
    assert not shapely.is_empty(geoms).any()
    assert shapely.coverage_is_valid(geoms)


def test_manifest(built):
    manifest = json.loads((built / "manifest.json").read_text())
    assert manifest["counts"] == {
        "districts_2020": 18,
        "communes_2020": 241,
        "communes_2025": 94,
        "communes_2025_in_former_qn": 78,
    }
    assert set(manifest["sources"]) == set(boundary_build.SOURCE_FILES)
    digest = hashlib.sha256((SOURCES / "qn_communes_2020.csv").read_bytes()).hexdigest()
    assert manifest["sources"]["qn_communes_2020.csv"] == digest
    assert manifest["built_at"].endswith("+00:00")
    assert len(manifest["build_version"]) == 12
    assert 0 < manifest["max_display_displacement_m"] <= 50
    # the checksums of every served file, verified at start-up (geoapp.storage.integrity)
    assert "communes_2020_display.parquet" in manifest["files"]
    assert not any(name.startswith("reports/") for name in manifest["files"])
    for name, checksum in manifest["files"].items():
        assert hashlib.sha256((built / name).read_bytes()).hexdigest() == checksum, name


def test_names_and_types_come_from_the_official_list(built):
    communes = read(built, "communes_2020").set_index("commune_code")
    listed = pd.read_csv(SOURCES / "qn_communes_2020.csv", dtype=str).set_index("commune_code")
    for column in (
        "commune_full_name",
        "commune_type",
        "district_code",
        "commune_full_name_2020_03",
    ):
        assert (communes[column] == listed.loc[communes.index, column]).all(), column
    assert set(communes["commune_type"]) == {"Xã", "Phường", "Thị trấn"}
    renamed = communes[communes["commune_full_name"] != communes["commune_full_name_2020_03"]]
    assert len(renamed) == 6
    c25 = read(built, "communes_2025")
    assert set(c25["commune_type"]) == {"Xã", "Phường", "Đặc khu"}
    assert (c25["former_province"] == "Quảng Nam").sum() == 78


# --------------------------------------------------------------------------------------------
# the clean coverage


def test_no_overlaps_between_communes(built):
    overlaps = geo.pairwise_overlaps(read(built, "communes_2020").geometry)
    assert overlaps["area_m2"].max() < 1 if len(overlaps) else True
    assert overlaps["area_m2"].sum() < 1


def test_each_district_is_the_union_of_its_communes(built):
    communes = read(built, "communes_2020")
    districts = read(built, "districts_2020").set_index("district_code")
    for code, group in communes.groupby("district_code"):
        union = shapely.union_all(group.geometry.to_numpy())
        district = districts.geometry[code]
        diff = geo.area_m2([shapely.symmetric_difference(union, district)], 4326)[0]
        assert diff < 1e-4 * geo.area_m2([district], 4326)[0], code
        assert districts.loc[code, "n_communes"] == len(group)
        outside = geo.area_m2(shapely.difference(group.geometry.to_numpy(), district), 4326)
        assert outside.max() < 1, code


def test_districts_follow_the_district_source_and_fill_the_province(built):
    districts = read(built, "districts_2020").set_index("district_code")
    source = gpd.read_file(SOURCES / "qn_districts_2019.geojson").set_index("district_code")
    for code, geom in source.geometry.items():
        diff = geo.area_m2([shapely.symmetric_difference(geom, districts.geometry[code])], 4326)
        assert diff[0] < 1e-4 * geo.area_m2([geom], 4326)[0], code
    province = gpd.read_file(SOURCES / "qn_province_2019.geojson").geometry.iloc[0]
    union = shapely.union_all(read(built, "communes_2020").geometry.to_numpy())
    holes = [ring for part in shapely.get_parts(union) for ring in part.interiors]
    assert holes == []
    diff = geo.area_m2([shapely.symmetric_difference(union, province)], 4326)[0]
    assert diff < 1e-4 * geo.area_m2([province], 4326)[0]


def test_islands_are_kept(built):
    districts = read(built, "districts_2020").set_index("district_code")
    assert shapely.get_num_geometries(districts.geometry["503"]) == 9  # Hội An, Cù Lao Chàm
    assert shapely.get_num_geometries(districts.geometry["517"]) == 4  # Núi Thành
    communes = read(built, "communes_2020").set_index("commune_code")
    assert shapely.get_num_geometries(communes.geometry["20434"]) >= 7  # Tân Hiệp


def test_area_moved_report(built):
    report = pd.read_csv(built / "reports" / "area_moved_2020.csv", dtype={"commune_code": str})
    assert list(report.columns) == [
        "commune_code",
        "name",
        "original_area_km2",
        "clean_area_km2",
        "area_removed_km2",
        "area_added_km2",
        "moved_share",
    ]
    assert len(report) == 241
    communes = read(built, "communes_2020").set_index("commune_code")
    np.testing.assert_allclose(
        report.set_index("commune_code")["clean_area_km2"],
        communes.loc[report["commune_code"], "area_km2"],
        atol=1e-5,
    )
    assert (report["moved_share"] < 0.6).all()
    assert report["moved_share"].median() < 0.05
    # the cleaned total stays within 0.1% of the province area (10 600 km²)
    assert report["clean_area_km2"].sum() == pytest.approx(10_600, rel=1e-3)


# --------------------------------------------------------------------------------------------
# crosswalk


def test_crosswalk_is_complete(built):
    cw = crosswalk(built)
    assert list(cw.columns) == [
        "old_commune_code",
        "old_commune_full_name",
        "old_district_code",
        "new_commune_code",
        "new_commune_full_name",
        "overlap_share",
        "file_new_commune_code",
        "agrees",
        "method",
    ]
    assert len(cw) == 241
    assert set(cw["old_commune_code"]) == set(read(built, "communes_2020")["commune_code"])
    new_codes = set(read(built, "communes_2025")["commune_code"])
    assert set(cw["new_commune_code"]) <= new_codes
    assert (cw["method"] == "geometry").all()
    share = cw["overlap_share"].astype(float)
    assert ((share > 0.5) & (share <= 1)).all()


def test_the_eight_codes_missing_from_the_file_are_derived(built):
    cw = crosswalk(built).set_index("old_commune_code")
    filled = cw[cw["file_new_commune_code"] == ""]
    assert set(filled.index) == MISSING_IN_FILE
    assert (filled["agrees"] == "").all()
    assert (filled["new_commune_code"] != "").all()
    listed = cw.drop(index=list(MISSING_IN_FILE))
    assert set(listed["agrees"]) <= {"true", "false"}
    agrees = listed["agrees"] == "true"
    assert (agrees == (listed["new_commune_code"] == listed["file_new_commune_code"])).all()
    assert agrees.mean() > 0.95


def test_disagreement_report_lists_disagreements_and_derived_codes(built):
    cw = crosswalk(built)
    report = pd.read_csv(
        built / "reports" / "crosswalk_disagreements.csv", dtype=str, keep_default_na=False
    )
    expected = cw[cw["agrees"] != "true"]
    assert report["old_commune_code"].tolist() == expected["old_commune_code"].tolist()
    assert set(report["old_commune_code"]) >= MISSING_IN_FILE


# --------------------------------------------------------------------------------------------
# display copies


@pytest.mark.parametrize("layer", ["communes_2020", "districts_2020", "communes_2025"])
def test_display_copy_moves_no_boundary_more_than_50_m(built, layer):
    full, display = read(built, layer), read(built, f"{layer}_display")
    assert (full.iloc[:, 0] == display.iloc[:, 0]).all()
    # independent measure: GEOS Hausdorff distance (at the vertices) in metres
    moved = shapely.hausdorff_distance(
        shapely.boundary(full.to_crs(geo.METRIC_CRS).geometry.to_numpy()),
        shapely.boundary(display.to_crs(geo.METRIC_CRS).geometry.to_numpy()),
    )
    assert moved.max() <= 50
    assert moved.max() > 0  # it did simplify
    full_vertices = shapely.get_num_coordinates(full.geometry.to_numpy()).sum()
    assert shapely.get_num_coordinates(display.geometry.to_numpy()).sum() < 0.8 * full_vertices


def test_display_districts_nest_their_display_communes(built):
    communes = read(built, "communes_2020_display")
    districts = read(built, "districts_2020_display").set_index("district_code")
    for code, group in communes.groupby("district_code"):
        union = shapely.union_all(group.geometry.to_numpy())
        diff = geo.area_m2([shapely.symmetric_difference(union, districts.geometry[code])], 4326)
        assert diff[0] < 1, code


# --------------------------------------------------------------------------------------------
# failure path: a bad source raises, naming the feature, and the previous build stays


@pytest.fixture
def sources_copy(tmp_path) -> Path:
    copy = tmp_path / "sources"
    shutil.copytree(SOURCES, copy)
    for path in copy.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    return copy


@pytest.fixture
def previous_build(built, tmp_path) -> Path:
    out = tmp_path / "data" / "boundaries"
    shutil.copytree(built, out)
    return out


def drop_feature(path: Path, code_field: str, code: str) -> None:
    frame = gpd.read_file(path)
    frame[frame[code_field] != code].to_file(path, driver="GeoJSON")


def replace_geometry(path: Path, code_field: str, code: str, geometry) -> None:
    frame = gpd.read_file(path)
    frame.loc[frame[code_field] == code, "geometry"] = geometry
    frame.to_file(path, driver="GeoJSON")


BOWTIE = shapely.Polygon([(108.0, 15.5), (108.1, 15.6), (108.1, 15.5), (108.0, 15.6)])


@pytest.mark.parametrize(
    ("break_sources", "message"),
    [
        pytest.param(
            lambda d: drop_feature(d / "qn_communes_2020.geojson", "commune_code", "20335"),
            "missing commune 20335 Phường Tân Thạnh",
            id="commune-removed",
        ),
        pytest.param(
            lambda d: replace_geometry(
                d / "qn_communes_2020.geojson", "commune_code", "20341", BOWTIE
            ),
            "feature 20341 Phường An Mỹ: invalid geometry",
            id="invalid-geometry",
        ),
        pytest.param(
            lambda d: replace_geometry(
                d / "danang_communes_2025.geojson",
                "ward_code",
                "20992",
                shapely.box(105.0, 10.0, 105.1, 10.1),
            ),
            "feature 20992 Xã Tam Hải: bounds",
            id="feature-far-away",
        ),
        pytest.param(
            lambda d: drop_feature(d / "qn_districts_2019.geojson", "district_code", "510"),
            "missing district 510 Huyện Nam Giang",
            id="district-removed",
        ),
    ],
)
def test_bad_source_raises_naming_the_feature_and_keeps_previous_build(
    sources_copy, previous_build, break_sources, message
):
    before = file_hashes(previous_build)
    break_sources(sources_copy)
    with pytest.raises(BoundaryBuildError) as caught:
        build_boundaries(sources_copy, previous_build, echo=lambda _: None)
    assert message in str(caught.value)
    assert file_hashes(previous_build) == before
    assert not list(previous_build.parent.glob(".boundaries-build-*"))


def test_failure_after_writing_the_staging_folder_keeps_previous_build(previous_build, monkeypatch):
    before = file_hashes(previous_build)

    def broken_write_check(folder: Path, manifest: dict) -> None:
        assert (folder / "communes_2020.parquet").exists()  # the staging folder was written
        raise BoundaryBuildError("communes_2020.parquet did not write back correctly")

    monkeypatch.setattr(boundary_build, "_verify_written", broken_write_check)
    # skip the slow simplification: this test is about the swap, not the display copies
    monkeypatch.setattr(
        boundary_build,
        "_display",
        lambda layer, echo, label: (layer.copy(), {"tolerance_m": 0.0}, np.zeros(len(layer))),
    )
    monkeypatch.setattr(boundary_build, "_check_display", lambda *args: 0.0)
    with pytest.raises(BoundaryBuildError, match="did not write back"):
        build_boundaries(SOURCES, previous_build, echo=lambda _: None)
    assert file_hashes(previous_build) == before
    assert not list(previous_build.parent.glob(".boundaries-build-*"))


def test_missing_source_folder_raises(tmp_path):
    with pytest.raises(BoundaryBuildError, match="does not exist"):
        build_boundaries(tmp_path / "nowhere", tmp_path / "out", echo=lambda _: None)
    assert not (tmp_path / "out").exists()
