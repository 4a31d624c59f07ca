"""JSON and GeoJSON API (EPSG:4326)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from geoapp.services.coverage import Payload
from geoapp.web.params import parse_coverage_query
from geoapp.web.state import app_state

bp = Blueprint("api", __name__, url_prefix="/api")


# A data URL that names the data version it was made for (``v=``) never changes; one that
# names no version, or an older one, must be revalidated every time (a 304 is tiny), so a
# reload after an import or a rollback shows one state in every view and every worker.
VERSIONED_CACHE_CONTROL = "public, max-age=31536000, immutable"
UNVERSIONED_CACHE_CONTROL = "no-cache"


def send_payload(data: Payload) -> Response:
    """The payload with a strong ETag; a matching If-None-Match gets 304.

    Sent gzip- or brotli-compressed when the client accepts it (``geoapp.web.compression``).
    Cached for good when the request names the current data version (``v=``), else always
    revalidated.
    """
    from geoapp.web.compression import send_payload as send_compressed

    response = send_compressed(data, request)
    current = request.args.get("v") == app_state().store.data_version()
    response.headers["Cache-Control"] = (
        VERSIONED_CACHE_CONTROL if current else UNVERSIONED_CACHE_CONTROL
    )
    return response


def _coverage_query():
    from geoapp.web.planner import planner_service  # group/district checked against the data

    state = app_state()
    edition, overrides = parse_coverage_query(
        request.args, state.settings.default_edition, planner_service().choices()
    )
    return edition, state.coverage.default_params(**overrides)


@bp.get("/communes.geojson")
def communes_geojson() -> Response:
    edition, params = _coverage_query()
    return send_payload(app_state().coverage.communes_geojson(edition, params))


@bp.get("/districts.geojson")
def districts_geojson() -> Response:
    _, params = _coverage_query()
    return send_payload(app_state().coverage.districts_geojson(params))


@bp.get("/producers.geojson")
def producers_geojson() -> Response:
    return send_payload(app_state().coverage.producers_geojson())


@bp.get("/outlets.geojson")
def outlets_geojson() -> Response:
    return send_payload(app_state().coverage.outlets_geojson())


@bp.get("/candidates.geojson")
def candidates_geojson() -> Response:
    edition, _ = _coverage_query()
    return send_payload(app_state().coverage.candidates_geojson(edition))


@bp.get("/coverage/summary")
def coverage_summary() -> Response:
    edition, params = _coverage_query()
    result = app_state().coverage.coverage(edition, params)
    from flask import jsonify

    return jsonify({"province": result.province, "districts": result.districts.to_dict("records")})
