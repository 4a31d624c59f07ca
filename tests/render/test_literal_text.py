"""Texts from data are drawn as written: no mathtext, no XML-illegal characters."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from geoapp.render.literal_text import literal_metadata, literal_texts
from geoapp.render.progress_chart import Panel, Point, ProgressChart, Series, render_progress_svg


def test_every_text_of_a_figure_is_drawn_literally():
    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title("Xã $\\frac{$ Một")  # malformed mathtext: matplotlib raises on it
    ax.plot([0, 1], label="Giá $5 và $x^2$\x00")
    fig.legend()
    fig.text(0.1, 0.1, "lone $")
    literal_texts(fig)
    texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_parse_math"))]
    assert texts and not any(t.get_parse_math() for t in texts)
    assert "Giá $5 và $x^2$" in [t.get_text() for t in texts]
    fig.savefig(io.BytesIO(), format="png")  # would raise ValueError with mathtext on


def test_metadata_loses_control_characters_only():
    assert literal_metadata({"Title": "A\x00B $x$", "CreationDate": None}) == {
        "Title": "AB $x$",
        "CreationDate": None,
    }


def test_progress_chart_svg_stays_valid_xml_with_control_characters():
    series = Series("met", "Communes\x00 met $x^2$", (Point(2023, 1, "n\x07ote"), Point(2024, 3)))
    panel = Panel("met", "Huyện\x0b Tây <b>", (series,), target=4, target_label="Target\x1b")
    chart = ProgressChart(title="Huyện\x0b Tây $x^2$ <b>", desc="d\x00", panels=(panel,))
    root = ET.fromstring(render_progress_svg(chart))  # would fail on a control character
    texts = [node.text or "" for node in root.iter()]
    assert "Huyện Tây $x^2$ <b>" in texts
