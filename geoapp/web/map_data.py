"""The map's boundaries and their coverage status, apart (``geoapp.services.topology``).

- ``/api/boundaries.topojson?edition=&v=<boundary version>``: standard TopoJSON, geometry and
  codes only (EPSG:4326, ≤ 50 m from full detail after the ``transform``); for an edition mapped
  by area (more communes than ``GEOAPP_MAP_FULL_COMMUNES_MAX``) the districts alone, simplified
  for a low zoom (within about 335 m).
- ``/tiles/{edition}/{z}/{x}/{y}.mvt?v=<boundary version>``: Mapbox Vector Tiles of the
  communes (layer ``communes``, property ``commune_code``; ``geoapp.services.vector_tiles``).
- ``/api/coverage/status.json?edition=...&v=<data version>``: every property of the communes'
  and districts' GeoJSON layers, by code; takes the coverage parameters of
  ``/api/communes.geojson``.
- ``/api/map.topojson``: geometry and properties in one TopoJSON, for other clients.

Geometry URLs naming the current boundary version are cached for good, as status URLs naming
the current data version are (``api.send_payload``): an import re-sends only the status.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from geoapp.services.coverage import Payload
from geoapp.services.topology import MapTopologyService
from geoapp.services.vector_tiles import VectorTileService, valid_tile
from geoapp.web.apidoc import COVERAGE, Param, documented, object_schema
from geoapp.web.params import parse_edition
from geoapp.web.query import coverage_request
from geoapp.web.state import app_state

bp = Blueprint("map_data", __name__)


def topology_service() -> MapTopologyService:
    """The app's topology service (made on first use, on top of its coverage service)."""
    extensions = current_app.extensions
    if "geoapp.topology" not in extensions:
        state = app_state()
        extensions["geoapp.topology"] = MapTopologyService(
            state.store, state.coverage, state.settings.map_full_communes_max
        )
    return extensions["geoapp.topology"]


def tile_service() -> VectorTileService:
    """The app's vector tile service (made on first use)."""
    extensions = current_app.extensions
    if "geoapp.tiles" not in extensions:
        extensions["geoapp.tiles"] = VectorTileService(app_state().store)
    return extensions["geoapp.tiles"]


def send_geometry(data: Payload) -> Response:
    """Like ``api.send_payload``, but versioned by the boundary build, not the data."""
    from geoapp.web.compression import send_payload as send_compressed

    return send_compressed(data, request, version=app_state().store.boundary_version())


@bp.get("/api/boundaries.topojson")
@documented(
    "Boundaries of an edition (display copies, codes only) as TopoJSON",
    (COVERAGE[0], Param("v", {"type": "string", "maxLength": 40}, "Boundary version")),
    media_type="application/topo+json",
    schema=object_schema("type", "objects"),
)
def boundaries_topojson() -> Response:
    edition = parse_edition(request.args, app_state().settings.default_edition)
    return send_geometry(topology_service().boundaries(edition))


@bp.get("/tiles/<edition>/<int:z>/<int:x>/<int:y>.mvt")
def vector_tile(edition: str, z: int, x: int, y: int) -> Response:
    from geoapp.config import EDITIONS

    if edition not in EDITIONS or not valid_tile(z, x, y):
        abort(404)
    return send_geometry(tile_service().tile(edition, z, x, y))


@bp.get("/api/coverage/status.json")
@documented(
    "Coverage status of every commune, by code",
    (*COVERAGE, Param("v", {"type": "string", "maxLength": 40}, "Data version")),
    schema=object_schema(),
)
def coverage_status() -> Response:
    from geoapp.web.api import send_payload

    edition, params = coverage_request()
    return send_payload(topology_service().status(edition, params))


@bp.get("/api/map.topojson")
@documented(
    "Communes and districts as TopoJSON",
    COVERAGE,
    media_type="application/topo+json",
    schema=object_schema("type", "objects"),
)
def map_topojson() -> Response:
    from geoapp.web.api import send_payload

    edition, params = coverage_request()
    return send_payload(topology_service().map_topojson(edition, params))
