"""Illustrative data: published shares, placement, determinism, validity and the UI banner."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from geoapp.domain.validation import GROUPS_148
from geoapp.services import demo_data, imports
from geoapp.services.demo_data import DemoSpec, expected_share, generate
from geoapp.services.imports import ImportService
from tests import tiny_data
from tests.tiny_data import tiny_app


@pytest.fixture(scope="module")
def big():
    spec = DemoSpec(products=6000, seed=7)
    return generate(tiny_data.communes_2020(), tiny_data.districts_2020(), spec)


def shares(values) -> dict:
    counts = values.value_counts(normalize=True)
    return counts.to_dict()


def test_counts_default_from_the_province_ratio(big):
    assert len(big["products"]) == 6000
    assert len(big["producers"]) == round(6000 / 1.48)
    assert len(big["outlets"]) == 6000 // 20
    for kind, frame in big.items():
        column = {"products": "product_id", "producers": "producer_id", "outlets": "outlet_id"}
        assert frame[column[kind]].is_unique and frame[column[kind]].str.startswith("DEMO-").all()


def test_every_record_is_flagged_illustrative(big):
    for frame in big.values():
        assert set(frame["illustrative"]) == {"true"}
        assert frame["notes"].str.contains("illustrative").all()


@pytest.mark.parametrize(
    ("column", "pairs"),
    [
        ("group_1048", demo_data.GROUP_SHARES),
        ("stars", [(str(s), n) for s, n in demo_data.STAR_SHARES]),
    ],
)
def test_products_follow_the_published_shares(big, column, pairs):
    got = shares(big["products"][column])
    for value, share in expected_share(pairs).items():
        assert abs(got.get(value, 0.0) - share) < 0.02, (value, got.get(value), share)


def test_producer_types_follow_the_published_shares(big):
    got = shares(big["producers"]["producer_type"])
    for value, share in expected_share(demo_data.TYPE_SHARES).items():
        assert abs(got[value] - share) < 0.025


def test_groups_148_are_known_and_every_product_has_a_known_producer(big):
    assert set(big["products"]["group_148"]) <= {vi for vi, _ in GROUPS_148}
    assert set(big["products"]["producer_id"]) == set(big["producers"]["producer_id"])


def test_producers_lie_inside_their_commune(big):
    communes = tiny_data.communes_2020().set_index("commune_code")
    producers = big["producers"]
    points = gpd.points_from_xy(producers["lon"].astype(float), producers["lat"].astype(float))
    shapes = communes.geometry.reindex(producers["commune_code"]).to_numpy()
    assert all(shape.contains(point) for shape, point in zip(shapes, points, strict=True))
    assert (
        producers["district_code"].tolist()
        == communes["district_code"].reindex(producers["commune_code"]).tolist()
    )


def test_more_producers_in_towns_and_near_main_roads():
    far = box(107.10, 15.10, 107.14, 15.14)  # west, far from the traced roads
    near = box(108.46, 15.55, 108.50, 15.59)  # on QL1A at Tam Kỳ
    communes = gpd.GeoDataFrame(
        {
            "commune_code": ["1", "2", "3"],
            "commune_name": ["Xa", "Gan", "Pho"],
            "commune_full_name": ["Xã Xa", "Xã Gần", "Phường Phố"],
            "district_code": ["9"] * 3,
            "commune_type": ["Xã", "Xã", "Phường"],
        },
        geometry=[far, near, box(107.20, 15.10, 107.24, 15.14)],
        crs="EPSG:4326",
    )
    weights = demo_data.commune_weights(communes)
    assert weights[1] > weights[0] + 2.5  # near the road
    assert weights[2] > weights[0] + 2.5  # a ward
    frames = generate(communes, tiny_data.districts_2020(), DemoSpec(products=3000, seed=1))
    per_commune = frames["producers"]["commune_code"].value_counts()
    assert per_commune["2"] > 2 * per_commune["1"] and per_commune["3"] > 2 * per_commune["1"]


def test_outlets_sit_near_district_centres(big):
    communes = tiny_data.communes_2020()
    outlets = big["outlets"]
    assert set(outlets["district_code"]) == {"101", "102"}
    # district 102's only town is Phường Ba (10003): its outlets are there
    assert set(outlets.loc[outlets["district_code"] == "102", "commune_code"]) == {"10003"}
    metric = communes.geometry.to_crs("EPSG:32649")
    centres = demo_data.district_centres(communes, metric)
    assert communes.at[centres["102"], "commune_code"] == "10003"


def test_same_seed_same_data_other_seed_other_data():
    communes, districts = tiny_data.communes_2020(), tiny_data.districts_2020()
    a = generate(communes, districts, DemoSpec(products=200, seed=3))
    b = generate(communes, districts, DemoSpec(products=200, seed=3))
    c = generate(communes, districts, DemoSpec(products=200, seed=4))
    for kind in a:
        assert a[kind].equals(b[kind])
    assert not a["producers"]["lon"].equals(c["producers"]["lon"])


def test_explicit_counts_and_more_producers_than_products():
    frames = generate(
        tiny_data.communes_2020(),
        tiny_data.districts_2020(),
        DemoSpec(products=10, seed=0, producers=25, outlets=3),
    )
    assert [len(frames[k]) for k in ("products", "producers", "outlets")] == [10, 25, 3]
    assert frames["products"]["producer_id"].is_unique


@pytest.fixture()
def app(tmp_path):
    return tiny_app(tmp_path)


def test_generated_files_pass_validation(app, tmp_path):
    state = app.extensions["geoapp"]
    service = ImportService(state.store, state.settings)
    frames = imports.demo_frames(service, DemoSpec(products=120, seed=2))
    paths = imports.write_frames(frames, tmp_path / "demo")
    plan = service.plan_paths(paths)
    assert plan.ok, plan.report.to_text()
    assert plan.report.n_warnings == 0
    assert plan.counts["products"]["added"] == 120


BANNER = "Illustrative data is loaded"


def test_banner_shows_whenever_illustrative_records_are_loaded(app):
    client = app.test_client()
    state = app.extensions["geoapp"]
    service = ImportService(state.store, state.settings)
    assert BANNER not in client.get("/?lang=en").get_data(as_text=True)
    frames = imports.demo_frames(service, DemoSpec(products=30, seed=1))
    imports.apply_demo(service, frames)
    page = client.get("/?lang=en").get_data(as_text=True)
    assert BANNER in page
    geojson = client.get("/api/producers.geojson").get_json()
    flags = {
        f["properties"]["producer_id"]: f["properties"]["illustrative"] for f in geojson["features"]
    }
    assert flags["PR1"] is False and flags["DEMO-PR0000001"] is True
    service.rollback("seed")
    assert BANNER not in client.get("/?lang=en").get_data(as_text=True)


def test_a_new_demo_set_replaces_the_old_one_and_keeps_real_records(app):
    state = app.extensions["geoapp"]
    service = ImportService(state.store, state.settings)
    imports.apply_demo(service, imports.demo_frames(service, DemoSpec(products=50, seed=1)))
    imports.apply_demo(service, imports.demo_frames(service, DemoSpec(products=20, seed=2)))
    products = state.store.ocop().products
    assert int(products["illustrative"].sum()) == 20
    assert {"P1", "P2", "P3", "P4", "P5", "P6"} <= set(products["product_id"])
    assert np.all(products.loc[~products["illustrative"], "product_id"].str.startswith("P"))
