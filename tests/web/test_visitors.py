"""/nearby, /api/nearby and /api/search on the tiny data set (plus a few real-data checks).

The tiny data gets, for these tests only: outlet O1 operated by "htx mot" (producer PR1 is
"HTX Một"), producer PR2 selling on site, and a product group with markup in its name.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from pyproj import Geod

from geoapp import create_app
from geoapp.web.visitors import format_distance
from tests.tiny_data import write_tiny_data

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def visitor_data_dir(tmp_path_factory):
    data_dir = write_tiny_data(tmp_path_factory.mktemp("visitor-data"))
    ocop = data_dir / "ocop"
    outlets = pd.read_csv(ocop / "outlets.csv", dtype=str, keep_default_na=False)
    outlets.loc[outlets["outlet_id"] == "O1", "operator"] = "htx mot"
    outlets.to_csv(ocop / "outlets.csv", index=False)
    producers = pd.read_csv(ocop / "producers.csv", dtype=str, keep_default_na=False)
    producers.loc[producers["producer_id"] == "PR2", "sells_on_site"] = "true"
    producers.to_csv(ocop / "producers.csv", index=False)
    products = pd.read_csv(ocop / "products.csv", dtype=str, keep_default_na=False)
    products.loc[products["product_id"] == "P6", "group_148"] = "Dược <liệu>"
    products.to_csv(ocop / "products.csv", index=False)
    return data_dir


TODAY = dt.date(2024, 12, 31)


def at_today(app, today: dt.date = TODAY):
    """``app`` with its visitor pages judging certificates at ``today``."""
    app.extensions["geoapp"].visitors.today = lambda: today
    return app


@pytest.fixture(scope="module")
def visitor_app(visitor_data_dir):
    return at_today(create_app({"data_dir": visitor_data_dir, "testing": True, "tile_url": "none"}))


@pytest.fixture()
def vclient(visitor_app):
    return visitor_app.test_client()


def nearby(client, query: str, status: int = 200):
    response = client.get("/api/nearby?" + query)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def test_nearby_is_sorted_by_geodesic_distance(vclient):
    places = nearby(vclient, "lat=15.55&lon=108.05")
    assert [p["id"] for p in places] == ["O1", "PR2", "O2"]
    distances = [p["distance_m"] for p in places]
    assert distances == sorted(distances)
    for place in places:
        _, _, expected = GEOD.inv(108.05, 15.55, place["lon"], place["lat"])
        assert place["distance_m"] == pytest.approx(expected, abs=1.0)


def test_nearby_carries_outlet_fields_and_honest_product_links(vclient):
    places = {p["id"]: p for p in nearby(vclient, "lat=15.55&lon=108.05&lang=en")}
    o1 = places["O1"]
    assert o1 | {"kind": "centre", "status": "open", "address": "1 Đường A"} == o1
    assert o1["approximate"] is True and o1["location_precision"] == "commune"
    assert o1["commune_name"] == "Xã Một" and o1["district_name"] == "Huyện Tây"
    assert o1["operator"] == "htx mot" and o1["operator_producer_ids"] == ["PR1"]
    # PR1 runs O1 (same name): its products are linked as "operator", not again as commune.
    assert [(p["product_id"], p["basis"], p["stars"]) for p in o1["products"]] == [
        ("P2", "operator", 4),
        ("P1", "operator", 3),
    ]
    pr2 = places["PR2"]
    assert pr2["kind"] == "producer" and pr2["status"] is None
    assert {p["product_id"] for p in pr2["products"]} == {"P3", "P4", "P5"}
    assert {p["basis"] for p in pr2["products"]} == {"own"}
    # O2's commune has no producer and its operator is unknown: no product is claimed.
    assert places["O2"]["products"] == [] and places["O2"]["approximate"] is False


def test_same_commune_link_is_used_only_when_the_commune_is_known(tiny_app):
    # Plain tiny data: O1 has no operator; PR1 lies in its commune.
    places = {p["id"]: p for p in tiny_app.test_client().get("/api/nearby?lat=15.5&lon=108").json}
    assert {p["basis"] for p in places["O1"]["products"]} == {"same_commune"}
    assert all(p["producer_name"] == "HTX Một" for p in places["O1"]["products"])
    assert "PR2" not in places  # not selling on site in the plain data


def test_directions_links(vclient):
    places = {p["id"]: p for p in nearby(vclient, "lat=15.55&lon=108.05")}
    links = places["O1"]["directions"]
    assert links["osm"] == (
        "https://www.openstreetmap.org/directions?engine=fossgis_osrm_car"
        "&route=15.550000%2C108.050000%3B15.520000%2C108.020000"
    )
    assert links["geo"].startswith("geo:15.520000,108.020000?q=15.520000,108.020000(Trung%20t")
    assert (
        links["osm_search"]
        == "https://www.openstreetmap.org/search?query=1+%C4%90%C6%B0%E1%BB%9Dng+A"
    )
    assert places["O2"]["directions"]["osm_search"] is None  # exact location: no search needed


def test_distance_text_follows_language(vclient):
    vi = nearby(vclient, "lat=15.55&lon=108.05&lang=vi")
    en = nearby(vclient, "lat=15.55&lon=108.05&lang=en")
    assert vi[0]["distance_text"] == "4,6 km" and en[0]["distance_text"] == "4.6 km"
    close = nearby(vclient, "lat=15.521&lon=108.021&limit=1")
    assert re.fullmatch(r"\d{2,3} m", close[0]["distance_text"])


@pytest.mark.parametrize(
    ("distance_m", "text"),
    [
        (0, "0 m"),
        (12.4, "12 m"),
        (999.4, "999 m"),
        (999.6, "1.0 km"),
        (1049, "1.0 km"),
        (1051, "1.1 km"),
        (12_345, "12.3 km"),
        (250_000, "250.0 km"),
    ],
)
def test_format_distance(distance_m, text):
    assert format_distance(distance_m) == text
    assert format_distance(distance_m, ",") == text.replace(".", ",")


def test_limit_default_and_range(vclient, tiny_app):
    assert len(nearby(vclient, "lat=15.55&lon=108.05&limit=1")) == 1
    assert len(nearby(vclient, "lat=15.55&lon=108.05&limit=50")) == 3
    for bad in ("0", "51", "ten", "-1"):
        body = nearby(vclient, f"lat=15.55&lon=108.05&limit={bad}", status=400)
        assert body["parameter"] == "limit"
        assert "limit" in body["message"]


def test_default_limit_is_ten(visitor_data_dir, tmp_path):
    # Twelve outlets: the default answer has ten of them.
    data_dir = write_tiny_data(tmp_path)
    outlets = pd.read_csv(data_dir / "ocop" / "outlets.csv", dtype=str, keep_default_na=False)
    rows = [outlets.iloc[0].copy() for _ in range(12)]
    for i, row in enumerate(rows):
        row["outlet_id"] = f"X{i:02d}"
        row["lon"] = str(108.0 + i * 0.01)
    pd.DataFrame(rows).to_csv(data_dir / "ocop" / "outlets.csv", index=False)
    client = create_app({"data_dir": data_dir, "testing": True, "tile_url": "none"}).test_client()
    places = client.get("/api/nearby?lat=15.52&lon=107.9").json
    assert [p["id"] for p in places] == [f"X{i:02d}" for i in range(10)]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("lon=108", "lat"),
        ("lat=15.5", "lon"),
        ("lat=&lon=108", "lat"),
        ("lat=abc&lon=108", "lat"),
        ("lat=91&lon=108", "lat"),
        ("lat=-90.5&lon=108", "lat"),
        ("lat=nan&lon=108", "lat"),
        ("lat=15&lon=181", "lon"),
        ("lat=15&lon=-180.01", "lon"),
        ("lat=15&lon=inf", "lon"),
        ("lat=15&lon=108&kind=shop", "kind"),
        ("lat=15&lon=108&kind=centre,shop", "kind"),
        ("lat=15&lon=108&group=Nothing", "group"),
        ("lat=15&lon=108&min_stars=6", "min_stars"),
        ("lat=15&lon=108&min_stars=three", "min_stars"),
    ],
)
def test_bad_nearby_input_is_400_naming_the_parameter(vclient, query, parameter):
    body = nearby(vclient, query, status=400)
    assert body["parameter"] == parameter
    assert f"'{parameter}'" in body["message"]


def test_far_away_point_still_gets_places_with_distances(vclient):
    places = nearby(vclient, "lat=21.03&lon=105.85")  # Hà Nội
    assert len(places) == 3
    assert all(600_000 < p["distance_m"] < 800_000 for p in places)
    antipode = nearby(vclient, "lat=-15.6&lon=-71.9&limit=1")
    assert antipode[0]["distance_m"] > 19_000_000
    assert antipode[0]["distance_text"].endswith(" km")


def test_kind_filter(vclient):
    assert [p["id"] for p in nearby(vclient, "lat=15.55&lon=108.05&kind=producer")] == ["PR2"]
    both = nearby(vclient, "lat=15.55&lon=108.05&kind=centre,sales_point")
    assert [p["id"] for p in both] == ["O1", "O2"]


def test_group_and_star_filters_keep_places_with_a_matching_product(vclient):
    drinks = nearby(vclient, "lat=15.55&lon=108.05&group=Đồ uống")
    assert [p["id"] for p in drinks] == ["O1", "PR2"]
    assert [x["product_id"] for x in drinks[0]["products"]] == ["P2"]
    assert [x["product_id"] for x in drinks[1]["products"]] == ["P5"]
    good_drinks = nearby(vclient, "lat=15.55&lon=108.05&group=Đồ uống&min_stars=3")
    assert [p["id"] for p in good_drinks] == ["O1"]
    five = nearby(vclient, "lat=15.55&lon=108.05&min_stars=5")
    assert [p["id"] for p in five] == ["PR2"]
    assert [x["product_id"] for x in five[0]["products"]] == ["P3"]
    assert nearby(vclient, "lat=15.55&lon=108.05&kind=centre&min_stars=5") == []


def search(client, query: str, status: int = 200):
    response = client.get("/api/search?" + query)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def test_search_returns_type_name_id_location_and_score(vclient):
    hits = search(vclient, "q=mat ong")
    assert hits[0] | {"type": "product", "id": "P1", "name": "Mật ong <rừng>"} == hits[0]
    assert hits[0]["location"] == {"lat": 15.55, "lon": 108.05}
    assert 0 < hits[0]["score"] <= 1.05
    assert hits[0]["producer_name"] == "HTX Một" and hits[0]["stars"] == 3


def test_search_covers_every_type_and_ranks_exact_first(vclient):
    tay = search(vclient, "q=tay")
    assert (tay[0]["type"], tay[0]["id"]) == ("district", "101")
    assert tay[0]["score"] > tay[1]["score"]
    types = {
        h["type"]
        for q in ("q=tay", "q=htx mot", "q=xa mot", "q=trung tam")
        for h in search(vclient, q)
    }
    assert types == {"district", "commune", "producer", "outlet"}
    assert search(vclient, "q=XA BON")[0]["name"] == "Xã Bốn <b>"
    assert len(search(vclient, "q=a&limit=2")) == 2


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("", "q"),
        ("q=", "q"),
        ("q=%20%20", "q"),
        ("q=" + "x" * 101, "q"),
        ("q=tay&limit=0", "limit"),
        ("q=tay&limit=51", "limit"),
    ],
)
def test_bad_search_input_is_400_naming_the_parameter(vclient, query, parameter):
    body = search(vclient, query, status=400)
    assert body["parameter"] == parameter


def test_nearby_page_structure_and_accessibility(vclient):
    response = vclient.get("/nearby?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Reading order: search, then the list, then the map.
    assert (
        html.index('id="search-q"') < html.index('id="nearby-list"') < html.index('id="nearby-map"')
    )
    # Every form control has a label.
    for control_id in re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', html):
        assert f'for="{control_id}"' in html, control_id
    for checkbox in re.findall(r'<input type="checkbox"[^>]*>', html):
        assert re.search(r'<label class="check">' + re.escape(checkbox), html)
    assert "js/nearby.js" in html and 'id="nearby-config"' in html
    assert 'class="lang-switch"' in html
    # Data texts (a product group with markup) are escaped.
    assert "Dược <liệu>" not in html
    assert "Dược &lt;liệu&gt;" in html


def test_nearby_page_takes_a_position_from_the_link_and_checks_it(vclient):
    html = vclient.get("/nearby?lat=15.6&lon=108.1&kind=producer").get_data(as_text=True)
    assert '"start": {"lat": 15.6, "lon": 108.1}' in html
    assert re.search(r'value="centre"\s*>', html)  # unchecked: only producer was chosen
    assert re.search(r'value="producer" checked', html)
    bad = vclient.get("/nearby?lat=95&lon=108")
    assert bad.status_code == 400 and bad.mimetype == "text/html"
    assert "lat" in bad.get_data(as_text=True)
    assert vclient.get("/nearby?group=Nothing").status_code == 400


@pytest.mark.realdata
def test_real_nearby_from_hoi_an_old_town(real_client):
    places = real_client.get("/api/nearby?lat=15.8770&lon=108.3265").get_json()
    assert places[0]["id"] == "QN-S01"  # Trung tâm OCOP thành phố Hội An
    assert places[0]["distance_m"] < 1000 and places[0]["distance_text"].endswith(" m")
    assert places[0]["approximate"] is True
    distances = [p["distance_m"] for p in places]
    assert distances == sorted(distances)
    producers = real_client.get("/api/nearby?lat=15.76&lon=108.41&kind=producer").get_json()
    assert producers and producers[0]["id"] == "QN-PR078"
    assert producers[0]["runs_outlets"][0]["id"] == "QN-S05"
    shop = real_client.get("/api/nearby?lat=15.76&lon=108.41&kind=sales_point&limit=1").json[0]
    assert shop["id"] == "QN-S05" and shop["operator_producer_ids"] == ["QN-PR078"]
    assert {p["basis"] for p in shop["products"]} <= {"operator", "same_commune"}


@pytest.mark.realdata
def test_real_search_examples(real_client):
    def names(q):
        return [(h["type"], h["name"]) for h in real_client.get(f"/api/search?q={q}").json]

    hoi_an = names("hoi an")
    assert hoi_an[0] == ("district", "Thành phố Hội An")
    tra_my = [name for _, name in names("tra my")]
    assert "Huyện Bắc Trà My" in tra_my and "Huyện Nam Trà My" in tra_my
    dang_sam = names("dang sam")
    assert dang_sam and all(t == "product" for t, _ in dang_sam[:3])
    assert all("sâm" in n.lower() for _, n in dang_sam[:3])
    assert names("Đảng sâm")[:3] == dang_sam[:3]


@pytest.fixture()
def expiry_day_client(visitor_data_dir):
    """The visitor data on 2026-06-01, the day P1's certificate (2023-06-01, 36 months) ends."""
    app = create_app({"data_dir": visitor_data_dir, "testing": True, "tile_url": "none"})
    return at_today(app, dt.date(2026, 6, 1)).test_client()


def test_nearby_labels_a_certificate_expired_today_and_filters_it_by_stars(expiry_day_client):
    o1 = nearby(expiry_day_client, "lat=15.55&lon=108.05&lang=en")[0]
    assert o1["id"] == "O1"
    p1 = next(p for p in o1["products"] if p["product_id"] == "P1")
    assert p1["ocop_status"] == "expired"
    assert p1["status_text"] == "certificate expired on 2026-06-01; renewal not recorded"
    vi = nearby(expiry_day_client, "lat=15.55&lon=108.05&lang=vi")[0]
    p1_vi = next(p for p in vi["products"] if p["product_id"] == "P1")
    assert "01/06/2026" in p1_vi["status_text"] and "renewal" not in p1_vi["status_text"]
    p2 = next(p for p in o1["products"] if p["product_id"] == "P2")
    assert p2["ocop_status"] == "ocop" and p2["status_text"] is None
    # At ≥3★ only P2 is left at O1; in the food group O1 has no valid product at all.
    three = nearby(expiry_day_client, "lat=15.55&lon=108.05&min_stars=3")
    assert [p["product_id"] for p in three[0]["products"]] == ["P2"]
    food = nearby(expiry_day_client, "lat=15.55&lon=108.05&group=Thực phẩm")
    assert "O1" not in [p["id"] for p in food]
    assert [x["product_id"] for x in food[0]["products"]] == ["P3"]  # PR2: P4 expired


def test_nearby_labels_an_undated_and_an_unrated_product(visitor_data_dir, tmp_path):
    data_dir = write_tiny_data(tmp_path)
    path = data_dir / "ocop" / "producers.csv"
    producers = pd.read_csv(path, dtype=str, keep_default_na=False)
    producers["sells_on_site"] = "true"
    producers.to_csv(path, index=False)
    path = data_dir / "ocop" / "products.csv"
    products = pd.read_csv(path, dtype=str, keep_default_na=False)
    products.loc[products["product_id"] == "P5", "stars"] = ""
    products.to_csv(path, index=False)
    app = at_today(create_app({"data_dir": data_dir, "testing": True, "tile_url": "none"}))
    places = {p["id"]: p for p in nearby(app.test_client(), "lat=15.6&lon=108.1&lang=en")}
    p6 = places["PR3"]["products"][0]
    assert (p6["product_id"], p6["ocop_status"]) == ("P6", "ocop")
    assert p6["status_text"] == "recognition date not recorded"
    p5 = next(p for p in places["PR2"]["products"] if p["product_id"] == "P5")
    assert p5["ocop_status"] == "no_rating"
    assert p5["status_text"] == "not an OCOP product: no confirmed star rating"


def test_search_products_carry_the_status_label(expiry_day_client):
    hit = search(expiry_day_client, "q=mat ong&lang=en")[0]
    assert (hit["id"], hit["ocop_status"]) == ("P1", "expired")
    assert hit["status_text"] == "certificate expired on 2026-06-01; renewal not recorded"
    tea = search(expiry_day_client, "q=tra xanh&lang=en")[0]
    assert (tea["id"], tea["ocop_status"], tea["status_text"]) == ("P2", "ocop", None)
    place_hits = search(expiry_day_client, "q=tay")
    assert all("status_text" not in h for h in place_hits if h["type"] != "product")


def test_visitors_use_today_not_the_planners_as_of(visitor_data_dir):
    app = create_app(
        {"data_dir": visitor_data_dir, "testing": True, "tile_url": "none", "as_of": "2026-06-01"}
    )
    o1 = nearby(at_today(app).test_client(), "lat=15.55&lon=108.05")[0]
    assert {p["product_id"]: p["ocop_status"] for p in o1["products"]} == {
        "P1": "ocop",
        "P2": "ocop",
    }


def test_nearby_page_says_validity_is_judged_today(vclient):
    en = vclient.get("/nearby?lang=en").get_data(as_text=True)
    assert "valid today (36 months from its recognition); the data records no renewals" in en
    vi = vclient.get("/nearby?lang=vi").get_data(as_text=True)
    assert "còn hiệu lực vào hôm nay (36 tháng" in vi
