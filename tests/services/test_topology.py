"""The map's geometry (standard TopoJSON, per boundary version) and status (per data version):
the same features and properties as the GeoJSON layers, shared arcs, bounded displacement
(tiny data; the real editions under ``realdata``)."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import pytest
import shapely
from topojson.utils import serialize_as_geojson

from geoapp.services.topology import (
    AREA_GRID_M,
    AREA_SIMPLIFY_M,
    GRID_M,
    MAX_DISPLACEMENT_M,
    MapTopologyService,
    build_topology,
    grid_transform,
)
from tests import tiny_data


def service(app, **kwargs) -> MapTopologyService:
    state = app.extensions["geoapp"]
    return MapTopologyService(state.store, state.coverage, **kwargs)


def shapes(topology: dict, name: str, code: str) -> dict[str, object]:
    """Code -> shapely geometry of object ``name``, decoded by the ``topojson`` package."""
    features = serialize_as_geojson(topology, objectname=name)["features"]
    return {f["properties"][code]: shapely.geometry.shape(f["geometry"]) for f in features}


@pytest.mark.parametrize("edition", ["2020", "2025"])
def test_status_carries_every_geojson_property_by_code(tiny_app, edition):
    state = tiny_app.extensions["geoapp"]
    params = state.coverage.default_params()
    status = json.loads(service(tiny_app).status(edition, params).body)
    communes = json.loads(state.coverage.communes_geojson(edition, params).body)["features"]
    districts = json.loads(state.coverage.districts_geojson(params).body)["features"]
    assert status["communes"] == {
        f["properties"]["commune_code"]: f["properties"] for f in communes
    }
    assert status["districts"] == {
        f["properties"]["district_code"]: f["properties"] for f in districts
    }
    assert "completeness_low" in status["communes"]["10001" if edition == "2020" else "20001"]


@pytest.mark.parametrize("edition", ["2020", "2025"])
def test_boundaries_are_the_display_shapes_with_their_codes_only(tiny_app, edition):
    state = tiny_app.extensions["geoapp"]
    topo = json.loads(service(tiny_app).boundaries(edition).body)
    assert topo["type"] == "Topology" and set(topo["objects"]) == {"communes", "districts"}
    for name, code, frame in (
        ("communes", "commune_code", state.store.communes(edition, "display")),
        ("districts", "district_code", state.store.districts("display")),
    ):
        props = [g["properties"] for g in topo["objects"][name]["geometries"]]
        assert props == [{code: c} for c in frame[code].astype(str)]
        got = shapes(topo, name, code)
        for c, shape in zip(frame[code].astype(str), frame.geometry, strict=True):
            assert got[c].hausdorff_distance(shape) < GRID_M / 110_000  # degrees: the grid only


def test_map_topojson_joins_geometry_and_status(tiny_app):
    state = tiny_app.extensions["geoapp"]
    params = state.coverage.default_params()
    topo_service = service(tiny_app)
    topo = json.loads(topo_service.map_topojson("2020", params).body)
    geometry = json.loads(topo_service.boundaries("2020").body)
    status = json.loads(topo_service.status("2020", params).body)
    assert topo["arcs"] == geometry["arcs"]
    got = [g["properties"] for g in topo["objects"]["communes"]["geometries"]]
    assert got == [status["communes"][p["commune_code"]] for p in got]


def points(topology: dict) -> set[tuple[float, float]]:
    names = list(topology["objects"])
    coords = [
        shapely.get_coordinates(g).round(9)
        for n in names
        for g in shapes(
            topology, n, "commune_code" if n == "communes" else "district_code"
        ).values()
    ]
    return {tuple(xy) for block in coords for xy in block.tolist()}


def test_districts_reuse_the_communes_arcs():
    """The districts are unions of communes: adding them adds no point to the topology."""
    communes = tiny_data.communes_2020()
    districts = tiny_data.districts_2020()
    alone = build_topology({"communes": (communes, "commune_code")})
    both = build_topology(
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


def test_an_edition_by_area_has_districts_only(tiny_app):
    topo = json.loads(service(tiny_app, full_communes_max=2).boundaries("2020").body)
    assert list(topo["objects"]) == ["districts"]
    assert set(shapes(topo, "districts", "district_code")) == {"101", "102"}


def test_geometry_is_cached_per_boundary_version_not_per_data_version(tiny_app, monkeypatch):
    """An import (new data version, same boundaries) neither rebuilds nor changes the
    geometry; a new boundary build does."""
    from geoapp.services import topology as topology_module

    topo_service = service(tiny_app)
    store = tiny_app.extensions["geoapp"].store
    first = topo_service.boundaries("2020")
    calls = []
    real = topology_module.build_topology
    monkeypatch.setattr(
        topology_module, "build_topology", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    monkeypatch.setattr(store, "data_version", lambda: "imported")
    assert topo_service.boundaries("2020") is first and calls == []
    monkeypatch.setattr(store, "boundary_version", lambda: "rebuilt")
    assert topo_service.boundaries("2020").etag == first.etag and calls == [1]


@pytest.mark.realdata
@pytest.mark.parametrize(("edition", "n_communes"), [("2020", 241), ("2025", 94)])
def test_real_boundaries_move_at_most_50_m(real_app, edition, n_communes):
    state = real_app.extensions["geoapp"]
    topo = json.loads(service(real_app).boundaries(edition).body)
    for name, full, code in (
        ("communes", state.store.communes(edition, "full"), "commune_code"),
        ("districts", state.store.districts("full"), "district_code"),
    ):
        got = gpd.GeoSeries(shapes(topo, name, code), crs="EPSG:4326").to_crs("EPSG:32649")
        want = full.set_index(code).geometry.to_crs("EPSG:32649")
        assert sorted(got.index) == sorted(want.index)
        worst = max(got[k].hausdorff_distance(want[k]) for k in want.index)
        assert worst <= MAX_DISPLACEMENT_M, (name, worst)
    assert len(topo["objects"]["communes"]["geometries"]) == n_communes


@pytest.mark.realdata
def test_real_districts_by_area_are_simplified_within_their_tolerance(real_app):
    state = real_app.extensions["geoapp"]
    topo = json.loads(service(real_app, full_communes_max=10).boundaries("2020").body)
    got = gpd.GeoSeries(shapes(topo, "districts", "district_code"), crs="EPSG:4326")
    want = state.store.districts("display").set_index("district_code").geometry
    got, want = got.to_crs("EPSG:32649"), want.to_crs("EPSG:32649")
    worst = max(got[k].hausdorff_distance(want[k]) for k in want.index)
    assert worst <= AREA_SIMPLIFY_M + AREA_GRID_M, worst
    points_area = sum(len(shapely.get_coordinates(g)) for g in got)
    assert points_area < 0.5 * sum(len(shapely.get_coordinates(g)) for g in want)
