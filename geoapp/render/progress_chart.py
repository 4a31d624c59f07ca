"""The progress chart: products per recognition year against the target, as plain SVG.

No plotting library: the chart is a handful of rectangles, lines and circles, written with
every data text escaped. Years run along x, product counts along y.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from html import escape as _escape

from geoapp.domain.text_safety import strip_control

WIDTH, HEIGHT = 760, 400
LEFT, RIGHT, TOP, BOTTOM = 56, 20, 84, 40
COLOURS = {
    "new": "#b2abd2",
    "cumulative": "#5e3c99",
    "valid": "#e66101",
    "target": "#b2182b",
    "published": "#1a1a1a",
}


def escape(text: str) -> str:
    """Text for the SVG: XML-escaped, without the characters XML cannot hold."""
    return _escape(strip_control(str(text)))


@dataclasses.dataclass(frozen=True)
class PublishedPoint:
    """A published figure: ``year``, ``number``, ``kind`` ("total" or "as_stated") and the
    text as published (shown on hover)."""

    year: int
    number: int
    kind: str
    text: str


@dataclasses.dataclass(frozen=True)
class ProgressChart:
    """What the chart shows; ``labels`` holds the (translated) legend and axis texts under
    the keys new, cumulative, valid, target, published_total, published_other, axis."""

    title: str
    years: tuple[int, ...]
    new: tuple[int, ...]
    cumulative: tuple[int, ...]
    valid: tuple[int, ...]
    target: int
    published: tuple[PublishedPoint, ...]
    labels: tuple[tuple[str, str], ...]


def nice_step(maximum: float, ticks: int = 5) -> int:
    """A round tick step (1, 2 or 5 times a power of ten) giving about ``ticks`` ticks."""
    raw = max(maximum, 1) / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return max(1, int(factor * power))
    return max(1, int(10 * power))


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _polyline(points: Sequence[tuple[float, float]], colour: str, css: str, dash: str = "") -> str:
    coords = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in points)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline class="{css}" points="{coords}" fill="none" stroke="{colour}" '
        f'stroke-width="2.5"{dash_attr}/>'
    )


def render_progress_svg(chart: ProgressChart) -> str:
    """The chart as a standalone SVG document (UTF-8 text)."""
    labels = dict(chart.labels)
    years = list(chart.years) + [p.year for p in chart.published]
    first, last = (min(years), max(years)) if years else (2018, 2025)
    slots = last - first + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    band = plot_w / slots
    values = [
        *chart.new,
        *chart.cumulative,
        *chart.valid,
        chart.target,
        *(p.number for p in chart.published),
    ]
    step = nice_step(max(values, default=1))
    y_max = step * math.ceil(max(max(values, default=1), 1) / step)

    def x_of(year: int) -> float:
        return LEFT + (year - first + 0.5) * band

    def y_of(value: float) -> float:
        return TOP + plot_h * (1 - value / y_max)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="progress-title" class="progress-chart" '
        f'font-family="DejaVu Sans, sans-serif" font-size="12">',
        f'<title id="progress-title">{escape(chart.title)}</title>',
        f'<text x="{LEFT}" y="18" font-size="14" font-weight="bold">{escape(chart.title)}</text>',
    ]
    # grid and axes
    tick = 0
    while tick <= y_max:
        y = y_of(tick)
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_fmt(y)}" y2="{_fmt(y)}" stroke="#ddd"/>'
        )
        out.append(f'<text x="{LEFT - 6}" y="{_fmt(y + 4)}" text-anchor="end">{tick}</text>')
        tick += step
    out.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" '
        f'y2="{TOP + plot_h}" stroke="#333"/>'
    )
    for year in range(first, last + 1):
        out.append(
            f'<text x="{_fmt(x_of(year))}" y="{TOP + plot_h + 18}" '
            f'text-anchor="middle">{year}</text>'
        )
    out.append(
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 4}" text-anchor="end" fill="#444">'
        f"{escape(labels.get('axis', ''))}</text>"
    )
    # new products per year (bars)
    bar_w = band * 0.5
    for year, count in zip(chart.years, chart.new, strict=True):
        top = y_of(count)
        out.append(
            f'<rect class="bar-new" x="{_fmt(x_of(year) - bar_w / 2)}" y="{_fmt(top)}" '
            f'width="{_fmt(bar_w)}" height="{_fmt(TOP + plot_h - top)}" '
            f'fill="{COLOURS["new"]}"><title>{year}: {count}</title></rect>'
        )
    # target line
    y_target = y_of(chart.target)
    out.append(
        f'<line class="target-line" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
        f'y1="{_fmt(y_target)}" y2="{_fmt(y_target)}" stroke="{COLOURS["target"]}" '
        f'stroke-width="2" stroke-dasharray="6 4"/>'
    )
    out.append(
        f'<text x="{LEFT + 6}" y="{_fmt(y_target - 5)}" stroke="#fff" stroke-width="3" '
        f'paint-order="stroke" fill="{COLOURS["target"]}">{escape(labels.get("target", ""))}: '
        f"{chart.target}</text>"
    )
    # cumulative and valid lines, with a dot and a title per year
    for key, series, dash in (("cumulative", chart.cumulative, ""), ("valid", chart.valid, "5 3")):
        points = [(x_of(y), y_of(v)) for y, v in zip(chart.years, series, strict=True)]
        if points:
            out.append(_polyline(points, COLOURS[key], f"line-{key}", dash))
        for (x, y), year, value in zip(points, chart.years, series, strict=True):
            out.append(
                f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="3" fill="{COLOURS[key]}">'
                f"<title>{escape(labels.get(key, key))} {year}: {value}</title></circle>"
            )
    # published figures
    for point in chart.published:
        fill = COLOURS["published"] if point.kind == "total" else "#fff"
        x, y = x_of(point.year), y_of(point.number)
        out.append(
            f'<circle class="published published-{escape(point.kind)}" cx="{_fmt(x)}" '
            f'cy="{_fmt(y)}" r="5.5" fill="{fill}" stroke="{COLOURS["published"]}" '
            f'stroke-width="1.5"><title>{escape(point.text)}</title></circle>'
        )
        if point.kind == "total":
            out.append(
                f'<text x="{_fmt(x + 8)}" y="{_fmt(y + 4)}" font-weight="bold">'
                f"{point.number}</text>"
            )
    # legend
    items = [
        ("rect", COLOURS["new"], labels.get("new", "")),
        ("line", COLOURS["cumulative"], labels.get("cumulative", "")),
        ("dash", COLOURS["valid"], labels.get("valid", "")),
        ("dash", COLOURS["target"], labels.get("target", "")),
        ("dot", COLOURS["published"], labels.get("published_total", "")),
        ("ring", COLOURS["published"], labels.get("published_other", "")),
    ]
    for index, (shape, colour, text) in enumerate(items):
        x = LEFT + (index % 2) * 340
        y = 38 + (index // 2) * 16
        if shape == "rect":
            out.append(f'<rect x="{x}" y="{y - 9}" width="14" height="10" fill="{colour}"/>')
        elif shape in {"line", "dash"}:
            dash = ' stroke-dasharray="5 3"' if shape == "dash" else ""
            out.append(
                f'<line x1="{x}" x2="{x + 14}" y1="{y - 4}" y2="{y - 4}" '
                f'stroke="{colour}" stroke-width="2.5"{dash}/>'
            )
        else:
            fill = colour if shape == "dot" else "#fff"
            out.append(
                f'<circle cx="{x + 7}" cy="{y - 4}" r="5" fill="{fill}" '
                f'stroke="{colour}" stroke-width="1.5"/>'
            )
        out.append(f'<text x="{x + 20}" y="{y}">{escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out)
