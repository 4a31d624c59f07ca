"""``/api/map.topojson``: the coverage map's communes and districts in one compact TopoJSON;
``/api/map.topopack``: the same packed (``geoapp.services.topopack``), which the map page loads;
``/api/communes.topopack?cell=x,y``: the communes of one cell, for an edition mapped by area.

Takes the coverage parameters of ``/api/communes.geojson`` (edition, target, min_stars, as_of,
...). Objects ``communes`` and ``districts`` carry the same properties as the GeoJSON layers;
coordinates are EPSG:4326 after applying the topology's ``transform``. See
``geoapp.services.topology`` for the simplification and precision (≤ 50 m from full detail).
For an edition mapped by area (more communes than ``GEOAPP_MAP_FULL_COMMUNES_MAX``) the map
topology holds only ``districts``, simplified for a low zoom (within about 335 m); the communes
come by cell, at ≤ 50 m.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from geoapp.services.topology import CELL_DEG, MapTopologyService
from geoapp.web.apidoc import CELL, COVERAGE, documented, object_schema
from geoapp.web.state import app_state

bp = Blueprint("map_data", __name__, url_prefix="/api")


def topology_service() -> MapTopologyService:
    """The app's topology service (made on first use, on top of its coverage service)."""
    extensions = current_app.extensions
    if "geoapp.topology" not in extensions:
        state = app_state()
        extensions["geoapp.topology"] = MapTopologyService(
            state.store, state.coverage, state.settings.map_full_communes_max
        )
    return extensions["geoapp.topology"]


@bp.get("/map.topojson")
@documented(
    "Communes and districts as TopoJSON",
    COVERAGE,
    media_type="application/topo+json",
    schema=object_schema("type", "objects"),
)
def map_topojson() -> Response:
    from geoapp.web.api import _coverage_query, send_payload

    edition, params = _coverage_query()
    return send_payload(topology_service().map_topojson(edition, params))


@bp.get("/map.topopack")
@documented("The map topology, packed", COVERAGE, media_type="application/vnd.ocop.topopack")
def map_topopack() -> Response:
    from geoapp.web.api import _coverage_query, send_payload

    edition, params = _coverage_query()
    return send_payload(topology_service().map_topopack(edition, params))


@bp.get("/communes.topopack")
@documented(
    "The communes of one map cell, packed",
    (*COVERAGE, CELL),
    media_type="application/vnd.ocop.topopack",
)
def communes_topopack() -> Response:
    from geoapp.web.api import _coverage_query, send_payload
    from geoapp.web.params import parse_cell

    edition, params = _coverage_query()
    cell = parse_cell(request.args, CELL_DEG)
    return send_payload(topology_service().communes_cell(edition, params, cell))
