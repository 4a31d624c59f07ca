"""The progress chart SVG: well-formed, scaled to the data, data text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from geoapp.render.progress_chart import (
    ProgressChart,
    PublishedPoint,
    nice_step,
    render_progress_svg,
)

NS = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(("maximum", "step"), [(4, 1), (30, 10), (482, 100), (0, 1), (55, 20)])
def test_nice_step(maximum, step):
    assert nice_step(maximum) == step


def chart(**changes) -> ProgressChart:
    values = {
        "title": "Tiên Phước <b>",
        "years": (2019, 2020, 2021),
        "new": (2, 0, 1),
        "cumulative": (2, 2, 3),
        "valid": (2, 1, 1),
        "target": 30,
        "published": (PublishedPoint(2022, 32, "total", 'S15 "<script>"'),),
        "labels": (("target", "Target"),),
    }
    values.update(changes)
    return ProgressChart(**values)


def test_chart_is_well_formed_and_escapes_text():
    svg = render_progress_svg(chart())
    assert "<b>" not in svg and "<script>" not in svg
    root = ET.fromstring(svg)
    assert root.find(f"{NS}title").text == "Tiên Phước <b>"
    years = [t.text for t in root.iter(f"{NS}text") if t.text and t.text.isdigit()]
    assert {"2019", "2022"} <= set(years)  # the published year widens the axis
    assert len(root.findall(f"{NS}rect[@class='bar-new']")) == 3


def test_target_line_sits_at_its_value():
    root = ET.fromstring(render_progress_svg(chart(published=())))
    line = root.find(f"{NS}line[@class='target-line']")
    grid = {
        t.text: float(t.get("y")) - 4
        for t in root.iter(f"{NS}text")
        if t.get("text-anchor") == "end" and t.text and t.text.isdigit()
    }
    assert float(line.get("y1")) == pytest.approx(grid["30"], abs=0.2)
