"""Names from data that look like formulas, hold control characters or matplotlib mathtext:
every download, report and chart still works, with no live formula and literal text."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from geoapp.domain.text_safety import FORMULA_STARTS
from tests import tiny_data

FORMULA = '=HYPERLINK("http://evil.example","x")'
COMMUNE = "Xã $\\frac{$ Một\x0b"  # malformed mathtext: matplotlib would raise on it
DISTRICT = "Tây $x^2$"
PRODUCTS = {
    "P1": FORMULA,
    "P2": "Trà\x00 xanh $x^2$",
    "P3": "-1+cmd|' /C calc'!A0",
    "P4": "@SUM(A1:A9)",
    "P5": "\tTab",
    "P6": "Sâm $ 5 một lọ",
}


@pytest.fixture()
def hostile_client(tmp_path, monkeypatch):
    plain = {
        "communes_2020": tiny_data.communes_2020,
        "districts_2020": tiny_data.districts_2020,
        "products": tiny_data.products,
    }

    def communes():
        frame = plain["communes_2020"]()
        frame.loc[frame["commune_code"] == "10002", "commune_full_name"] = COMMUNE
        frame.loc[frame["district_code"] == "101", "district_full_name"] = "Huyện " + DISTRICT
        frame.loc[frame["district_code"] == "101", "district_name"] = DISTRICT
        return frame

    def districts():
        frame = plain["districts_2020"]()
        frame.loc[frame["district_code"] == "101", "district_name"] = DISTRICT
        frame.loc[frame["district_code"] == "101", "district_full_name"] = "Huyện " + DISTRICT
        return frame

    def products():
        frame = plain["products"]()
        frame["name"] = frame["product_id"].map(PRODUCTS)
        return frame

    monkeypatch.setattr(tiny_data, "communes_2020", communes)
    monkeypatch.setattr(tiny_data, "districts_2020", districts)
    monkeypatch.setattr(tiny_data, "products", products)
    app = tiny_data.tiny_app(tmp_path, as_of="2024-12-31")
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def is_live(text: str) -> bool:
    """Whether a spreadsheet would run ``text`` as a formula (plain numbers are harmless)."""
    if not text.startswith(FORMULA_STARTS):
        return False
    try:
        float(text)
    except ValueError:
        return True
    return False


@pytest.mark.parametrize("query", ["", "?q=%00", "?q=m%E1%BB%99t%07"])
def test_csv_download_has_no_live_formula_and_no_control_character(hostile_client, query):
    response = hostile_client.get(
        "/planner/download.csv" + query + ("&" if query else "?") + "status=all"
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "\x00" not in text and "\x0b" not in text
    cells = [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row]
    assert not [cell for cell in cells if is_live(cell)]
    joined = "\n".join(cells)
    assert "'" + FORMULA in joined  # the cell listing the products of commune 10001


@pytest.mark.parametrize("query", ["status=all", "status=all&q=%00", "q=%01%02&district=101"])
def test_xlsx_download_has_no_formula_cell_and_numbers_stay_numbers(hostile_client, query):
    response = hostile_client.get(f"/planner/download.xlsx?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    book = load_workbook(io.BytesIO(response.data))
    texts, numbers = [], []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
                    assert not is_live(cell.value), cell.value
                elif isinstance(cell.value, int | float):
                    numbers.append(cell.value)
    communes = book["communes"]
    header = [c.value for c in communes[1]]
    assert isinstance(communes.cell(2, header.index("n_products") + 1).value, int)
    assert numbers
    if "district" not in query:
        assert any(FORMULA in t and t.startswith("'") for t in texts)


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_other_downloads_survive_control_characters(hostile_client, fmt):
    assert hostile_client.get(f"/planner/download.{fmt}?status=all&q=%00").status_code == 200


def test_pdf_report_draws_dollar_names_literally(hostile_client):
    response = hostile_client.get("/report/coverage.pdf?district=101")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "$x^2$" in text  # mathtext would have drawn x², without the dollars
    assert "$\\frac{$" in text


@pytest.mark.parametrize("query", ["", "?district=101", "?commune=10002&width=400&height=300"])
def test_png_report_survives_malformed_mathtext_and_controls(hostile_client, query):
    response = hostile_client.get("/report/coverage.png" + query)
    assert response.status_code == 200 and response.data.startswith(b"\x89PNG")


def test_progress_chart_is_valid_xml_with_literal_names(hostile_client):
    response = hostile_client.get("/planner/progress.svg?district=101")
    assert response.status_code == 200
    root = ET.fromstring(response.data)  # would fail on a control character
    assert any("$x^2$" in (node.text or "") for node in root.iter())


@pytest.mark.parametrize(
    "path", ["/", "/planner?status=all", "/embed/coverage", "/api/coverage", "/api/search?q=tra"]
)
def test_pages_and_api_serve_the_hostile_names(hostile_client, path):
    assert hostile_client.get(path).status_code == 200
