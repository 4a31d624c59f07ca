"""OGC API - Features Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0) under ``/ogc``, for QGIS, GDAL
and OWSLib: the communes of both editions with coverage, the districts, producers, outlets and
the 2020 -> 2025 crosswalk (``geoapp.services.ogc_features``). All coordinates are CRS84.

Why not pygeoapi: its Flask app builds its configuration, OpenAPI document and ``API`` object
from files named by environment variables when ``pygeoapi.flask_app`` is imported, and it loads
a provider per request from that static configuration. Our collections depend on the data
version pinned for each request and on the app's settings (coverage defaults), and several apps
live in one process in the tests; its dependencies (pydantic, tinydb, filelock, PyYAML
...) would come with it. Part 1 is small, so it is written here: routes, negotiation,
paging links and the OpenAPI document (``geoapp.web.ogc_openapi``). Part 3: the queryables,
``name=value`` filters and ``filter=`` in CQL2 text, evaluated by pygeofilter
(``geoapp.services.ogc_filter``).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import gettext as _

from geoapp.i18n import LANGUAGES
from geoapp.services.ogc_features import (
    COLLECTIONS,
    CollectionSpec,
    ItemQuery,
    OgcFeaturesService,
    QueryError,
    spec_of,
)
from geoapp.web.ogc_openapi import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, openapi_document
from geoapp.web.params import BadParameter, parse_bbox, parse_date, parse_datetime, parse_int
from geoapp.web.state import app_state

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

COVERAGE_PARAMS = ("target", "min_stars", "as_of")
COMMON_PARAMS = frozenset({"f", "lang"})
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
    # OGC API - Tiles of the commune collections (``geoapp.web.ogc_tiles``)
    *(
        f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{name}"
        for name in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt")
    ),
)
JSON, GEOJSON, HTML = "application/json", "application/geo+json", "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
OGC_CODES = {400: "InvalidParameterValue", 404: "NotFound", 405: "MethodNotAllowed"}


def ogc_service() -> OgcFeaturesService:
    """The app's OGC collections service (made on first use, on its coverage service)."""
    extensions = current_app.extensions
    if "geoapp.ogc" not in extensions:
        state = app_state()
        extensions["geoapp.ogc"] = OgcFeaturesService(state.store, state.coverage)
    return extensions["geoapp.ogc"]


def collection_texts(collection_id: str) -> tuple[str, str]:
    """Title and description of a collection in the request's language."""
    texts = {
        "communes_2020": (
            _("Communes 2020 with OCOP coverage"),
            _(
                "Communes of Quảng Nam, 2020 edition: OCOP products counted per commune at the "
                "given target, minimum stars and date, and the status against the target."
            ),
        ),
        "communes_2025": (
            _("Communes 2025 with OCOP coverage"),
            _(
                "Communes of the 2025 edition (after the mergers of 2025-07-01), with OCOP "
                "coverage; communes of the former Đà Nẵng have status no_data."
            ),
        ),
        "districts_2020": (
            _("Districts 2020"),
            _("The districts of Quảng Nam (2020 edition) with their communes' coverage."),
        ),
        "producers": (
            _("OCOP producers"),
            _("Producers of OCOP products, with their products, stars and recognition dates."),
        ),
        "outlets": (
            _("OCOP centres and sales points"),
            _("OCOP centres and sales points, with their status and opening."),
        ),
        "crosswalk_2020_2025": (
            _("Crosswalk of communes 2020 -> 2025"),
            _("Each 2020 commune and the 2025 commune it became (a table without geometry)."),
        ),
    }
    return texts[collection_id]


class OgcError(Exception):
    """An answer of the OGC API other than 200: HTTP status and OGC exception code."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


def exception_response(status: int, description: str) -> Response | tuple[str, int]:
    """An OGC API exception: JSON ``{"code", "description"}``, or the error page in HTML."""
    if _wants_html():
        title = OGC_CODES.get(status, "ServerError")
        return render_template(
            "error.html", status=status, title=title, message=description
        ), status
    code = OGC_CODES.get(status, "ServerError" if status >= 500 else "Error")
    body = json.dumps({"code": code, "description": description}, ensure_ascii=False)
    return Response(body, status=status, mimetype=JSON)


def _wants_html() -> bool:
    f = request.args.get("f") or None  # empty: not given, as for every parameter
    if f is not None:
        return f == "html"
    best = request.accept_mimetypes.best_match([JSON, GEOJSON, HTML], default=JSON)
    return best == HTML


def output_format() -> str:
    """``json`` or ``html``: the ``f`` parameter, else the Accept header (JSON by default)."""
    f = request.args.get("f") or None  # empty: not given, as for every parameter
    if f is not None and f not in ("json", "html"):
        raise BadParameter("f", f, "unknown format", ("json", "html"))
    return "html" if _wants_html() else "json"


@bp.errorhandler(BadParameter)
def _bad_parameter(exc: BadParameter):
    return exception_response(400, str(exc))


@bp.errorhandler(QueryError)
def _bad_query(exc: QueryError):
    return exception_response(400, str(exc))


@bp.errorhandler(OgcError)
def _ogc_error(exc: OgcError):
    return exception_response(exc.status, exc.description)


def check_params(allowed: frozenset[str] | set[str]) -> None:
    """Every query parameter is one the resource knows; ``crs`` and ``bbox-crs`` (Part 2) are
    taken when they name CRS84, the only CRS served, as some clients send them anyway."""
    lang = request.args.get("lang")
    if lang and lang not in LANGUAGES:
        raise BadParameter("lang", lang, "unknown language", LANGUAGES)
    for name in ("crs", "bbox-crs"):
        value = request.args.get(name)
        if value and value not in (CRS84, "CRS84", "OGC:CRS84"):
            raise BadParameter(name, value, "only CRS84 is served", (CRS84,))
    unknown = sorted(set(request.args) - COMMON_PARAMS - set(allowed) - {"crs", "bbox-crs"})
    if unknown:
        valid = sorted(COMMON_PARAMS | set(allowed))
        raise BadParameter(unknown[0], request.args[unknown[0]], "unknown query parameter", valid)


def link(endpoint: str, rel: str, mimetype: str, title: str = "", **values) -> dict:
    out = {"href": url_for(endpoint, _external=True, **values), "rel": rel, "type": mimetype}
    if title:
        out["title"] = title
    return out


def self_links(endpoint: str, mimetype: str, fmt: str, **values) -> list[dict]:
    """``self`` and ``alternate`` links of a resource in JSON (``mimetype``) and HTML."""
    json_link = link(
        endpoint, "self" if fmt == "json" else "alternate", mimetype, "JSON", f="json", **values
    )
    html_link = link(
        endpoint, "self" if fmt == "html" else "alternate", HTML, "HTML", f="html", **values
    )
    return [json_link, html_link]


def answer(document: dict, fmt: str, template: str, mimetype: str = JSON, **context):
    if fmt == "html":
        return render_template(template, doc=document, **context)
    return Response(json.dumps(document, ensure_ascii=False), mimetype=mimetype)


@bp.get("/")
@bp.get("", strict_slashes=False)  # registered first: the canonical URL has no final slash
def landing():
    check_params(set())
    fmt = output_format()
    doc = {
        "title": _("OCOP map of Quảng Nam: OGC API - Features"),
        "description": _(
            "Communes with OCOP coverage, districts, producers, outlets and the 2020 -> 2025 "
            "crosswalk, for GIS software (QGIS, ArcGIS, GDAL, OWSLib)."
        ),
        "links": [
            *self_links("ogc.landing", JSON, fmt),
            link("ogc.openapi", "service-desc", OPENAPI, _("API definition (OpenAPI 3.0)")),
            link("ogc.openapi", "service-doc", HTML, _("API definition (OpenAPI 3.0)"), f="html"),
            link("ogc.conformance", "conformance", JSON, _("Conformance classes")),
            link("ogc.collections", "data", JSON, _("Collections")),
        ],
    }
    return answer(doc, fmt, "ogc_landing.html", page="landing")


@bp.get("/conformance")
def conformance():
    check_params(set())
    fmt = output_format()
    doc = {"conformsTo": list(CONFORMANCE), "links": self_links("ogc.conformance", JSON, fmt)}
    return answer(doc, fmt, "ogc_landing.html", page="conformance")


@bp.get("/api")
def openapi():
    check_params(set())
    fmt = output_format()
    settings = app_state().settings
    described = [(spec, *collection_texts(spec.id)) for spec in COLLECTIONS]
    defaults = {
        "target": settings.target_products,
        "min_stars": settings.min_stars,
        "as_of": settings.as_of.isoformat(),
    }
    server = url_for("ogc.landing", _external=True).rstrip("/")
    doc = openapi_document(server, described, defaults)
    if fmt == "html":
        return render_template("ogc_landing.html", doc=doc, page="api")
    return Response(json.dumps(doc, ensure_ascii=False), mimetype=OPENAPI)


def collection_spec(collection_id: str) -> CollectionSpec:
    spec = spec_of(collection_id)
    if spec is None:
        raise OgcError(
            404,
            f"no collection {collection_id!r}; collections: {', '.join(s.id for s in COLLECTIONS)}",
        )
    return spec


def describe(spec: CollectionSpec, fmt: str) -> dict:
    title, description = collection_texts(spec.id)
    extent = ogc_service().extent(spec)
    doc: dict = {"id": spec.id, "title": title, "description": description, "itemType": "feature"}
    if extent.bbox is not None or extent.interval is not None:
        doc["extent"] = {}
    if extent.bbox is not None:
        doc["extent"]["spatial"] = {"bbox": [list(extent.bbox)], "crs": CRS84}
        doc["crs"] = [CRS84]
        doc["storageCrs"] = CRS84
    if extent.interval is not None:
        interval = [d.isoformat() + "T00:00:00Z" if d else None for d in extent.interval]
        doc["extent"]["temporal"] = {"interval": [interval]}
    values = {"collection_id": spec.id}
    doc["links"] = [
        *self_links("ogc.collection", JSON, fmt, **values),
        link("ogc.items", "items", GEOJSON, _("Items as GeoJSON"), f="json", **values),
        link("ogc.items", "items", HTML, _("Items as HTML"), f="html", **values),
        link(
            "ogc.queryables",
            "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            SCHEMA_JSON,
            _("Queryables"),
            **values,
        ),
    ]
    if spec.id.startswith("communes_"):  # their shapes are also vector tiles
        doc["links"].append(
            link(
                "ogc_tiles.tilesets",
                "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                JSON,
                _("Vector tiles"),
                **values,
            )
        )
    return doc


@bp.get("/collections")
def collections():
    check_params(set())
    fmt = output_format()
    doc = {
        "collections": [describe(spec, "json") for spec in COLLECTIONS],
        "links": self_links("ogc.collections", JSON, fmt),
    }
    return answer(doc, fmt, "ogc_collections.html", single=False)


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):
    spec = collection_spec(collection_id)
    check_params(set())
    fmt = output_format()
    doc = describe(spec, fmt)
    if fmt == "html":
        page = {"collections": [doc], "links": doc["links"]}
        return render_template("ogc_collections.html", doc=page, single=True)
    return answer(doc, fmt, "")


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str):
    spec = collection_spec(collection_id)
    check_params(set())
    fmt = output_format()
    properties = {}
    for field in spec.queryables:
        prop = {"title": field.name, "type": field.type}
        if field.format:
            prop["format"] = field.format
        properties[field.name] = prop
    if spec.geometry:
        properties["geometry"] = {
            "format": f"geometry-{spec.geometry.lower()}",
            "x-ogc-role": "primary-geometry",
        }
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url_for("ogc.queryables", collection_id=spec.id, _external=True),
        "type": "object",
        "title": collection_texts(spec.id)[0],
        "properties": properties,
        "additionalProperties": False,
    }
    return answer(doc, fmt, "ogc_queryables.html", SCHEMA_JSON, spec=spec)


def coverage_params(spec: CollectionSpec):
    """The coverage parameters (target, min_stars, as_of) of a collection that has them."""
    if not spec.coverage:
        return None
    overrides = {
        "target": parse_int(request.args, "target", 1, 5),
        "min_stars": parse_int(request.args, "min_stars", 1, 5),
        "as_of": parse_date(request.args, "as_of"),
    }
    return app_state().coverage.default_params(**overrides)


def item_params(spec: CollectionSpec) -> set[str]:
    """The query parameters of ``/items``: paging, bbox, datetime, queryables, coverage."""
    allowed = {"limit", "offset", "filter", "filter-lang", "filter-crs"}
    allowed |= {f.name for f in spec.queryables}
    if spec.geometry:
        allowed.add("bbox")
    if spec.temporal:
        allowed.add("datetime")
    if spec.coverage:
        allowed.update(COVERAGE_PARAMS)
    return allowed


def parse_filter() -> str | None:
    """``filter`` in CQL2 text (``filter-lang=cql2-text``, coordinates in CRS84)."""
    lang = request.args.get("filter-lang") or "cql2-text"
    if lang != "cql2-text":
        raise BadParameter("filter-lang", lang, "only CQL2 text is read", ("cql2-text",))
    crs = request.args.get("filter-crs")
    if crs and crs not in (CRS84, "CRS84", "OGC:CRS84"):
        raise BadParameter("filter-crs", crs, "only CRS84 is served", (CRS84,))
    text = request.args.get("filter")
    return text if text and text.strip() else None


def page_links(spec: CollectionSpec, fmt: str, query: ItemQuery, matched: int) -> list[dict]:
    args = {k: v for k, v in request.args.items() if k not in ("offset", "f")}
    values = {"collection_id": spec.id, **args}
    links = self_links("ogc.items", GEOJSON, fmt, offset=query.offset, **values)
    mimetype = GEOJSON if fmt == "json" else HTML
    if query.offset + query.limit < matched:
        values["offset"] = query.offset + query.limit
        links.append(link("ogc.items", "next", mimetype, _("Next page"), f=fmt, **values))
    if query.offset > 0:
        values["offset"] = max(0, query.offset - query.limit)
        links.append(link("ogc.items", "prev", mimetype, _("Previous page"), f=fmt, **values))
    links.append(
        link(
            "ogc.collection",
            "collection",
            JSON,
            collection_texts(spec.id)[0],
            collection_id=spec.id,
        )
    )
    return links


def _feature_collection(head: dict, features: list[str]) -> bytes:
    opening = json.dumps(head, ensure_ascii=False)[:-1]
    return (opening + ',"features":[' + ",".join(features) + "]}").encode()


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str):
    spec = collection_spec(collection_id)
    check_params(item_params(spec))
    fmt = output_format()
    limit = parse_int(request.args, "limit", 1, MAX_LIMIT)
    offset = parse_int(request.args, "offset", 0, MAX_OFFSET)
    queryable = {f.name for f in spec.queryables}
    query = ItemQuery(
        bbox=parse_bbox(request.args.get("bbox")),
        interval=parse_datetime(request.args.get("datetime")),
        properties={k: v for k, v in request.args.items() if k in queryable and v.strip()},
        limit=DEFAULT_LIMIT if limit is None else limit,
        offset=offset or 0,
        coverage=coverage_params(spec),
        filter=parse_filter(),
    )
    page = ogc_service().items(spec, query)
    head = {
        "type": "FeatureCollection",
        "numberMatched": page.number_matched,
        "numberReturned": len(page.features),
        "links": page_links(spec, fmt, query, page.number_matched),
    }
    if fmt == "html":
        features = [json.loads(text) for text in page.features]
        return render_template(
            "ogc_items.html",
            doc=head,
            features=features,
            spec=spec,
            query=query,
            title=collection_texts(spec.id)[0],
        )
    return Response(_feature_collection(head, page.features), mimetype=GEOJSON)


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str):
    spec = collection_spec(collection_id)
    check_params(set(COVERAGE_PARAMS) if spec.coverage else set())
    fmt = output_format()
    text = ogc_service().feature(spec, feature_id, coverage_params(spec))
    if text is None:
        raise OgcError(404, f"no feature {feature_id!r} in collection {spec.id!r}")
    args = {k: v for k, v in request.args.items() if k != "f"}
    values = {"collection_id": spec.id, "feature_id": feature_id, **args}
    links = [
        *self_links("ogc.item", GEOJSON, fmt, **values),
        link(
            "ogc.collection",
            "collection",
            JSON,
            collection_texts(spec.id)[0],
            collection_id=spec.id,
        ),
    ]
    if fmt == "html":
        feature = json.loads(text)
        head = {"links": links, "numberReturned": 1}
        return render_template(
            "ogc_items.html",
            doc=head,
            features=[feature],
            spec=spec,
            query=None,
            title=f"{collection_texts(spec.id)[0]} · {feature_id}",
        )
    body = text[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}"
    return Response(body.encode(), mimetype=GEOJSON)
