"""The progress chart SVG: well-formed and accessible, one y axis per panel, every point's
label equal to its value and drawn at it, data text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from geoapp.render.progress_chart import (
    Panel,
    Point,
    ProgressChart,
    Series,
    nice_step,
    render_progress_svg,
)

NS = "{http://www.w3.org/2000/svg}"
YEARS = (2018, 2019, 2020, 2021)


@pytest.mark.parametrize(("maximum", "step"), [(4, 1), (30, 10), (482, 100), (0, 1), (55, 20)])
def test_nice_step(maximum, step):
    assert nice_step(maximum) == step


def line(key: str, values: tuple[int, ...], label: str = "a series") -> Series:
    return Series(key, label, tuple(Point(y, v) for y, v in zip(YEARS, values, strict=True)))


def chart(**changes) -> ProgressChart:
    communes = Panel(
        key="communes",
        heading="Communes <i>",
        series=(line("communes_met", (0, 1, 3, 2)),),
        target=4,
        target_label="every commune",
        height=170,
    )
    five_star = Panel(
        key="five_star",
        heading="Five-star",
        series=(line("five_star_counted", (0, 0, 1, 1)),),
        target=5,
        target_label="5 five-star",
        height=70,
    )
    published = (
        Point(2020, 482, 'S32 "<script>alert(1)</script>" $x$'),
        Point(2020, 407, "S33"),
        Point(2021, 210, "seed & co"),
    )
    products = Panel(
        key="products",
        heading="Products",
        note="note <u>",
        series=(
            line("products_counted", (5, 9, 12, 11)),
            Series("published", "Published total", published, "dots"),
        ),
    )
    values = {
        "title": "Tiên Phước <b>",
        "desc": "In words & more",
        "panels": (communes, five_star, products),
    }
    values.update(changes)
    return ProgressChart(**values)


def parse(progress_chart: ProgressChart) -> ET.Element:
    return ET.fromstring(render_progress_svg(progress_chart))


def panel(root: ET.Element, key: str) -> ET.Element:
    found = root.find(f"{NS}g[@data-panel='{key}']")
    assert found is not None, key
    return found


def value_at(group: ET.Element, y: float) -> float:
    """The value a y position stands for, on the panel's own axis (read from its ticks)."""
    ticks = sorted(
        (int(t.get("data-value")), float(t.get("y")) - 4)
        for t in group.iter(f"{NS}text")
        if t.get("class") == "tick"
    )
    (v0, y0), (v1, y1) = ticks[0], ticks[-1]
    return v0 + (y - y0) * (v1 - v0) / (y1 - y0)


def marker_y(marker: ET.Element) -> float:
    if marker.tag == f"{NS}circle":
        return float(marker.get("cy"))
    ys = [float(p.split(",")[1]) for p in marker.get("points").split()]
    return (min(ys) + max(ys)) / 2


def test_document_is_accessible_and_escapes_every_text():
    svg = render_progress_svg(chart())
    for raw in ("<b>", "<i>", "<u>", "<script>", "& more", "& co"):
        assert raw not in svg
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    ids = root.get("aria-labelledby").split()
    assert [root.find(f".//*[@id='{i}']").tag for i in ids] == [f"{NS}title", f"{NS}desc"]
    assert root.find(f"{NS}title").text == "Tiên Phước <b>"
    assert root.find(f"{NS}desc").text == "In words & more"
    titles = [t.text for t in root.iter(f"{NS}title")]
    assert 'Published total 2020: 482 (S32 "<script>alert(1)</script>" $x$)' in titles
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert {"Communes <i>", "note <u>", "every commune"} <= set(texts)
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    assert width == 760 and height > 170 + 70 + 150


def test_every_label_equals_its_value_and_sits_at_it():
    root = parse(chart())
    expected = {
        ("communes", "communes_met"): [(2018, 0), (2019, 1), (2020, 3), (2021, 2)],
        ("five_star", "five_star_counted"): [(2018, 0), (2019, 0), (2020, 1), (2021, 1)],
        ("products", "products_counted"): [(2018, 5), (2019, 9), (2020, 12), (2021, 11)],
        ("products", "published"): [(2020, 482), (2020, 407), (2021, 210)],
    }
    for (panel_key, series_key), points in expected.items():
        group = panel(root, panel_key)
        series = group.find(f"{NS}g[@data-series='{series_key}']")
        labels = [t for t in series.iter(f"{NS}text") if t.get("class") == "point-label"]
        markers = [m for m in series if m.get("class") == "point"]
        assert [(int(t.get("data-year")), int(t.text)) for t in labels] == points
        assert [int(m.get("data-year")) for m in markers] == [year for year, _ in points]
        for marker, (_, value) in zip(markers, points, strict=True):
            assert value_at(group, marker_y(marker)) == pytest.approx(value, abs=0.05)


def test_each_panel_has_its_own_axis_and_the_target_sits_at_its_value():
    root = parse(chart())
    communes = panel(root, "communes")
    ticks = [
        int(t.get("data-value")) for t in communes.iter(f"{NS}text") if t.get("class") == "tick"
    ]
    assert max(ticks) == 4  # communes, not products: the published 482 is not on this axis
    products = panel(root, "products")
    top = max(
        int(t.get("data-value")) for t in products.iter(f"{NS}text") if t.get("class") == "tick"
    )
    assert top >= 482
    for key, target in (("communes", 4), ("five_star", 5)):
        group = panel(root, key)
        line_ = group.find(f"{NS}line[@class='target-line']")
        assert int(line_.get("data-value")) == target
        assert value_at(group, float(line_.get("y1"))) == pytest.approx(target, abs=0.05)
    assert products.find(f"{NS}line[@class='target-line']") is None


def test_published_figures_are_dots_apart_and_years_align_across_panels():
    root = parse(chart())
    published = panel(root, "products").find(f"{NS}g[@data-series='published']")
    assert published.find(f"{NS}polyline") is None  # not one series over time: no line
    same_year = [m for m in published if m.get("class") == "point" and m.get("data-year") == "2020"]
    firsts = [m.get("points").split()[0] for m in same_year]
    assert len(set(firsts)) == 2  # two figures of 2020 are not drawn on top of each other
    columns = []
    for key in ("communes", "five_star", "products"):
        years = [t for t in panel(root, key).iter(f"{NS}text") if t.get("class") == "year"]
        columns.append([(t.text, t.get("x")) for t in years])
    assert columns[0] == columns[1] == columns[2]
    assert [text for text, _ in columns[0]] == ["2018", "2019", "2020", "2021"]


def test_a_panel_without_points_still_renders():
    empty = Panel(key="communes", heading="Communes", series=(Series("communes_met", "x", ()),))
    root = parse(chart(panels=(empty,)))
    assert panel(root, "communes").find(f"{NS}polyline") is None
    years = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "year"]
    assert years == [str(y) for y in range(2018, 2026)]
