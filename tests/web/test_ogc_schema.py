"""schemathesis against /ogc/api on the tiny data: every operation of the OpenAPI document is
called with generated (valid and invalid) parameters, and each answer must match the document
(status, media type, body schema), reject what the document rules out, and never be a server
error."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from geoapp import create_app
from tests.tiny_data import write_tiny_data

# Module level: schemathesis reads the document once, when the tests are collected.
_DATA = write_tiny_data(Path(tempfile.mkdtemp(prefix="ogc-schema-")))
_APP = create_app({"data_dir": _DATA, "testing": True, "as_of": "2024-12-31", "tile_url": "none"})
schema = schemathesis.openapi.from_wsgi("/ogc/api", _APP)


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_ogc_answers_match_the_openapi_document(case):
    query = case.query or {}
    # A JSON schema cannot say that south <= north, which days a month has or what CQL2 is: a
    # generated bbox, datetime or filter may fit the document and still be refused with a 400
    # (those are tested in tests/web/test_ogc.py and tests/services/test_ogc_filter.py).
    semantic = bool({"bbox", "datetime", "filter"} & set(query))
    case.call_and_validate(
        headers={"Accept-Encoding": "identity"},  # the WSGI transport does not decode gzip/br
        excluded_checks=[positive_data_acceptance] if semantic else None,
    )
