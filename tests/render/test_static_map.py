"""Static maps and PDF layout on hand-made inputs: sizes, class colours where they belong."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from PIL import Image

from geoapp.render.palette import STATUS_COLOURS
from geoapp.render.pdf_report import (
    ROWS_PER_PAGE,
    Column,
    ReportSpec,
    Table,
    _flow,
    paginate,
    render_pdf,
)
from geoapp.render.static_map import (
    OUTSIDE_FILL,
    Georeference,
    LegendEntry,
    StaticMapSpec,
    fit_extent,
    legend_handles,
    nice_scale_km,
    render_png,
)
from tests import tiny_data

STATUSES = {"10001": "met", "10002": "none", "10003": "below", "10004": "none"}


def rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def colour_at(image: Image.Image, georef: Georeference, lon: float, lat: float) -> tuple:
    """The most common colour in a 7x7 patch around a place (labels may cross a pixel)."""
    col, row = georef.to_pixel(lon, lat)
    pixels = [
        image.getpixel((int(col) + dx, int(row) + dy))[:3]
        for dx in range(-3, 4)
        for dy in range(-3, 4)
    ]
    return Counter(pixels).most_common(1)[0][0]


def close(a: tuple, b: tuple, tolerance: int = 2) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def tiny_spec(in_area: set[str] | None = None, **overrides) -> StaticMapSpec:
    communes = tiny_data.communes_2020()
    communes["status"] = communes["commune_code"].map(STATUSES)
    communes["in_area"] = [in_area is None or c in in_area for c in communes["commune_code"]]
    area = communes.loc[communes["in_area"]]
    values = {
        "communes": communes,
        "districts": tiny_data.districts_2020(),
        "extent": tuple(area.total_bounds),
        "title": "OCOP products per commune · Huyện Tây",
        "subtitle": "Edition 2020",
        "legend_title": "Communes",
        "legend": (LegendEntry("none", "No product", 2), LegendEntry("met", "Met", 1)),
        "footer": ("Data as of 2024-12-31", "Nguồn: Quảng Nam"),
    }
    values.update(overrides)
    return StaticMapSpec(**values)


def interior(code: str) -> tuple[float, float]:
    frame = tiny_data.communes_2020()
    point = frame.loc[frame["commune_code"] == code].geometry.iloc[0].representative_point()
    return point.x, point.y


@pytest.mark.parametrize(("width", "height", "dpi"), [(800, 600, 100), (333, 777, 72)])
def test_png_has_asked_size_and_class_colours(width, height, dpi):
    rendered = render_png(tiny_spec(), width, height, dpi)
    image = Image.open(io.BytesIO(rendered.png))
    assert image.format == "PNG"
    assert image.size == (width, height)
    image = image.convert("RGB")
    georef = Georeference.from_json(image.info["Georeference"])
    assert georef == rendered.georeference
    for code, status in STATUSES.items():
        found = colour_at(image, georef, *interior(code))
        assert close(found, rgb(STATUS_COLOURS[status])), (code, status, found)


def test_communes_outside_the_area_are_grey_context():
    rendered = render_png(
        tiny_spec(in_area={"10001", "10002"}, outside_label="Outside"), 900, 600, 100
    )
    image = Image.open(io.BytesIO(rendered.png)).convert("RGB")
    georef = rendered.georeference
    assert close(colour_at(image, georef, *interior("10001")), rgb(STATUS_COLOURS["met"]))
    # 10003 lies outside the selected district: drawn, but in the neutral context colour
    lon, lat = interior("10003")
    col, _ = georef.to_pixel(lon, lat)
    assert col < georef.box_px[2]  # still inside the map frame
    assert close(colour_at(image, georef, lon, lat), rgb(OUTSIDE_FILL))


def test_communes_of_low_completeness_districts_are_hatched():
    """Hatch lines put dark pixels into a hatched commune's fill, and only there."""

    def dark_share(spec, code):
        rendered = render_png(spec, 900, 600, 100)
        image = Image.open(io.BytesIO(rendered.png)).convert("RGB")
        lon, lat = interior(code)
        col, row = rendered.georeference.to_pixel(lon, lat)
        box = [
            image.getpixel((int(col) + dx, int(row) + dy))
            for dx in range(-6, 7)
            for dy in range(-6, 7)
        ]
        return sum(1 for r, g, b in box if r + g + b < 300) / len(box)

    plain = tiny_spec()
    communes = plain.communes.copy()
    communes["completeness_low"] = communes["commune_code"].eq("10001")
    hatched = tiny_spec(communes=communes, hatch_label="Few products named")
    assert dark_share(hatched, "10001") > 0.05
    assert dark_share(plain, "10001") == 0
    assert dark_share(hatched, "10003") == 0
    assert legend_handles(hatched)[1][-1] == "Few products named"
    assert legend_handles(hatched)[0][-1].get_hatch() == "////"


def test_notice_is_in_the_png_description():
    rendered = render_png(tiny_spec(notice="No matching products"), 600, 400, 100)
    image = Image.open(io.BytesIO(rendered.png))
    assert "No matching products" in image.info["Description"]
    assert "Huyện Tây" in image.info["Title"]


def test_fit_extent_keeps_the_area_and_matches_the_box_aspect():
    limits = fit_extent((0.0, 0.0, 10_000.0, 2_000.0), 400, 400)
    xmin, ymin, xmax, ymax = limits
    assert xmin < 0 and xmax > 10_000 and ymin < 0 and ymax > 2_000
    assert (xmax - xmin) == pytest.approx(ymax - ymin)  # square box: equal metres per pixel


def test_scale_bar_length_is_round_and_fits():
    assert nice_scale_km(100_000) == 20
    assert nice_scale_km(30_000) == 5
    assert nice_scale_km(1_000) == 0.5


def test_pdf_tables_continue_on_new_pages_with_their_header():
    rows = tuple((str(i), f"Xã Số {i}") for i in range(ROWS_PER_PAGE + 10))
    table = Table("Gap list", (Column("#", 0.2, "right"), Column("Commune", 0.8)), rows)
    spec = ReportSpec(
        title="Báo cáo",
        subtitle="",
        date_line="2024-12-31",
        map=tiny_spec(),
        figures_heading="Figures",
        figures=(("Communes", "4"),),
        tables=(table,),
        sections=(("Sources", ("Nguồn: Quảng Nam",)),),
    )
    pages = paginate(_flow(spec))
    assert len(pages) == 2
    assert [line.kind for line in pages[1][:2]] == ["header", "row"]
    assert sum(line.kind == "row" for page in pages for line in page) == len(rows)

    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(render_pdf(spec)))
    assert len(reader.pages) == 3
    last = reader.pages[2].extract_text()
    assert f"Xã Số {len(rows) - 1}" in last
    assert "Nguồn: Quảng Nam" in last
    assert "Page 3 of 3" in last


def test_rendering_leaves_no_pyplot_figures_behind():
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    render_png(tiny_spec(), 400, 300, 100)
    assert set(plt.get_fignums()) == before
