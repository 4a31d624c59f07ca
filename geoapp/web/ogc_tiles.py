"""OGC API - Tiles (Part 1: core, tileset, tilesets list, geodata tilesets, MVT) for the commune
collections of ``/ogc``: the vector tiles of ``/tiles/{edition}/{z}/{x}/{y}.mvt`` described in
the WebMercatorQuad tile matrix set (OGC 2D Tile Matrix Set 2.0), so that QGIS and GDAL's
OGCAPI driver find them from the collection. The tiles hold the commune shapes with their
``commune_code`` (layer ``communes``); coverage stays in the collection's items.

Written here rather than with pygeoapi for the reasons in ``geoapp.web.ogc``'s docstring; the
tile matrix set is a handful of numbers from the standard.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, request, url_for
from flask_babel import gettext as _

from geoapp.services.vector_tiles import MAX_ZOOM, lon_lat_tile, valid_tile
from geoapp.web.state import app_state

bp = Blueprint("ogc_tiles", __name__, url_prefix="/ogc")

TILE_COLLECTIONS = {"communes_2020": "2020", "communes_2025": "2025"}
TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
EPSG_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
MVT = "application/vnd.mapbox-vector-tile"
JSON = "application/json"
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_VECTOR_TILESETS = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
# WebMercatorQuad: metres per pixel at zoom 0 (256-pixel tiles), its origin, and the standard
# pixel size of 0.28 mm that relates a cell size to a scale denominator.
CELL_SIZE_0_M = 156543.03392804097
ORIGIN_M = 20037508.3427892
PIXEL_SIZE_M = 0.00028
MIN_ZOOM = 6  # a province fills a few tiles; lower zooms hold nothing worth drawing


def tile_matrix_set() -> dict:
    """The WebMercatorQuad tile matrix set (zoom 0 to ``MAX_ZOOM``)."""
    matrices = []
    for z in range(MAX_ZOOM + 1):
        cell = CELL_SIZE_0_M / 2**z
        matrices.append(
            {
                "id": str(z),
                "scaleDenominator": cell / PIXEL_SIZE_M,
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-ORIGIN_M, ORIGIN_M],
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": 2**z,
                "matrixHeight": 2**z,
            }
        )
    return {
        "id": TMS_ID,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": EPSG_3857,
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
    }


def _edition(collection_id: str) -> str:
    if collection_id not in TILE_COLLECTIONS:
        abort(404, description=f"collection {collection_id[:40]!r} has no tiles")
    return TILE_COLLECTIONS[collection_id]


def _limits(edition: str) -> list[dict]:
    """The tiles that hold the edition's communes, per zoom from ``MIN_ZOOM``."""
    west, south, east, north = app_state().store.communes(edition, "display").total_bounds
    limits = []
    for z in range(MIN_ZOOM, MAX_ZOOM + 1):
        min_col, min_row = lon_lat_tile(west, north, z)
        max_col, max_row = lon_lat_tile(east, south, z)
        limits.append(
            {
                "tileMatrix": str(z),
                "minTileRow": min_row,
                "maxTileRow": max_row,
                "minTileCol": min_col,
                "maxTileCol": max_col,
            }
        )
    return limits


def _tileset_links(collection_id: str) -> list[dict]:
    return [
        {
            "rel": "self",
            "type": JSON,
            "href": url_for("ogc_tiles.tileset", collection_id=collection_id, _external=True),
        },
        {
            "rel": REL_TILING_SCHEME,
            "type": JSON,
            "href": url_for("ogc_tiles.matrix_set", tms_id=TMS_ID, _external=True),
        },
    ]


@bp.get("/tileMatrixSets")
def matrix_sets():
    href = url_for("ogc_tiles.matrix_set", tms_id=TMS_ID, _external=True)
    entry = {"id": TMS_ID, "title": "Google Maps Compatible for the World", "uri": TMS_URI}
    entry["links"] = [{"rel": "self", "type": JSON, "href": href}]
    return jsonify({"tileMatrixSets": [entry]})


@bp.get("/tileMatrixSets/<tms_id>")
def matrix_set(tms_id: str):
    if tms_id != TMS_ID:
        abort(404, description=f"tile matrix set {tms_id[:40]!r} is not served: {TMS_ID}")
    return jsonify(tile_matrix_set())


@bp.get("/collections/<collection_id>/tiles")
def tilesets(collection_id: str):
    _edition(collection_id)
    entry = {
        "title": _("Commune shapes as vector tiles"),
        "dataType": "vector",
        "crs": EPSG_3857,
        "tileMatrixSetURI": TMS_URI,
        "links": _tileset_links(collection_id),
    }
    self_href = url_for("ogc_tiles.tilesets", collection_id=collection_id, _external=True)
    return jsonify(
        {"tilesets": [entry], "links": [{"rel": "self", "type": JSON, "href": self_href}]}
    )


@bp.get(f"/collections/<collection_id>/tiles/{TMS_ID}")
def tileset(collection_id: str):
    edition = _edition(collection_id)
    base = url_for("ogc_tiles.tileset", collection_id=collection_id, _external=True)
    version = app_state().store.boundary_version()
    item = {
        "rel": "item",
        "type": MVT,
        "templated": True,
        "href": f"{base}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}?v={version}",
    }
    return jsonify(
        {
            "title": _("Commune shapes as vector tiles"),
            "description": _("Layer communes, property commune_code; coverage is in the items."),
            "dataType": "vector",
            "crs": EPSG_3857,
            "tileMatrixSetURI": TMS_URI,
            "tileMatrixSetLimits": _limits(edition),
            "layers": [{"id": "communes", "dataType": "vector", "geometryType": "polygons"}],
            "links": [*_tileset_links(collection_id), item],
        }
    )


@bp.get(f"/collections/<collection_id>/tiles/{TMS_ID}/<int:z>/<int:row>/<int:col>")
def tile(collection_id: str, z: int, row: int, col: int):
    """One tile (OGC order: matrix, row, column), the same bytes as ``/tiles/...``."""
    edition = _edition(collection_id)
    if not valid_tile(z, col, row):
        abort(404, description=f"no tile {z}/{row}/{col} in {TMS_ID}")
    target = url_for("map_data.vector_tile", edition=edition, z=z, x=col, y=row, **request.args)
    return redirect(target, code=302)
