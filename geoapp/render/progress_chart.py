"""The progress chart: panels that share the year axis, each with its own y axis, as SVG.

The planner's chart has three panels: communes meeting the target (y in communes, up to every
commune of the area, which is the target), five-star products against the five-star target,
and products counted in our data beside the area's published totals. Counts of different
things never share an axis. Every point carries its value as a text label (``point-label``,
with ``data-series`` and ``data-year``), and the document has a ``<title>`` and a ``<desc>``
for screen readers. Years run along x (one slot per calendar year); y is in the panel's unit.

Why not matplotlib (a dependency already, for static maps): its SVG has no title, desc or
role for assistive technology, writes texts as paths or as styled text that mathtext parses
("$" in a source note), and cannot tie a label to the point it labels. The chart is lines,
dots and texts, so the standard library's ElementTree builds it and escapes every text.
"""

from __future__ import annotations

import dataclasses
import math
import xml.etree.ElementTree as ET
from collections import Counter

from geoapp.domain.text_safety import strip_control
from geoapp.render.palette import PROGRESS_COLOURS

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 760
LEFT, RIGHT = 52, 24
LINE_H = 16  # px per line of heading, note or legend
PUBLISHED_OFFSET = 0.22  # published dots sit right of the year's centre (share of a slot)
STACK_OFFSET = 12  # px between two published dots of the same year

ET.register_namespace("", SVG_NS)


@dataclasses.dataclass(frozen=True)
class Point:
    """One value of a series at a year; ``note`` is shown on hover (a source, a date)."""

    year: int
    value: int
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Series:
    """A series of a panel: ``style`` "line" (points joined, circles) or "dots" (diamonds
    only, for figures that are not one series over time, such as published totals)."""

    key: str
    label: str
    points: tuple[Point, ...]
    style: str = "line"


@dataclasses.dataclass(frozen=True)
class Panel:
    """A panel: its heading, a note under it, its series and an optional target line at
    ``target`` (in the panel's unit) labelled ``target_label``; ``height`` of the plot, px."""

    key: str
    heading: str
    series: tuple[Series, ...]
    target: int | None = None
    target_label: str = ""
    note: str = ""
    height: int = 150


@dataclasses.dataclass(frozen=True)
class ProgressChart:
    """What the chart shows: a title, a text summary (``desc``) and the panels, top down."""

    title: str
    desc: str
    panels: tuple[Panel, ...]


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


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: object) -> ET.Element:
    """A child element; attribute names use ``_`` for ``-``; ElementTree escapes all text, and
    characters XML cannot hold (which ElementTree would write as they are) are removed."""
    names = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items() if v is not None}
    element = ET.SubElement(
        parent,
        f"{{{SVG_NS}}}{tag}",
        {k: _fmt(v) if isinstance(v, float) else strip_control(str(v)) for k, v in names.items()},
    )
    if text is not None:
        element.text = strip_control(text)
    return element


@dataclasses.dataclass(frozen=True)
class _Frame:
    """Where a panel's plot sits: x of each year, y of each value (px)."""

    first: int
    last: int
    top: float
    height: float
    y_max: int

    @property
    def band(self) -> float:
        return (WIDTH - LEFT - RIGHT) / (self.last - self.first + 1)

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def x(self, year: int) -> float:
        return LEFT + (year - self.first + 0.5) * self.band

    def y(self, value: float) -> float:
        return self.top + self.height * (1 - value / self.y_max)


def year_range(chart: ProgressChart) -> tuple[int, int]:
    """First and last year of any point of the chart (2018..2025 when there is none)."""
    years = [p.year for panel in chart.panels for s in panel.series for p in s.points]
    return (min(years), max(years)) if years else (2018, 2025)


def _scale(panel: Panel) -> tuple[int, int]:
    """Tick step and top of the y axis: a round number at or above every value and target."""
    values = [p.value for s in panel.series for p in s.points]
    top = max([*values, panel.target or 0, 1])
    step = nice_step(top, ticks=max(2, panel.height // 30))
    return step, step * math.ceil(top / step)


def _legend(group: ET.Element, panel: Panel, y: float) -> float:
    """The panel's legend (one item per series) from ``y``; returns the y below it."""
    x = float(LEFT)
    for series in panel.series:
        width = 34 + 6.4 * len(series.label)
        if x > LEFT and x + width > WIDTH - RIGHT:
            x, y = float(LEFT), y + LINE_H
        colour = PROGRESS_COLOURS.get(series.key, "#000")
        item = _el(group, "g", class_="legend-item", data_legend=series.key)
        if series.style == "line":
            _el(item, "line", x1=x, x2=x + 18, y1=y - 4, y2=y - 4, stroke=colour, stroke_width=2.5)
            _el(item, "circle", cx=x + 9, cy=y - 4, r=3, fill=colour)
        else:
            _diamond(item, x + 9, y - 4, colour)
        _el(item, "text", series.label, x=x + 24, y=y)
        x += width
    return y + LINE_H


def _diamond(parent: ET.Element, x: float, y: float, colour: str) -> ET.Element:
    d = 5.5
    points = f"{_fmt(x)},{_fmt(y - d)} {_fmt(x + d)},{_fmt(y)} {_fmt(x)},{_fmt(y + d)} "
    points += f"{_fmt(x - d)},{_fmt(y)}"
    return _el(parent, "polygon", points=points, fill=colour)


def _axes(group: ET.Element, frame: _Frame, step: int) -> None:
    """Horizontal grid lines with their values, the base line and the year labels."""
    for tick in range(0, frame.y_max + 1, step):
        y = frame.y(tick)
        _el(group, "line", x1=LEFT, x2=WIDTH - RIGHT, y1=y, y2=y, stroke=PROGRESS_COLOURS["grid"])
        _el(group, "text", str(tick), x=LEFT - 6, y=y + 4, text_anchor="end", class_="tick").set(
            "data-value", str(tick)
        )
    axis = PROGRESS_COLOURS["axis"]
    _el(group, "line", x1=LEFT, x2=WIDTH - RIGHT, y1=frame.bottom, y2=frame.bottom, stroke=axis)
    for year in range(frame.first, frame.last + 1):
        _el(
            group,
            "text",
            str(year),
            x=frame.x(year),
            y=frame.bottom + 15,
            text_anchor="middle",
            class_="year",
        )


def _target(group: ET.Element, panel: Panel, frame: _Frame) -> None:
    if panel.target is None:
        return
    y = frame.y(panel.target)
    colour = PROGRESS_COLOURS["target"]
    _el(
        group,
        "line",
        class_="target-line",
        x1=LEFT,
        x2=WIDTH - RIGHT,
        y1=y,
        y2=y,
        stroke=colour,
        stroke_width=1.5,
        stroke_dasharray="6 4",
    ).set("data-value", str(panel.target))
    _el(
        group,
        "text",
        panel.target_label,
        class_="target-label",
        x=LEFT + 6,
        y=y - 5,
        fill=colour,
        stroke="#fff",
        stroke_width=3,
        paint_order="stroke",
    )


def _series(group: ET.Element, series: Series, frame: _Frame) -> None:
    """A series' line (if any), a marker per point with a hover title, and its value label."""
    colour = PROGRESS_COLOURS.get(series.key, "#000")
    body = _el(group, "g", class_=f"series series-{series.key}", data_series=series.key)
    if series.style == "line" and series.points:
        coords = " ".join(
            f"{_fmt(frame.x(p.year))},{_fmt(frame.y(p.value))}" for p in series.points
        )
        _el(body, "polyline", points=coords, fill="none", stroke=colour, stroke_width=2.5)
    seen: Counter[int] = Counter()
    for point in series.points:
        x, y = frame.x(point.year), frame.y(point.value)
        if series.style == "line":
            marker = _el(body, "circle", cx=x, cy=y, r=3.5, fill=colour)
            label_at = {"x": x, "y": y - 8, "text_anchor": "middle"}
        else:
            x += PUBLISHED_OFFSET * frame.band + STACK_OFFSET * seen[point.year]
            seen[point.year] += 1
            marker = _diamond(body, x, y, colour)
            label_at = {"x": x + 8, "y": y + 4, "text_anchor": "start"}
        marker.set("class", "point")
        marker.set("data-year", str(point.year))
        hover = f"{series.label} {point.year}: {point.value}"
        _el(marker, "title", f"{hover} ({point.note})" if point.note else hover)
        label = _el(
            body,
            "text",
            str(point.value),
            class_="point-label",
            fill=colour,
            font_weight="bold",
            stroke="#fff",
            stroke_width=3,
            paint_order="stroke",
            **label_at,
        )
        label.set("data-series", series.key)
        label.set("data-year", str(point.year))


def _panel(root: ET.Element, panel: Panel, years: tuple[int, int], top: float) -> float:
    """One panel from ``top``; returns the y below it."""
    group = _el(root, "g", class_="panel", data_panel=panel.key)
    y = top + LINE_H
    _el(group, "text", panel.heading, x=LEFT - 40, y=y, font_size=13, font_weight="bold")
    if panel.note:
        y += LINE_H
        _el(group, "text", panel.note, x=LEFT - 40, y=y, fill=PROGRESS_COLOURS["note"])
    y = _legend(group, panel, y + LINE_H + 2)
    step, y_max = _scale(panel)
    frame = _Frame(years[0], years[1], y + 8, float(panel.height), y_max)
    _axes(group, frame, step)
    _target(group, panel, frame)
    for series in panel.series:
        _series(group, series, frame)
    return frame.bottom + 24


def render_progress_svg(chart: ProgressChart) -> str:
    """The chart as a standalone SVG document (UTF-8 text)."""
    root = ET.Element(
        f"{{{SVG_NS}}}svg",
        {
            "role": "img",
            "aria-labelledby": "progress-title progress-desc",
            "class": "progress-chart",
            "font-family": "DejaVu Sans, sans-serif",
            "font-size": "12",
        },
    )
    _el(root, "title", chart.title, id="progress-title")
    _el(root, "desc", chart.desc, id="progress-desc")
    _el(root, "text", chart.title, x=LEFT - 40, y=20, font_size=15, font_weight="bold")
    years = year_range(chart)
    y = 30.0
    for panel in chart.panels:
        y = _panel(root, panel, years, y)
    height = math.ceil(y)
    root.set("viewBox", f"0 0 {WIDTH} {height}")
    root.set("width", str(WIDTH))
    root.set("height", str(height))
    return ET.tostring(root, encoding="unicode")
