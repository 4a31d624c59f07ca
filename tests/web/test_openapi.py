"""The OpenAPI document: generated from the routes, and schemathesis against a live server."""

from __future__ import annotations

import time

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from geoapp.web.params import STARS_RANGE, TARGET_RANGE
from geoapp.web.reports import PNG_WIDTH
from tests.browser.conftest import LiveServer
from tests.tiny_data import tiny_app

EXAMPLES_PER_OPERATION = 50
# Rendered files are checked by their own tests; fuzzing them would render hundreds of PDFs.
FUZZED_PATHS = r"^/(api/|healthz)"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_document_lists_every_api_route(client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    api_rules = {
        rule.rule.replace("<code>", "{code}")
        for rule in client.application.url_map.iter_rules()
        if rule.rule.startswith("/api/") and rule.endpoint != "openapi.openapi_json"
    }
    assert api_rules <= set(document["paths"])
    assert "/report/coverage.pdf" in document["paths"] and "/healthz" in document["paths"]


def test_parameter_ranges_are_the_parsers_own(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]

    def schema(path, name):
        params = paths[path]["get"]["parameters"]
        return next(p["schema"] for p in params if p["name"] == name)

    assert schema("/api/communes.geojson", "target")["maximum"] == TARGET_RANGE[1]
    assert schema("/api/coverage", "min_stars")["minimum"] == STARS_RANGE[0]
    assert schema("/report/coverage.png", "width")["maximum"] == PNG_WIDTH[1]
    assert "429" in paths["/report/coverage.pdf"]["get"]["responses"]
    lat = next(p for p in paths["/api/nearby"]["get"]["parameters"] if p["name"] == "lat")
    assert lat["required"] is True


@pytest.fixture(scope="module")
def live_api(tmp_path_factory):
    app = tiny_app(tmp_path_factory.mktemp("schemathesis"))
    with LiveServer(app) as server:
        yield server


def fuzzer(operation, base_url: str, failures: list[str]):
    """A hypothesis test of ``operation``: each failing example is listed in ``failures``."""

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=operation.as_strategy())
    def fuzz(case):
        try:
            case.call_and_validate(base_url=base_url, checks=CHECKS)
        except Exception as exc:  # every failure is listed, then the test fails
            failures.append(f"{operation.label}: {str(exc)[:600]}")

    return fuzz


def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(live_api):
    schema = schemathesis.openapi.from_url(live_api.url + "/api/openapi.json").include(
        path_regex=FUZZED_PATHS
    )
    started = time.monotonic()
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        fuzzer(operation, live_api.url, failures)()
    elapsed = time.monotonic() - started
    print(
        f"schemathesis: {len(operations)} operations, {EXAMPLES_PER_OPERATION} examples each, "
        f"{elapsed:.1f} s"
    )
    assert len(operations) >= 14
    assert failures == []
    assert elapsed < 90
