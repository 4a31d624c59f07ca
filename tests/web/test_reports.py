"""/report/coverage.png, /report/coverage.pdf, /embed/coverage and the frame policy."""

from __future__ import annotations

import io
import shutil
from collections import Counter

import pandas as pd
import pypdf
import pytest
from PIL import Image

from geoapp import create_app
from geoapp.render.palette import STATUS_COLOURS
from geoapp.render.static_map import OUTSIDE_FILL, Georeference
from tests import tiny_data


def rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def png_image(response) -> Image.Image:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    image.load()
    return image


def colour_at(image: Image.Image, lon: float, lat: float) -> tuple[int, int, int]:
    """Most common colour of a 7x7 patch at a place, located by the PNG's georeference."""
    georef = Georeference.from_json(image.info["Georeference"])
    col, row = georef.to_pixel(lon, lat)
    rgb_image = image.convert("RGB")
    pixels = [
        rgb_image.getpixel((int(col) + dx, int(row) + dy))
        for dx in range(-3, 4)
        for dy in range(-3, 4)
    ]
    return Counter(pixels).most_common(1)[0][0]


def close(a: tuple, b: tuple, tolerance: int = 2) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def tiny_interior(code: str) -> tuple[float, float]:
    frame = tiny_data.communes_2020()
    point = frame.loc[frame["commune_code"] == code].geometry.iloc[0].representative_point()
    return point.x, point.y


def pdf_text(response) -> tuple[pypdf.PdfReader, str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


# -- PNG ----------------------------------------------------------------------------------------


def test_png_default_size_and_class_colours_where_the_data_says(client):
    image = png_image(client.get("/report/coverage.png"))
    assert image.size == (1200, 900)
    expected = {"10001": "met", "10003": "below", "10002": "none", "10004": "none"}
    for code, status in expected.items():
        assert close(colour_at(image, *tiny_interior(code)), rgb(STATUS_COLOURS[status])), code


def test_png_asked_size_and_dpi(client):
    image = png_image(client.get("/report/coverage.png?width=640&height=480&dpi=150"))
    assert image.size == (640, 480)
    assert close(colour_at(image, *tiny_interior("10001")), rgb(STATUS_COLOURS["met"]))


def test_png_follows_the_coverage_parameters(client):
    # with a target of 1, the one product of 10003 meets it
    image = png_image(client.get("/report/coverage.png?target=1&width=600&height=400"))
    assert close(colour_at(image, *tiny_interior("10003")), rgb(STATUS_COLOURS["met"]))


def test_png_of_a_district_greys_the_rest(client):
    image = png_image(client.get("/report/coverage.png?district=101&width=800&height=600"))
    assert "Huyện Tây" in image.info["Title"]
    assert close(colour_at(image, *tiny_interior("10001")), rgb(STATUS_COLOURS["met"]))
    assert close(colour_at(image, *tiny_interior("10002")), rgb(STATUS_COLOURS["none"]))
    georef = Georeference.from_json(image.info["Georeference"])
    col, _ = georef.to_pixel(*tiny_interior("10003"))
    if col < georef.box_px[2] - 4:  # the neighbour is in view: drawn as context, not coloured
        assert close(colour_at(image, *tiny_interior("10003")), rgb(OUTSIDE_FILL))


def test_png_of_a_commune_names_it_and_its_district(client):
    image = png_image(client.get("/report/coverage.png?commune=10003&width=600&height=400"))
    assert "Phường Ba, Thị xã Đông" in image.info["Title"]
    assert close(colour_at(image, *tiny_interior("10003")), rgb(STATUS_COLOURS["below"]))


def test_png_2025_shows_no_data_class(client):
    image = png_image(
        client.get(
            "/report/coverage.png?edition=2025&width=600&height=400&lang=en"
            "&bbox=107.95,15.45,108.25,15.85"
        )
    )
    # 20001 (west, former 10001+10002) holds P1 and P2: met
    assert close(colour_at(image, 108.05, 15.53), rgb(STATUS_COLOURS["met"]))
    # 20003 is a former Đà Nẵng commune: no data
    assert close(colour_at(image, 108.1, 15.76), rgb(STATUS_COLOURS["no_data"]))
    assert "Edition 2025" in image.info["Description"]


def test_filter_matching_nothing_still_gives_an_image_that_says_so(client):
    image = png_image(
        client.get("/report/coverage.png?district=102&group=Đồ uống&width=600&lang=en")
    )
    assert "No matching products" in image.info["Description"]
    assert close(colour_at(image, *tiny_interior("10003")), rgb(STATUS_COLOURS["none"]))


def test_png_with_products_has_no_notice(client):
    image = png_image(client.get("/report/coverage.png?width=600&lang=en"))
    assert "No matching products" not in image.info["Description"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("width=10", "width"),
        ("width=99999", "width"),
        ("height=abc", "height"),
        ("dpi=1000", "dpi"),
        ("dpi=10", "dpi"),
        ("district=999", "district"),
        ("edition=2025&district=101", "district"),
        ("commune=99999", "commune"),
        ("district=101&commune=10003", "commune"),
        ("edition=1999", "edition"),
        ("group=Không có", "group"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=108.2,15.5,108.0,15.7", "bbox"),
        ("min_stars=9", "min_stars"),
    ],
)
def test_bad_input_is_400_naming_the_parameter(client, query, parameter):
    for path in ("/report/coverage.png", "/report/coverage.pdf", "/embed/coverage"):
        if path != "/report/coverage.png" and parameter in {"width", "height", "dpi"}:
            continue
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        text = response.get_data(as_text=True)
        assert f"parameter &#39;{parameter}&#39;" in text or f"'{parameter}'" in text
        assert "Traceback" not in text


def test_bbox_sets_the_extent(client):
    image = png_image(client.get("/report/coverage.png?bbox=108.0,15.5,108.1,15.6&width=600"))
    georef = Georeference.from_json(image.info["Georeference"])
    left, top, right, bottom = georef.box_px
    col, row = georef.to_pixel(108.05, 15.55)
    assert abs(col - (left + right) / 2) < 2 and abs(row - (top + bottom) / 2) < 2
    assert close(colour_at(image, 108.05, 15.55), rgb(STATUS_COLOURS["met"]))


def test_reports_are_cached_with_etag_and_revalidated(client):
    first = client.get("/report/coverage.png?width=600")
    assert first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"  # always revalidated: never stale
    assert first.headers["Content-Disposition"] == 'inline; filename="ocop-coverage-2020.png"'
    again = client.get(
        "/report/coverage.png?width=600", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    other = client.get("/report/coverage.png?width=601")
    assert other.headers["ETag"] != first.headers["ETag"]
    pdf = client.get("/report/coverage.pdf?district=101")
    assert pdf.headers["ETag"]
    assert (
        client.get(
            "/report/coverage.pdf?district=101", headers={"If-None-Match": pdf.headers["ETag"]}
        ).status_code
        == 304
    )


def test_a_data_change_invalidates_cached_reports(tiny_data_dir, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(tiny_data_dir, data_dir)
    app = create_app({"data_dir": data_dir, "testing": True, "tile_url": "none"})
    client = app.test_client()
    before = client.get("/report/coverage.png?width=600")
    assert close(colour_at(png_image(before), *tiny_interior("10002")), rgb(STATUS_COLOURS["none"]))
    # a new producer in 10002 with one valid 4★ product
    producers = pd.read_csv(data_dir / "ocop" / "producers.csv", dtype=str)
    extra = producers.iloc[[0]].assign(
        producer_id="PR9", commune_code="10002", lon="108.05", lat="15.65"
    )
    pd.concat([producers, extra]).to_csv(data_dir / "ocop" / "producers.csv", index=False)
    products = pd.read_csv(data_dir / "ocop" / "products.csv", dtype=str)
    new = products.iloc[[1]].assign(product_id="P9", producer_id="PR9", name="Chè mới")
    pd.concat([products, new]).to_csv(data_dir / "ocop" / "products.csv", index=False)
    after = client.get("/report/coverage.png?width=600")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert close(colour_at(png_image(after), *tiny_interior("10002")), rgb(STATUS_COLOURS["below"]))
    stale = client.get(
        "/report/coverage.png?width=600", headers={"If-None-Match": before.headers["ETag"]}
    )
    assert stale.status_code == 200


# -- PDF ----------------------------------------------------------------------------------------


def test_pdf_of_the_province_has_map_page_and_tables_with_diacritics(client):
    reader, _ = pdf_text(client.get("/report/coverage.pdf?lang=en"))
    assert len(reader.pages) == 2
    first = reader.pages[0].extract_text()
    assert "OCOP coverage report · Quảng Nam" in first
    assert "Communes meeting the target (≥ 2 products)" in first
    assert "1 / 4 (25%)" in first
    assert "Page 1 of 2" in first
    second = reader.pages[1].extract_text()
    for name in ("Xã Hai", "Phường Ba", "Xã Bốn <b>"):  # the gap list: none, below
        assert name in second
    assert "Xã Một" not in second  # meets the target
    assert "OCOP facts: public pages of the Quảng Nam press and government" in second
    assert "SOURCES.md" in second
    assert "Data completeness" in second
    assert "Page 2 of 2" in second


def test_pdf_gap_list_holds_missing_counts(client):
    _, text = pdf_text(client.get("/report/coverage.pdf?lang=en"))
    lines = text.splitlines()
    ba = next(line for line in lines if "Phường Ba" in line)
    assert ba.split()[-3:] == ["1", "1", "below"]  # products, missing, status
    hai = next(line for line in lines if "Xã Hai" in line)
    assert hai.split()[-3:] == ["0", "2", "none"]


def test_pdf_of_a_district_lists_only_its_communes(client):
    _, text = pdf_text(client.get("/report/coverage.pdf?district=102&lang=en"))
    assert "OCOP coverage report · Thị xã Đông" in text
    assert "Phường Ba" in text and "Xã Bốn <b>" in text
    assert "Xã Hai" not in text


def test_pdf_matching_nothing_says_so(client):
    _, text = pdf_text(client.get("/report/coverage.pdf?district=102&group=Đồ uống&lang=en"))
    assert "No matching products" in text


def test_pdf_in_vietnamese_keeps_diacritics(client):
    _, text = pdf_text(client.get("/report/coverage.pdf?lang=vi"))
    assert "Quảng Nam" in text
    assert "Phường Ba" in text and "Thị xã Đông" in text


# -- embed and framing --------------------------------------------------------------------------


def test_embed_page_is_frameable_and_configured(client):
    response = client.get("/embed/coverage?district=101&target=1")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == "frame-ancestors *"
    assert "X-Frame-Options" not in response.headers
    html = response.get_data(as_text=True)
    assert "Huyện Tây" in html
    assert '"embed": true' in html
    assert '"focus": {"district": "101"}' in html
    assert "/api/coverage/status.json?" in html and "target=1" in html
    assert 'class="full-view" href="/?' in html and "district=101" in html
    assert 'data-status="met"' in html  # legend with counts


def test_embed_escapes_names_from_data(client):
    html = client.get("/embed/coverage?commune=10004").get_data(as_text=True)
    assert "Xã Bốn &lt;b&gt;" in html
    assert "Bốn <b>" not in html


@pytest.mark.parametrize(
    "path", ["/", "/report/coverage.png?width=300", "/api/outlets.geojson", "/no/such/page"]
)
def test_other_pages_refuse_to_be_framed(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"].endswith("frame-ancestors 'self'")
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_map_page_has_the_export_dialog(client):
    html = client.get("/").get_data(as_text=True)
    assert 'id="export-open"' in html
    assert 'data-embed-base="http://localhost/embed/coverage"' in html
    assert 'data-png-base="http://localhost/report/coverage.png"' in html
    assert '"/static/js/export.js"' in html  # fetched by the button's first click
    assert '<script src="/static/js/export.js"' not in html


def test_planner_page_has_the_export_dialog(client):
    html = client.get("/planner").get_data(as_text=True)
    assert 'id="export-open"' in html
    assert 'data-pdf-base="http://localhost/report/coverage.pdf"' in html


# -- real data ----------------------------------------------------------------------------------


@pytest.mark.realdata
def test_real_province_png_colours_follow_the_data(real_client, real_app):
    state = real_app.extensions["geoapp"]
    communes = state.coverage.coverage("2020", state.coverage.default_params()).communes
    image = png_image(real_client.get("/report/coverage.png?width=1600&height=1200"))
    assert image.size == (1600, 1200)
    checked = 0
    for status in ("met", "below", "none"):
        rows = communes.loc[communes["status"] == status]
        assert len(rows), status
        # the largest commune of each class: its interior point is many pixels from any edge
        row = rows.loc[rows.to_crs("EPSG:32649").area.idxmax()]
        point = row.geometry.representative_point()
        assert close(colour_at(image, point.x, point.y), rgb(STATUS_COLOURS[status])), row[
            "commune_full_name"
        ]
        checked += 1
    assert checked == 3


@pytest.mark.realdata
def test_real_district_pdf_lists_hoi_an_gaps(real_client, real_app):
    state = real_app.extensions["geoapp"]
    communes = state.coverage.coverage("2020", state.coverage.default_params()).communes
    hoi_an = communes.loc[communes["district_code"] == "503"]
    gaps = hoi_an.loc[hoi_an["status"].isin(["none", "below"]), "commune_full_name"]
    assert len(gaps)
    _, text = pdf_text(real_client.get("/report/coverage.pdf?district=503&lang=en"))
    assert "Thành phố Hội An" in text
    for name in gaps:
        assert name in text
    assert "Quảng Nam" in text
