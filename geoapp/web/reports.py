"""Embeddable map (/embed/coverage), static PNG and PDF reports (/report/...).

The embed pages may be framed by any site (``geoapp.web.security`` sets the frame policy).
Reports are cached by their parameters and the data version and sent with an ETag.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd
from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from geoapp.domain.coverage import CoverageParams
from geoapp.render.coverage_map import render_coverage_map
from geoapp.render.palette import STATUS_COLOURS, STATUS_ORDER
from geoapp.services.coverage import payload
from geoapp.services.reports import AreaReport, ReportRequest, ReportService
from geoapp.web import figures as figure_texts
from geoapp.web.api import send_payload
from geoapp.web.apidoc import COVERAGE, Param, documented
from geoapp.web.pages import coverage_map_config, map_labels, status_labels
from geoapp.web.params import (
    BadParameter,
    parse_int,
    parse_region_bbox,
    parse_text,
)
from geoapp.web.query import coverage_query
from geoapp.web.state import app_state

if TYPE_CHECKING:
    from geoapp.render.pdf_report import ReportSpec
    from geoapp.render.static_map import LegendEntry, StaticMapSpec

# matplotlib (about 40 MB) loads with the first static report, not when a worker starts.

bp = Blueprint("reports", __name__)

PNG_WIDTH = (300, 4000, 1200)  # low, high, default (pixels)
PNG_HEIGHT = (200, 4000, 900)
PNG_DPI = (50, 300, 100)
# Parameters that select what a map or report shows (carried into links and snippets).
FILTER_PARAMS = (
    "edition",
    "target",
    "min_stars",
    "as_of",
    "group",
    "group_taxonomy",
    "producer_type",
    "district",
    "commune",
    "lang",
)
EXTENSION_KEY = "geoapp.reports"
REPORT = (
    *COVERAGE,
    Param("commune", {"type": "string", "maxLength": 10}, "A commune code of the edition"),
    Param("bbox", {"type": "string"}, "west,south,east,north in degrees (EPSG:4326)"),
)
SIZE = tuple(
    Param(name, {"type": "integer", "minimum": low, "maximum": high}, f"{name} (default {default})")
    for name, (low, high, default) in (
        ("width", PNG_WIDTH),
        ("height", PNG_HEIGHT),
        ("dpi", PNG_DPI),
    )
)


def reports_service() -> ReportService:
    """The app's report service (one per app, created on first use)."""
    extensions = current_app.extensions
    service = extensions.get(EXTENSION_KEY)
    if service is None:
        service = extensions.setdefault(EXTENSION_KEY, ReportService(app_state().coverage))
    return service


def report_request(args: Mapping[str, str]) -> ReportRequest:
    """The area and coverage parameters of a query string, checked against the data."""
    state = app_state()
    service = reports_service()
    # edition, target, min_stars, as_of, group, producer_type and district, checked against
    # the data's districts and groups (the planner's choices)
    query = coverage_query(args)
    edition, overrides = query
    district = query.district
    commune = parse_text(args, "commune")
    if commune is not None:
        communes = service.commune_names(edition)
        if commune not in communes:
            valid = f"a commune code of edition {edition} (e.g. {next(iter(communes), '')})"
            raise BadParameter("commune", commune, "unknown commune code", valid)
        if district is not None and service.commune_district(commune) != district:
            raise BadParameter("commune", commune, f"not in district {district}")
    params = state.coverage.default_params(**overrides)
    if params.group is None:  # the taxonomy only matters with a group: one cache entry
        params = dataclasses.replace(params, group_field=CoverageParams.group_field)
    return ReportRequest(edition, params, district, commune, parse_region_bbox(args))


def filter_args(args: Mapping[str, str]) -> dict[str, str]:
    """The given filter parameters of a query string (for links between the views)."""
    return {k: v for k, v in args.items() if k in FILTER_PARAMS and v.strip()}


# -- texts ------------------------------------------------------------------------------------


def _filters_text(req: ReportRequest) -> str:
    p = req.params
    parts = [
        _("Edition %(e)s", e=req.edition),
        _("target ≥ %(t)s products rated ≥ %(s)s★ per commune", t=p.target, s=p.min_stars),
        _(
            "certificates valid on %(d)s (%(m)s months)",
            d=p.as_of.isoformat(),
            m=p.certificate_months,
        ),
    ]
    if p.group:
        parts.append(_("group: %(g)s", g=p.group))
    if p.producer_type:
        labels = dict(map_labels())
        parts.append(_("producer: %(t)s", t=labels.get(f"type_{p.producer_type}", p.producer_type)))
    return " · ".join(parts)


def _title(report: AreaReport) -> str:
    return _("OCOP products per commune · %(area)s", area=report.area_name)


def _legend(report: AreaReport) -> tuple[LegendEntry, ...]:
    from geoapp.render.static_map import LegendEntry

    labels = status_labels()
    return tuple(
        LegendEntry(status, labels[status], report.counts.get(status, 0))
        for status in STATUS_ORDER
        if status != "no_data" or report.request.edition == "2025"
    )


def _notice(report: AreaReport) -> str | None:
    return None if report.products_counted else _("No matching products")


def _as_of_line(report: AreaReport) -> str:
    s = report.summary
    return _(
        "Data as of %(d)s · %(n)s products counted · data version %(v)s",
        d=s["as_of"],
        n=s["products_counted"],
        v=report.data_version,
    )


def map_spec(report: AreaReport) -> StaticMapSpec:
    from geoapp.render.static_map import StaticMapSpec

    """The static map of an area report, with texts in the request's language."""
    outside = report.area_kind != "province"
    return StaticMapSpec(
        communes=report.communes,
        districts=report.districts,
        extent=report.extent,
        title=_title(report),
        subtitle=_filters_text(report.request),
        legend_title=_("Communes (target %(t)s)", t=report.request.params.target),
        legend=_legend(report),
        footer=(
            _as_of_line(report),
            figure_texts.completeness_text(report.summary),
            *report.sources,
        ),
        notice=_notice(report),
        district_label=_("District boundary (2020)"),
        outside_label=_("Outside the selected area") if outside else None,
        highlight=report.request.commune,
        hatch_label=_("District with few of its published products named")
        if _has_low(report)
        else None,
    )


def _has_low(report: AreaReport) -> bool:
    """Whether a commune of the area lies in a district with few of its products named."""
    communes = report.communes
    if "completeness_low" not in communes.columns:
        return False
    low = communes["completeness_low"].fillna(False).astype(bool)
    return bool((low & communes["in_area"].astype(bool)).any())


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _named_of_published(row: Any) -> str:
    """ "21 / 27" where the district's published total is known, else the named count."""
    if pd.isna(row.n_published):
        return f"{row.n_named} / –"
    return f"{row.n_named} / {int(row.n_published)}"


def report_spec(report: AreaReport) -> ReportSpec:
    from geoapp.render.pdf_report import Column, ReportSpec, Table

    """The PDF report of an area, with texts in the request's language."""
    s = report.summary
    figures = [
        (
            _("Communes meeting the target (≥ %(t)s products)", t=s["target"]),
            f"{s['communes_met']} / {s['communes']} ({_percent(s['share_met'])})",
        ),
        (_("Communes below the target"), str(s["communes_below"])),
        (_("Communes with no product recorded"), str(s["communes_none"])),
        (_("Products counted (≥%(s)s★, valid)", s=s["min_stars"]), str(s["products_counted"])),
        (
            _("5★ products (province target ≥ %(n)s)", n=s["five_star_target"]),
            str(s["five_star_products"]),
        ),
        (_("Data completeness"), figure_texts.completeness_text(s)),
    ]
    if s["communes_no_data"]:
        figures.append((_("Communes without data (former Đà Nẵng)"), str(s["communes_no_data"])))
    if report.products_counted == 0:
        figures.insert(0, (_("No matching products"), _("no product matches these filters")))
    tables = []
    if report.request.edition == "2020":
        tables.append(
            Table(
                heading=_("Districts"),
                columns=(
                    Column(_("District"), 0.17),
                    Column(_("Communes"), 0.10, "right"),
                    Column(_("Met"), 0.06, "right"),
                    Column(_("Below"), 0.07, "right"),
                    Column(_("None"), 0.07, "right"),
                    Column(_("Share met"), 0.10, "right"),
                    Column(_("Products"), 0.09, "right"),
                    Column(_("District only"), 0.13, "right"),
                    Column(_("Named / published"), 0.21, "right"),
                ),
                rows=tuple(
                    (
                        str(r.district_name),
                        str(r.n_communes),
                        str(r.communes_met),
                        str(r.communes_below),
                        str(r.communes_none),
                        _percent(r.share_met),
                        str(r.n_products),
                        str(r.n_products_district_only),
                        _named_of_published(r),
                    )
                    for r in report.district_table.itertuples()
                ),
                empty=_("No district table for a single commune."),
            )
        )
    status_text = {"none": _("none"), "below": _("below")}
    place_title = _("District") if report.request.edition == "2020" else _("Former province")
    tables.append(
        Table(
            heading=_("Gap list: communes below the target (%(n)s)", n=len(report.gaps)),
            columns=(
                Column("#", 0.06, "right"),
                Column(_("Commune"), 0.34),
                Column(place_title, 0.28),
                Column(_("Products"), 0.10, "right"),
                Column(_("Missing"), 0.10, "right"),
                Column(_("Status"), 0.12),
            ),
            rows=tuple(
                (
                    str(i),
                    str(r.commune_full_name),
                    str(r.place),
                    str(r.n_products),
                    str(r.missing),
                    status_text.get(r.status, r.status),
                )
                for i, r in enumerate(report.gaps.itertuples(), start=1)
            ),
            empty=_("Every commune of the area meets the target."),
        )
    )
    completeness = [
        _(
            "The latest published total of the province is %(total)s certified OCOP products "
            "(%(date)s); %(rec)s are named here. No official full list is public, so a commune "
            "shown with no product recorded may have products that are not named here.",
            total=s["province_published_total"] or "?",
            date=s["province_published_total_as_of"] or "",
            rec=s["products_recorded_province"],
        ),
        figure_texts.completeness_text(s),
        figure_texts.counted_text(s),
    ]
    if figure_texts.exclusions_text(s):
        completeness.append(figure_texts.exclusions_text(s))
    if s.get("has_illustrative"):
        completeness.append(_("Illustrative records are loaded: some data is not real."))
    sources = list(report.sources)
    if report.source_ids:
        sources.append(
            _("Sources of the counted products: %(ids)s", ids=", ".join(report.source_ids))
        )
    created = dt.date.today().isoformat()
    return ReportSpec(
        title=_("OCOP coverage report · %(area)s", area=report.area_name),
        subtitle=_filters_text(report.request),
        date_line=_(
            "Data as of %(d)s · report of %(c)s · data version %(v)s",
            d=s["as_of"],
            c=created,
            v=report.data_version,
        ),
        map=dataclasses.replace(map_spec(report), footer=(_as_of_line(report),)),
        figures_heading=_("Figures against the targets"),
        figures=tuple(figures),
        tables=tuple(tables),
        sections=(
            (_("Sources"), tuple(sources)),
            (_("Data completeness"), tuple(completeness)),
        ),
        page_label=_("Page %(page)s of %(pages)s", page="{page}", pages="{pages}"),
        document_title=_("OCOP coverage report · %(area)s", area=report.area_name),
    )


# -- routes -------------------------------------------------------------------------------------


def _file_stem(req: ReportRequest) -> str:
    parts = ["ocop-coverage", req.edition]
    if req.district:
        parts.append(req.district)
    if req.commune:
        parts.append(req.commune)
    return "-".join(parts)


def _send(data, filename: str) -> Response:
    response = send_payload(data)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _size_args(args: Mapping[str, str]) -> tuple[int, int, int]:
    width = parse_int(args, "width", PNG_WIDTH[0], PNG_WIDTH[1]) or PNG_WIDTH[2]
    height = parse_int(args, "height", PNG_HEIGHT[0], PNG_HEIGHT[1]) or PNG_HEIGHT[2]
    dpi = parse_int(args, "dpi", PNG_DPI[0], PNG_DPI[1]) or PNG_DPI[2]
    return width, height, dpi


@bp.get("/report/coverage.png")
@documented("Static map of an area (PNG)", (*REPORT, *SIZE), media_type="image/png", limited=True)
def coverage_png() -> Response:
    req = report_request(request.args)
    width, height, dpi = _size_args(request.args)
    service = reports_service()

    def build():
        spec = map_spec(service.area_report(req))
        from geoapp.render.static_map import render_png

        return payload(render_png(spec, width, height, dpi).png, "image/png")

    key = (req, width, height, dpi, str(get_locale()))
    return _send(service.cached_file("coverage.png", key, build), _file_stem(req) + ".png")


@bp.get("/report/coverage.pdf")
@documented("Coverage report of an area (PDF)", REPORT, media_type="application/pdf", limited=True)
def coverage_pdf() -> Response:
    req = report_request(request.args)
    service = reports_service()

    def build():
        spec = report_spec(service.area_report(req))
        from geoapp.render.pdf_report import render_pdf

        return payload(render_pdf(spec), "application/pdf")

    key = (req, str(get_locale()), dt.date.today())
    return _send(service.cached_file("coverage.pdf", key, build), _file_stem(req) + ".pdf")


@bp.get("/embed/coverage")
def embed_coverage():
    req = report_request(request.args)
    report = reports_service().area_report(req)
    api_query = {
        k: v for k, v in filter_args(request.args).items() if k not in {"district", "commune"}
    }
    api_query["edition"] = req.edition
    west, south, east, north = report.extent
    focus = tuple((k, v) for k, v in (("district", req.district), ("commune", req.commune)) if v)
    config = coverage_map_config(
        api_query, bounds=((south, west), (north, east)), embed=True, focus=focus
    )
    legend = [
        {"status": e.status, "label": e.label, "colour": STATUS_COLOURS[e.status], "count": e.count}
        for e in _legend(report)
    ]
    return render_template(
        "embed.html",
        parts=render_coverage_map(config),
        report=report,
        title=_title(report),
        subtitle=_filters_text(req),
        legend=legend,
        notice=_notice(report),
        full_view_url=url_for("pages.index", **filter_args(request.args)),
    )


def register(app: Flask) -> None:
    """Register the blueprint on ``app`` (the frame policy is in ``geoapp.web.security``)."""
    app.register_blueprint(bp)
