"""The map layer "In the pipeline (not certified)" in Debian's chromium, on the real built data:
off (and not fetched) by default, drawn from the layer control or a permalink."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.realdata]


def test_candidates_layer_is_off_by_default_and_drawn_when_chosen(page, live_server, real_client):
    features = real_client.get("/api/candidates.geojson?edition=2020").get_json()["features"]
    assert features  # the shared facts have candidates
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(live_server.url + "/?lang=en")
    page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
    assert page.locator("path.candidate-marker").count() == 0
    assert not [url for url in requests if "candidates.geojson" in url]
    # Turned on in the layer control: fetched then, one marker per commune or district.
    page.locator(".leaflet-control-layers").hover()
    page.get_by_label("In the pipeline (not certified)").check()
    page.wait_for_selector("body[data-candidates-ready=true]", timeout=10_000)
    assert page.locator("path.candidate-marker").count() == len(features)
    assert "candidates" in page.evaluate("() => new URLSearchParams(location.search).get('layers')")
    # The coverage colours did not change: no commune shape is a candidate marker.
    assert page.locator("path.commune-shape").count() == 241
    assert problems == []


def test_candidates_layer_from_a_permalink(page, live_server, real_client):
    features = real_client.get("/api/candidates.geojson?edition=2020").get_json()["features"]
    page.goto(live_server.url + "/?layers=communes,candidates&lang=en")
    page.wait_for_selector("body[data-candidates-ready=true]", timeout=30_000)
    assert page.locator("path.candidate-marker").count() == len(features)
    marker = page.locator("path.candidate-marker.candidate-commune").first
    marker.click(force=True)
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert "In the pipeline (not certified)" in popup and "never counted" in popup
