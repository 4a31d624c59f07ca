"""Nearest points through the spatial index equal a brute-force ranking of every point."""

from __future__ import annotations

import numpy as np
import pytest

from geoapp.domain.nearest import (
    EARTH_RADIUS_M,
    NearestIndex,
    SphereIndex,
    brute_force_nearest,
    geodesic_m,
    haversine_m,
)

# Quảng Nam's box (degrees) and places a visitor may stand.
SOUTH, NORTH, WEST, EAST = 14.95, 16.1, 107.2, 108.75
COAST = [(15.88, 108.33), (15.57, 108.48), (15.42, 108.80), (15.72, 108.42)]  # Hội An, Tam Kỳ...
CU_LAO_CHAM = [(15.953, 108.505), (15.935, 108.52), (15.96, 108.48)]
OUTSIDE = [
    (21.03, 105.85),  # Hà Nội
    (10.78, 106.70),  # Hồ Chí Minh City
    (16.5, 112.0),  # the Paracels, at sea
    (-33.87, 151.21),  # Sydney
    (48.86, 2.35),  # Paris
    (15.9, -71.5),  # the far side of the Earth
    (89.9, 0.0),  # next to the pole
    (15.6, 180.0),  # on the antimeridian
]


@pytest.fixture(scope="module")
def points() -> tuple[np.ndarray, np.ndarray]:
    """2,000 random points in the province box plus a few on the coast and the islands."""
    rng = np.random.default_rng(20240531)
    lat = rng.uniform(SOUTH, NORTH, 2000)
    lon = rng.uniform(WEST, EAST, 2000)
    extra = np.array(COAST + CU_LAO_CHAM)
    return np.concatenate((lat, extra[:, 0])), np.concatenate((lon, extra[:, 1]))


def query_points() -> list[tuple[float, float]]:
    rng = np.random.default_rng(7)
    inside = list(zip(rng.uniform(SOUTH, NORTH, 40), rng.uniform(WEST, EAST, 40), strict=True))
    return inside + COAST + CU_LAO_CHAM + OUTSIDE


def test_haversine_and_geodesic_agree_on_known_distances():
    # One degree of latitude at the equator: 110,574 m on WGS 84, 111,195 m on the mean sphere.
    assert geodesic_m(0.0, 108.0, 1.0, 108.0) == pytest.approx(110_574.4, abs=0.5)
    assert haversine_m(0.0, 108.0, 1.0, 108.0) == pytest.approx(EARTH_RADIUS_M * np.pi / 180)
    # Hội An old town to Tam Kỳ centre: about 37.2 km; the two measures differ by < 0.5 %.
    g = geodesic_m(15.877, 108.326, 15.573, 108.474)
    h = haversine_m(15.877, 108.326, 15.573, 108.474)
    assert 37_000 < g < 38_000
    assert abs(g - h) / g < 0.005


@pytest.mark.parametrize("k", [1, 5, 10, 50])
def test_sphere_index_equals_brute_force_haversine(points, k):
    lat, lon = points
    index = SphereIndex(lat, lon)
    for q_lat, q_lon in query_points():
        got = index.nearest(q_lat, q_lon, k)
        want = brute_force_nearest(q_lat, q_lon, lat, lon, k, metric="haversine")
        assert got.index.tolist() == want.index.tolist(), (q_lat, q_lon)
        np.testing.assert_allclose(got.distance_m, want.distance_m, atol=1.0)


@pytest.mark.parametrize("k", [1, 10, 50])
def test_nearest_index_equals_brute_force_geodesic(points, k):
    lat, lon = points
    index = NearestIndex(lat, lon)
    for q_lat, q_lon in query_points():
        got = index.nearest(q_lat, q_lon, k)
        want = brute_force_nearest(q_lat, q_lon, lat, lon, k, metric="geodesic")
        assert got.index.tolist() == want.index.tolist(), (q_lat, q_lon)
        np.testing.assert_allclose(got.distance_m, want.distance_m, atol=1.0)
        assert np.all(np.diff(got.distance_m) >= 0)


def test_geodesic_result_is_the_haversine_set_up_to_ties_within_half_a_percent(points):
    # Sorting by geodesic distance may swap places whose distances differ by less than the
    # sphere/ellipsoid difference; it never brings in a point that is clearly farther.
    lat, lon = points
    index = NearestIndex(lat, lon)
    for q_lat, q_lon in query_points():
        got = index.nearest(q_lat, q_lon, 10)
        hav = brute_force_nearest(q_lat, q_lon, lat, lon, 10, metric="haversine")
        got_h = haversine_m(q_lat, q_lon, lat[got.index], lon[got.index])
        assert got_h.max() <= hav.distance_m.max() * 1.006


def test_island_point_finds_the_island_first(points):
    lat, lon = points
    index = NearestIndex(lat, lon)
    n_random = len(lat) - len(COAST) - len(CU_LAO_CHAM)
    island = index.nearest(15.953, 108.505, 1)
    assert island.index[0] == n_random + len(COAST)  # the first Cù Lao Chàm point itself
    assert island.distance_m[0] == pytest.approx(0.0, abs=1e-6)


def test_far_away_points_still_get_results_with_distances(points):
    lat, lon = points
    index = NearestIndex(lat, lon)
    hanoi = index.nearest(21.03, 105.85, 3)
    assert len(hanoi) == 3
    assert 550_000 < hanoi.distance_m[0] < 750_000
    antipode = index.nearest(-15.6, -71.9, 1)
    assert antipode.distance_m[0] > 19_000_000


def test_allowed_mask_keeps_only_allowed_points(points):
    lat, lon = points
    index = NearestIndex(lat, lon)
    allowed = np.zeros(len(lat), dtype=bool)
    allowed[::97] = True  # a sparse subset: the index has to look further than k
    for q_lat, q_lon in query_points()[:20]:
        got = index.nearest(q_lat, q_lon, 5, allowed)
        subset = np.flatnonzero(allowed)
        want = brute_force_nearest(q_lat, q_lon, lat[subset], lon[subset], 5)
        assert got.index.tolist() == subset[want.index].tolist()
    assert len(index.nearest(15.5, 108.0, 5, np.zeros(len(lat), dtype=bool))) == 0


def test_ties_are_broken_by_input_position():
    lat = np.array([15.0, 15.0, 15.0, 15.0])
    lon = np.array([108.01, 107.98, 108.01, 108.0])
    index = NearestIndex(lat, lon)
    got = index.nearest(15.0, 108.0, 3)
    assert got.index.tolist() == [3, 0, 2]  # 0 and 2 are the same point: input order
    assert SphereIndex(lat, lon).nearest(15.0, 108.0, 3).index.tolist() == [3, 0, 2]


def test_k_larger_than_the_data_returns_everything_and_empty_index_returns_nothing():
    index = NearestIndex([15.5, 15.6], [108.0, 108.1])
    assert len(index.nearest(15.5, 108.0, 10)) == 2
    assert len(NearestIndex([], []).nearest(15.5, 108.0, 10)) == 0


def test_bad_positions_are_refused():
    index = NearestIndex([15.5], [108.0])
    with pytest.raises(ValueError):
        index.nearest(float("nan"), 108.0, 1)
    with pytest.raises(ValueError):
        index.nearest(91.0, 108.0, 1)
    with pytest.raises(ValueError):
        SphereIndex([15.5, np.nan], [108.0, 108.0])


@pytest.mark.parametrize("scan_max", [0, 10_000], ids=["tree", "scan"])
def test_small_indexes_scan_and_tree_give_the_same_answer(points, monkeypatch, scan_max):
    import geoapp.domain.nearest as nearest_module

    monkeypatch.setattr(nearest_module, "SCAN_MAX_POINTS", scan_max)
    lat, lon = points[0][:300], points[1][:300]
    index = NearestIndex(lat, lon)
    allowed = np.zeros(len(lat), dtype=bool)
    allowed[::7] = True
    for q_lat, q_lon in query_points():
        got = index.nearest(q_lat, q_lon, 10)
        want = brute_force_nearest(q_lat, q_lon, lat, lon, 10)
        assert got.index.tolist() == want.index.tolist(), (q_lat, q_lon)
        np.testing.assert_allclose(got.distance_m, want.distance_m, atol=1.0)
        subset = np.flatnonzero(allowed)
        masked = index.nearest(q_lat, q_lon, 4, allowed)
        want = brute_force_nearest(q_lat, q_lon, lat[subset], lon[subset], 4)
        assert masked.index.tolist() == subset[want.index].tolist()
    assert len(index.nearest(15.5, 108.0, 5, np.zeros(len(lat), dtype=bool))) == 0
    assert len(index.nearest(15.5, 108.0, 0)) == 0
