"""Delivery mechanisms on the tiny data set: ETags and 304s, gzip and brotli, Vary, cache
lifetimes, data changes, warm-up and the benchmark route."""

from __future__ import annotations

import html
import json
import os
import re
import threading

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from geoapp import create_app
from geoapp.services import coverage as coverage_module
from geoapp.services import topology as topology_module
from geoapp.services.compression import decompress
from geoapp.web.compression import choose_coding
from geoapp.web.warmup import warm
from tests import tiny_data
from tests.tiny_data import write_tiny_data

PAGE = "/"
DATA = "/api/communes.geojson?edition=2020"
TOPOLOGY = "/api/map.topojson?edition=2020"
GEOMETRY = "/api/boundaries.topojson?edition=2020"
STATUS = "/api/coverage/status.json?edition=2020"
STATIC = "/static/js/coverage-map.js"
URLS = [
    PAGE,
    DATA,
    TOPOLOGY,
    GEOMETRY,
    STATUS,
    "/api/producers.geojson",
    STATIC,
    "/static/css/app.css",
]


def get(client, url, encoding="", etag=None):
    headers = {"Accept-Encoding": encoding}
    if etag:
        headers["If-None-Match"] = etag
    return client.get(url, headers=headers)


def request_with(accept_encoding: str) -> Request:
    return Request(EnvironBuilder(headers={"Accept-Encoding": accept_encoding}).get_environ())


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", None),
        ("identity", None),
        ("gzip, deflate", "gzip"),
        ("gzip, deflate, br, zstd", "br"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0.9, br;q=0.5", "gzip"),
        ("gzip;q=0, br;q=0", None),
        ("*", "br"),
    ],
)
def test_choose_coding_follows_accept_encoding(header, expected):
    assert choose_coding(request_with(header)) == expected


@pytest.mark.parametrize("url", URLS)
def test_every_encoding_decodes_to_the_same_bytes(client, url):
    plain = get(client, url)
    assert plain.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    for coding in ("gzip", "br"):
        encoded = get(client, url, coding)
        assert encoded.status_code == 200
        assert encoded.headers["Content-Encoding"] == coding
        assert "Accept-Encoding" in encoded.headers["Vary"]
        assert len(encoded.data) < len(plain.data)
        assert decompress(encoded.data, coding) == plain.data


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("coding", ["", "gzip", "br"])
def test_etag_and_304_for_page_data_and_static(client, url, coding):
    first = get(client, url, coding)
    etag = first.headers["ETag"]
    again = get(client, url, coding, etag=etag)
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag


def test_each_coding_has_its_own_etag(client):
    for url in URLS:
        tags = {get(client, url, coding).headers["ETag"] for coding in ("", "gzip", "br")}
        assert len(tags) == 3, url


def test_an_etag_of_another_coding_gets_the_full_body(client):
    gzip_tag = get(client, DATA, "gzip").headers["ETag"]
    response = get(client, DATA, "br", etag=gzip_tag)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"


def test_cache_lifetimes(client):
    assert get(client, PAGE).headers["Cache-Control"] == "no-cache"
    assert get(client, DATA).headers["Cache-Control"] == "no-cache"  # names no data version
    assert "max-age=300" in get(client, STATIC).headers["Cache-Control"]


def test_data_urls_of_a_page_name_the_data_version_and_are_kept_for_good(client, tiny_app):
    """Geometry names the boundary build's version, everything else the data version."""
    store = tiny_app.extensions["geoapp"].store
    page = get(client, PAGE).get_data(as_text=True)
    urls = set(re.findall(r'"(/api/[^"?]+\?[^"]*)"', page))
    assert len(urls) >= 4, "the page names its data URLs"
    for url in urls:
        geometry = url.startswith("/api/boundaries.topojson")
        version = store.boundary_version() if geometry else store.data_version()
        assert f"v={version}" in url, url
        assert (
            "immutable"
            in get(client, html.unescape(url.replace("\\u0026", "&"))).headers["Cache-Control"]
        )
    separator = "&" if "?" in DATA else "?"
    stale = get(client, f"{DATA}{separator}v=v0000-old")
    assert stale.headers["Cache-Control"] == "no-cache"


def test_repeat_visit_transfers_little(client):
    """Every resource of a first visit, asked again with its ETag, is a 304 without a body."""
    urls = [PAGE, GEOMETRY, STATUS, "/api/producers.geojson", "/api/outlets.geojson", STATIC]
    tags = {url: get(client, url, "gzip").headers["ETag"] for url in urls}
    answers = [get(client, url, "gzip", etag=tag) for url, tag in tags.items()]
    assert [a.status_code for a in answers] == [304] * len(urls)
    assert sum(len(a.data) for a in answers) == 0


def test_small_bodies_are_not_compressed():
    app = create_app({"data_dir": "/nonexistent", "testing": True, "bench_routes": True})
    response = app.test_client().get("/bench/hello", headers={"Accept-Encoding": "gzip, br"})
    assert response.data == b"hello"
    assert "Content-Encoding" not in response.headers


def test_bench_route_only_with_its_setting(tiny_data_dir):
    assert (
        create_app({"data_dir": tiny_data_dir}).test_client().get("/bench/hello").status_code == 404
    )
    app = create_app({"data_dir": tiny_data_dir, "bench_routes": "1"})
    assert app.test_client().get("/bench/hello").data == b"hello"


def test_page_works_without_tiles(client):
    html = get(client, PAGE).get_data(as_text=True)
    assert "tile.openstreetmap" not in html and "https://" not in html
    assert "/api/boundaries.topojson?edition=2020" in html
    assert '<script src="/static/vendor/leaflet/leaflet.js"' in html
    # With a few producers the clustering plugin is not even linked (only named for later).
    assert '<script src="/static/vendor/leaflet.markercluster' not in html
    assert '"fromPoints": 300' in html


@pytest.fixture()
def data_copy(tmp_path):
    return write_tiny_data(tmp_path / "data")


def test_a_data_change_changes_the_etags(data_copy):
    client = create_app({"data_dir": data_copy, "testing": True, "tile_url": "none"}).test_client()
    urls = (PAGE, DATA, TOPOLOGY, STATUS)
    before = {url: get(client, url, "gzip").headers["ETag"] for url in urls}
    products = tiny_data.products()
    products.loc[products["product_id"] == "P2", "stars"] = 2  # commune 10001: met -> below
    products.to_csv(data_copy / "ocop" / "products.csv", index=False)
    after = {url: get(client, url, "gzip").headers["ETag"] for url in urls}
    assert all(before[url] != after[url] for url in before), (before, after)
    features = json.loads(get(client, DATA).data)["features"]
    assert {f["properties"]["commune_code"]: f["properties"]["status"] for f in features}[
        "10001"
    ] == "below"
    assert get(client, DATA, "gzip", etag=before[DATA]).status_code == 200


def test_touching_a_file_recomputes_but_keeps_the_content_tag(data_copy, monkeypatch):
    """ETags name the content: a rebuild that changes nothing costs the client nothing; the
    geometry, versioned by the build's version (unchanged here), is not even rebuilt."""
    client = create_app({"data_dir": data_copy, "testing": True, "tile_url": "none"}).test_client()
    etag = get(client, TOPOLOGY).headers["ETag"]
    data_before = get(client, DATA).headers["ETag"]
    calls = []
    real = coverage_module.feature_collection
    monkeypatch.setattr(
        coverage_module, "feature_collection", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    built = []
    real_topology = topology_module.build_topology
    monkeypatch.setattr(
        topology_module, "build_topology", lambda *a, **k: built.append(1) or real_topology(*a, **k)
    )
    manifest = data_copy / "boundaries" / "manifest.json"
    stat = manifest.stat()
    os.utime(manifest, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    response = get(client, TOPOLOGY, etag=etag)
    assert calls  # the new data version was computed afresh ...
    assert built == []  # ... but not the geometry of the same boundary build
    assert response.status_code == 304
    assert get(client, DATA, etag=data_before).status_code == 304


def test_warm_up_leaves_no_geometry_work_for_requests(data_copy, monkeypatch):
    app = create_app({"data_dir": data_copy, "testing": True, "tile_url": "none"})
    timings = warm(app)
    assert TOPOLOGY in timings and GEOMETRY in timings and "/?edition=2025" in timings
    assert STATIC in timings  # the scripts and stylesheets the page links
    calls = []
    monkeypatch.setattr(topology_module, "build_topology", lambda *a, **k: calls.append(1))
    client = app.test_client()
    for url in (PAGE, TOPOLOGY, GEOMETRY, STATUS, "/api/boundaries.topojson?edition=2025", DATA):
        assert get(client, url, "gzip").status_code == 200
    assert calls == []


def test_creating_an_app_starts_no_warm_up(tiny_data_dir):
    create_app({"data_dir": tiny_data_dir})
    assert not [t for t in threading.enumerate() if t.name == "geoapp-warmup"]


def test_page_cache_keeps_languages_apart(tiny_app):
    client = tiny_app.test_client()
    cache = tiny_app.extensions["geoapp.page_cache"]
    english = client.get("/", headers={"Accept-Language": "en"}).data
    vietnamese = client.get("/", headers={"Accept-Language": "vi"}).data
    assert english != vietnamese
    hits = cache.hits
    assert client.get("/", headers={"Accept-Language": "en"}).data == english
    assert client.get("/", headers={"Accept-Language": "vi"}).data == vietnamese
    assert cache.hits == hits + 2


def test_a_cached_page_still_sets_the_language_cookie(tiny_app):
    client = tiny_app.test_client(use_cookies=False)  # the second request as the first
    cache = tiny_app.extensions["geoapp.page_cache"]
    first = client.get("/?lang=en")
    hits = cache.hits
    second = client.get("/?lang=en")
    assert cache.hits == hits + 1
    assert second.data == first.data
    assert "lang=en" in second.headers["Set-Cookie"]


def test_pages_that_change_the_session_are_not_cached(tiny_app):
    from flask import session

    @tiny_app.before_request
    def new_visitor_token():
        session["token"] = "for this visitor only"

    tiny_app.secret_key = "test only"
    client = tiny_app.test_client(use_cookies=False)
    cache = tiny_app.extensions["geoapp.page_cache"]
    assert client.get("/").status_code == 200
    hits = cache.hits
    assert client.get("/").status_code == 200
    assert cache.hits == hits
