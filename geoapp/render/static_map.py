"""Static coverage maps drawn on the server with matplotlib (Agg) and geopandas.

The map uses the web map's classes and colours (``geoapp.render.palette``), drawn in
EPSG:32649 (UTM 49N, metres) so that the scale bar in kilometres is true. Text uses the DejaVu
Sans font that matplotlib bundles (it covers Vietnamese), so no system font is needed.

Every PNG carries a ``Georeference`` text chunk (JSON): the map's extent in EPSG:32649 and the
pixel box of the map inside the image, so a pixel can be tied back to a place.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import textwrap
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")  # a server: never a GUI backend (figures are made without pyplot)

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.patheffects import withStroke
from pyproj import Transformer

from geoapp.render.literal_text import literal_metadata, literal_texts
from geoapp.render.palette import STATUS_COLOURS

MAP_CRS = "EPSG:32649"  # UTM zone 49N, metres
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

OUTSIDE_FILL = "#efefef"
OUTSIDE_EDGE = "#c4c4c4"
COMMUNE_EDGE = "#4d4d4d"
DISTRICT_EDGE = "#1a1a1a"
MAP_BACKGROUND = "#f7f9fb"
SCALE_STEPS_KM = (0.5, 1, 2, 5, 10, 20, 25, 50, 100, 200)
# The layout is designed for images of at least this size (inches); smaller ones shrink text.
DESIGN_INCHES = (6.0, 4.5)
EXTENT_PADDING = 0.06  # share of the map's width/height left around the area


def font(size: float, bold: bool = False) -> FontProperties:
    """Matplotlib's bundled DejaVu Sans (regular or bold) at ``size`` points."""
    return FontProperties(fname=str(FONT_BOLD if bold else FONT_REGULAR), size=size)


# Communes of districts with few of their published products named (as on the web map).
HATCH = "////"
HATCH_COLOUR = "#4d4d4d"


@dataclasses.dataclass(frozen=True)
class LegendEntry:
    """One coverage class in the legend: its status key, text and number of communes."""

    status: str
    label: str
    count: int

    @property
    def colour(self) -> str:
        return STATUS_COLOURS[self.status]


@dataclasses.dataclass(frozen=True, eq=False)
class StaticMapSpec:
    """What one static map shows.

    ``communes``: every commune to draw (EPSG:4326) with ``status`` and ``in_area`` columns;
    ``districts``: district shapes (EPSG:4326) with ``district_name``; ``extent``: the area to
    show as (west, south, east, north) in degrees; ``footer``: lines under the map (as-of
    date, sources); ``notice``: a message across the map (e.g. no matching products);
    ``highlight``: a commune code to outline.
    """

    communes: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    extent: tuple[float, float, float, float]
    title: str
    subtitle: str
    legend_title: str
    legend: tuple[LegendEntry, ...]
    footer: tuple[str, ...] = ()
    notice: str | None = None
    district_label: str = "District boundary"
    outside_label: str | None = None
    highlight: str | None = None
    hatch_label: str | None = None  # legend text of the hatched (low completeness) communes


@dataclasses.dataclass(frozen=True)
class Georeference:
    """Where the map sits in the image: extent in ``crs`` units and the map's pixel box.

    ``box_px`` is (left, top, right, bottom) in image pixels, origin at the top-left corner.
    """

    crs: str
    extent: tuple[float, float, float, float]
    box_px: tuple[float, float, float, float]

    def to_pixel(self, lon: float, lat: float) -> tuple[float, float]:
        """Image pixel (column, row) of a point given in EPSG:4326 degrees."""
        x, y = _transformer(self.crs).transform(lon, lat)
        xmin, ymin, xmax, ymax = self.extent
        left, top, right, bottom = self.box_px
        col = left + (x - xmin) / (xmax - xmin) * (right - left)
        row = top + (ymax - y) / (ymax - ymin) * (bottom - top)
        return col, row

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Georeference:
        raw = json.loads(text)
        return cls(raw["crs"], tuple(raw["extent"]), tuple(raw["box_px"]))


@dataclasses.dataclass(frozen=True)
class StaticMap:
    """A rendered PNG and its georeference."""

    png: bytes
    georeference: Georeference
    width: int
    height: int


def _transformer(crs: str) -> Transformer:
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def projected_extent(extent: Sequence[float]) -> tuple[float, float, float, float]:
    """(west, south, east, north) degrees -> (xmin, ymin, xmax, ymax) metres in EPSG:32649."""
    west, south, east, north = extent
    xs, ys = _transformer(MAP_CRS).transform(
        [west, east, west, east, (west + east) / 2, (west + east) / 2],
        [south, south, north, north, south, north],
    )
    return min(xs), min(ys), max(xs), max(ys)


def fit_extent(
    extent_m: Sequence[float], box_w_px: float, box_h_px: float, padding: float = EXTENT_PADDING
) -> tuple[float, float, float, float]:
    """``extent_m`` (metres) padded and widened to the box's aspect: equal metres per pixel."""
    xmin, ymin, xmax, ymax = extent_m
    width = max(xmax - xmin, 200.0)
    height = max(ymax - ymin, 200.0)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    width *= 1 + 2 * padding
    height *= 1 + 2 * padding
    box_aspect = box_w_px / box_h_px
    if width / height < box_aspect:
        width = height * box_aspect
    else:
        height = width / box_aspect
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def wrap(text: str, width_px: float, size_px: float, max_lines: int) -> list[str]:
    """``text`` wrapped to lines that fit ``width_px`` at a font of ``size_px`` (estimate)."""
    chars = max(int(width_px / (0.56 * size_px)), 8)
    lines = textwrap.wrap(text, chars) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(chars - 1, 1)].rstrip() + "…"
    return lines


def nice_scale_km(width_m: float, share: float = 0.22) -> float:
    """The longest round length (km) not over ``share`` of the map's width."""
    limit = width_m / 1000 * share
    best = SCALE_STEPS_KM[0]
    for step in SCALE_STEPS_KM:
        if step <= limit:
            best = step
    return best


@dataclasses.dataclass(frozen=True)
class _Frames:
    communes: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame


def _project(spec: StaticMapSpec) -> _Frames:
    return _Frames(spec.communes.to_crs(MAP_CRS), spec.districts.to_crs(MAP_CRS))


def draw_map(
    ax: Axes,
    spec: StaticMapSpec,
    limits: tuple[float, float, float, float],
    box_px: tuple[float, float],
    scale: float,
    frames: _Frames | None = None,
) -> None:
    """Draw the choropleth, district boundaries and names, scale bar and notice on ``ax``.

    ``limits`` are the axis limits in EPSG:32649 metres, ``box_px`` the axes' size in pixels
    and ``scale`` the pixels per point of text.
    """
    frames = frames or _project(spec)
    xmin, ymin, xmax, ymax = limits
    metres_per_px = (xmax - xmin) / box_px[0]
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("auto")
    ax.set_facecolor(MAP_BACKGROUND)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#888888")
        spine.set_linewidth(0.6)

    communes = frames.communes
    view = communes.cx[xmin:xmax, ymin:ymax]
    outside = view.loc[~view["in_area"].astype(bool)]
    inside = view.loc[view["in_area"].astype(bool)]
    if len(outside):
        outside.plot(ax=ax, color=OUTSIDE_FILL, edgecolor=OUTSIDE_EDGE, linewidth=0.3, zorder=1)
    if len(inside):
        colours = [STATUS_COLOURS.get(s, "#ffffff") for s in inside["status"]]
        no_data = inside["status"].eq("no_data").to_numpy()
        styles = ["--" if nd else "-" for nd in no_data]
        inside.plot(
            ax=ax,
            color=colours,
            edgecolor=COMMUNE_EDGE,
            linewidth=0.35,
            linestyle=styles,
            zorder=2,
        )
        _draw_hatches(ax, spec, inside)
    districts = frames.districts
    if len(districts):
        districts.boundary.plot(ax=ax, color=DISTRICT_EDGE, linewidth=1.1, zorder=3)
    if spec.highlight:
        focus = communes.loc[communes["commune_code"].eq(spec.highlight)]
        if len(focus):
            focus.boundary.plot(ax=ax, color=DISTRICT_EDGE, linewidth=2.2, zorder=4)
    halo = [withStroke(linewidth=2.6, foreground="white")]
    if len(districts):
        points = districts.geometry.representative_point()
        label_font = font(7.5 * scale, bold=True)
        for name, point in zip(districts["district_name"], points, strict=True):
            if xmin < point.x < xmax and ymin < point.y < ymax:
                ax.text(
                    point.x,
                    point.y,
                    str(name),
                    fontproperties=label_font,
                    color="#111111",
                    ha="center",
                    va="center",
                    path_effects=halo,
                    zorder=5,
                    clip_on=True,
                )
    ax.set_xlabel("")  # geopandas labels projected axes; the scale bar says it all
    ax.set_ylabel("")
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    _scale_bar(ax, limits, metres_per_px, scale)
    _north_arrow(ax, scale)
    if spec.notice:
        ax.text(
            0.5,
            0.96,
            spec.notice,
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontproperties=font(10 * scale, bold=True),
            color="#7a1d00",
            zorder=7,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "#b2182b"},
        )


def _scale_bar(
    ax: Axes, limits: tuple[float, float, float, float], metres_per_px: float, scale: float
) -> None:
    xmin, ymin, xmax, ymax = limits
    length_km = nice_scale_km(xmax - xmin)
    length_m = length_km * 1000
    bar_h = 4 * scale * metres_per_px
    x0 = xmax - (xmax - xmin) * 0.04 - length_m
    y0 = ymin + (ymax - ymin) * 0.04
    half = length_m / 2
    for i, colour in enumerate(("#1a1a1a", "white")):
        ax.add_patch(
            Rectangle(
                (x0 + i * half, y0),
                half,
                bar_h,
                facecolor=colour,
                edgecolor="#1a1a1a",
                linewidth=0.6,
                zorder=6,
            )
        )
    text_font = font(7 * scale)
    halo = [withStroke(linewidth=2.2, foreground="white")]
    label = f"{length_km:g} km"
    for x, text in ((x0, "0"), (x0 + length_m, label)):
        ax.text(
            x,
            y0 + bar_h * 1.6,
            text,
            fontproperties=text_font,
            ha="center",
            va="bottom",
            path_effects=halo,
            zorder=6,
        )


def _north_arrow(ax: Axes, scale: float) -> None:
    ax.annotate(
        "N",
        xy=(0.965, 0.93),
        xytext=(0.965, 0.84),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontproperties=font(8 * scale, bold=True),
        zorder=6,
        arrowprops={"arrowstyle": "-|>", "color": "#1a1a1a", "linewidth": 1.0},
        path_effects=[withStroke(linewidth=2.2, foreground="white")],
    )


def _draw_hatches(ax: Axes, spec: StaticMapSpec, inside: gpd.GeoDataFrame) -> None:
    """Hatch the communes of districts with few of their published products named."""
    if not spec.hatch_label or "completeness_low" not in inside.columns:
        return
    low = inside.loc[inside["completeness_low"].fillna(False).astype(bool).to_numpy()]
    if len(low):
        low.plot(
            ax=ax, facecolor="none", edgecolor=HATCH_COLOUR, hatch=HATCH, linewidth=0, zorder=2.5
        )


def legend_handles(spec: StaticMapSpec) -> tuple[list, list[str]]:
    """Legend symbols and texts: the classes with counts, district boundary, outside area."""
    handles: list = []
    texts: list[str] = []
    for entry in spec.legend:
        handles.append(
            Patch(
                facecolor=entry.colour,
                edgecolor=COMMUNE_EDGE,
                linewidth=0.5,
                linestyle="--" if entry.status == "no_data" else "-",
            )
        )
        texts.append(f"{entry.label}: {entry.count}")
    handles.append(Line2D([], [], color=DISTRICT_EDGE, linewidth=1.4))
    texts.append(spec.district_label)
    if spec.outside_label:
        handles.append(Patch(facecolor=OUTSIDE_FILL, edgecolor=OUTSIDE_EDGE, linewidth=0.5))
        texts.append(spec.outside_label)
    if spec.hatch_label:
        handles.append(Patch(facecolor="white", edgecolor=HATCH_COLOUR, hatch=HATCH, linewidth=0.5))
        texts.append(spec.hatch_label)
    return handles, texts


@dataclasses.dataclass(frozen=True)
class _Layout:
    scale: float
    title: list[str]
    subtitle: list[str]
    footer: list[str]
    title_top: float
    subtitle_top: float
    footer_top: float
    map_box: tuple[float, float, float, float]  # left, top, width, height in pixels
    legend_anchor: tuple[float, float]  # pixels from the left and top
    legend_columns: int


def _layout(spec: StaticMapSpec, width: int, height: int, dpi: int) -> _Layout:
    scale = min(1.0, width / (DESIGN_INCHES[0] * dpi), height / (DESIGN_INCHES[1] * dpi))
    pt = dpi / 72 * scale  # pixels per point of text
    margin = 8 * pt
    text_width = width - 2 * margin
    title = wrap(spec.title, text_width, 13 * pt, 2)
    subtitle = wrap(spec.subtitle, text_width, 8.5 * pt, 3)
    footer: list[str] = []
    for line in spec.footer:
        footer += wrap(line, text_width, 6.5 * pt, 3)
    header_h = margin + len(title) * 13 * 1.25 * pt + len(subtitle) * 8.5 * 1.3 * pt + margin / 2
    footer_h = len(footer) * 6.5 * 1.35 * pt + margin
    body_top, body_bottom = header_h, height - footer_h
    body_h = max(body_bottom - body_top, 10.0)
    n_legend = (
        len(spec.legend) + 1 + (1 if spec.outside_label else 0) + (1 if spec.hatch_label else 0)
    )
    if width >= height * 1.05:
        legend_w = min(0.36 * width, 175 * pt)
        map_box = (margin, body_top, max(width - 2 * margin - legend_w, 10.0), body_h)
        anchor = (margin + map_box[2] + 6 * pt, body_top)
        columns = 1
    else:
        rows = math.ceil(n_legend / 2) + 1
        legend_h = rows * 8 * 1.45 * pt + 6 * pt
        map_h = max(body_h - legend_h, 10.0)
        map_box = (margin, body_top, width - 2 * margin, map_h)
        anchor = (margin, body_top + map_h + 3 * pt)
        columns = 2
    return _Layout(
        scale=scale,
        title=title,
        subtitle=subtitle,
        footer=footer,
        title_top=margin,
        subtitle_top=margin + len(title) * 13 * 1.25 * pt,
        footer_top=height - footer_h + margin / 2,
        map_box=map_box,
        legend_anchor=anchor,
        legend_columns=columns,
    )


def render_png(spec: StaticMapSpec, width: int, height: int, dpi: int) -> StaticMap:
    """Render ``spec`` as a ``width`` x ``height`` pixel PNG at ``dpi``."""
    layout = _layout(spec, width, height, dpi)
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    pt = dpi / 72 * layout.scale
    left, top, box_w, box_h = layout.map_box
    ax = fig.add_axes((left / width, 1 - (top + box_h) / height, box_w / width, box_h / height))
    limits = fit_extent(projected_extent(spec.extent), box_w, box_h)
    draw_map(ax, spec, limits, (box_w, box_h), layout.scale)

    def fig_text(x_px: float, y_px: float, text: str, props: FontProperties, **kw) -> None:
        fig.text(x_px / width, 1 - y_px / height, text, fontproperties=props, va="top", **kw)

    margin = 8 * pt
    for i, line in enumerate(layout.title):
        fig_text(margin, layout.title_top + i * 13 * 1.25 * pt, line, font(13 * layout.scale, True))
    for i, line in enumerate(layout.subtitle):
        fig_text(
            margin,
            layout.subtitle_top + i * 8.5 * 1.3 * pt,
            line,
            font(8.5 * layout.scale),
            color="#333333",
        )
    for i, line in enumerate(layout.footer):
        fig_text(
            margin,
            layout.footer_top + i * 6.5 * 1.35 * pt,
            line,
            font(6.5 * layout.scale),
            color="#444444",
        )
    handles, texts = legend_handles(spec)
    fig.legend(
        handles,
        texts,
        loc="upper left",
        bbox_to_anchor=(layout.legend_anchor[0] / width, 1 - layout.legend_anchor[1] / height),
        bbox_transform=fig.transFigure,
        frameon=False,
        prop=font(8 * layout.scale),
        title=spec.legend_title,
        title_fontproperties=font(8.5 * layout.scale, True),
        alignment="left",
        ncols=layout.legend_columns,
        borderaxespad=0,
        handlelength=1.6,
    )
    georeference = Georeference(MAP_CRS, limits, (left, top, left + box_w, top + box_h))
    buffer = io.BytesIO()
    description = " · ".join([spec.title, spec.subtitle] + ([spec.notice] if spec.notice else []))
    literal_texts(fig).savefig(
        buffer,
        format="png",
        dpi=dpi,
        metadata=literal_metadata(
            {
                "Title": spec.title,
                "Description": description,
                "Georeference": georeference.to_json(),
                "Software": "geoapp (matplotlib)",
            }
        ),
    )
    return StaticMap(buffer.getvalue(), georeference, width, height)
