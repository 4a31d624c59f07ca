"""The map's TopoJSON: same features and properties as the GeoJSON layers, shared arcs,
bounded displacement (tiny data; the real editions under ``realdata``)."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import pytest
import shapely

from geoapp.services.topology import (
    GRID_M,
    MAX_DISPLACEMENT_M,
    MapTopologyService,
    build_shapes,
    decode,
    grid_transform,
    subset_shapes,
    topojson_bytes,
)
from geoapp.services.topopack import PACKED_MAGIC, PACKED_MIMETYPE, unpack_topology
from tests import tiny_data


def service(app) -> MapTopologyService:
    state = app.extensions["geoapp"]
    return MapTopologyService(state.store, state.coverage)


@pytest.mark.parametrize("edition", ["2020", "2025"])
def test_topology_carries_the_geojson_properties(tiny_app, edition):
    state = tiny_app.extensions["geoapp"]
    params = state.coverage.default_params()
    topo = json.loads(service(tiny_app).map_topojson(edition, params).body)
    geojson = json.loads(state.coverage.communes_geojson(edition, params).body)
    decoded = decode(topo, "communes")
    assert [p for p, _ in decoded] == [f["properties"] for f in geojson["features"]]
    for (_, shape), feature in zip(decoded, geojson["features"], strict=True):
        expected = shapely.geometry.shape(feature["geometry"])
        assert shape.hausdorff_distance(expected) < GRID_M / 111_000  # degrees: the grid only
    districts = decode(topo, "districts")
    assert {p["district_code"] for p, _ in districts} == {"101", "102"}
    assert all("label_lon" in p for p, _ in districts)


def points(shapes) -> set[tuple[float, float]]:
    topo = json.loads(topojson_bytes(shapes, {}))
    names = list(topo["objects"])
    coords = [shapely.get_coordinates(g).round(9) for n in names for _, g in decode(topo, n)]
    return {tuple(xy) for block in coords for xy in block.tolist()}


def test_districts_reuse_the_communes_arcs():
    """The districts are unions of communes: adding them adds no point to the topology."""
    communes = tiny_data.communes_2020()
    districts = tiny_data.districts_2020()
    alone = build_shapes({"communes": (communes, "commune_code")})
    both = build_shapes(
        {"communes": (communes, "commune_code"), "districts": (districts, "district_code")}
    )
    assert points(both) == points(alone)
    assert len(points(alone)) == 9  # the corners of the 2x2 grid


def test_grid_cells_are_at_most_grid_m():
    transform = grid_transform((107.2, 14.9, 112.8, 17.2))
    kx, ky = transform["scale"]
    assert kx * 111_320 * math.cos(math.radians(14.9)) <= GRID_M + 1e-9
    assert ky * 110_574 <= GRID_M + 1e-9
    assert kx * 111_320 * math.cos(math.radians(17.2)) > 0.9 * GRID_M  # not needlessly fine


def test_empty_properties_are_allowed():
    shapes = build_shapes({"communes": (tiny_data.communes_2025(), "commune_code")})
    topo = json.loads(topojson_bytes(shapes, {}))
    assert [p for p, _ in decode(topo, "communes")] == [{}, {}, {}]


@pytest.mark.realdata
@pytest.mark.parametrize(("edition", "n_communes"), [("2020", 241), ("2025", 94)])
def test_real_boundaries_move_at_most_50_m(real_app, edition, n_communes):
    state = real_app.extensions["geoapp"]
    params = state.coverage.default_params()
    topo = json.loads(service(real_app).map_topojson(edition, params).body)
    for name, full, code in (
        ("communes", state.store.communes(edition, "full"), "commune_code"),
        ("districts", state.store.districts("full"), "district_code"),
    ):
        decoded = decode(topo, name)
        got = gpd.GeoSeries(
            [g for _, g in decoded], index=[p[code] for p, _ in decoded], crs="EPSG:4326"
        ).to_crs("EPSG:32649")
        want = full.set_index(code).geometry.to_crs("EPSG:32649")
        assert sorted(got.index) == sorted(want.index)
        worst = max(got[k].hausdorff_distance(want[k]) for k in want.index)
        assert worst <= MAX_DISPLACEMENT_M <= 50.0, (name, worst)
    assert len(decode(topo, "communes")) == n_communes


@pytest.mark.parametrize("edition", ["2020", "2025"])
def test_packed_topology_is_the_topojson(tiny_app, edition):
    state = tiny_app.extensions["geoapp"]
    params = state.coverage.default_params()
    topo_service = service(tiny_app)
    packed = topo_service.map_topopack(edition, params)
    assert packed.mimetype == PACKED_MIMETYPE
    assert packed.body.startswith(PACKED_MAGIC)
    assert unpack_topology(packed.body) == json.loads(
        topo_service.map_topojson(edition, params).body
    )


@pytest.mark.realdata
def test_packed_topology_is_smaller_than_topojson_after_gzip(real_app):
    import gzip

    state = real_app.extensions["geoapp"]
    params = state.coverage.default_params()
    topo_service = service(real_app)
    for edition in ("2020", "2025"):
        packed = gzip.compress(topo_service.map_topopack(edition, params).body, 9)
        plain = gzip.compress(topo_service.map_topojson(edition, params).body, 9)
        assert len(packed) < 0.85 * len(plain), (edition, len(packed), len(plain))


def test_a_subset_keeps_only_the_arcs_its_geometries_use():
    communes = tiny_data.communes_2020()
    whole = build_shapes({"communes": (communes, "commune_code")})
    piece = subset_shapes(whole, "communes", {"10001", "10004"})  # diagonal: share a corner
    assert [code for code, _ in piece.objects["communes"]] == ["10001", "10004"]
    assert piece.n_arcs < whole.n_arcs
    full = dict(zip(["10001", "10002", "10003", "10004"], decode_all(whole), strict=True))
    for code, shape in zip(["10001", "10004"], decode_all(piece), strict=True):
        assert shape.equals_exact(full[code], 1e-12)
    assert subset_shapes(whole, "communes", set()).n_arcs == 0


def decode_all(shapes) -> list:
    return [g for _, g in decode(json.loads(topojson_bytes(shapes, {})), "communes")]


def test_shapes_say_how_far_they_may_be_from_full_detail():
    communes = tiny_data.communes_2020()
    coarse = build_shapes({"communes": (communes, "commune_code")}, 300.0, 50.0)
    assert coarse.max_displacement_m == pytest.approx(300.0 + 50.0 / math.sqrt(2))
    assert subset_shapes(coarse, "communes", {"10001"}).max_displacement_m == pytest.approx(
        coarse.max_displacement_m
    )
    assert build_shapes({"communes": (communes, "commune_code")}).max_displacement_m == (
        MAX_DISPLACEMENT_M
    )
