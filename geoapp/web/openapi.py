"""``/api/openapi.json``: the OpenAPI 3 document of the API, built (apispec) from the app's URL
map and the ``@documented`` marks of its views (``geoapp.web.apidoc``)."""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from flask import Blueprint, Flask, current_app, jsonify
from werkzeug.routing import Rule

from geoapp.web.apidoc import Doc, Param, doc_of, object_schema

bp = Blueprint("openapi", __name__, url_prefix="/api")

ERROR = object_schema(
    "error",
    "message",
    "status",
    error={"type": "string"},
    message={"type": "string"},
    status={"type": "integer"},
)
ERRORS = {
    "400": "A parameter is invalid (the answer names it and its valid values)",
    "404": "No such resource",
    "503": "The data is not available (the answer says how to rebuild it)",
}
PATH_CONVERTER = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")


def _path_params(rule: Rule, doc: Doc) -> list[Param]:
    given = {p.name for p in doc.params if p.where == "path"}
    return [
        Param(name, {"type": "string", "minLength": 1}, name, where="path")
        for name in rule.arguments
        if name not in given
    ]


def _responses(doc: Doc) -> dict[str, Any]:
    media_types = (doc.media_type,) if isinstance(doc.media_type, str) else doc.media_type
    content = {}
    for media_type in media_types:
        if doc.schema:
            content[media_type] = {"schema": doc.schema}
        elif media_type.endswith("json"):
            content[media_type] = {}
        else:
            content[media_type] = {"schema": {"type": "string", "format": "binary"}}
    responses: dict[str, Any] = {"200": {"description": "OK", "content": content}}
    errors = dict(ERRORS)
    if doc.limited:
        errors["429"] = "Too many rendered answers for this client (see Retry-After)"
    for status, text in errors.items():
        responses[status] = {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    return responses


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3 document of the documented routes of ``app``."""
    spec = APISpec(
        title="OCOP map service API",
        version="1",
        openapi_version="3.0.3",
        info={"description": "Coverage of OCOP products in Quảng Nam; coordinates EPSG:4326."},
    )
    spec.components.schema("Error", ERROR)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        doc = doc_of(app.view_functions[rule.endpoint])
        if doc is None:
            continue
        params = [*doc.params, *_path_params(rule, doc)]
        operation = {
            "operationId": rule.endpoint,
            "summary": doc.summary,
            "parameters": [p.openapi() for p in params],
            "responses": _responses(doc),
        }
        path = PATH_CONVERTER.sub(r"{\1}", rule.rule)
        spec.path(path=path, operations={"get": operation})
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi_json():
    extensions = current_app.extensions
    if "geoapp.openapi" not in extensions:
        extensions["geoapp.openapi"] = build_document(current_app)
    return jsonify(extensions["geoapp.openapi"])
