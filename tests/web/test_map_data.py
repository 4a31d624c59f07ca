"""Map data resources: geometry (TopoJSON, vector tiles; versioned by the boundary build) apart
from the coverage status (versioned by the data), and an edition mapped by area on the tiny
data set with a low ``map_full_communes_max``."""

from __future__ import annotations

import json

import mapbox_vector_tile
import pytest
from topojson.utils import serialize_as_geojson

from geoapp.services.vector_tiles import MIMETYPE as MVT_MIMETYPE
from geoapp.services.vector_tiles import lon_lat_tile
from geoapp.web.api import UNVERSIONED_CACHE_CONTROL, VERSIONED_CACHE_CONTROL
from tests.tiny_data import tiny_app


@pytest.fixture()
def area_app(tmp_path):
    return tiny_app(tmp_path, map_full_communes_max=2)  # 4 communes in 2020: by area


def page_config(client, url: str) -> dict:
    html = client.get(url).get_data(as_text=True)
    start = html.index("OcopMap.init(")
    start = html.index("{", start)
    config, _ = json.JSONDecoder().raw_decode(html[start:])
    return config


def test_a_small_edition_is_sent_whole_geometry_apart_from_status(client, tiny_app):
    config = page_config(client, "/?edition=2020")
    assert config["byArea"] is None
    store = tiny_app.extensions["geoapp"].store
    urls = config["urls"]
    assert (
        urls["boundaries"] == f"/api/boundaries.topojson?edition=2020&v={store.boundary_version()}"
    )
    assert urls["status"].startswith("/api/coverage/status.json?edition=2020&")
    assert urls["status"].endswith(f"&v={store.data_version()}")
    topology = json.loads(client.get(urls["boundaries"]).data)
    assert len(topology["objects"]["communes"]["geometries"]) == 4
    status = json.loads(client.get(urls["status"]).data)
    features = serialize_as_geojson(topology, objectname="communes")["features"]
    assert {f["properties"]["commune_code"] for f in features} == set(status["communes"])


def test_geometry_is_kept_for_good_under_its_boundary_version_only(client, tiny_app):
    store = tiny_app.extensions["geoapp"].store
    current = client.get(f"/api/boundaries.topojson?edition=2025&v={store.boundary_version()}")
    assert current.headers["Cache-Control"] == VERSIONED_CACHE_CONTROL
    assert current.mimetype == "application/topo+json"
    # the data version is not the geometry's version
    other = client.get(f"/api/boundaries.topojson?edition=2025&v={store.data_version()}")
    assert other.headers["Cache-Control"] == UNVERSIONED_CACHE_CONTROL
    status = client.get(f"/api/coverage/status.json?edition=2025&v={store.data_version()}")
    assert status.headers["Cache-Control"] == VERSIONED_CACHE_CONTROL
    old = client.get(f"/api/coverage/status.json?edition=2025&v={store.boundary_version()}")
    assert old.headers["Cache-Control"] == UNVERSIONED_CACHE_CONTROL


def test_status_follows_the_coverage_filters(client):
    default = json.loads(client.get("/api/coverage/status.json?edition=2020").data)
    relaxed = json.loads(client.get("/api/coverage/status.json?edition=2020&target=1").data)
    assert default["communes"]["10003"]["status"] == "below"
    assert relaxed["communes"]["10003"]["status"] == "met"
    met = [s["districts"]["102"]["communes_met"] for s in (default, relaxed)]
    assert met[1] == met[0] + 1  # 10003 of district 102 now meets the target


def test_bad_parameters_of_the_map_data_are_a_400(client):
    response = client.get("/api/boundaries.topojson?edition=1999")
    assert response.status_code == 400 and response.get_json()["parameter"] == "edition"
    response = client.get("/api/coverage/status.json?edition=2020&target=x")
    assert response.status_code == 400 and response.get_json()["parameter"] == "target"


def test_an_edition_over_the_limit_is_mapped_by_area(area_app):
    client = area_app.test_client()
    store = area_app.extensions["geoapp"].store
    area = page_config(client, "/?edition=2020")["byArea"]
    assert area["tiles"] == f"/tiles/2020/{{z}}/{{x}}/{{y}}.mvt?v={store.boundary_version()}"
    assert area["minZoom"] == 9
    topology = json.loads(client.get("/api/boundaries.topojson?edition=2020").data)
    assert list(topology["objects"]) == ["districts"]  # the first load: districts only
    status = json.loads(client.get("/api/coverage/status.json?edition=2020").data)
    assert status["districts"]["101"]["communes_met"] == 1
    assert status["districts"]["101"]["n_communes"] == 2
    # 2025 has 3 communes: by area too; a limit of 3 would send it whole
    assert page_config(client, "/?edition=2025")["byArea"] is not None
    html = client.get("/?edition=2020").get_data(as_text=True)
    assert "/static/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js" in html


def test_a_small_edition_links_no_vector_tile_plugin(client):
    html = client.get("/?edition=2020").get_data(as_text=True)
    assert "leaflet.vectorgrid" not in html
    assert "/static/vendor/topojson-client/topojson-client.min.js" in html


def test_a_vector_tile_holds_its_communes(area_app):
    client = area_app.test_client()
    store = area_app.extensions["geoapp"].store
    z = 10
    x, y = lon_lat_tile(108.1, 15.6, z)
    response = client.get(f"/tiles/2020/{z}/{x}/{y}.mvt?v={store.boundary_version()}")
    assert response.status_code == 200 and response.mimetype == MVT_MIMETYPE
    assert response.headers["Cache-Control"] == VERSIONED_CACHE_CONTROL
    layer = mapbox_vector_tile.decode(response.data)["communes"]
    codes = sorted(f["properties"]["commune_code"] for f in layer["features"])
    assert codes == ["10001", "10002", "10003", "10004"]
    unversioned = client.get(f"/tiles/2020/{z}/{x}/{y}.mvt")
    assert unversioned.headers["Cache-Control"] == UNVERSIONED_CACHE_CONTROL
    assert unversioned.data == response.data


@pytest.mark.parametrize(
    "path", ["/tiles/1999/9/1/1.mvt", "/tiles/2020/9/512/1.mvt", "/tiles/2020/25/0/0.mvt"]
)
def test_a_tile_outside_the_scheme_is_a_404(client, path):
    assert client.get(path).status_code == 404


def test_warm_up_builds_a_tile_of_an_edition_by_area(area_app):
    from geoapp.web.warmup import warm

    timings = warm(area_app)
    x, y = lon_lat_tile(108.05, 15.55, 9)
    assert f"/tiles/2020/9/{x}/{y}.mvt" in timings
    assert "/api/boundaries.topojson?edition=2020" in timings
    assert "/api/coverage/status.json?edition=2025" in timings


def test_districts_are_filled_only_where_the_editions_communes_nest(area_app):
    client = area_app.test_client()
    assert page_config(client, "/?edition=2020")["byArea"]["fill"] is True
    assert page_config(client, "/?edition=2025")["byArea"]["fill"] is False  # 2020 districts
