"""Mapbox Vector Tiles of the communes (tiny data: four 0.1-degree squares at 108.0-108.2 E,
15.5-15.7 N), decoded with ``mapbox_vector_tile.decode``."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import pyproj
import pytest
import shapely

from geoapp.services.vector_tiles import (
    EXTENT,
    LAYER,
    MIMETYPE,
    VectorTileService,
    lon_lat_tile,
    tile_bounds,
    valid_tile,
)
from tests import tiny_data

TO_DEGREES = pyproj.Transformer.from_crs(3857, 4326, always_xy=True)


def service(app) -> VectorTileService:
    return VectorTileService(app.extensions["geoapp"].store)


def decoded(body: bytes, z: int, x: int, y: int) -> dict[str, object]:
    """Commune code -> its shape in the tile, back in degrees (EPSG:4326)."""
    layers = mapbox_vector_tile.decode(body)
    if not layers:
        return {}
    layer = layers[LAYER]
    assert layer["extent"] == EXTENT
    west, south, east, north = tile_bounds(z, x, y)

    def to_degrees(coords):
        xs = west + coords[:, 0] / EXTENT * (east - west)
        ys = south + coords[:, 1] / EXTENT * (north - south)
        return np.column_stack(TO_DEGREES.transform(xs, ys))

    return {
        f["properties"]["commune_code"]: shapely.transform(
            shapely.geometry.shape(f["geometry"]), to_degrees
        )
        for f in layer["features"]
    }


def test_a_tile_holds_the_communes_it_covers_with_their_code_only(tiny_app):
    z = 9
    x, y = lon_lat_tile(108.1, 15.6, z)
    tile = service(tiny_app).tile("2020", z, x, y)
    assert tile.mimetype == MIMETYPE
    layer = mapbox_vector_tile.decode(tile.body)[LAYER]
    assert [f["properties"] for f in layer["features"]] == [
        {"commune_code": c} for c in ("10001", "10002", "10003", "10004")
    ]
    shapes = decoded(tile.body, z, x, y)
    want = tiny_data.communes_2020().set_index("commune_code").geometry
    unit = (tile_bounds(z, x, y)[2] - tile_bounds(z, x, y)[0]) / EXTENT  # metres a tile unit
    for code, shape in shapes.items():
        # a tile unit at zoom 9 is about 75 m: well within two units of the display square
        assert shape.hausdorff_distance(want[code]) < 2 * unit / 100_000, code


def test_a_tile_at_a_high_zoom_holds_only_the_communes_it_touches(tiny_app):
    z = 14  # tiles of about 0.022 degrees: inside commune 10004 (108.1-108.2 E, 15.6-15.7 N)
    x, y = lon_lat_tile(108.15, 15.65, z)
    shapes = decoded(service(tiny_app).tile("2020", z, x, y).body, z, x, y)
    assert list(shapes) == ["10004"]
    west, south, east, north = tile_bounds(z, x, y)
    (w, e), (s, n) = TO_DEGREES.transform([west, east], [south, north])
    # clipped to the tile (and its small buffer): not the whole 0.1-degree square
    assert shapes["10004"].area < 1.2 * (e - w) * (n - s)


def test_a_tile_away_from_every_commune_is_empty(tiny_app):
    z = 9
    x, y = lon_lat_tile(105.8, 21.0, z)  # Hà Nội
    assert decoded(service(tiny_app).tile("2020", z, x, y).body, z, x, y) == {}


def test_the_2025_tiles_hold_the_2025_communes(tiny_app):
    z = 8
    x, y = lon_lat_tile(108.1, 15.65, z)
    assert set(decoded(service(tiny_app).tile("2025", z, x, y).body, z, x, y)) == {
        "20001",
        "20002",
        "20003",
    }


def test_tiles_are_cached_per_boundary_version(tiny_app, monkeypatch):
    tiles = service(tiny_app)
    store = tiny_app.extensions["geoapp"].store
    first = tiles.tile("2020", 9, 409, 236)
    monkeypatch.setattr(store, "data_version", lambda: "imported")
    assert tiles.tile("2020", 9, 409, 236) is first
    monkeypatch.setattr(store, "boundary_version", lambda: "rebuilt")
    again = tiles.tile("2020", 9, 409, 236)
    assert again is not first and again.body == first.body


@pytest.mark.parametrize(
    ("z", "x", "y", "valid"),
    [
        (0, 0, 0, True),
        (9, 511, 511, True),
        (9, 512, 0, False),
        (21, 0, 0, False),
        (3, -1, 0, False),
    ],
)
def test_valid_tiles_are_those_of_the_xyz_scheme(z, x, y, valid):
    assert valid_tile(z, x, y) is valid


def test_lon_lat_tile_matches_the_tile_bounds():
    x, y = lon_lat_tile(108.1, 15.6, 9)
    west, south, east, north = tile_bounds(9, x, y)
    (w, e), (s, n) = TO_DEGREES.transform([west, east], [south, north])
    assert w <= 108.1 < e and s <= 15.6 < n
