"""The OpenAPI 3.0 document of ``/ogc`` (OGC API - Features Part 1, conformance class OAS30).

Written as data rather than with apispec: apispec's value is in turning marshmallow schemas or
docstrings into paths, and here every path is derived from the collection specs
(``geoapp.services.ogc_features.COLLECTIONS``), one ``/items`` path per collection with its own
queryables, ``datetime`` and coverage parameters, as GDAL and QGIS read them (GDAL takes the
page size from the ``limit`` parameter's default and maximum).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoapp.services.ogc_features import CollectionSpec
from geoapp.web.params import EARLIEST_AS_OF

DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET = 100, 10_000, 10_000_000
REF = "#/components"
_DAY = r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_TIME = r"([Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?"
_INSTANT = f"{_DAY}{_TIME}"
# An instant, or an interval start/end with ".." or nothing for an open end (not both).
DATETIME_PATTERN = f"^({_INSTANT}|{_INSTANT}/({_INSTANT}|\\.\\.)?|(\\.\\.)?/{_INSTANT})$"


def _param(name: str, schema: dict, description: str, location: str = "query") -> dict:
    """A parameter; in the query an empty value is allowed and means "not given"."""
    param = {
        "name": name,
        "in": location,
        "required": location == "path",
        "description": description,
        "schema": schema,
    }
    if location == "query":
        param |= {"style": "form", "explode": False, "allowEmptyValue": True}
    return param


def _components() -> dict[str, Any]:
    exception = {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
    }
    link = {
        "type": "object",
        "required": ["href"],
        "properties": {k: {"type": "string"} for k in ("href", "rel", "type", "title")},
    }
    errors = {
        str(status): {
            "description": text,
            "content": {
                "application/json": {"schema": {"$ref": f"{REF}/schemas/exception"}},
                "text/html": {},  # with f=html or an Accept that prefers it
            },
        }
        for status, text in ((400, "Bad parameter"), (404, "Not found"), (500, "Server error"))
    }
    return {
        "schemas": {"exception": exception, "link": link},
        "parameters": _parameters() | _filter_parameters(),
        "responses": errors,
    }


def _parameters() -> dict[str, Any]:
    return {
        "f": _param(
            "f", {"type": "string", "enum": ["json", "html"]}, "Format (else the Accept header)"
        ),
        "lang": _param(
            "lang", {"type": "string", "enum": ["vi", "en"]}, "Language of titles and HTML"
        ),
        "limit": _param(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            "Features per page",
        ),
        "offset": _param(
            "offset",
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
            "Features to skip",
        ),
        "bbox": _param(
            "bbox",
            {
                "type": "array",
                "minItems": 4,
                "maxItems": 6,
                "items": {"type": "number", "minimum": -180, "maximum": 180},
            },
            "west,south,east,north in degrees (CRS84)",
        ),
        "datetime": _param(
            "datetime",
            {"type": "string", "pattern": DATETIME_PATTERN},
            "Date, date-time or interval start/end ('..' for open); communes and districts: "
            "the edition's period in force; producers: a product recognised then",
        ),
    }


def _filter_parameters() -> dict[str, Any]:
    """CQL2 ``filter`` (Part 3) and the coverage parameters of communes and districts."""
    return {
        "filter": _param(
            "filter",
            {"type": "string", "maxLength": 4000},
            "CQL2 text on the queryables and geometry, e.g. status = 'below' AND "
            "S_INTERSECTS(geometry, BBOX(108.0, 15.5, 108.5, 16.0))",
        ),
        "filter-lang": _param(
            "filter-lang", {"type": "string", "enum": ["cql2-text"]}, "Language of filter"
        ),
        "filter-crs": _param(
            "filter-crs",
            {"type": "string", "enum": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]},
            "CRS of the filter's coordinates",
        ),
        "target": _param(
            "target", {"type": "integer", "minimum": 1, "maximum": 5}, "Products per commune"
        ),
        "min_stars": _param(
            "min_stars", {"type": "integer", "minimum": 1, "maximum": 5}, "Minimum stars"
        ),
        "as_of": _param(
            "as_of",
            {"type": "string", "format": "date", "pattern": _as_of_pattern()},
            "Date the certificates must be valid: from the programme's start "
            f"({EARLIEST_AS_OF.isoformat()}) to a year from today",
        ),
    }


def _as_of_pattern() -> str:
    """The years ``as_of`` may have (``geoapp.web.params.parse_date``): a JSON schema cannot
    bound a date, a pattern can bound its year (up to this year: every later day is not)."""
    years = "|".join(str(y) for y in range(EARLIEST_AS_OF.year, dt.date.today().year + 1))
    return rf"^({years})-\d{{2}}-\d{{2}}$"


def _get(summary: str, params: list, content: dict, op_id: str) -> dict:
    responses: dict[str, Any] = {"200": {"description": summary, "content": content}}
    for status in ("400", "404", "500"):
        responses[status] = {"$ref": f"{REF}/responses/{status}"}
    refs = [p if isinstance(p, dict) else {"$ref": f"{REF}/parameters/{p}"} for p in params]
    return {
        "get": {
            "summary": summary,
            "operationId": op_id,
            "parameters": refs,
            "responses": responses,
        }
    }


def _json(schema: dict | None = None) -> dict:
    return {"application/json": {"schema": schema or {"type": "object"}}, "text/html": {}}


def _collection_paths(spec: CollectionSpec, title: str, defaults: dict) -> dict[str, Any]:
    base = f"/collections/{spec.id}"
    coverage = ["target", "min_stars", "as_of"] if spec.coverage else []
    item_params = ["f", "lang", "limit", "offset", "filter", "filter-lang", "filter-crs"]
    item_params += ["bbox"] if spec.geometry else []
    item_params += ["datetime"] if spec.temporal else []
    shared = _filter_parameters()
    for name in coverage:
        if name in defaults:
            schema = {**shared[name]["schema"], "default": defaults[name]}
            item_params.append(_param(name, schema, shared[name]["description"]))
        else:
            item_params.append(name)
    for field in spec.queryables:
        schema = {"type": field.type, **({"format": field.format} if field.format else {})}
        item_params.append(_param(field.name, schema, f"Features whose {field.name} equals this"))
    feature_id = _param("featureId", {"type": "string"}, f"{spec.id_field} of the feature", "path")
    geojson = {"application/geo+json": {"schema": {"type": "object"}}, "text/html": {}}
    return {
        base: _get(title, ["f", "lang"], _json(), f"describe_{spec.id}"),
        f"{base}/queryables": _get(
            f"Queryables of {spec.id}",
            ["f", "lang"],
            {"application/schema+json": {"schema": {"type": "object"}}, "text/html": {}},
            f"queryables_{spec.id}",
        ),
        f"{base}/items": _get(f"Features of {spec.id}", item_params, geojson, f"items_{spec.id}"),
        f"{base}/items/{{featureId}}": _get(
            f"One feature of {spec.id}",
            [feature_id, "f", "lang", *coverage],
            geojson,
            f"item_{spec.id}",
        ),
    }


def openapi_document(
    server: str, collections: list[tuple[CollectionSpec, str, str]], defaults: dict | None = None
) -> dict[str, Any]:
    """The document for the API at ``server`` (the ``/ogc`` URL); ``collections`` holds each
    spec with its title and description; ``defaults`` the coverage parameters' defaults."""
    defaults = defaults or {}
    paths: dict[str, Any] = {
        "/": _get("Landing page", ["f", "lang"], _json(), "landing"),
        "/conformance": _get("Conformance classes", ["f", "lang"], _json(), "conformance"),
        "/api": _get(
            "This document",
            ["f", "lang"],
            {"application/vnd.oai.openapi+json;version=3.0": {}, "text/html": {}},
            "api",
        ),
        "/collections": _get("Collections", ["f", "lang"], _json(), "collections"),
    }
    for spec, title, _description in collections:
        paths.update(_collection_paths(spec, title, defaults))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "OCOP map of Quảng Nam: OGC API - Features",
            "version": "1.0.0",
            "description": "Communes with OCOP coverage, districts, producers, outlets and the "
            "2020 -> 2025 crosswalk. Coordinates in CRS84 (longitude, latitude).",
        },
        "servers": [{"url": server}],
        "tags": [
            {"name": spec.id, "description": description} for spec, _t, description in collections
        ],
        "paths": paths,
        "components": _components(),
    }
