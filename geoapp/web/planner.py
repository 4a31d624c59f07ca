"""The planner workbench: ``/planner``, its chart and downloads, and ``/api/coverage``.

Query parameters (all optional): the coverage filters of ``parse_coverage_query`` (edition,
target, min_stars, as_of, group, group_taxonomy, producer_type, district) and the table's
own: ``status`` (comma-separated statuses or ``all``), ``q`` (text, diacritics ignored),
``sort`` (a column, ``-`` first for descending) and, on the page, ``commune`` (the open one).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from geoapp.domain import coverage as cov
from geoapp.render.coverage_map import script_json
from geoapp.render.palette import STATUS_COLOURS
from geoapp.render.progress_chart import render_progress_svg
from geoapp.services.coverage import payload
from geoapp.services.planner import COMMUNE_FIELDS, PlannerService, TableFilter
from geoapp.web import figures
from geoapp.web.api import send_payload
from geoapp.web.apidoc import COVERAGE, Param, documented, object_schema, table_params
from geoapp.web.pages import DATA_ATTRIBUTION
from geoapp.web.params import (
    DEFAULT_GROUP_TAXONOMY,
    GROUP_TAXONOMIES,
    BadParameter,
    CoverageQuery,
    parse_list,
    parse_text,
)
from geoapp.web.progress_view import chart_of
from geoapp.web.query import coverage_query
from geoapp.web.state import app_state

bp = Blueprint("planner", __name__)

PAGE_STATUSES = ("none", "below")  # what the page's table shows when ``status`` is not given
STATUS_CHOICES = (*cov.STATUSES, "all")
MAX_TEXT = 100
DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
}


TABLE = table_params(
    MAX_TEXT, tuple(dict.fromkeys(f for fs in COMMUNE_FIELDS.values() for f in fs))
)


def planner_service() -> PlannerService:
    """The app's planner service (built in ``create_app``)."""
    return app_state().planner


def parse_table_filter(
    args: Mapping[str, str], query: CoverageQuery, default_statuses: tuple[str, ...] = ()
) -> TableFilter:
    """The table's status, text and sort parameters (``BadParameter`` naming the bad one)."""
    raw_status = parse_text(args, "status")
    if not raw_status:
        statuses = default_statuses
    elif raw_status == "all":
        statuses = ()
    else:
        statuses = parse_list(args, "status", STATUS_CHOICES)
        if "all" in statuses:
            raise BadParameter("status", raw_status, "'all' cannot be combined", STATUS_CHOICES)
    text = parse_text(args, "q", MAX_TEXT) or ""
    sort = parse_text(args, "sort") or ""
    fields = COMMUNE_FIELDS[query.edition]
    if sort and sort.lstrip("-") not in fields:
        raise BadParameter("sort", sort, "unknown column", [*fields, *(f"-{f}" for f in fields)])
    return TableFilter(query.district, statuses, text, sort)


def parse_request(args: Mapping[str, str], default_statuses: tuple[str, ...] = ()):
    """Coverage query, coverage parameters and table filter of a request (strict)."""
    state = app_state()
    query = coverage_query(args)
    params = state.coverage.default_params(**query.overrides)
    return query, params, parse_table_filter(args, query, default_statuses)


def filter_args(query: CoverageQuery, table: TableFilter, page: bool = False) -> dict[str, str]:
    """Canonical query-string values of a view (the API's ``filters``; links)."""
    out = query.args()
    if table.statuses != (PAGE_STATUSES if page else ()):
        out["status"] = ",".join(table.statuses) if table.statuses else "all"
    if table.text:
        out["q"] = table.text
    if table.sort:
        out["sort"] = table.sort
    return out


# -- JSON --------------------------------------------------------------------------------------


@bp.get("/api/coverage")
@documented("The planner's commune table", (*COVERAGE, *TABLE), schema=object_schema())
def api_coverage() -> Response:
    query, params, table = parse_request(request.args)
    service = planner_service()
    view = service.view(query.edition, params, table)
    body = service.api_payload(view, filter_args(query, table))
    response = jsonify(body)
    return send_payload(payload(response.get_data(), "application/json"))


@bp.get("/api/coverage/progress")
@documented("Counted products per year", COVERAGE, schema=object_schema(), limited=True)
def api_progress() -> Response:
    query, params, _table = parse_request(request.args)
    progress = planner_service().progress(query.edition, params, query.district)
    return jsonify(progress.to_json())


@bp.get("/api/coverage/communes/<code>")
@documented("One commune's products, producers and outlets", COVERAGE, schema=object_schema())
def api_commune(code: str) -> Response:
    query, params, _table = parse_request(request.args)
    detail = planner_service().commune_detail(query.edition, code, params)
    if detail is None:
        raise BadParameter(
            "commune",
            code,
            f"not a commune code of edition {query.edition}",
            "a code from /api/coverage",
        )
    for product in detail["products"]:  # in the request's language
        product["reason"] = figures.reason_sentence(product, params)
    return jsonify(detail)


# -- chart and downloads -----------------------------------------------------------------------


@bp.get("/planner/progress.svg")
@documented(
    "Chart of counted products per year", COVERAGE, media_type="image/svg+xml", limited=True
)
def progress_svg() -> Response:
    query, params, _table = parse_request(request.args)
    progress = planner_service().progress(query.edition, params, query.district)
    svg = render_progress_svg(chart_of(progress, query.district)).encode()
    response = send_payload(payload(svg, "image/svg+xml"))
    response.vary.add("Cookie")  # the chart's texts are in the request's language
    response.vary.add("Accept-Language")
    return response


@bp.get("/planner/download.<fmt>")
@documented(
    "The commune table as a file",
    (
        *COVERAGE,
        *TABLE,
        Param("fmt", {"type": "string", "enum": list(DOWNLOADS)}, "Format", where="path"),
    ),
    media_type=tuple(t.split(";")[0] for t in DOWNLOADS.values()),
    limited=True,
)
def download(fmt: str) -> Response:
    if fmt not in DOWNLOADS:
        raise BadParameter("format", fmt, "unknown download format", tuple(DOWNLOADS))
    query, params, table = parse_request(request.args)
    service = planner_service()
    view = service.view(query.edition, params, table)
    filters = filter_args(query, table)
    if fmt == "csv":
        body = service.to_csv(view)
    elif fmt == "xlsx":
        progress = service.progress(query.edition, params, query.district)
        body = service.to_xlsx(view, progress, filters)
    elif fmt == "geojson":
        body = service.to_geojson(view)
    else:
        body = service.to_geopackage(view)
    response = Response(body, mimetype=DOWNLOADS[fmt].split(";")[0])
    if fmt == "csv":
        response.headers["Content-Type"] = DOWNLOADS[fmt]
    name = service.download_name(view, query.group_taxonomy, fmt)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# -- the page ----------------------------------------------------------------------------------


def lenient_request(args: Mapping[str, str]):
    """Like ``parse_request`` with the page's defaults, but a bad parameter is dropped and
    reported instead of failing: the page still shows a map and says what was wrong."""
    remaining = MultiDict(args)
    errors: list[BadParameter] = []
    while True:
        try:
            query, params, table = parse_request(remaining, PAGE_STATUSES)
            commune = parse_text(remaining, "commune")
            if commune is not None:
                codes = planner_service().commune_table(query.edition, params)["commune_code"]
                if commune not in set(codes):
                    raise BadParameter(
                        "commune",
                        commune,
                        f"not a commune code of edition {query.edition}",
                        "a code listed in the table",
                    )
            return query, params, table, commune, errors
        except BadParameter as exc:
            if exc.name not in remaining:
                raise
            errors.append(exc)
            remaining.poplist(exc.name)


def page_labels() -> dict[str, str]:
    """Texts the planner script shows, in the request's language."""
    return {
        "commune": _("Commune"),
        "district": _("District"),
        "former_province": _("Former province"),
        "n_products": _("Products"),
        "target": _("Target"),
        "missing": _("Missing"),
        "status": _("Status"),
        "groups": _("Product groups present"),
        "n_candidates": _("In the pipeline (not certified)"),
        "candidates_note": _(
            "Registered or scored products whose certification no source confirms: never "
            "counted in the coverage."
        ),
        "candidates_district_only": _("%(n)s known only by district", n="{n}"),
        "status_none": _("No product recorded"),
        "status_below": _("Below target"),
        "status_met": _("Target met"),
        "status_no_data": _("No data"),
        "empty": _("No commune matches these filters."),
        "rows": _("communes shown"),
        "of": _("of"),
        "products": _("Products"),
        "producers": _("Producers"),
        "outlets": _("OCOP centres and sales points"),
        "successor": _("2025 commune (after the merger)"),
        "predecessors": _("2020 communes merged into it"),
        "none_listed": _("None recorded."),
        "counted": _("counted"),
        "not_counted": _("not counted"),
        "expires": _("certificate expires"),
        "year": _("year"),
        "producer": _("producer"),
        "producer_not_stated": _("producer not stated"),
        "load_error": _("Data could not be loaded:"),
        "communes_met": _("met"),
        "communes_below": _("below"),
        "communes_none": _("none"),
        "share_met": _("share met"),
        "n_communes": _("communes"),
        "district_only": _("district only"),
        "completeness_low": _("Few of the district's products are named here"),
        "district_figure": _("{products} products counted; {met} of {communes} communes met"),
        "all_districts": _("All districts"),
        "close": _("Close"),
        "approximate": _("approximate location"),
        "type_cooperative": _("Cooperative"),
        "type_sme": _("Enterprise"),
        "type_cooperative_group": _("Cooperative group"),
        "type_household": _("Household business"),
        "type_unknown": _("Producer type not stated"),
        "kind_centre": _("OCOP centre"),
        "kind_sales_point": _("OCOP sales point"),
        "undated_note": _(
            "{n} products with no recognition date count from the programme's start (2018) in "
            "every year and are in no year's “recognised in the year”."
        ),
    }


@bp.get("/planner")
def planner_page():
    state = app_state()
    query, params, table, commune, errors = lenient_request(request.args)
    service = planner_service()
    choices = service.choices()
    config = {
        "urls": {
            "coverage": url_for("planner.api_coverage"),
            "progress": url_for("planner.api_progress"),
            "chart": url_for("planner.progress_svg"),
            "commune": url_for("planner.api_commune", code="CODE"),
            "communes": url_for("api.communes_geojson"),
            "districts": url_for("api.districts_geojson"),
            "download": url_for("planner.download", fmt="FMT"),
            "map": url_for("pages.index"),
        },
        "tileUrl": state.settings.tile_url,
        "dataAttribution": DATA_ATTRIBUTION,
        "tileAttribution": state.settings.tile_attribution,
        "defaults": {
            "edition": state.settings.default_edition,
            "status": ",".join(PAGE_STATUSES),
            "target": state.settings.target_products,
            "min_stars": state.settings.min_stars,
            "as_of": state.settings.as_of.isoformat(),
            "group_taxonomy": DEFAULT_GROUP_TAXONOMY,
        },
        "state": {
            **filter_args(query, table, page=True),
            **({"commune": commune} if commune else {}),
        },
        "hadErrors": bool(errors),
        "statusColours": STATUS_COLOURS,
        "groups": {taxonomy: list(names) for taxonomy, names in choices.groups.items()},
        "districtNames": dict(choices.districts),
        "labels": page_labels(),
        "fields": COMMUNE_FIELDS,
    }
    html = render_template(
        "planner.html",
        config=config,
        config_json=script_json(config),
        errors=errors,
        query=query,
        params=params,
        table=table,
        choices=choices,
        taxonomies=tuple(GROUP_TAXONOMIES),
        statuses=cov.STATUSES,
        status_labels={s: page_labels()[f"status_{s}"] for s in cov.STATUSES},
    )
    return html, (400 if errors else 200)
