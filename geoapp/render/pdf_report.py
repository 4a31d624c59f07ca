"""The A4 coverage report as a multi-page PDF (matplotlib's PdfPages, no browser).

Page 1 holds the title, the date, the map (``geoapp.render.static_map``) and the figures
against the targets; the following pages flow the tables (districts, gap list) and the sources
and data completeness. Text is set in matplotlib's bundled DejaVu Sans, embedded as TrueType
(Type 42) so Vietnamese names keep their diacritics when the text is copied or extracted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import threading
from collections.abc import Sequence
from typing import Literal

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from geoapp.render.literal_text import literal_metadata, literal_texts
from geoapp.render.static_map import (
    StaticMapSpec,
    draw_map,
    fit_extent,
    font,
    legend_handles,
    projected_extent,
    wrap,
)

A4_INCHES = (8.27, 11.69)
PAGE_PT = (A4_INCHES[0] * 72, A4_INCHES[1] * 72)
MARGIN_PT = 42.0
BODY_PT = 8.5
ROW_PT = 13.0
HEADING_PT = 11.5
# Lines of table rows that fit on one flow page (pages 2 and later).
ROWS_PER_PAGE = int((PAGE_PT[1] - 2 * MARGIN_PT - 24) // ROW_PT)

PDF_FONTTYPE = 42
_RC_LOCK = threading.Lock()  # rc_context changes global settings: one PDF at a time


@dataclasses.dataclass(frozen=True)
class Column:
    """A table column: its heading, share of the text width and alignment."""

    title: str
    width: float
    align: Literal["left", "right"] = "left"


@dataclasses.dataclass(frozen=True)
class Table:
    """A titled table; ``empty`` is said instead when there are no rows."""

    heading: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str = ""


@dataclasses.dataclass(frozen=True, eq=False)
class ReportSpec:
    """Everything the report prints, as final texts (already translated and formatted)."""

    title: str
    subtitle: str
    date_line: str
    map: StaticMapSpec
    figures_heading: str
    figures: tuple[tuple[str, str], ...]
    tables: tuple[Table, ...]
    sections: tuple[tuple[str, tuple[str, ...]], ...]  # heading, paragraphs
    page_label: str = "Page {page} of {pages}"
    document_title: str = ""


@dataclasses.dataclass(frozen=True)
class _Line:
    kind: Literal["heading", "header", "row", "text", "gap"]
    cells: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()

    @property
    def height(self) -> float:
        return {"heading": 22.0, "header": ROW_PT + 3, "row": ROW_PT, "text": 11.5, "gap": 8.0}[
            self.kind
        ]


def _flow(spec: ReportSpec) -> list[_Line]:
    text_width = PAGE_PT[0] - 2 * MARGIN_PT
    lines: list[_Line] = []
    for table in spec.tables:
        lines.append(_Line("heading", (table.heading,)))
        if table.rows:
            lines.append(_Line("header", tuple(c.title for c in table.columns), table.columns))
            lines += [_Line("row", row, table.columns) for row in table.rows]
        else:
            lines += [_Line("text", (t,)) for t in wrap(table.empty, text_width, BODY_PT, 4)]
        lines.append(_Line("gap"))
    for heading, paragraphs in spec.sections:
        lines.append(_Line("heading", (heading,)))
        for paragraph in paragraphs:
            lines += [_Line("text", (t,)) for t in wrap(paragraph, text_width, BODY_PT, 12)]
            lines.append(_Line("gap"))
    return lines


def paginate(lines: Sequence[_Line]) -> list[list[_Line]]:
    """Split flow lines into pages; a table continued on a new page repeats its header."""
    usable = PAGE_PT[1] - 2 * MARGIN_PT - 24
    pages: list[list[_Line]] = [[]]
    used = 0.0
    header: _Line | None = None
    for index, line in enumerate(lines):
        if line.kind == "header":
            header = line
        elif line.kind != "row":
            header = None
        need = line.height
        if line.kind == "heading":
            # keep a heading with its next two lines
            need += sum(n.height for n in lines[index + 1 : index + 3])
        if used + need > usable and pages[-1]:
            pages.append([])
            used = 0.0
            if line.kind == "row" and header is not None:
                pages[-1].append(header)
                used += header.height
        if line.kind == "gap" and not pages[-1]:
            continue
        pages[-1].append(line)
        used += line.height
    return [page for page in pages if page]


def _page(fig_number: int, pages: int, spec: ReportSpec) -> Figure:
    fig = Figure(figsize=A4_INCHES, dpi=72, facecolor="white")
    fig.text(
        0.5,
        MARGIN_PT / 2 / PAGE_PT[1],
        spec.page_label.format(page=fig_number, pages=pages),
        ha="center",
        va="center",
        fontproperties=font(7.5),
        color="#555555",
    )
    return fig


def _y(top_pt: float) -> float:
    """Figure fraction of a distance from the page's top edge (points)."""
    return 1 - top_pt / PAGE_PT[1]


def _first_page(spec: ReportSpec, pages: int) -> Figure:
    fig = _page(1, pages, spec)
    left = MARGIN_PT / PAGE_PT[0]
    width_pt = PAGE_PT[0] - 2 * MARGIN_PT
    top = MARGIN_PT
    for line in wrap(spec.title, width_pt, 16, 2):
        fig.text(left, _y(top), line, va="top", fontproperties=font(16, True))
        top += 20
    for line in wrap(spec.subtitle, width_pt, 9, 3):
        fig.text(left, _y(top), line, va="top", fontproperties=font(9), color="#333333")
        top += 12
    fig.text(left, _y(top), spec.date_line, va="top", fontproperties=font(8.5), color="#555555")
    top += 18
    # The map: a box across the page, its legend to the right.
    legend_w = 150.0
    map_w = width_pt - legend_w - 8
    map_h = 390.0
    ax = fig.add_axes((left, _y(top + map_h), map_w / PAGE_PT[0], map_h / PAGE_PT[1]))
    limits = fit_extent(projected_extent(spec.map.extent), map_w, map_h)
    draw_map(ax, spec.map, limits, (map_w, map_h), 0.85)
    handles, texts = legend_handles(spec.map)
    fig.legend(
        handles,
        texts,
        loc="upper left",
        bbox_to_anchor=((MARGIN_PT + map_w + 8) / PAGE_PT[0], _y(top)),
        bbox_transform=fig.transFigure,
        frameon=False,
        prop=font(7.5),
        title=spec.map.legend_title,
        title_fontproperties=font(8, True),
        alignment="left",
        borderaxespad=0,
        handlelength=1.5,
    )
    top += map_h + 10
    for line in spec.map.footer[:1]:
        fig.text(left, _y(top), line, va="top", fontproperties=font(7), color="#444444")
        top += 12
    top += 10
    fig.text(left, _y(top), spec.figures_heading, va="top", fontproperties=font(HEADING_PT, True))
    top += 20
    for label, value in spec.figures:
        label_lines = wrap(label, width_pt * 0.62, BODY_PT, 2)
        value_lines = wrap(value, width_pt * 0.36, BODY_PT, 3)
        for i, text in enumerate(label_lines):
            fig.text(left, _y(top + i * 11), text, va="top", fontproperties=font(BODY_PT))
        for i, text in enumerate(value_lines):
            fig.text(
                left + width_pt * 0.64 / PAGE_PT[0],
                _y(top + i * 11),
                text,
                va="top",
                fontproperties=font(BODY_PT, True),
            )
        top += max(len(label_lines), len(value_lines)) * 11 + 3
        fig.add_artist(Line2D([left, 1 - left], [_y(top - 1)] * 2, color="#dddddd", linewidth=0.5))
        top += 3
    return fig


def _cells_x(columns: Sequence[Column]) -> list[tuple[float, float]]:
    width_pt = PAGE_PT[0] - 2 * MARGIN_PT
    spans, x = [], MARGIN_PT
    for column in columns:
        spans.append((x, column.width * width_pt))
        x += column.width * width_pt
    return spans


def _fit(text: str, width_pt: float, size: float) -> str:
    chars = max(int(width_pt / (0.56 * size)), 3)
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def _flow_page(number: int, pages: int, spec: ReportSpec, lines: Sequence[_Line]) -> Figure:
    fig = _page(number, pages, spec)
    top = MARGIN_PT
    for line in lines:
        if line.kind == "heading":
            fig.text(
                MARGIN_PT / PAGE_PT[0],
                _y(top + 6),
                line.cells[0],
                va="top",
                fontproperties=font(HEADING_PT, True),
            )
        elif line.kind in ("header", "row"):
            bold = line.kind == "header"
            if bold:
                fig.add_artist(
                    Line2D(
                        [MARGIN_PT / PAGE_PT[0], 1 - MARGIN_PT / PAGE_PT[0]],
                        [_y(top + ROW_PT + 1)] * 2,
                        color="#555555",
                        linewidth=0.6,
                    )
                )
            for (x, w), text, column in zip(
                _cells_x(line.columns), line.cells, line.columns, strict=True
            ):
                right = column.align == "right"
                anchor = x + w - 4 if right else x + 3
                fig.text(
                    anchor / PAGE_PT[0],
                    _y(top + 2),
                    _fit(text, w - 6, BODY_PT),
                    va="top",
                    ha="right" if right else "left",
                    fontproperties=font(BODY_PT, bold),
                )
        elif line.kind == "text":
            fig.text(
                MARGIN_PT / PAGE_PT[0],
                _y(top),
                line.cells[0],
                va="top",
                fontproperties=font(BODY_PT),
            )
        top += line.height
    return fig


def render_pdf(spec: ReportSpec, created: dt.datetime | None = None) -> bytes:
    """The report as PDF bytes: page 1 with the map and figures, then the flow pages."""
    flow_pages = paginate(_flow(spec))
    pages = 1 + len(flow_pages)
    buffer = io.BytesIO()
    metadata = {
        "Title": spec.document_title or spec.title,
        "Creator": "geoapp (matplotlib)",
        "CreationDate": created,
    }
    with (
        _RC_LOCK,
        matplotlib.rc_context({"pdf.fonttype": PDF_FONTTYPE}),
        PdfPages(buffer, metadata=literal_metadata(metadata)) as pdf,
    ):
        pdf.savefig(literal_texts(_first_page(spec, pages)))
        for number, lines in enumerate(flow_pages, start=2):
            pdf.savefig(literal_texts(_flow_page(number, pages, spec, lines)))
    return buffer.getvalue()
