"""Boundary geometry rules on tiny literal geometries with known answers.

Coordinates are metres in EPSG:32649 (a projected CRS, so the functions measure them as given).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal, assert_geoseries_equal
from shapely import Polygon, box

from geoapp.domain import boundaries as geo

CRS = "EPSG:32649"


def communes(rows: list[tuple[str, str, Polygon]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"commune_code": [r[0] for r in rows], "district_code": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs=CRS,
    )


def frames(rows: list[tuple[str, Polygon]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"district_code": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs=CRS
    )


def total_overlap(layer: gpd.GeoDataFrame) -> float:
    return float(geo.pairwise_overlaps(layer.geometry)["area_m2"].sum())


# --------------------------------------------------------------------------------------------
# cleaning


@pytest.mark.parametrize(
    ("a", "b", "expected_a", "expected_b"),
    [
        pytest.param(
            box(0, 0, 11, 10),
            box(9, 0, 20, 10),
            box(0, 0, 11, 10),
            box(11, 0, 20, 10),
            id="equal-borders-go-to-smaller-code",
        ),
        pytest.param(
            Polygon([(0, 0), (12, 0), (10, 10), (0, 10)]),
            box(10, 0, 20, 10),
            box(0, 0, 10, 10),
            box(10, 0, 20, 10),
            id="longer-border-wins",
        ),
    ],
)
def test_overlap_goes_to_one_commune_and_union_is_kept(a, b, expected_a, expected_b):
    frame = box(0, 0, 20, 10)
    clean = geo.clean_commune_coverage(
        communes([("00001", "D", a), ("00002", "D", b)]), frames([("D", frame)])
    )
    expected = communes([("00001", "D", expected_a), ("00002", "D", expected_b)])
    assert_geodataframe_equal(clean, expected)
    assert total_overlap(clean) == 0
    assert shapely.union_all(clean.geometry).equals(frame)
    assert shapely.coverage_is_valid(clean.geometry.to_numpy())


def test_gap_goes_to_the_neighbour_with_the_longest_shared_border():
    # the gap [10,20]x[8,10] borders 00002 for 10 m and 00001 for 2 m
    clean = geo.clean_commune_coverage(
        communes([("00001", "D", box(0, 0, 10, 10)), ("00002", "D", box(10, 0, 20, 8))]),
        frames([("D", box(0, 0, 20, 10))]),
    )
    expected = communes([("00001", "D", box(0, 0, 10, 10)), ("00002", "D", box(10, 0, 20, 10))])
    assert_geodataframe_equal(clean, expected)


def test_communes_are_clipped_to_their_own_district_and_districts_filled():
    # 00001 (district A) pokes 2 m into B and 2 m below the frames; 00002 (B) leaves a gap
    clean = geo.clean_commune_coverage(
        communes([("00001", "A", box(0, -2, 12, 10)), ("00002", "B", box(11, 0, 20, 10))]),
        frames([("A", box(0, 0, 10, 10)), ("B", box(10, 0, 20, 10))]),
    )
    expected = communes([("00001", "A", box(0, 0, 10, 10)), ("00002", "B", box(10, 0, 20, 10))])
    assert_geodataframe_equal(clean, expected)


def test_commune_lying_mostly_in_another_district_stays_in_its_own():
    # 00002 belongs to A but 9/14 of its polygon lies in B
    clean = geo.clean_commune_coverage(
        communes(
            [
                ("00001", "A", box(0, 0, 5, 10)),
                ("00002", "A", box(5, 0, 19, 10)),
                ("00003", "B", box(10, 0, 20, 10)),
            ]
        ),
        frames([("A", box(0, 0, 10, 10)), ("B", box(10, 0, 20, 10))]),
    )
    expected = communes(
        [
            ("00001", "A", box(0, 0, 5, 10)),
            ("00002", "A", box(5, 0, 10, 10)),
            ("00003", "B", box(10, 0, 20, 10)),
        ]
    )
    assert_geodataframe_equal(clean, expected)


def test_islands_nobody_covers_go_to_the_nearest_commune_and_stay_separate():
    island = box(30, 0, 32, 2)
    frame = shapely.MultiPolygon([box(0, 0, 20, 10), island])
    clean = geo.clean_commune_coverage(
        communes([("00001", "D", box(0, 0, 10, 10)), ("00002", "D", box(10, 0, 20, 10))]),
        frames([("D", frame)]),
    )
    assert clean.geometry.iloc[1].equals(shapely.MultiPolygon([box(10, 0, 20, 10), island]))
    assert clean.geometry.iloc[0].equals(box(0, 0, 10, 10))


def test_stray_piece_cut_off_by_a_neighbour_joins_that_neighbour():
    # 00001's thin arm [10,20]x[4,5] is cut off by 00002, which covers the rest of [10,20]:
    # the arm's far end [18,20]x[4,5] only 00001 covers, but it is a detached piece
    a = shapely.union_all([box(0, 0, 10, 10), box(10, 4, 20, 5)])
    b = shapely.difference(box(10, 0, 20, 10), box(18, 4, 20, 5))
    clean = geo.clean_commune_coverage(
        communes([("00001", "D", a), ("00002", "D", b)]), frames([("D", box(0, 0, 20, 10))])
    )
    assert clean.geometry.iloc[0].equals(box(0, 0, 10, 10))
    assert clean.geometry.iloc[1].equals(box(10, 0, 20, 10))


def test_remove_spikes_drops_zero_width_spike_only():
    spiky = Polygon([(0, 0), (5, 0), (5.0, -30), (5.001, 0), (10, 0), (10, 10), (0, 10)])
    clean = geo.remove_spikes(spiky)
    assert clean.equals(box(0, 0, 10, 10))
    square_with_notch = Polygon([(0, 0), (4, 0), (5, 3), (6, 0), (10, 0), (10, 10), (0, 10)])
    assert geo.remove_spikes(square_with_notch).equals(square_with_notch)


def test_clean_frames_removes_overlap_and_tiny_gap():
    left = box(0, 0, 10.4, 10)  # overlaps the right one by 0.4 m
    right = box(10, 0, 20, 10)
    top = box(0, 10, 20, 20).difference(box(15, 10, 16, 10.3))  # a 0.3 m notch: a gap
    out = geo.clean_frames(gpd.GeoSeries([left, right, top], crs=CRS), gap_width=1.0)
    assert shapely.coverage_is_valid(out.to_numpy())
    assert total_overlap(gpd.GeoDataFrame(geometry=out)) == 0
    assert shapely.coverage_union_all(out.to_numpy()).equals(box(0, 0, 20, 20))


# --------------------------------------------------------------------------------------------
# checks


def test_area_moved_counts_removed_and_added_area():
    moved = geo.area_moved(
        gpd.GeoSeries([box(0, 0, 10, 10)], crs=CRS), gpd.GeoSeries([box(2, 0, 12, 10)], crs=CRS)
    )
    expected = pd.DataFrame(
        {
            "original_area_km2": [100e-6],
            "clean_area_km2": [100e-6],
            "area_removed_km2": [20e-6],
            "area_added_km2": [20e-6],
            "moved_share": [0.4],
        }
    )
    pd.testing.assert_frame_equal(moved, expected)


@pytest.mark.parametrize(
    ("geoms", "message"),
    [
        pytest.param(
            [box(0, 0, 11, 10), box(10, 0, 20, 10)],
            "communes 00001 One and 00002 Two overlap by 10.0 m²",
            id="overlap",
        ),
        pytest.param(
            [box(0, 0, 10, 12), box(10, 0, 20, 10)],
            "commune 00001 One lies 20.0 m² outside frame D",
            id="outside",
        ),
        pytest.param(
            [box(0, 0, 10, 10), box(10, 0, 18, 10)],
            "frame D differs from the union of its communes by 20 m²",
            id="gap",
        ),
        pytest.param(
            [box(0, 0, 10, 10), shapely.Polygon()],
            "commune 00002 Two has an empty geometry",
            id="empty",
        ),
        pytest.param(
            [box(0, 0, 10, 10), Polygon([(10, 0), (20, 10), (20, 0), (10, 10)])],
            "commune 00002 Two has an invalid geometry",
            id="invalid",
        ),
    ],
)
def test_coverage_problems_name_the_commune(geoms, message):
    layer = communes([("00001", "D", geoms[0]), ("00002", "D", geoms[1])])
    layer["commune_full_name"] = ["One", "Two"]
    problems = geo.coverage_problems(layer, frames([("D", box(0, 0, 20, 10))]))
    assert any(message in p for p in problems), problems


def test_coverage_problems_empty_for_a_clean_coverage():
    layer = communes([("00001", "D", box(0, 0, 10, 10)), ("00002", "D", box(10, 0, 20, 10))])
    layer["commune_full_name"] = ["One", "Two"]
    assert geo.coverage_problems(layer, frames([("D", box(0, 0, 20, 10))])) == []


@pytest.mark.parametrize(
    ("rows", "expected_count", "message"),
    [
        ([("12345", box(1, 1, 2, 2))], 2, "expected 2 features, found 1"),
        ([("12345", box(1, 1, 2, 2)), ("12345", box(2, 2, 3, 3))], 2, "duplicate code(s): 12345"),
        ([("1234", box(1, 1, 2, 2))], 1, "feature 1234 X: code is not 5 digits"),
        ([("12345", box(1, 1, 20, 2))], 1, "feature 12345 X: bounds"),
        ([("12345", shapely.Point(1, 1))], 1, "feature 12345 X: geometry is a Point"),
    ],
)
def test_layer_problems(rows, expected_count, message):
    layer = gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": ["X"] * len(rows)},
        geometry=[r[1] for r in rows],
        crs=CRS,
    )
    problems = geo.layer_problems(
        layer,
        code="code",
        name="name",
        expected_count=expected_count,
        boxes=[(0, 0, 10, 10)],
        code_digits=5,
    )
    assert any(message in p for p in problems), problems


# --------------------------------------------------------------------------------------------
# display simplification

BUMPY = Polygon([(0, 0), (45, 0), (50, -5), (55, 0), (100, 0), (100, 100), (0, 100)])


def test_displacement_of_a_removed_bump_is_its_height():
    # the bump (45,0)-(50,-5)-(55,0) is a 25 m² triangle: tolerance 10 m (100 m²) removes it
    original = gpd.GeoSeries([BUMPY], crs=CRS)
    simple = geo.simplify_coverage(original, 10)
    assert simple.iloc[0].equals(box(0, 0, 100, 100))
    assert geo.displacement_m(original, simple, spacing_m=1) == pytest.approx([5.0])
    assert geo.displacement_m(original, simple, spacing_m=np.inf) == pytest.approx([5.0])
    assert geo.displacement_m(original, original) == pytest.approx([0.0])


def test_displacement_finds_the_middle_of_a_long_chord():
    # vertices agree but the edge bows out between them: only densified sampling sees it
    original = gpd.GeoSeries([Polygon([(0, 0), (50, -4), (100, 0), (100, 100), (0, 100)])], crs=CRS)
    chord = gpd.GeoSeries([Polygon([(0, 0), (100, 0), (100, 100), (0, 100)])], crs=CRS)
    assert geo.displacement_m(original, chord, spacing_m=1)[0] == pytest.approx(4.0, abs=0.1)


@pytest.mark.parametrize(
    ("limit", "tolerance", "keeps_bump"),
    [(6.0, 10.0, False), (4.0, 1.0, True)],
)
def test_simplify_within_respects_the_displacement_limit(limit, tolerance, keeps_bump):
    original = gpd.GeoSeries([BUMPY], crs=CRS)
    simple, tol, moved, _ = geo.simplify_within(
        original, limit, tolerances_m=(1, 10), spacing_m=1, decimals=None
    )
    assert tol == tolerance
    assert moved.max() <= limit
    assert simple.iloc[0].equals(BUMPY) is keeps_bump


def test_simplified_coverage_keeps_shared_edges():
    # two squares sharing a wiggly edge: simplified, they still tile the same outline
    wiggle = [(10, 0), (10.5, 2), (10, 4), (9.6, 6), (10, 10)]
    left = Polygon([(0, 0), *wiggle, (0, 10)])
    right = Polygon([*wiggle, (20, 10), (20, 0)])
    coverage = gpd.GeoSeries([left, right], crs=CRS)
    simple = geo.simplify_coverage(coverage, 2)
    assert shapely.get_num_coordinates(simple.to_numpy()).sum() < 14
    assert shapely.coverage_is_valid(simple.to_numpy())
    assert total_overlap(gpd.GeoDataFrame(geometry=simple)) == 0
    assert shapely.union_all(simple.to_numpy()).equals(box(0, 0, 20, 10))


def test_rounding_that_collapses_a_feature_is_refused():
    thin = gpd.GeoSeries([box(0, 0, 10, 0.3)], crs=CRS)
    assert geo.round_coordinates(thin, 0) is None
    fine = gpd.GeoSeries([box(0.04, 0, 10, 10)], crs=CRS)
    assert_geoseries_equal(
        geo.round_coordinates(fine, 1), gpd.GeoSeries([box(0, 0, 10, 10)], crs=CRS)
    )


# --------------------------------------------------------------------------------------------
# crosswalk


def test_crosswalk_picks_the_largest_overlap_on_a_grid():
    # old: 2x2 grid of 10 m cells; new: a left block reaching 2 m into the right column
    old = gpd.GeoDataFrame(
        {"commune_code": ["00001", "00002", "00003", "00004"]},
        geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(0, 10, 10, 20), box(10, 10, 20, 20)],
        crs=CRS,
    )
    new = gpd.GeoDataFrame(
        {"commune_code": ["00010", "00020"]},
        geometry=[box(0, 0, 12, 20), box(12, 0, 20, 20)],
        crs=CRS,
    )
    derived = geo.largest_overlap(old, new)
    expected = pd.DataFrame(
        {
            "old_code": ["00001", "00002", "00003", "00004"],
            "new_code": ["00010", "00020", "00010", "00020"],
            "overlap_share": [1.0, 0.8, 1.0, 0.8],
        }
    )
    pd.testing.assert_frame_equal(derived, expected, check_dtype=False)


def test_crosswalk_old_feature_overlapping_nothing_has_no_answer():
    old = gpd.GeoDataFrame({"commune_code": ["00001"]}, geometry=[box(50, 50, 60, 60)], crs=CRS)
    new = gpd.GeoDataFrame({"commune_code": ["00010"]}, geometry=[box(0, 0, 10, 10)], crs=CRS)
    derived = geo.largest_overlap(old, new)
    assert derived["new_code"].tolist() == [""]
    assert derived["overlap_share"].tolist() == [0.0]


def test_compare_crosswalk_agreement_with_several_successors():
    derived = pd.DataFrame({"old_code": ["1", "2", "3"], "new_code": ["10", "20", "30"]})
    listed = pd.DataFrame({"old_code": ["1", "2", "2"], "new_code": ["10", "21", "22"]})
    out = geo.compare_crosswalk(derived, listed)
    assert out["file_new_code"].tolist() == ["10", "21;22", ""]
    assert out["agrees"].tolist() == ["true", "false", ""]
    listed_with_match = pd.DataFrame({"old_code": ["2", "2"], "new_code": ["21", "20"]})
    assert geo.compare_crosswalk(derived, listed_with_match)["agrees"].tolist() == [
        "",
        "true",
        "",
    ]
