"""Approximate points inside polygons: inside, distinct, spread and deterministic."""

from __future__ import annotations

import itertools

import geopandas as gpd
import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from geoapp.domain.placement import PlacementError, place_in_polygon, place_points

# About 1.07 km x 1.1 km near Tam Kỳ.
SQUARE = box(108.50, 15.55, 108.51, 15.56)
# About 11 m wide and 1.1 km long.
THIN = box(108.50, 15.55, 108.5001, 15.56)
# About 2 m x 2 m.
TINY = box(108.50, 15.55, 108.50002, 15.55002)
# A U shape: the centre of its bounding box is outside the polygon.
U_SHAPE = Polygon(
    [(108.50, 15.55), (108.53, 15.55), (108.53, 15.58), (108.52, 15.58), (108.52, 15.56),
     (108.51, 15.56), (108.51, 15.58), (108.50, 15.58)]
)  # fmt: skip
# A square with a square hole in the middle.
HOLED = Polygon(
    box(108.50, 15.55, 108.53, 15.58).exterior.coords,
    [box(108.505, 15.555, 108.525, 15.575).exterior.coords],
)


def metric_distances(points) -> list[float]:
    series = gpd.GeoSeries(points, crs="EPSG:4326").to_crs("EPSG:32649")
    return [a.distance(b) for a, b in itertools.combinations(series, 2)]


def assert_inside_and_distinct(polygon, points, n):
    assert len(points) == n
    assert all(polygon.contains(p) for p in points), "a point is not strictly inside"
    assert len({(p.x, p.y) for p in points}) == n, "points are not distinct"


@pytest.mark.parametrize(
    ("polygon", "n"),
    [(SQUARE, 1), (SQUARE, 7), (THIN, 5), (TINY, 3), (U_SHAPE, 12), (HOLED, 10)],
)
def test_points_strictly_inside_and_distinct(polygon, n):
    assert_inside_and_distinct(polygon, place_in_polygon(polygon, n), n)


def test_points_in_a_roomy_polygon_are_spread_not_stacked():
    points = place_in_polygon(SQUARE, 7, spacing_m=300)
    assert min(metric_distances(points)) >= 299


def test_same_input_same_output():
    first = place_points([SQUARE, U_SHAPE, TINY], [4, 6, 2])
    second = place_points([SQUARE, U_SHAPE, TINY], [4, 6, 2])
    assert [[p.wkt for p in ps] for ps in first] == [[p.wkt for p in ps] for ps in second]
    # A polygon's points do not depend on the other polygons of the call.
    alone = place_points([U_SHAPE], [6])
    assert [p.wkt for p in alone[0]] == [p.wkt for p in first[1]]


def test_coordinates_are_rounded_and_still_inside():
    points = place_in_polygon(THIN, 4, decimals=6)
    for p in points:
        assert round(p.x, 6) == p.x and round(p.y, 6) == p.y
    assert_inside_and_distinct(THIN, points, 4)


def test_place_points_accepts_a_geoseries_and_keeps_its_crs():
    series = gpd.GeoSeries([SQUARE, HOLED], crs="EPSG:4326").to_crs("EPSG:32649")
    placed = place_points(series, [3, 2], decimals=2)
    for polygon, points, n in zip(series, placed, [3, 2], strict=True):
        assert_inside_and_distinct(polygon, points, n)
        assert all(p.x > 1000 for p in points)  # metres, not degrees


def test_multipolygon_points_land_in_one_of_its_parts():
    island = box(108.60, 15.60, 108.601, 15.601)
    shape = MultiPolygon([SQUARE, island])
    assert_inside_and_distinct(shape, place_in_polygon(shape, 5), 5)


def test_zero_count_and_bad_input():
    assert place_in_polygon(SQUARE, 0) == []
    with pytest.raises(PlacementError):
        place_in_polygon(Polygon(), 1)
    with pytest.raises(PlacementError):
        place_in_polygon(Polygon([(108.5, 15.5), (108.6, 15.5), (108.7, 15.5)]), 1)
    with pytest.raises(ValueError, match="counts"):
        place_points([SQUARE], [1, 2])
    with pytest.raises(ValueError):
        place_in_polygon(SQUARE, -1)
