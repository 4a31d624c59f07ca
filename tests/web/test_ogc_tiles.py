"""OGC API - Tiles of the commune collections: the tile matrix set, the tileset metadata and
tiles that hold the communes the store says are there."""

from __future__ import annotations

import mapbox_vector_tile
import pytest
from shapely.geometry import box

from geoapp.services.vector_tiles import lon_lat_tile, tile_bounds
from geoapp.web.ogc_tiles import CELL_SIZE_0_M, PIXEL_SIZE_M, TMS_URI

TILES_CONF = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"


def test_conformance_and_collection_link_to_the_tilesets(client):
    conforms = client.get("/ogc/conformance").get_json()["conformsTo"]
    assert {TILES_CONF + c for c in ("core", "tileset", "tilesets-list", "mvt")} <= set(conforms)
    links = client.get("/ogc/collections/communes_2020").get_json()["links"]
    tiles = [x for x in links if x["rel"].endswith("tilesets-vector")]
    assert len(tiles) == 1 and tiles[0]["href"].endswith("/ogc/collections/communes_2020/tiles")
    districts = client.get("/ogc/collections/districts_2020").get_json()["links"]
    assert not [x for x in districts if x["rel"].endswith("tilesets-vector")]


def test_web_mercator_quad_follows_the_standard_numbers(client):
    tms = client.get("/ogc/tileMatrixSets/WebMercatorQuad").get_json()
    assert tms["uri"] == TMS_URI and tms["crs"].endswith("EPSG/0/3857")
    for z, matrix in enumerate(tms["tileMatrices"]):
        assert matrix["id"] == str(z)
        assert matrix["matrixWidth"] == matrix["matrixHeight"] == 2**z
        assert matrix["cellSize"] == pytest.approx(CELL_SIZE_0_M / 2**z)
        assert matrix["scaleDenominator"] == pytest.approx(matrix["cellSize"] / PIXEL_SIZE_M)
    assert tms["tileMatrices"][0]["scaleDenominator"] == pytest.approx(559082264.0287178)
    listed = client.get("/ogc/tileMatrixSets").get_json()["tileMatrixSets"]
    assert [t["id"] for t in listed] == ["WebMercatorQuad"]
    missing = client.get("/ogc/tileMatrixSets/WorldCRS84Quad")
    assert missing.status_code == 404 and missing.get_json()["code"] == "NotFound"


def test_the_tileset_template_gives_tiles_with_the_communes_inside_them(client, tiny_app):
    tilesets = client.get("/ogc/collections/communes_2020/tiles").get_json()["tilesets"]
    assert tilesets[0]["dataType"] == "vector" and tilesets[0]["tileMatrixSetURI"] == TMS_URI
    tileset = client.get("/ogc/collections/communes_2020/tiles/WebMercatorQuad").get_json()
    template = next(x["href"] for x in tileset["links"] if x["rel"] == "item")
    communes = tiny_app.extensions["geoapp"].store.communes("2020", "display")
    for limit in tileset["tileMatrixSetLimits"][:4]:
        z = int(limit["tileMatrix"])
        for lon, lat in [p.coords[0] for p in communes.geometry.representative_point()]:
            col, row = lon_lat_tile(lon, lat, z)
            assert limit["minTileCol"] <= col <= limit["maxTileCol"]
            assert limit["minTileRow"] <= row <= limit["maxTileRow"]
        col, row = limit["minTileCol"], limit["minTileRow"]
        url = template.replace("http://localhost", "")
        url = url.replace("{tileMatrix}", str(z)).replace("{tileRow}", str(row))
        response = client.get(url.replace("{tileCol}", str(col)), follow_redirects=True)
        assert response.status_code == 200
        assert response.mimetype == "application/vnd.mapbox-vector-tile"
        decoded = mapbox_vector_tile.decode(response.data)
        codes = {
            f["properties"]["commune_code"]
            for f in decoded.get("communes", {"features": []})["features"]
        }
        west, south, east, north = tile_bounds(z, col, row)
        metres = communes.to_crs(3857)  # tile bounds are EPSG:3857 metres
        inside = metres.loc[metres.intersects(box(west, south, east, north)), "commune_code"]
        assert codes == set(inside)


def test_tiles_of_unknown_collections_or_outside_the_matrix_are_404(client):
    assert client.get("/ogc/collections/producers/tiles").status_code == 404
    bad = "/ogc/collections/communes_2020/tiles/WebMercatorQuad/3/8/1"
    assert client.get(bad).status_code == 404  # row 8 at zoom 3 (8 x 8 tiles) does not exist
