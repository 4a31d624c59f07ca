"""API routes on the tiny data set: status, content type, feature counts, properties, errors."""

from __future__ import annotations

import json

import pytest


def features(response) -> list[dict]:
    assert response.status_code == 200, response.data
    assert response.mimetype == "application/geo+json"
    body = json.loads(response.data)
    assert body["type"] == "FeatureCollection"
    return body["features"]


def by_code(feats, key="commune_code"):
    return {f["properties"][key]: f["properties"] for f in feats}


def test_communes_2020_carry_coverage(client):
    props = by_code(features(client.get("/api/communes.geojson")))
    assert set(props) == {"10001", "10002", "10003", "10004"}
    assert props["10001"]["status"] == "met"
    assert props["10001"]["product_names"] == ["Mật ong <rừng>", "Trà xanh"]
    assert props["10003"] == props["10003"] | {"status": "below", "n_products": 1, "missing": 1}
    assert props["10002"]["district_name"] == "Tây"


def test_communes_respect_target_and_as_of(client):
    props = by_code(features(client.get("/api/communes.geojson?target=1&as_of=2023-07-01")))
    assert props["10001"]["status"] == "met"
    assert props["10001"]["n_products"] == 1
    assert props["10003"]["status"] == "none"


def test_communes_2025_mark_former_danang_no_data(client):
    props = by_code(features(client.get("/api/communes.geojson?edition=2025")))
    assert props["20003"]["status"] == "no_data"
    assert props["20003"]["n_products"] is None
    assert props["20001"]["n_products"] == 2
    assert props["20002"]["former_province"] == "Quảng Nam"


def test_districts_have_summary_and_label_points(client):
    props = by_code(features(client.get("/api/districts.geojson")), "district_code")
    assert props["101"]["n_products_district_only"] == 1
    assert props["102"]["communes_below"] == 1
    assert 108.0 < props["101"]["label_lon"] < 108.1


def test_producers_and_outlets(client):
    producers = by_code(features(client.get("/api/producers.geojson")), "producer_id")
    assert producers["PR1"]["approximate"] is True
    assert [p["name"] for p in producers["PR1"]["products"]] == ["Trà xanh", "Mật ong <rừng>"]
    assert producers["PR3"]["location_precision"] == "district"
    outlets = by_code(features(client.get("/api/outlets.geojson")), "outlet_id")
    assert outlets["O1"]["kind"] == "centre"
    assert outlets["O2"]["approximate"] is False
    assert outlets["O2"]["name"] == "Điểm bán <Đông>"


def test_etag_gives_304(client):
    first = client.get("/api/communes.geojson")
    assert first.headers["ETag"]
    again = client.get("/api/communes.geojson", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""


@pytest.mark.parametrize(
    ("url", "parameter", "valid_hint"),
    [
        ("/api/communes.geojson?edition=2030", "edition", "2020"),
        ("/api/communes.geojson?target=two", "target", "1 to 5"),
        ("/api/communes.geojson?target=9", "target", "1 to 5"),
        ("/api/communes.geojson?min_stars=3.5", "min_stars", "1 to 5"),
        ("/api/districts.geojson?as_of=31/12/2024", "as_of", "YYYY-MM-DD"),
    ],
)
def test_bad_parameters_get_400_json(client, url, parameter, valid_hint):
    response = client.get(url)
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == parameter
    assert valid_hint in str(body["valid"])
    assert parameter in body["message"]


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/nothing.geojson")
    assert response.status_code == 404
    assert response.get_json()["status"] == 404


def test_healthz(client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["communes"] == 4
    assert len(body["data_version"]) == 12
