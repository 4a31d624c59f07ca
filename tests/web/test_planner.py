"""Planner routes: /api/coverage, the page, the chart and the downloads (tiny and real data)."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook

from geoapp import create_app
from geoapp.web.params import BadParameter, parse_coverage_query
from tests.tiny_data import write_tiny_data


def api(client, query: str = "") -> dict:
    response = client.get("/api/coverage" + query)
    assert response.status_code == 200, response.data
    return response.get_json()


def by_code(rows: list[dict]) -> dict[str, dict]:
    return {row["commune_code"]: row for row in rows}


def flat(rows: list[dict]) -> list[dict[str, str]]:
    """API rows as the flat files write them: lists joined by "; ", null as empty text."""
    out = []
    for row in rows:
        out.append(
            {
                k: "; ".join(v) if isinstance(v, list) else ("" if v is None else str(v))
                for k, v in row.items()
            }
        )
    return out


# -- the API -----------------------------------------------------------------------------------


def test_api_coverage_rows_districts_and_province(client):
    body = api(client)
    rows = by_code(body["communes"])
    assert set(rows) == {"10001", "10002", "10003", "10004"}
    assert rows["10003"] | {"groups": ["Thực phẩm"]} == rows["10003"]
    assert rows["10003"]["missing"] == 1
    assert rows["10001"]["groups"] == ["Thực phẩm", "Đồ uống"]
    assert [d["district_code"] for d in body["districts"]] == ["101", "102"]
    assert body["province"]["communes_none"] == 2
    assert body["filters"] == {"edition": "2020"}
    assert body["district"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?target=1", {"10001": "met", "10003": "met"}),
        ("?target=3", {"10001": "below", "10003": "below"}),
        ("?group=Đồ uống", {"10001": "below", "10003": "none"}),
        ("?group=Đồ uống&group_taxonomy=2019", {"10001": "below", "10003": "none"}),
        ("?min_stars=5", {"10001": "none", "10003": "below"}),
        ("?producer_type=household", {"10001": "none", "10003": "below"}),
        ("?as_of=2022-01-02", {"10001": "none", "10003": "below"}),
        ("?as_of=2022-01-03", {"10001": "none", "10003": "none"}),
    ],
)
def test_api_filters_change_statuses(client, query, expected):
    rows = by_code(api(client, query)["communes"])
    assert {code: rows[code]["status"] for code in expected} == expected


def test_api_table_filters_limit_rows(client):
    body = api(client, "?district=101&status=none,below")
    assert [r["commune_code"] for r in body["communes"]] == ["10002"]
    assert body["district"]["district_code"] == "101"
    assert body["n_communes_total"] == 4
    assert body["filters"] == {"edition": "2020", "district": "101", "status": "none,below"}
    assert [r["commune_code"] for r in api(client, "?q=tay&sort=-n_products")["communes"]] == [
        "10001",
        "10002",
    ]


def test_api_filters_matching_nothing_give_empty_rows(client):
    body = api(client, "?q=không tồn tại")
    assert body["communes"] == []
    assert body["n_communes"] == 0
    assert len(body["districts"]) == 2  # the drill-down table stays


@pytest.mark.parametrize(
    ("query", "parameter", "valid_hint"),
    [
        ("?district=999", "district", "101 (Tây)"),
        ("?edition=2025&district=101", "district", "101 (Tây)"),
        ("?group=Nothing", "group", "Thực phẩm"),
        ("?group_taxonomy=2030", "group_taxonomy", "2019"),
        ("?producer_type=alien", "producer_type", "cooperative"),
        ("?as_of=2024-13-01", "as_of", "YYYY-MM-DD"),
        ("?status=late", "status", "below"),
        ("?sort=colour", "sort", "missing"),
    ],
)
def test_api_bad_input_is_400_naming_parameter_and_values(client, query, parameter, valid_hint):
    response = client.get("/api/coverage" + query)
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == parameter
    assert valid_hint in str(body["valid"])
    assert f"'{parameter}'" in body["message"]


def test_parse_coverage_query_signature_and_unpacking(tiny_app):
    from geoapp.web.planner import planner_service

    with tiny_app.app_context():
        choices = planner_service().choices()
    query = parse_coverage_query(
        {"group": "Thực phẩm", "group_taxonomy": "2019", "district": "102", "target": "3"},
        "2020",
        choices,
    )
    edition, overrides = query
    assert edition == "2020" and query.district == "102"
    assert overrides["group_field"] == "group_1048" and overrides["target"] == 3
    assert query.args() == {
        "edition": "2020",
        "target": "3",
        "group": "Thực phẩm",
        "group_taxonomy": "2019",
        "district": "102",
    }
    with pytest.raises(BadParameter) as error:
        parse_coverage_query({"district": "1"}, "2020", choices)
    assert error.value.name == "district"


def test_api_commune_detail_and_unknown_code(client):
    detail = client.get("/api/coverage/communes/10003?as_of=2021-12-31").get_json()
    p4 = next(p for p in detail["products"] if p["product_id"] == "P4")
    assert p4["counted"] is True
    assert detail["commune"]["n_products"] == 1
    assert detail["successors"] == [
        {"commune_code": "20002", "commune_full_name": "Phường Đông Mới"}
    ]
    response = client.get("/api/coverage/communes/77777")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == "commune"


def test_api_progress_is_the_map_at_each_year_end(client):
    body = client.get("/api/coverage/progress?district=101").get_json()
    assert body["area_name"] == "Tây"
    assert body["years"] == list(range(2018, 2025))
    assert body["n_communes"] == 2 and body["target"] == 2 and body["five_star_target"] == 5
    for i, date in enumerate(body["dates"]):
        district = api(client, f"?district=101&as_of={date}")["district"]
        assert body["communes_met"][i] == district["communes_met"], date
        assert body["products_counted"][i] == district["n_products"], date
    province = client.get("/api/coverage/progress?target=1").get_json()
    for i, date in enumerate(province["dates"]):
        figures = api(client, f"?target=1&as_of={date}")["province"]
        assert province["communes_met"][i] == figures["communes_met"], date
        assert province["five_star_counted"][i] == figures["five_star_products"], date
    assert province["communes_met"] != body["communes_met"]


def test_existing_geojson_honours_new_filters(client):
    response = client.get("/api/communes.geojson?producer_type=cooperative")
    props = {
        f["properties"]["commune_code"]: f["properties"] for f in response.get_json()["features"]
    }
    assert props["10001"]["status"] == "met"
    assert props["10003"]["status"] == "none"
    bad = client.get("/api/districts.geojson?group=Nope")
    assert bad.status_code == 400
    assert bad.get_json()["parameter"] == "group"


# -- the page ----------------------------------------------------------------------------------


def page_config(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="planner-config">(.*?)</script>', html)
    assert match
    return json.loads(match.group(1))


def test_planner_page_has_map_table_and_config(client):
    response = client.get("/planner?district=101&group=Thực phẩm&status=all")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="planner-map"' in html and 'id="commune-table"' in html
    config = page_config(html)
    assert config["state"] == {
        "edition": "2020",
        "group": "Thực phẩm",
        "district": "101",
        "status": "all",
    }
    assert config["hadErrors"] is False
    assert '<option value="101" selected>' in html
    assert "https://" not in html.replace(config["tileUrl"], "")  # no CDN


def test_planner_page_bad_input_shows_message_and_still_a_map(client):
    response = client.get("/planner?district=999&as_of=soon&target=1")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    errors = re.search(r'id="planner-errors">(.*?)</div>', html, re.S).group(1)
    assert "&#39;district&#39;" in errors and "101 (Tây), 102 (Đông)" in errors
    assert "&#39;as_of&#39;" in errors and "YYYY-MM-DD" in errors
    assert 'id="planner-map"' in html
    config = page_config(html)
    assert config["hadErrors"] is True
    assert config["state"] == {"edition": "2020", "target": "1"}  # the good filter is kept


def test_planner_page_escapes_data_and_errors(client):
    html = client.get("/planner?q=<script>x</script>&district=<b>").get_data(as_text=True)
    assert "<script>x</script>" not in html
    assert "Bốn <b>" not in html
    assert "<b>" not in html


def test_map_page_links_to_planner_with_its_filters(client):
    html = client.get("/?target=3").get_data(as_text=True)
    link = re.search(r'id="planner-link" href="/planner\?([^"]*)"', html).group(1)
    assert sorted(link.replace("&amp;", "&").split("&")) == ["edition=2020", "target=3"]


# -- chart -------------------------------------------------------------------------------------


SVG = "{http://www.w3.org/2000/svg}"


def point_labels(root: ET.Element, series: str) -> list[tuple[int, int]]:
    return [
        (int(t.get("data-year")), int(t.text))
        for t in root.iter(f"{SVG}text")
        if t.get("class") == "point-label" and t.get("data-series") == series
    ]


@pytest.fixture()
def published_client(tmp_path):
    """The tiny data with published figures: province and district totals, a round result,
    one figure after the as-of year, and data text that must be escaped."""
    data = write_tiny_data(tmp_path / "data")
    pd.DataFrame(
        {
            "area": ["Quảng Nam", "Quảng Nam", "Quảng Nam", "Tây", "Tây"],
            "as_of": ["2024-12-26", "2019 round", "2025-04", "by 2020-01", "2018-2021"],
            "measure": ["certified total", "rated", "certified total", "rated", "rated"],
            "value": ["482", "85 of 95", "493", '3 <script>alert("x")</script>', "5"],
            "source_ids": ["S32", "S01", "N30", "S02 <b>", "S15"],
        }
    ).to_csv(data / "ocop" / "province_stats.csv", index=False)
    app = create_app({"data_dir": data, "testing": True, "as_of": "2024-12-31", "tile_url": "none"})
    return app.test_client()


@pytest.mark.parametrize("query", ["", "?district=101", "?district=102&target=1&min_stars=4"])
def test_every_point_label_of_the_chart_equals_the_progress_figure(published_client, query):
    progress = published_client.get("/api/coverage/progress" + query).get_json()
    response = published_client.get("/planner/progress.svg" + query)
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    for series in ("communes_met", "five_star_counted", "products_counted"):
        assert point_labels(root, series) == list(
            zip(progress["years"], progress[series], strict=True)
        ), series
    last = progress["years"][-1]
    published = [(r["year"], r["number"]) for r in progress["published"] if r["year"] <= last]
    assert point_labels(root, "published") == published
    communes = root.find(f"{SVG}g[@data-panel='communes']")
    target = communes.find(f"{SVG}line[@class='target-line']")
    assert int(target.get("data-value")) == progress["n_communes"]


def test_chart_keeps_round_results_and_later_figures_out_and_escapes_text(published_client):
    progress = published_client.get("/api/coverage/progress").get_json()
    assert [r["number"] for r in progress["published"]] == [482, 493]
    assert [r["number"] for r in progress["published_other"]] == [85]
    root = ET.fromstring(published_client.get("/planner/progress.svg?lang=en").data)
    assert point_labels(root, "published") == [(2024, 482)]  # not 85 (a round), not 493 (2025)
    communes = root.find(f"{SVG}g[@data-panel='communes']")
    ticks = [int(t.text) for t in communes.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert max(ticks) < 10  # 4 communes: no product count on this axis
    assert "Quảng Nam" in root.find(f"{SVG}title").text
    desc = root.find(f"{SVG}desc").text
    assert "1 of 4 communes (25%) have ≥ 2 products" in desc
    assert "482 (2024, 2024-12-26; S32)" in desc
    district = published_client.get("/planner/progress.svg?district=101").data
    assert b"<script>" not in district and b"<b>" not in district
    five_star = ET.fromstring(district).find(f"{SVG}g[@data-panel='five_star']")
    assert five_star.find(f"{SVG}line[@class='target-line']") is None  # the province's target


def test_chart_before_the_programme_and_in_edition_2025(client):
    early = client.get("/planner/progress.svg?as_of=2017-01-01&lang=en")
    assert early.status_code == 200
    root = ET.fromstring(early.data)
    assert point_labels(root, "communes_met") == []
    assert root.find(f"{SVG}desc").text == "No year to show."
    too_early = client.get("/planner/progress.svg?as_of=2014-12-31&lang=en")  # the range's end
    assert too_early.status_code == 400 and "as_of" in too_early.get_data(as_text=True)
    progress = client.get("/api/coverage/progress?edition=2025").get_json()
    root = ET.fromstring(client.get("/planner/progress.svg?edition=2025").data)
    assert point_labels(root, "communes_met") == list(
        zip(progress["years"], progress["communes_met"], strict=True)
    )


def test_chart_texts_follow_the_language(client):
    english = client.get("/planner/progress.svg?lang=en")
    vietnamese = client.get("/planner/progress.svg?lang=vi")
    assert ET.fromstring(english.data).find(f"{SVG}title").text.startswith("Progress towards")
    assert ET.fromstring(vietnamese.data).find(f"{SVG}title").text.startswith("Tiến độ")
    assert {"Cookie", "Accept-Language"} <= set(vietnamese.headers["Vary"].split(", "))
    assert client.get("/planner/progress.svg?group=Nope").status_code == 400


# -- downloads ---------------------------------------------------------------------------------

VIEW = "?district=102&status=none,below&target=2&group=Thực phẩm"


def test_downloads_carry_edition_date_and_filters_in_name(client):
    response = client.get("/planner/download.csv" + VIEW)
    disposition = response.headers["Content-Disposition"]
    name = re.search(r'filename="([^"]+)"', disposition).group(1)
    assert name == (
        "ocop-coverage_2020_2024-12-31_target2_stars3_group2023-thuc-pham_district102"
        "_status-none-below.csv"
    )
    assert client.get("/planner/download.pdf").status_code == 400


def test_csv_download_parses_back_to_api_rows(client):
    rows = api(client, VIEW)["communes"]
    assert rows  # the view is not empty
    data = client.get("/planner/download.csv" + VIEW).data
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed == flat(rows)


def test_xlsx_download_has_one_sheet_per_table_and_frozen_headers(client):
    body = api(client, VIEW)
    book = load_workbook(io.BytesIO(client.get("/planner/download.xlsx" + VIEW).data))
    assert book.sheetnames == [
        "communes",
        "districts",
        "province",
        "progress",
        "progress_by_district",
        "published_totals",
        "published_other",
        "filters",
    ]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
    values = list(book["communes"].values)
    header, data = values[0], values[1:]
    parsed = [
        {k: "" if v is None else str(v) for k, v in zip(header, row, strict=True)} for row in data
    ]
    assert parsed == flat(body["communes"])
    districts = list(book["districts"].values)
    assert [r[0] for r in districts[1:]] == [d["district_code"] for d in body["districts"]]


def test_geojson_download_parses_back_to_api_rows(client):
    rows = api(client, VIEW)["communes"]
    features = json.loads(client.get("/planner/download.geojson" + VIEW).data)["features"]
    assert [f["properties"] for f in features] == rows
    assert all(f["geometry"]["type"] == "Polygon" for f in features)


def test_geopackage_download_parses_back_to_api_rows(client, tmp_path):
    rows = api(client, VIEW)["communes"]
    path = tmp_path / "view.gpkg"
    path.write_bytes(client.get("/planner/download.gpkg" + VIEW).data)
    frame = gpd.read_file(path, layer="communes")
    assert frame.crs.to_epsg() == 4326
    parsed = [
        {k: "" if pd.isna(v) else str(v) for k, v in row.items()}
        for row in frame.drop(columns="geometry").to_dict("records")
    ]
    assert parsed == flat(rows)
    assert len(gpd.read_file(path, layer="districts")) == 2


# -- real data ---------------------------------------------------------------------------------


@pytest.mark.realdata
def test_real_api_and_downloads_agree(real_client, tmp_path):
    view = "?district=514&status=all&sort=-missing"
    body = api(real_client, view)
    rows = body["communes"]
    assert len(rows) == body["district"]["n_communes"] == 15
    parsed_csv = list(
        csv.DictReader(
            io.StringIO(real_client.get("/planner/download.csv" + view).data.decode("utf-8-sig"))
        )
    )
    assert parsed_csv == flat(rows)
    path = tmp_path / "real.gpkg"
    path.write_bytes(real_client.get("/planner/download.gpkg" + view).data)
    frame = gpd.read_file(path, layer="communes")
    assert list(frame["commune_code"]) == [r["commune_code"] for r in rows]
    features = json.loads(real_client.get("/planner/download.geojson" + view).data)["features"]
    assert [f["properties"] for f in features] == rows


@pytest.mark.realdata
def test_real_text_filter_ignores_diacritics(real_client):
    rows = api(real_client, "?q=tien phuoc")["communes"]
    assert rows and {r["district_name"] for r in rows} == {"Tiên Phước"}
    accented = api(real_client, "?q=Tiên Phước")["communes"]
    assert rows == accented


@pytest.mark.parametrize("text", ["中文 <b>", 'a"b\r\nSet-Cookie: x=1', "ǅ ﬁ Ⅻ"])
def test_download_name_from_query_text_is_plain_ascii(client, text):
    # The name goes into Content-Disposition: gunicorn writes headers as Latin-1 (a "中" fails
    # the response) and a quote or line break must never get through.
    response = client.get("/planner/download.csv", query_string={"q": text, "status": "all"})
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.isascii()
    name = re.fullmatch(r'attachment; filename="([A-Za-z0-9_.-]+)"', disposition).group(1)
    assert name.endswith(".csv")
