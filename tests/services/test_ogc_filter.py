"""CQL2 text filters (pygeofilter) on the OGC tables of the tiny data set."""

from __future__ import annotations

import json

import pytest

from geoapp.services.ogc_features import ItemQuery, OgcFeaturesService, QueryError, spec_of


@pytest.fixture()
def service(tiny_app) -> OgcFeaturesService:
    state = tiny_app.extensions["geoapp"]
    return OgcFeaturesService(state.store, state.coverage)


def matching(service, collection: str, text: str) -> list[str]:
    page = service.items(spec_of(collection), ItemQuery(filter=text))
    return [json.loads(feature)["id"] for feature in page.features]


@pytest.mark.parametrize(
    ("collection", "text", "expected"),
    [
        ("communes_2020", "status = 'met'", ["10001"]),
        ("communes_2020", "status = 'met' OR status = 'below'", ["10001", "10003"]),
        ("communes_2020", "status <> 'none' AND district_code = '102'", ["10003"]),
        ("communes_2020", "NOT (n_products >= 1)", ["10002", "10004"]),
        ("communes_2020", "n_products BETWEEN 1 AND 2", ["10001", "10003"]),
        ("communes_2020", "district_code IN ('101')", ["10001", "10002"]),
        ("communes_2020", "commune_full_name LIKE 'Phường%'", ["10003"]),
        ("communes_2020", "n_products * 2 > 3", ["10001"]),
        ("communes_2025", "n_products IS NULL", ["20003"]),
        ("communes_2020", "S_INTERSECTS(geometry, POINT(108.15 15.65))", ["10004"]),
        ("communes_2020", "S_INTERSECTS(geometry, BBOX(108.01, 15.51, 108.04, 15.54))", ["10001"]),
        ("outlets", "S_WITHIN(geometry, BBOX(108.1, 15.6, 108.2, 15.7))", ["O2"]),
        ("producers", "max_stars >= 4 AND first_recognised >= '2023-06-01'", ["PR1"]),
        ("producers", "approximate = false", []),
        ("outlets", "1 = 1", ["O1", "O2"]),
        ("crosswalk_2020_2025", "new_commune_code = '20002'", ["10003", "10004"]),
    ],
)
def test_cql2_text_selects_the_matching_features(service, collection, text, expected):
    assert matching(service, collection, text) == expected


def test_filter_combines_with_the_other_parameters(service):
    query = ItemQuery(filter="n_products >= 0", properties={"district_code": "101"}, limit=1)
    page = service.items(spec_of("communes_2020"), query)
    assert page.number_matched == 2 and len(page.features) == 1


@pytest.mark.parametrize(
    ("collection", "text", "reason"),
    [
        ("communes_2020", "status =", "not CQL2 text"),
        ("communes_2020", "colour = 'red'", "unknown property 'colour'"),
        ("communes_2020", "target = 2", "unknown property 'target'"),
        ("communes_2020", "casei(status) = 'met'", "unknown function"),
        ("communes_2020", "S_INTERSECTS(geometry, BBOX(1, 2))", "BBOX takes 4"),
        ("crosswalk_2020_2025", "S_INTERSECTS(geometry, POINT(1 1))", "no geometry"),
        ("communes_2020", "status = '" + "x" * 5000 + "'", "longer than"),
    ],
)
def test_bad_filters_are_query_errors(service, collection, text, reason):
    with pytest.raises(QueryError, match=reason) as caught:
        service.items(spec_of(collection), ItemQuery(filter=text))
    assert caught.value.name == "filter"
