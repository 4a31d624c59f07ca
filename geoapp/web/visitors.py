"""The visitor's pages and API: ``/nearby``, ``/api/nearby`` and ``/api/search``.

Positions are WGS 84 degrees (EPSG:4326); ``distance_m`` is geodesic metres on WGS 84.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from geoapp.domain.search import MAX_QUERY_LENGTH
from geoapp.i18n import current_language
from geoapp.services.visitors import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    PLACE_KINDS,
    NearbyQuery,
    VisitorService,
)
from geoapp.web.params import BadParameter, parse_float, parse_int, parse_list, parse_text
from geoapp.web.state import app_state

bp = Blueprint("visitors", __name__)

SEARCH_LIMIT_DEFAULT = 10


def visitor_service() -> VisitorService:
    """The app's ``VisitorService`` (built in ``create_app``)."""
    return app_state().visitors


def format_date(iso: str | None) -> str:
    """An ISO 8601 day as the request's language writes it ("01/06/2026" in Vietnamese)."""
    if not iso:
        return ""
    day = dt.date.fromisoformat(iso)
    return day.strftime("%d/%m/%Y") if current_language() == "vi" else day.isoformat()


def status_text(item: Mapping[str, Any]) -> str | None:
    """What a visitor is told about a product that is not plainly an OCOP product today."""
    status = item["ocop_status"]
    if status == "expired":
        return _(
            "certificate expired on %(date)s; renewal not recorded",
            date=format_date(item["certificate_expiry"]),
        )
    if status == "not_yet_recognised":
        return _(
            "not yet an OCOP product: recognition dated %(date)s",
            date=format_date(item["recognised_on"]),
        )
    if status == "no_rating":
        return _("not an OCOP product: no confirmed star rating")
    if not item["date_recorded"]:
        return _("recognition date not recorded")
    return None


def format_distance(distance_m: float, decimal_mark: str = ".") -> str:
    """Metres under 1 km ("850 m"), else kilometres with one decimal ("1.5 km", "1,5 km")."""
    metres = round(distance_m)
    if metres < 1000:
        return f"{metres} m"
    return f"{distance_m / 1000:.1f}".replace(".", decimal_mark) + " km"


def decimal_mark() -> str:
    return "," if current_language() == "vi" else "."


def _required_float(args: Mapping[str, str], name: str, low: float, high: float) -> float:
    value = parse_float(args, name, low, high)
    if value is None:
        raise BadParameter(name, args.get(name, ""), "required", f"{low:g} to {high:g}")
    return value


def parse_nearby_query(args: Mapping[str, str], groups: tuple[str, ...]) -> NearbyQuery:
    """``lat`` (-90..90) and ``lon`` (-180..180) required; ``limit`` 1..50 (default 10);
    ``kind`` one or more of centre, sales_point, producer (comma-separated); ``group`` a QĐ 148
    product group of the data; ``min_stars`` 1..5."""
    lat = _required_float(args, "lat", -90.0, 90.0)
    lon = _required_float(args, "lon", -180.0, 180.0)
    limit = parse_int(args, "limit", 1, MAX_LIMIT) or DEFAULT_LIMIT
    kinds = parse_list(args, "kind", PLACE_KINDS) or None
    group = parse_text(args, "group")
    if group is not None and group not in groups:
        raise BadParameter("group", group, "not a product group in the data", groups)
    min_stars = parse_int(args, "min_stars", 1, 5)
    return NearbyQuery(lat, lon, limit, kinds, group, min_stars)


def parse_search_query(args: Mapping[str, str]) -> tuple[str, int]:
    text = parse_text(args, "q", MAX_QUERY_LENGTH)
    if not text:
        raise BadParameter("q", args.get("q") or "", "required: a name to search for")
    limit = parse_int(args, "limit", 1, MAX_LIMIT) or SEARCH_LIMIT_DEFAULT
    return text, limit


def _json(value: Any) -> Response:
    response = jsonify(value)
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


@bp.get("/api/nearby")
def api_nearby() -> Response:
    service = visitor_service()
    query = parse_nearby_query(request.args, service.groups())
    places = service.nearby(query)
    mark = decimal_mark()
    for place in places:
        place["distance_text"] = format_distance(place["distance_m"], mark)
        for product in place["products"]:
            product["status_text"] = status_text(product)
    return _json(places)


@bp.get("/api/search")
def api_search() -> Response:
    text, limit = parse_search_query(request.args)
    hits = visitor_service().search(text, limit)
    for hit in hits:
        if hit["type"] == "product":
            hit["status_text"] = status_text(hit)
    return _json(hits)


def page_labels() -> dict[str, str]:
    """Texts the page script shows, in the request's language."""
    return {
        "kind_centre": _("OCOP centre"),
        "kind_sales_point": _("OCOP sales point"),
        "kind_producer": _("Producer selling on site"),
        "status_planned": _("planned, not confirmed open"),
        "status_unconfirmed": _("unconfirmed: may not exist"),
        "approximate": _("Approximate location: somewhere in this commune"),
        "approximate_district": _("Approximate location: somewhere in this district"),
        "illustrative": _("Illustrative record, not real data"),
        "basis_own": _("Made here by this producer"),
        "basis_operator": _("Made by the operator of this outlet"),
        "basis_same_commune": _("Made in the same commune: not confirmed on sale here"),
        "no_products": _("No source lists the products on sale here."),
        "runs_outlet": _("Runs:"),
        "operator": _("Operator:"),
        "directions": _("Directions (OpenStreetMap)"),
        "geo": _("Open in a map app"),
        "find_address": _("Find the address on OpenStreetMap"),
        "show_on_map": _("Show on map"),
        "your_position": _("Your position"),
        "position_from_device": _("Your device's location"),
        "position_from_map": _("The point you tapped on the map"),
        "position_from_search": _("Near: %(name)s", name="{name}"),
        "position_from_link": _("The position in the link"),
        "locating": _("Finding your location…"),
        "loading": _("Looking for the nearest places…"),
        "count": _("%(n)s places, nearest first", n="{n}"),
        "none_found": _("No place matches these filters."),
        "geo_unsupported": _("This browser cannot share your location: tap the map or search."),
        "geo_denied": _("Location permission was refused: tap the map or search instead."),
        "geo_failed": _("Your location could not be found: tap the map or search instead."),
        "load_error": _("The list could not be loaded:"),
        "searching": _("Searching…"),
        "search_none": _("Nothing found for this name."),
        "search_results": _("%(n)s matches: choose one", n="{n}"),
        "type_district": _("District (2020)"),
        "type_commune": _("Commune"),
        "type_outlet": _("OCOP outlet"),
        "type_producer": _("Producer"),
        "type_product": _("OCOP product"),
        "type_product_other": _("Product"),
        "edition_2025": _("from 1 July 2025"),
        "no_location": _("no location known"),
        "stars": _("%(n)s stars", n="{n}"),
        "by": _("by"),
    }


@bp.get("/nearby")
def nearby_page() -> str:
    service = visitor_service()
    groups = service.groups()
    # A shared link may carry a position and filters: check them like the API does.
    start = None
    if request.args.get("lat") or request.args.get("lon"):
        start = parse_nearby_query(request.args, groups)
    else:
        parse_nearby_query({**request.args, "lat": "0", "lon": "0"}, groups)
    config = {
        "nearbyUrl": url_for("visitors.api_nearby"),
        "searchUrl": url_for("visitors.api_search"),
        "tileUrl": app_state().settings.tile_url,
        "tileAttribution": app_state().settings.tile_attribution,
        "lang": current_language(),
        "labels": page_labels(),
        "start": None if start is None else {"lat": start.lat, "lon": start.lon},
        "bounds": [[14.95, 107.2], [16.1, 108.75]],
        "limit": DEFAULT_LIMIT,
    }
    kinds = [
        ("centre", _("OCOP centres")),
        ("sales_point", _("OCOP sales points")),
        ("producer", _("Producers selling on site")),
    ]
    return render_template(
        "nearby.html",
        config=config,
        kinds=kinds,
        groups=groups,
        selected={
            "kind": (request.args.get("kind") or "").strip(),
            "group": (request.args.get("group") or "").strip(),
            "min_stars": (request.args.get("min_stars") or "").strip(),
        },
        max_query_length=MAX_QUERY_LENGTH,
        certificate_months=app_state().settings.certificate_months,
    )
