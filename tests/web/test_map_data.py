"""Map data resources: the packed topology, and an edition mapped by area (districts first,
communes by cell) on the tiny data set with a low ``map_full_communes_max``."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geoapp.services.topology import decode
from geoapp.services.topopack import PACKED_MIMETYPE, unpack_topology
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


def test_a_small_edition_is_sent_whole(client):
    assert page_config(client, "/?edition=2020")["byArea"] is None
    topology = unpack_topology(client.get("/api/map.topopack?edition=2020").data)
    assert len(topology["objects"]["communes"]["geometries"]) == 4


def test_an_edition_over_the_limit_is_mapped_by_area(area_app):
    client = area_app.test_client()
    area = page_config(client, "/?edition=2020")["byArea"]
    assert area["url"].startswith("/api/communes.topopack?edition=2020&v=")
    assert area["cellDeg"] == 1.0 and area["minZoom"] == 9
    response = client.get("/api/map.topopack?edition=2020")
    assert response.mimetype == PACKED_MIMETYPE
    topology = unpack_topology(response.data)
    assert list(topology["objects"]) == ["districts"]  # the first load: districts only
    districts = {p["district_code"]: p for p, _ in decode(topology, "districts")}
    assert districts["101"]["communes_met"] == 1 and districts["101"]["n_communes"] == 2
    # 2025 has 3 communes: by area too; a limit of 3 would send it whole
    assert page_config(client, "/?edition=2025")["byArea"] is not None


def test_a_cell_carries_its_communes_with_their_properties(area_app):
    client = area_app.test_client()
    response = client.get("/api/communes.topopack?edition=2020&cell=108,15")
    assert response.status_code == 200 and response.mimetype == PACKED_MIMETYPE
    got = decode(unpack_topology(response.data), "communes")
    geojson = json.loads(client.get("/api/communes.geojson?edition=2020").data)["features"]
    assert [p for p, _ in got] == [f["properties"] for f in geojson]
    for (_, shape), feature in zip(got, geojson, strict=True):
        assert shape.hausdorff_distance(shapely.geometry.shape(feature["geometry"])) < 1e-4
    empty = unpack_topology(client.get("/api/communes.topopack?edition=2020&cell=107,15").data)
    assert empty["objects"]["communes"]["geometries"] == [] and empty["arcs"] == []


def test_a_cell_follows_the_coverage_filters(area_app):
    client = area_app.test_client()
    url = "/api/communes.topopack?edition=2020&cell=108,15"
    default = {
        p["commune_code"]: p["status"]
        for p, _ in decode(unpack_topology(client.get(url).data), "communes")
    }
    relaxed = {
        p["commune_code"]: p["status"]
        for p, _ in decode(unpack_topology(client.get(url + "&target=1").data), "communes")
    }
    assert default["10003"] == "below" and relaxed["10003"] == "met"


@pytest.mark.parametrize("cell", ["", "108", "108,15,1", "a,b", "1.5,2", "180,0", "0,90", "-181,0"])
def test_a_bad_cell_is_a_400_naming_it(area_app, cell):
    response = area_app.test_client().get(f"/api/communes.topopack?edition=2020&cell={cell}")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == "cell"


def test_warm_up_builds_a_cell_of_an_edition_by_area(area_app):
    from geoapp.web.warmup import warm

    timings = warm(area_app)
    assert "/api/communes.topopack?edition=2020&cell=108,15" in timings


def test_districts_are_filled_only_where_the_editions_communes_nest(area_app):
    client = area_app.test_client()
    assert page_config(client, "/?edition=2020")["byArea"]["fill"] is True
    assert page_config(client, "/?edition=2025")["byArea"]["fill"] is False  # 2020 districts


def test_a_commune_without_geometry_has_no_cell(tmp_path):
    from geoapp.web.map_data import topology_service
    from geoapp.web.warmup import area_cell_urls

    app = tiny_app(tmp_path, map_full_communes_max=2)
    boundaries = tmp_path / "data" / "boundaries"
    for name in ("communes_2020", "communes_2020_display"):
        frame = gpd.read_parquet(boundaries / f"{name}.parquet")
        empty = frame.iloc[[0]].assign(commune_code="10009", geometry=[shapely.Polygon()])
        pd.concat([frame, empty]).to_parquet(boundaries / f"{name}.parquet")
    with app.app_context():
        cells = topology_service().cell_codes("2020")
    assert cells == {(108, 15): frozenset({"10001", "10002", "10003", "10004"})}
    assert list(area_cell_urls(app)) == [
        "/api/communes.topopack?edition=2020&cell=108,15",
        "/api/communes.topopack?edition=2025&cell=108,15",
    ]
