"""/ogc on the tiny data set: documents, paging links, filters, negotiation, languages, errors."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

ITEMS = "/ogc/collections/communes_2020/items"


def get_json(client, url, status=200, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.data
    return response, json.loads(response.data)


def rels(doc) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for link in doc["links"]:
        out.setdefault(link["rel"], []).append(link)
    return out


def relative(href: str) -> str:
    parts = urlsplit(href)
    return f"{parts.path}?{parts.query}"


def test_landing_links_every_part(client):
    for url in ("/ogc", "/ogc/"):
        response, doc = get_json(client, url)
        assert response.mimetype == "application/json"
        links = rels(doc)
        assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(
            links
        )
        assert links["service-desc"][0]["type"].startswith("application/vnd.oai.openapi+json")


def test_conformance_declares_core_geojson_html_oas30(client):
    _, doc = get_json(client, "/ogc/conformance")
    core = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
    assert {core + c for c in ("core", "geojson", "html", "oas30")} <= set(doc["conformsTo"])


def test_collections_describe_extent_and_links(client):
    _, doc = get_json(client, "/ogc/collections")
    by_id = {c["id"]: c for c in doc["collections"]}
    assert list(by_id) == [
        "communes_2020",
        "communes_2025",
        "districts_2020",
        "producers",
        "outlets",
        "crosswalk_2020_2025",
    ]
    assert by_id["communes_2020"]["extent"]["spatial"]["bbox"] == [[108.0, 15.5, 108.2, 15.7]]
    assert by_id["communes_2025"]["extent"]["temporal"]["interval"] == [
        ["2025-07-01T00:00:00Z", None]
    ]
    assert "extent" not in by_id["crosswalk_2020_2025"]
    items = [link for link in by_id["outlets"]["links"] if link["rel"] == "items"]
    assert {link["type"] for link in items} == {"application/geo+json", "text/html"}
    _, one = get_json(client, "/ogc/collections/producers")
    assert one["id"] == "producers" and one["itemType"] == "feature"


def test_items_page_with_next_and_prev_links(client):
    response, doc = get_json(client, f"{ITEMS}?limit=1&offset=1&status=none")
    assert response.mimetype == "application/geo+json"
    assert doc["numberMatched"] == 2 and doc["numberReturned"] == 1
    assert [f["id"] for f in doc["features"]] == ["10004"]
    links = rels(doc)
    prev = parse_qs(urlsplit(links["prev"][0]["href"]).query)
    assert prev["offset"] == ["0"] and prev["status"] == ["none"] and prev["limit"] == ["1"]
    assert "next" not in links
    _, first = get_json(client, relative(links["prev"][0]["href"]))
    assert [f["id"] for f in first["features"]] == ["10002"]
    assert "prev" not in rels(first)
    _, again = get_json(client, relative(rels(first)["next"][0]["href"]))
    assert again["features"] == doc["features"]


def test_items_default_limit_and_every_feature_once_across_pages(client):
    _, doc = get_json(client, ITEMS)
    assert doc["numberReturned"] == 4
    seen, url = [], f"{ITEMS}?limit=3"
    while url:
        _, page = get_json(client, url)
        seen += [f["id"] for f in page["features"]]
        nxt = rels(page).get("next")
        url = relative(nxt[0]["href"]) if nxt else None
    assert seen == ["10001", "10002", "10003", "10004"]


def test_coverage_parameters_change_the_communes(client):
    _, default = get_json(client, f"{ITEMS}/10001")
    assert default["properties"]["status"] == "met"
    _, strict = get_json(client, f"{ITEMS}/10001?target=3")
    assert strict["properties"] | {"status": "below", "target": 3} == strict["properties"]
    _, early = get_json(client, f"{ITEMS}?as_of=2023-07-01&min_stars=3&status=met")
    assert early["numberMatched"] == 0
    next_link = rels(get_json(client, f"{ITEMS}?target=3&limit=1")[1])["next"][0]["href"]
    assert "target=3" in next_link


def test_bbox_and_datetime_filter_items(client):
    _, doc = get_json(client, f"{ITEMS}?bbox=108.01,15.51,108.04,15.54")
    assert [f["id"] for f in doc["features"]] == ["10001"]
    crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    _, same = get_json(client, f"{ITEMS}?bbox=108.01,15.51,108.04,15.54&bbox-crs={crs84}")
    assert same["features"] == doc["features"]
    _, doc = get_json(client, "/ogc/collections/producers/items?datetime=2024-01-01/2024-12-31")
    assert [f["id"] for f in doc["features"]] == ["PR1", "PR2"]
    _, doc = get_json(client, "/ogc/collections/producers/items?datetime=../2019-12-31T23:59:59Z")
    assert [f["id"] for f in doc["features"]] == ["PR2"]
    _, doc = get_json(client, "/ogc/collections/communes_2025/items?datetime=2024-06-01")
    assert doc["numberMatched"] == 0


def test_cql2_filter_pages_with_its_links(client):
    url = f"{ITEMS}?filter=n_products%20%3C%201%20OR%20status%20%3D%20'met'&limit=2"
    _, doc = get_json(client, url + "&filter-lang=cql2-text")
    assert doc["numberMatched"] == 3
    assert [f["id"] for f in doc["features"]] == ["10001", "10002"]
    _, rest = get_json(client, relative(rels(doc)["next"][0]["href"]))
    assert [f["id"] for f in rest["features"]] == ["10004"]
    _, conformance = get_json(client, "/ogc/conformance")
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in conformance["conformsTo"]


def test_item_by_id_with_links(client):
    response, feature = get_json(client, "/ogc/collections/outlets/items/O2")
    assert response.mimetype == "application/geo+json"
    assert feature["type"] == "Feature" and feature["id"] == "O2"
    assert feature["properties"]["name"] == "Điểm bán <Đông>"
    assert {"self", "alternate", "collection"} <= set(rels(feature))


def test_queryables_list_the_filterable_properties(client):
    response, doc = get_json(client, "/ogc/collections/producers/queryables")
    assert response.mimetype == "application/schema+json"
    assert doc["properties"]["max_stars"]["type"] == "integer"
    assert doc["properties"]["first_recognised"]["format"] == "date"
    assert doc["properties"]["geometry"]["format"] == "geometry-point"
    _, communes = get_json(client, "/ogc/collections/communes_2020/queryables")
    assert "target" not in communes["properties"] and "status" in communes["properties"]


@pytest.mark.parametrize(
    ("url", "status", "word"),
    [
        (f"{ITEMS}?bbox=1,2,3", 400, "bbox"),
        (f"{ITEMS}?bbox=a,b,c,d", 400, "bbox"),
        (f"{ITEMS}?bbox=0,10,1,5", 400, "bbox"),
        (f"{ITEMS}?limit=0", 400, "limit"),
        (f"{ITEMS}?limit=10001", 400, "limit"),
        (f"{ITEMS}?offset=-1", 400, "offset"),
        (f"{ITEMS}?datetime=yesterday", 400, "datetime"),
        (f"{ITEMS}?datetime=2024-02-01/2024-01-01", 400, "datetime"),
        (f"{ITEMS}?colour=red", 400, "colour"),
        (f"{ITEMS}?n_products=some", 400, "n_products"),
        (f"{ITEMS}?f=xml", 400, "f"),
        (f"{ITEMS}?lang=fr", 400, "lang"),
        (f"{ITEMS}?filter=status%20%3D", 400, "filter"),
        (f"{ITEMS}?filter=status%3D'met'&filter-lang=cql-json", 400, "filter-lang"),
        (f"{ITEMS}?filter=status%3D'met'&filter-crs=EPSG:3857", 400, "filter-crs"),
        (f"{ITEMS}?offset=10000001", 400, "offset"),
        (f"{ITEMS}?crs=http://www.opengis.net/def/crs/EPSG/0/3857", 400, "crs"),
        ("/ogc/collections/crosswalk_2020_2025/items?bbox=0,0,1,1", 400, "bbox"),
        ("/ogc/collections/outlets/items?datetime=2024-01-01", 400, "datetime"),
        ("/ogc/collections/rivers", 404, "rivers"),
        ("/ogc/collections/rivers/items", 404, "rivers"),
        (f"{ITEMS}/99999", 404, "99999"),
        ("/ogc/nowhere", 404, "not found"),
    ],
)
def test_bad_input_is_an_ogc_exception(client, url, status, word):
    response, doc = get_json(client, url, status=status)
    assert response.mimetype == "application/json"
    assert set(doc) == {"code", "description"}
    assert doc["code"] == {400: "InvalidParameterValue", 404: "NotFound"}[status]
    assert word in doc["description"]
    assert "Traceback" not in doc["description"]


def test_format_by_f_then_accept(client):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get("/ogc/collections", headers={"Accept": browser}).mimetype == "text/html"
    assert (
        client.get("/ogc/collections?f=json", headers={"Accept": browser}).mimetype
        == "application/json"
    )
    assert (
        client.get(ITEMS, headers={"Accept": "application/geo+json"}).mimetype
        == "application/geo+json"
    )
    assert client.get(ITEMS, headers={"Accept": "*/*"}).mimetype == "application/geo+json"
    assert client.get(f"{ITEMS}?f=html").mimetype == "text/html"
    error = client.get("/ogc/collections/rivers", headers={"Accept": browser})
    assert error.status_code == 404 and error.mimetype == "text/html"


def test_html_in_both_languages(client):
    vi = client.get("/ogc/collections?f=html&lang=vi").get_data(as_text=True)
    en = client.get("/ogc/collections?f=html&lang=en").get_data(as_text=True)
    assert "Xã 2020 và mức độ phủ OCOP" in vi and "Bộ dữ liệu" in vi
    assert "Communes 2020 with OCOP coverage" in en and "Bộ dữ liệu" not in en
    _, doc = get_json(client, "/ogc/collections/districts_2020?lang=vi")
    assert doc["title"] == "Huyện 2020"
    page = client.get(f"{ITEMS}?f=html&lang=vi&limit=2").get_data(as_text=True)
    assert "2 trong 4 đối tượng, từ số 1." in page and 'rel="next"' in page


def test_html_escapes_data(client):
    page = client.get(f"{ITEMS}?f=html&lang=en").get_data(as_text=True)
    assert "Xã Bốn &lt;b&gt;" in page and "Xã Bốn <b>" not in page
    page = client.get("/ogc/collections/outlets/items/O2?f=html").get_data(as_text=True)
    assert "Điểm bán &lt;Đông&gt;" in page and "<Đông>" not in page


def test_openapi_describes_paths_limits_and_errors(client):
    response, doc = get_json(client, "/ogc/api")
    assert response.mimetype == "application/vnd.oai.openapi+json"
    assert doc["openapi"].startswith("3.0")
    items = doc["paths"]["/collections/communes_2020/items"]["get"]
    params = {p.get("name") or p["$ref"].rsplit("/", 1)[1]: p for p in items["parameters"]}
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert limit | {"default": 100, "maximum": 10000, "minimum": 1} == limit
    assert {"limit", "offset", "bbox", "datetime", "status", "district_code"} <= set(params)
    assert params["target"]["schema"]["default"] == 2
    assert params["as_of"]["schema"]["default"] == "2024-12-31"
    assert {"400", "404", "500"} <= set(items["responses"])
    exception = doc["components"]["schemas"]["exception"]
    assert set(exception["properties"]) == {"code", "description"}
    crosswalk = doc["paths"]["/collections/crosswalk_2020_2025/items"]["get"]["parameters"]
    assert {"$ref": "#/components/parameters/bbox"} not in crosswalk
    refs = json.dumps(doc)
    for name in {r.rsplit("/", 1)[1] for r in _refs(doc) if "/parameters/" in r}:
        assert name in doc["components"]["parameters"], name
    assert "$ref" in refs


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_collections_follow_a_new_data_version(tmp_path):
    import pandas as pd

    from geoapp.storage.versions import VersionStore
    from tests import tiny_data
    from tests.tiny_data import tiny_app

    app = tiny_app(tmp_path)
    client = app.test_client()
    _, before = get_json(client, "/ogc/collections/outlets/items")
    assert before["numberMatched"] == 2
    outlets = tiny_data.outlets()
    extra = outlets.iloc[[0]].assign(outlet_id="O3", name="Điểm bán mới")
    tables = {
        "products.csv": tiny_data.products(),
        "producers.csv": tiny_data.producers(),
        "outlets.csv": pd.concat([outlets, extra]),
        "province_stats.csv": pd.read_csv(tmp_path / "data" / "ocop" / "province_stats.csv"),
    }
    VersionStore(app.extensions["geoapp"].settings.ocop_versions_dir).create(tables, {})
    _, after = get_json(client, "/ogc/collections/outlets/items")
    assert after["numberMatched"] == 3
    _, feature = get_json(client, "/ogc/collections/outlets/items/O3")
    assert feature["properties"]["name"] == "Điểm bán mới"


def test_other_methods_get_405_naming_get(client):
    response = client.post("/ogc/collections")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert json.loads(response.data)["code"] == "MethodNotAllowed"
