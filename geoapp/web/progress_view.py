"""The planner's progress chart in the request's language: what each panel of
``render.progress_chart`` shows, built from a ``services.progress.Progress``."""

from __future__ import annotations

import pandas as pd
from flask_babel import gettext as _

from geoapp.render.progress_chart import Panel, Point, ProgressChart, Series
from geoapp.services.progress import Progress
from geoapp.web.figures import percent


def chart_of(progress: Progress, district: str | None = None) -> ProgressChart:
    """The chart of the progress of the province or of ``district``: communes meeting the
    target, five-star products (the target is the province's), and products counted beside
    the published totals, each panel on its own axis."""
    years = progress.years
    target, n = progress.target, progress.n_communes
    province = not district
    communes = Panel(
        key="communes",
        heading=_communes_heading(progress),
        note=_("Each point is what the map shows on that date (31 December, or the as-of date)."),
        series=(
            _line("communes_met", _("Communes meeting the target"), years, progress.communes_met),
        ),
        target=n,
        target_label=_("Target: every commune ≥ %(t)s products (%(n)s communes)", t=target, n=n),
        height=170,
    )
    five_star = Panel(
        key="five_star",
        heading=_("Five-star products counted"),
        note=""
        if province
        else _(
            "The target of %(n)s five-star products is the province's.",
            n=progress.five_star_target,
        ),
        series=(
            _line("five_star_counted", _("Five-star products"), years, progress.five_star_counted),
        ),
        target=progress.five_star_target if province else None,
        target_label=_("Target: %(n)s five-star products", n=progress.five_star_target),
        height=70,
    )
    products = Panel(
        key="products",
        heading=_("Products: counted in our data and published totals"),
        note=_("Published totals count every certified product; round results are in the table."),
        series=(
            _line(
                "products_counted",
                _("Counted in our data (with the filters chosen)"),
                years,
                progress.products_counted,
            ),
            Series(
                "published",
                _("Published total (source in the table)"),
                published_points(progress),
                "dots",
            ),
        ),
        height=150,
    )
    return ProgressChart(
        title=_("Progress towards the OCOP targets: %(area)s", area=progress.area_name),
        desc=progress_summary(progress, district),
        panels=(communes, five_star, products),
    )


def _communes_heading(progress: Progress) -> str:
    target, n = progress.target, progress.n_communes
    if not progress.years:  # an as-of date before the programme started
        return _("Communes with ≥ %(t)s products counted", t=target)
    met = progress.communes_met[-1]
    return _(
        "Communes with ≥ %(t)s products counted: %(met)s of %(n)s (%(share)s) on %(date)s",
        t=target,
        met=met,
        n=n,
        share=percent(met / n if n else None),
        date=progress.dates[-1],
    )


def _line(key: str, label: str, years: list[int], values: list[int]) -> Series:
    points = tuple(Point(int(y), int(v)) for y, v in zip(years, values, strict=True))
    return Series(key, label, points)


def published_points(progress: Progress) -> tuple[Point, ...]:
    """The published totals that name a year and a number, up to the as-of year (later ones
    are not about the date chosen; the table lists them all), with their date and source."""
    last = progress.years[-1] if progress.years else None
    return tuple(
        Point(int(row.year), int(row.number), f"{row.as_of}; {row.source_ids}")
        for row in progress.published.itertuples()
        if pd.notna(row.year) and pd.notna(row.number) and (last is None or row.year <= last)
    )


def progress_summary(progress: Progress, district: str | None = None) -> str:
    """The chart in words (its ``<desc>``): the figures at the as-of date and the published
    totals shown."""
    if not progress.years:
        return _("No year to show.")
    met, n = progress.communes_met[-1], progress.n_communes
    parts = [
        _(
            "On %(date)s, %(met)s of %(n)s communes (%(share)s) have ≥ %(t)s products "
            "counted; the target is every commune.",
            date=progress.dates[-1],
            met=met,
            n=n,
            share=percent(met / n if n else None),
            t=progress.target,
        ),
        _(
            "Five-star products counted: %(five)s (province target %(target)s).",
            five=progress.five_star_counted[-1],
            target=progress.five_star_target,
        )
        if not district
        else _("Five-star products counted: %(five)s.", five=progress.five_star_counted[-1]),
        _("Products counted in our data: %(n)s.", n=progress.products_counted[-1]),
    ]
    points = sorted(published_points(progress), key=lambda p: p.year)
    if points:
        listed = ", ".join(f"{p.value} ({p.year}, {p.note})" for p in points)
        parts.append(_("Published totals: %(list)s.", list=listed))
    return " ".join(parts)
