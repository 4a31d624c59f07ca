"""Candidates (in the pipeline, not certified) in /api/coverage, the commune detail, the CSV and
XLSX downloads and the planner page, on the tiny data with ``candidates()`` added. Expected
counts come from the candidates file."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from openpyxl import load_workbook

from tests.tiny_data import tiny_app, write_candidates


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("planner-candidates")
    app = tiny_app(root, as_of="2024-12-31")
    path = write_candidates(root / "data")
    return app.test_client(), pd.read_csv(path, dtype=str, keep_default_na=False)


def expected_per_commune(candidates: pd.DataFrame) -> dict[str, int]:
    located = candidates.loc[candidates["commune_code"].ne(""), "commune_code"]
    return located.value_counts().to_dict()


def test_api_coverage_rows_and_districts_carry_candidates(setup):
    client, candidates = setup
    body = client.get("/api/coverage").get_json()
    got = {r["commune_code"]: r["n_candidates"] for r in body["communes"] if r["n_candidates"]}
    assert got == expected_per_commune(candidates)
    assert all(isinstance(r["n_candidates"], int) for r in body["communes"])
    districts = {d["district_code"]: d for d in body["districts"]}
    for code, rows in candidates.groupby("district_code"):
        assert districts[code]["n_candidates"] == len(rows)
        assert districts[code]["n_candidates_district_only"] == int(
            rows["commune_code"].eq("").sum()
        )


def test_api_coverage_figures_are_those_without_candidates(setup, tmp_path):
    client, _ = setup
    plain = tiny_app(tmp_path, as_of="2024-12-31").test_client()
    for query in ("", "?edition=2025", "?min_stars=4"):
        with_candidates, without = (
            c.get("/api/coverage" + query).get_json() for c in (client, plain)
        )
        assert with_candidates["province"] == without["province"]
        for a, b in zip(with_candidates["communes"], without["communes"], strict=True):
            assert a.pop("n_candidates") >= 0 and b.pop("n_candidates") == 0
            assert a == b


def test_commune_detail_lists_candidates(setup):
    client, candidates = setup
    detail = client.get("/api/coverage/communes/10001").get_json()
    assert [c["candidate_id"] for c in detail["candidates"]] == candidates.loc[
        candidates["commune_code"].eq("10001"), "candidate_id"
    ].tolist()
    assert detail["candidates"][0]["name"] == "Bánh <ứng viên>"
    assert detail["commune"]["n_candidates"] == 2


def test_csv_and_xlsx_have_the_candidates_column(setup):
    client, candidates = setup
    expected = expected_per_commune(candidates)
    data = client.get("/planner/download.csv").data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert {
        r["commune_code"]: int(r["n_candidates"]) for r in rows if r["n_candidates"] != "0"
    } == (expected)
    book = load_workbook(io.BytesIO(client.get("/planner/download.xlsx").data))
    sheet = book["communes"]
    header = [c.value for c in sheet[1]]
    code, n = header.index("commune_code"), header.index("n_candidates")
    values = {row[code]: row[n] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert {k: v for k, v in values.items() if v} == expected
    districts = book["districts"]
    assert "n_candidates" in [c.value for c in districts[1]]


def test_planner_page_labels_the_column(setup):
    client, _ = setup
    html = client.get("/planner?lang=en").get_data(as_text=True)
    assert "In the pipeline (not certified)" in html
    vi = client.get("/planner?lang=vi").get_data(as_text=True)
    assert "In the pipeline (not certified)" not in vi


def test_candidates_layer_has_one_point_per_area_inside_it(setup):
    client, candidates = setup
    response = client.get("/api/candidates.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    features = response.get_json()["features"]
    communes = {
        f["properties"]["area_code"]: f
        for f in features
        if f["properties"]["area_kind"] == "commune"
    }
    assert {k: f["properties"]["n_candidates"] for k, f in communes.items()} == (
        expected_per_commune(candidates)
    )
    district_only = candidates.loc[candidates["commune_code"].eq("")]
    districts = {
        f["properties"]["area_code"]: f["properties"]["n_candidates"]
        for f in features
        if f["properties"]["area_kind"] == "district"
    }
    assert districts == district_only["district_code"].value_counts().to_dict()
    names = communes["10001"]["properties"]["names"]
    assert names == candidates.loc[candidates["commune_code"].eq("10001"), "name"].tolist()
    # Each point lies in its commune: tiny commune 10001 is lon 108.0-108.1, lat 15.5-15.6.
    lon, lat = communes["10001"]["geometry"]["coordinates"]
    assert 108.0 < lon < 108.1 and 15.5 < lat < 15.6
    # Coverage properties are not part of this layer.
    assert all("n_products" not in f["properties"] for f in features)


def test_candidates_layer_in_2025_follows_the_crosswalk(setup):
    client, candidates = setup
    features = client.get("/api/candidates.geojson?edition=2025").get_json()["features"]
    got = {f["properties"]["area_code"]: f["properties"]["n_candidates"] for f in features}
    # tiny crosswalk: 10001, 10002 -> 20001; 10003, 10004 -> 20002; no districts in 2025.
    successor = {"10001": "20001", "10002": "20001", "10003": "20002", "10004": "20002"}
    expected = candidates["commune_code"].map(successor).dropna().value_counts().to_dict()
    assert got == expected
    assert {f["properties"]["area_kind"] for f in features} == {"commune"}


def test_map_page_offers_the_candidates_layer(setup):
    client, _ = setup
    html = client.get("/?lang=en").get_data(as_text=True)
    assert "/api/candidates.geojson?edition=2020" in html
    assert "In the pipeline (not certified)" in html


def test_no_candidates_file_gives_an_empty_layer(tmp_path):
    plain = tiny_app(tmp_path).test_client()
    for edition in ("2020", "2025"):
        body = plain.get(f"/api/candidates.geojson?edition={edition}").get_json()
        assert body == {"type": "FeatureCollection", "features": []}
