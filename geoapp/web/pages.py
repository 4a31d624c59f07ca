"""HTML pages: the coverage map and the health check."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, render_template, url_for
from flask_babel import gettext as _

from geoapp.render.coverage_map import MapConfig, render_coverage_map
from geoapp.render.palette import GROUP_COLOURS, STATUS_COLOURS, STATUS_ORDER
from geoapp.storage.base import DataMissingError
from geoapp.storage.integrity import REBUILD_HINT
from geoapp.web import figures
from geoapp.web.apidoc import documented, object_schema
from geoapp.web.query import coverage_query as query_of_request
from geoapp.web.state import app_state

bp = Blueprint("pages", __name__)
log = logging.getLogger(__name__)

DATA_ATTRIBUTION = (
    "Boundaries: dvhcvn (GPL-3.0), vietnamese-provinces-database (MIT), vietnam63 (MIT), "
    "sapnhap.bando.com.vn · OCOP facts: public provincial pages (see Sources)"
)


def map_labels() -> tuple[tuple[str, str], ...]:
    """Texts the map script shows, in the request's language."""
    return (
        ("products", _("OCOP products (≥3★, valid)")),
        ("status", _("Status")),
        ("missing", _("Missing to target")),
        ("code", _("Code")),
        ("no_data", _("No data (former Đà Nẵng)")),
        ("status_none", _("No product recorded")),
        ("completeness", _("District data: products named of published")),
        ("completeness_low", _("Few of the district's products are named here")),
        ("status_below", _("Below target")),
        ("status_met", _("Target met")),
        ("status_no_data", _("No data")),
        ("approximate", _("Approximate location")),
        ("illustrative", _("Illustrative record, not real data")),
        ("producer_not_stated", _("Producer not stated")),
        ("type_cooperative", _("Cooperative")),
        ("type_sme", _("Enterprise")),
        ("type_cooperative_group", _("Cooperative group")),
        ("type_household", _("Household business")),
        ("type_unknown", _("Producer type not stated")),
        ("kind_centre", _("OCOP centre")),
        ("kind_sales_point", _("OCOP sales point")),
        ("outlet_planned", _("planned")),
        ("outlet_unconfirmed", _("unconfirmed")),
        ("communes_met", _("Communes meeting target")),
        ("district_only", _("Products placed at district level only")),
        ("layer_communes", _("Communes: coverage")),
        ("layer_districts", _("District boundaries")),
        ("layer_district_labels", _("District names")),
        ("layer_producers", _("Producers")),
        ("layer_outlets", _("OCOP centres and sales points")),
        ("layer_candidates", _("In the pipeline (not certified)")),
        (
            "candidates_note",
            _(
                "Registered or scored products whose certification no source confirms: never "
                "counted in the coverage."
            ),
        ),
        ("candidates_district_only", _("known only by district")),
        ("load_error", _("Map data could not be loaded:")),
    )


def status_labels() -> dict[str, str]:
    return {
        "none": _("No product recorded (0)"),
        "below": _("Below target"),
        "met": _("Target met"),
        "no_data": _("No data"),
    }


def coverage_map_config(query: dict[str, str], **options) -> MapConfig:
    """The map shell's configuration: its layers load with the coverage filters of ``query``;
    ``options`` are further ``MapConfig`` fields (bounds, embed, focus)."""
    from geoapp.web.map_data import topology_service

    settings = app_state().settings
    topology = topology_service()
    edition = query["edition"]
    by_area = topology.by_area(edition)
    query = {
        **query,
        "v": app_state().store.data_version(),
    }  # compression.VERSIONED_CACHE_CONTROL
    version = {"v": query["v"]}
    geometry = {"v": topology.boundary_version()}  # the geometry changes only with a build
    tiles = url_for("map_data.vector_tile", edition=edition, z=0, x=0, y=0, **geometry)
    return MapConfig(
        static_url=url_for("static", filename="").rstrip("/"),
        tile_url=settings.tile_url,
        tile_attribution=settings.tile_attribution,
        data_attribution=DATA_ATTRIBUTION,
        boundaries_url=url_for("map_data.boundaries_topojson", edition=edition, **geometry),
        status_url=url_for("map_data.coverage_status", **query),
        producers_url=url_for("api.producers_geojson", **version),
        outlets_url=url_for("api.outlets_geojson", **version),
        candidates_url=url_for("api.candidates_geojson", edition=query["edition"], **version),
        labels=map_labels(),
        cluster_from_points=settings.cluster_from_points,
        tiles_url=tiles.replace("/0/0/0.mvt", "/{z}/{x}/{y}.mvt") if by_area else "",
        communes_min_zoom=settings.map_communes_min_zoom,
        area_districts_filled=query["edition"] == "2020",  # 2020 communes nest in districts
        **options,
    )


def district_view(code: str | None) -> dict:
    """``MapConfig`` options that open the map on one 2020 district (others dimmed)."""
    if code is None:
        return {}
    districts = app_state().store.districts("display")
    west, south, east, north = districts.loc[districts["district_code"] == code].total_bounds
    return {"bounds": ((south, west), (north, east)), "focus": (("district", code),)}


@bp.get("/")
def index():
    state = app_state()
    coverage_query = query_of_request()
    edition, overrides = coverage_query
    params = state.coverage.default_params(**overrides)
    result = state.coverage.coverage(edition, params)
    district = coverage_query.district
    summary = state.coverage.area_summary(result, district=district)
    query = coverage_query.args()  # the layers honour every coverage filter of the page
    config = coverage_map_config(query, **district_view(district))
    parts = render_coverage_map(config)
    communes = result.communes
    if district:
        communes = communes.loc[communes["district_code"].eq(district).fillna(False)]
    counts = communes["status"].value_counts().to_dict()
    legend = [
        {
            "status": s,
            "label": status_labels()[s],
            "colour": STATUS_COLOURS[s],
            "count": int(counts.get(s, 0)),
        }
        for s in STATUS_ORDER
        if s != "no_data" or edition == "2025"
    ]
    area_name = None
    province_url = None
    if district:
        names = state.store.districts("display").set_index("district_code")["district_full_name"]
        area_name = str(names.get(district, district))
        province_url = url_for("pages.index", **{k: v for k, v in query.items() if k != "district"})
    return render_template(
        "index.html",
        parts=parts,
        query=query,
        edition=edition,
        params=params,
        province=summary,
        area_name=area_name,
        province_url=province_url,
        completeness=figures.completeness_text(summary),
        exclusions=figures.exclusions_text(summary),
        counted_note=figures.counted_text(summary),
        legend=legend,
        group_colours=GROUP_COLOURS,
        districts=result.districts.to_dict("records"),
    )


@bp.get("/healthz")
@documented(
    "Health: ok, or degraded (503) when a page would fail",
    schema=object_schema("status", status={"type": "string", "enum": ["ok", "degraded"]}),
)
def healthz():
    """ok, or degraded (503) when the data a page reads is missing or damaged."""
    state = app_state()
    embedded = hasattr(state.store, "boundaries_dir")  # a database store checks its own data
    problems = current_app.extensions["geoapp.data_checker"].problems() if embedded else []
    communes = version = None
    if not problems:
        try:
            version = state.store.data_version()
            communes = len(state.store.communes(state.settings.default_edition, "display"))
        except DataMissingError:
            if not embedded:  # errors.py answers 503 with what to run or that it retries
                raise
            problems = ["the data cannot be read: " + REBUILD_HINT]
        except Exception as exc:  # whatever would break the pages breaks the check
            log.error("health check: %s", exc)
            problems = ["the data cannot be read: " + REBUILD_HINT]
    body = {"status": "degraded" if problems else "ok", "data_version": version}
    body["communes"] = communes
    if problems:
        body["problems"] = problems
    response = jsonify(body)
    response.status_code = 503 if problems else 200
    response.headers["Cache-Control"] = "no-store"
    return response
