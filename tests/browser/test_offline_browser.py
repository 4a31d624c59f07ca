"""Offline: the map works when every request that does not go to the service is blocked.

Chromium's requests are all routed through Playwright: those to the service go on, those to
the tile host (when one is set) get a blank tile, anything else is aborted and recorded.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

import pytest

from geoapp import create_app
from tests.browser.conftest import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

TILE_HOST = "tiles.example.test"
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def route_all(page, service_url: str, tile_host: str | None = None):
    """Let only the service (and ``tile_host``) through; return the lists of what was asked."""
    service = urlsplit(service_url).netloc
    seen: dict[str, list[str]] = {"service": [], "tiles": [], "blocked": []}

    def handle(route):
        url = route.request.url
        host = urlsplit(url).netloc
        if host == service:
            seen["service"].append(url)
            route.continue_()
        elif tile_host is not None and host == tile_host:
            seen["tiles"].append(url)
            route.fulfill(status=200, body=BLANK_PNG, content_type="image/png")
        else:
            seen["blocked"].append(url)
            route.abort()

    page.route("**/*", handle)
    return seen


def test_map_works_with_no_tiles_and_nothing_outside_the_service(page, live_server):
    seen = route_all(page, live_server.url)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/")
    page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
    assert page.locator("path.commune-shape").count() == 241
    assert page.locator("path.district-shape").count() == 18
    assert seen["blocked"] == []
    assert errors == []
    paths = [urlsplit(url).path for url in seen["service"]]
    assert "/api/boundaries.topojson" in paths  # boundaries came as one TopoJSON ...
    assert "/api/coverage/status.json" in paths  # ... with their status apart ...
    assert "/api/communes.geojson" not in paths  # ... not as the two GeoJSON layers
    assert not any("markercluster" in p for p in paths)  # 81 producers: no clustering plugin


def test_with_a_tile_url_only_the_service_and_the_tile_host_are_asked(page):
    tile_url = f"http://{TILE_HOST}/{{z}}/{{x}}/{{y}}.png"
    app = create_app({"testing": True, "tile_url": tile_url})
    with LiveServer(app) as server:
        seen = route_all(page, server.url, TILE_HOST)
        page.goto(server.url + "/?edition=2025")
        page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
        assert page.locator("path.commune-shape").count() == 94
    assert seen["blocked"] == []
    assert seen["tiles"], "the base map asked for no tile"
    assert all(urlsplit(url).netloc == TILE_HOST for url in seen["tiles"])
