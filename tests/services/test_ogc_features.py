"""OGC collections on the tiny data set: tables, paging, bbox, datetime and property filters."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from geoapp.services.ogc_features import (
    COLLECTIONS,
    ItemQuery,
    OgcFeaturesService,
    QueryError,
    spec_of,
)


@pytest.fixture()
def service(tiny_app) -> OgcFeaturesService:
    state = tiny_app.extensions["geoapp"]
    return OgcFeaturesService(state.store, state.coverage)


def ids(service, collection, **query) -> list[str]:
    page = service.items(spec_of(collection), ItemQuery(**query))
    return [json.loads(text)["id"] for text in page.features]


def props(service, collection, **query) -> dict[str, dict]:
    page = service.items(spec_of(collection), ItemQuery(**query))
    return {json.loads(t)["id"]: json.loads(t)["properties"] for t in page.features}


def test_every_collection_has_every_row_of_the_store(service, tiny_app):
    store = tiny_app.extensions["geoapp"].store
    expected = {
        "communes_2020": list(store.communes("2020")["commune_code"]),
        "communes_2025": list(store.communes("2025")["commune_code"]),
        "districts_2020": list(store.districts()["district_code"]),
        "producers": list(store.ocop().producers["producer_id"]),
        "outlets": list(store.ocop().outlets["outlet_id"]),
        "crosswalk_2020_2025": list(store.crosswalk()["old_commune_code"]),
    }
    for spec in COLLECTIONS:
        page = service.items(spec, ItemQuery(limit=10_000))
        assert page.number_matched == len(expected[spec.id]), spec.id
        features = [json.loads(text) for text in page.features]
        assert [f["id"] for f in features] == expected[spec.id]
        assert all(list(f["properties"]) == [x.name for x in spec.fields] for f in features)
        assert all((f["geometry"] is None) == (spec.geometry is None) for f in features)


def test_communes_carry_coverage_at_the_given_parameters(service, tiny_app):
    coverage = tiny_app.extensions["geoapp"].coverage
    default = props(service, "communes_2020")
    assert default["10001"]["status"] == "met"
    assert default["10001"]["product_names"] == "Mật ong <rừng>; Trà xanh"
    assert default["10003"] | {"status": "below", "n_products": 1} == default["10003"]
    stricter = props(service, "communes_2020", coverage=coverage.default_params(target=3))
    assert stricter["10001"]["status"] == "below"
    assert stricter["10001"]["target"] == 3
    assert props(service, "communes_2025")["20003"]["status"] == "no_data"


def test_geometry_is_lon_lat(service):
    feature = json.loads(service.feature(spec_of("communes_2020"), "10001"))
    ring = feature["geometry"]["coordinates"][0]
    assert feature["geometry"]["type"] == "Polygon"
    assert {tuple(p) for p in ring} == {(108.0, 15.5), (108.1, 15.5), (108.1, 15.6), (108.0, 15.6)}


def test_paging_slices_the_matches_in_store_order(service):
    assert ids(service, "communes_2020", limit=3) == ["10001", "10002", "10003"]
    page = service.items(spec_of("communes_2020"), ItemQuery(limit=3, offset=3))
    assert page.number_matched == 4
    assert [json.loads(t)["id"] for t in page.features] == ["10004"]
    assert ids(service, "communes_2020", offset=10) == []


def test_bbox_selects_what_it_intersects(service):
    assert ids(service, "communes_2020", bbox=(108.01, 15.51, 108.04, 15.54)) == ["10001"]
    assert ids(service, "outlets", bbox=(108.1, 15.6, 108.2, 15.7)) == ["O2"]
    assert ids(service, "producers", bbox=(0.0, 0.0, 1.0, 1.0)) == []
    # west > east crosses the antimeridian: 100..180 and -180..-170 hold every commune
    assert len(ids(service, "communes_2020", bbox=(100.0, 10.0, -170.0, 20.0))) == 4
    with pytest.raises(QueryError):
        service.items(spec_of("crosswalk_2020_2025"), ItemQuery(bbox=(0.0, 0.0, 1.0, 1.0)))


def test_datetime_of_producers_is_a_product_recognised_then(service):
    year_2024 = (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert ids(service, "producers", interval=year_2024) == ["PR1", "PR2"]
    assert ids(service, "producers", interval=(None, dt.date(2019, 12, 31))) == ["PR2"]
    assert ids(service, "producers", interval=(dt.date(2025, 1, 1), None)) == []
    pr1 = props(service, "producers")["PR1"]
    assert pr1 | {"first_recognised": "2023-06-01", "last_recognised": "2024-01-10"} == pr1
    assert pr1 | {"n_products": 2, "max_stars": 4, "product_ids": "P1; P2"} == pr1


def test_datetime_of_editions_is_their_period_in_force(service):
    assert (
        ids(service, "communes_2025", interval=(dt.date(2024, 1, 1), dt.date(2024, 12, 31))) == []
    )
    assert len(ids(service, "communes_2025", interval=(dt.date(2025, 7, 1), None))) == 3
    assert ids(service, "communes_2020", interval=(dt.date(2025, 7, 1), None)) == []
    assert len(ids(service, "districts_2020", interval=(dt.date(2024, 5, 1),) * 2)) == 2
    extent = service.extent(spec_of("communes_2025"))
    assert extent.interval == (dt.date(2025, 7, 1), None)
    assert extent.bbox == (108.0, 15.5, 108.2, 15.8)


def test_property_filters_compare_typed_values(service):
    assert ids(service, "communes_2020", properties={"status": "met"}) == ["10001"]
    assert ids(service, "communes_2020", properties={"district_code": "102"}) == ["10003", "10004"]
    assert ids(service, "producers", properties={"max_stars": "5"}) == ["PR2"]
    assert ids(service, "producers", properties={"approximate": "false"}) == []
    assert ids(service, "outlets", properties={"approximate": "false"}) == ["O2"]
    both = {"district_code": "102", "status": "none"}
    assert ids(service, "communes_2020", properties=both) == ["10004"]
    with pytest.raises(QueryError, match="not a whole number"):
        service.items(spec_of("producers"), ItemQuery(properties={"max_stars": "many"}))
    assert ids(service, "producers", properties={"first_recognised": "2023-06-01"}) == ["PR1"]
    with pytest.raises(QueryError, match="not a date"):
        service.items(spec_of("producers"), ItemQuery(properties={"first_recognised": "soon"}))
    with pytest.raises(QueryError, match="not a queryable"):
        service.items(spec_of("producers"), ItemQuery(properties={"nope": "1"}))


def test_target_is_a_coverage_parameter_not_a_filter():
    assert "target" not in {f.name for f in spec_of("communes_2020").queryables}
    assert "target" in {f.name for f in spec_of("communes_2020").fields}


def test_feature_by_id(service):
    outlet = json.loads(service.feature(spec_of("outlets"), "O2"))
    assert outlet["properties"]["name"] == "Điểm bán <Đông>"
    assert outlet["geometry"] == {"type": "Point", "coordinates": [108.18, 15.68]}
    assert service.feature(spec_of("outlets"), "O9") is None
    crosswalk = json.loads(service.feature(spec_of("crosswalk_2020_2025"), "10003"))
    assert crosswalk["properties"]["new_commune_code"] == "20002"
