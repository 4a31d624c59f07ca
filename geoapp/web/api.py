"""JSON and GeoJSON API (EPSG:4326)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from geoapp.services.coverage import Payload
from geoapp.web.apidoc import COVERAGE, FEATURE_COLLECTION, documented, object_schema
from geoapp.web.compression import (  # noqa: F401 (the cache policies, named here too)
    UNVERSIONED_CACHE_CONTROL,
    VERSIONED_CACHE_CONTROL,
)
from geoapp.web.query import coverage_request
from geoapp.web.state import app_state

bp = Blueprint("api", __name__, url_prefix="/api")


def send_payload(data: Payload) -> Response:
    """The payload with a strong ETag; a matching If-None-Match gets 304.

    Sent gzip- or brotli-compressed when the client accepts it (``geoapp.web.compression``).
    Cached for good when the request names the current data version (``v=``), else always
    revalidated.
    """
    from geoapp.web.compression import send_payload as send_compressed

    return send_compressed(data, request, version=app_state().store.data_version())


@bp.get("/communes.geojson")
@documented(
    "Communes with their coverage",
    COVERAGE,
    media_type="application/geo+json",
    schema=FEATURE_COLLECTION,
)
def communes_geojson() -> Response:
    edition, params = coverage_request()
    return send_payload(app_state().coverage.communes_geojson(edition, params))


@bp.get("/districts.geojson")
@documented(
    "2020 districts with their coverage",
    COVERAGE,
    media_type="application/geo+json",
    schema=FEATURE_COLLECTION,
)
def districts_geojson() -> Response:
    _, params = coverage_request()
    return send_payload(app_state().coverage.districts_geojson(params))


@bp.get("/producers.geojson")
@documented(
    "Producers and their products", (), media_type="application/geo+json", schema=FEATURE_COLLECTION
)
def producers_geojson() -> Response:
    return send_payload(app_state().coverage.producers_geojson())


@bp.get("/outlets.geojson")
@documented(
    "OCOP centres and sales points",
    (),
    media_type="application/geo+json",
    schema=FEATURE_COLLECTION,
)
def outlets_geojson() -> Response:
    return send_payload(app_state().coverage.outlets_geojson())


@bp.get("/candidates.geojson")
@documented(
    "Products in the pipeline (not certified)",
    COVERAGE,
    media_type="application/geo+json",
    schema=FEATURE_COLLECTION,
)
def candidates_geojson() -> Response:
    edition, _ = coverage_request()
    return send_payload(app_state().coverage.candidates_geojson(edition))


@bp.get("/coverage/summary")
@documented(
    "Province and district figures",
    COVERAGE,
    schema=object_schema("province", "districts", districts={"type": "array"}),
)
def coverage_summary() -> Response:
    edition, params = coverage_request()
    result = app_state().coverage.coverage(edition, params)
    from flask import jsonify

    return jsonify({"province": result.province, "districts": result.districts.to_dict("records")})
