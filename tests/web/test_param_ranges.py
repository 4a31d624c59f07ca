"""Every request parameter has a range: outside it a fast 400 naming the parameter and the
range; no route, given hostile values, answers 5xx, takes long or shows a server path."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from geoapp.config import PROJECT_ROOT
from geoapp.web.params import EARLIEST_AS_OF, latest_date
from geoapp.web.planner import DOWNLOADS

PROGRESS_ROUTES = ["/planner/progress.svg", "/api/coverage/progress", "/planner/download.xlsx"]


@pytest.mark.parametrize("path", PROGRESS_ROUTES)
@pytest.mark.parametrize("as_of", ["9999-12-31", "2400-01-01", "0001-01-01", "2014-12-31"])
def test_an_as_of_outside_its_range_is_a_fast_400(client, path, as_of):
    start = time.perf_counter()
    response = client.get(f"{path}?as_of={as_of}&lang=en")
    seconds = time.perf_counter() - start
    # refused at once instead of looping year by year (30 s before); a loose bound: a timing
    # on a shared machine, the first request of a process included
    assert response.status_code == 400 and seconds < 3, seconds
    text = response.get_data(as_text=True)
    span = f"{EARLIEST_AS_OF.isoformat()} to {latest_date().isoformat()}"
    assert "as_of" in text and span in text
    if path.startswith("/api/"):
        body = response.get_json()
        assert body["parameter"] == "as_of" and span in body["valid"]


@pytest.mark.parametrize("path", PROGRESS_ROUTES)
def test_the_ends_of_the_as_of_range_are_served(client, path):
    for as_of in (EARLIEST_AS_OF, latest_date()):
        response = client.get(f"{path}?as_of={as_of.isoformat()}")
        assert response.status_code == 200, response.get_data(as_text=True)[:300]


def test_latest_date_is_a_year_ahead_even_from_29_february():
    assert latest_date(dt.date(2028, 2, 29)) == dt.date(2029, 2, 28)
    assert latest_date(dt.date(2026, 12, 2)) == dt.date(2027, 12, 2)


@pytest.mark.parametrize(
    ("url", "parameter", "hint"),
    [
        ("/api/coverage?q=" + "x" * 101, "q", "longer than 100 characters"),
        ("/api/coverage?sort=" + "s" * 201, "sort", "longer than 200 characters"),
        ("/api/coverage?status=none,all", "status", "cannot be combined"),
        ("/api/coverage?group=" + "g" * 300, "group", "longer than 200 characters"),
        ("/api/search?q=" + "x" * 101, "q", "longer than 100 characters"),
        ("/api/search?q=%00%01", "q", "required"),
        ("/api/nearby?lat=inf&lon=108", "lat", "not a finite number"),
        ("/api/nearby?lat=15&lon=nan", "lon", "not a finite number"),
        ("/api/nearby?lat=15&lon=108&limit=1000000", "limit", "out of range"),
        ("/api/nearby?lat=15&lon=108&kind=centre,,shop", "kind", "unknown value"),
        ("/api/communes.geojson?target=" + "9" * 5000, "target", "longer than 200"),
        ("/api/communes.geojson?as_of=2024-02-30", "as_of", "not a date"),
        ("/api/coverage/communes/" + "x" * 3000, "commune", "not a commune code"),
    ],
)
def test_out_of_range_values_name_the_parameter(client, url, parameter, hint):
    response = client.get(url)
    body = response.get_json()
    assert response.status_code == 400 and body["parameter"] == parameter
    assert hint in body["message"]
    assert len(body["message"]) < 400  # a long value is not echoed in full


@pytest.mark.parametrize(
    ("query", "parameter", "hint"),
    [
        ("bbox=nan,15,108,16", "bbox", "outside the region"),
        ("bbox=108,15,108,16", "bbox", "outside the region or empty"),
        ("bbox=1,2,3", "bbox", "not four numbers"),
        ("width=99999", "width", "300 to 4000"),
        ("height=1", "height", "200 to 4000"),
        ("dpi=10000", "dpi", "50 to 300"),
        ("commune=" + "c" * 500, "commune", "longer than 200"),
    ],
)
def test_report_parameters_have_ranges(client, query, parameter, hint):
    response = client.get(f"/report/coverage.png?{query}&lang=en")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert parameter in text and hint in text


# -- every route, hostile values ---------------------------------------------------------------

HOSTILE_QUERIES = [
    "as_of=9999-12-31",
    "as_of=0001-01-01",
    "q=%00%01%1b" + "x" * 50,
    "q=" + "x" * 5000,
    "edition=2020%00&target=3%00",
    "bbox=nan,nan,nan,nan&width=1e9&height=-1&dpi=0",
    "cell=1e9,-1e9&lat=1e308&lon=-inf&limit=99999999999",
    "status=" + ",".join(["none"] * 500) + "&sort=%2B%2B&kind=" + "x" * 300,
    "district=%0d%0aSet-Cookie:x&commune=..%2F..%2Fetc&group=%3Cscript%3E",
    "lang=%00&min_stars=99&group_taxonomy=1900&producer_type=%40SUM(1)",
]


def route_paths(app) -> list[str]:
    """A concrete path for every GET route of the app (path parameters filled in)."""
    samples = {
        "code": ["10001", "x" * 3000],
        "fmt": [*DOWNLOADS, "exe"],
        "collection_id": ["communes_2020", "x" * 300],
        "feature_id": ["10001", "%00" * 50],
        "edition": ["2020", "x" * 300],
        "z": ["6", "99"],
        "x": ["51"],
        "y": ["29", "999999"],
        "tms_id": ["WebMercatorQuad", "x" * 300],
        "row": ["232", "-1"],
        "col": ["408"],
    }
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        filled = [rule.rule]
        for argument in rule.arguments:
            placeholder = re.compile(rf"<(?:[\w()]+:)?{argument}>")
            filled = [
                placeholder.sub(value, path) for path in filled for value in samples[argument]
            ]
        paths.extend(filled)
    return paths


def test_every_route_answers_hostile_values_without_5xx_delay_or_server_paths(
    tiny_app, tiny_data_dir
):
    client = tiny_app.test_client()
    paths = route_paths(tiny_app)
    assert len(paths) >= 25 and "/planner/download.xlsx" in paths
    secrets = (str(PROJECT_ROOT), str(tiny_data_dir), "Traceback")
    slowest = 0.0
    for path in paths:
        for query in HOSTILE_QUERIES:
            start = time.perf_counter()
            response = client.get(f"{path}?{query}")
            seconds = time.perf_counter() - start
            slowest = max(slowest, seconds)
            assert response.status_code < 500, (path, query, response.status_code)
            assert seconds < 5, (path, query, seconds)
            body = response.get_data()
            for secret in secrets:
                assert secret.encode() not in body, (path, query, secret)
    assert slowest < 5
