"""A map by area in Debian's chromium (tiny data, limit 2 communes): districts when zoomed
out, the communes as Mapbox Vector Tiles (Leaflet.VectorGrid) once zoomed in, coloured and
described by the status JSON joined by commune code."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import LiveServer
from tests.tiny_data import tiny_app

pytestmark = pytest.mark.browser

TILE = re.compile(r"^/tiles/2020/(\d+)/(\d+)/(\d+)\.mvt$")
CENTRES = {"10001": (15.55, 108.05), "10002": (15.65, 108.05), "10003": (15.55, 108.15)}


def tiles_asked(asked: list[str]) -> list[tuple[int, int, int]]:
    found = [TILE.match(urlsplit(u).path) for u in asked]
    return [tuple(int(g) for g in m.groups()) for m in found if m]


def test_zooming_in_draws_the_communes_from_vector_tiles(page, tmp_path):
    app = tiny_app(tmp_path, map_full_communes_max=2)
    version = app.extensions["geoapp"].store.boundary_version()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    with LiveServer(app) as server:
        # producers and outlets hidden: the clicks below land on the communes
        page.goto(
            server.url + "/?edition=2020&center=15.6,108.1&zoom=7&lang=en&layers=communes,districts"
        )
        page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
        # zoomed out: two filled districts, no commune, no tile asked for
        assert page.locator("path.district-area").count() == 2
        assert page.locator("path.commune-shape").count() == 0
        assert tiles_asked(asked) == []
        fill = page.locator("path.district-area").first.get_attribute("fill")
        assert fill and fill != "none"
        page.evaluate("window.ocopMap.map.setView([15.6, 108.1], 11, {animate: false})")
        page.wait_for_function(
            "document.querySelectorAll('path.commune-shape').length >= 4", timeout=10_000
        )
        assert page.locator("path.district-area").first.get_attribute("fill") == "none"
        tiles = tiles_asked(asked)
        assert tiles and {z for z, _, _ in tiles} == {11}
        assert all(f"v={version}" in u for u in asked if TILE.match(urlsplit(u).path))
        # coloured by the status joined by code: 10001 meets the target, 10003 is below it
        assert page.locator("path.commune-shape.status-met").count() >= 1
        assert page.locator("path.commune-shape.status-below").count() >= 1
        for code, (lat, lon) in CENTRES.items():
            # the view back on the tiny communes (a popup may have panned the map)
            page.evaluate("window.ocopMap.map.setView([15.6, 108.1], 11, {animate: false})")
            point = page.evaluate(f"window.ocopMap.map.latLngToContainerPoint([{lat}, {lon}])")
            box = page.locator(".folium-map").bounding_box()
            page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
            page.wait_for_function(
                """(code) => Array.from(document.querySelectorAll(".leaflet-popup-content"))
                  .some((e) => e.innerText.includes("Code " + code))""",
                arg=code,
                timeout=5_000,
            )
            page.evaluate("window.ocopMap.map.closePopup()")  # it would hide the next commune
            page.wait_for_timeout(300)
        # moving within the same tiles asks for nothing more
        count = len(tiles_asked(asked))
        page.evaluate("window.ocopMap.map.setView([15.6005, 108.1005], 11, {animate: false})")
        page.wait_for_timeout(300)
        assert len(tiles_asked(asked)) == count
    assert errors == []


def test_a_first_visit_by_area_shows_districts_and_asks_for_no_tile(page, tmp_path):
    """The page opens on all the districts (fitted at once), below the communes' zoom."""
    app = tiny_app(tmp_path, map_full_communes_max=2, map_communes_min_zoom=14)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    with LiveServer(app) as server:
        page.goto(server.url + "/?edition=2020")
        page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
        page.wait_for_timeout(300)
        zoom = page.evaluate("window.ocopMap.map.getZoom()")
        bounds = page.evaluate("window.ocopMap.map.getBounds().toBBoxString()")
        assert page.locator("path.district-area").count() == 2
    assert 9 <= zoom < 14  # fitted to the tiny districts (0.2 degrees), not the province
    west, south, east, north = (float(v) for v in bounds.split(","))
    assert west <= 108.0 and east >= 108.2 and south <= 15.5 and north >= 15.7
    assert tiles_asked(asked) == []
    assert any("/api/coverage/status.json" in u for u in asked)


@pytest.mark.realdata
def test_vector_tiles_of_the_real_communes_are_hatched_and_tell_the_districts_data(
    page, real_app, real_client
):
    """The real 2020 edition mapped by area: zoomed in on a commune of a district with few
    named products, its tiles are hatched and its tooltip names the district's completeness."""
    from geoapp import create_app

    status = real_client.get("/api/coverage/status.json?edition=2020").get_json()["communes"]
    low = next(c for c, p in status.items() if p["completeness_low"])
    store = real_app.extensions["geoapp"].store
    shapes = store.communes("2020", "display").set_index("commune_code").geometry
    point = shapes[low].representative_point()
    app = create_app({"testing": True, "tile_url": "none", "map_full_communes_max": 10})
    with LiveServer(app) as server:
        page.goto(
            server.url + f"/?edition=2020&lang=en&layers=communes,districts"
            f"&center={point.y},{point.x}&zoom=12"
        )
        page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
        page.wait_for_function(
            "document.querySelectorAll('path.completeness-hatch').length > 0", timeout=20_000
        )
        assert page.locator("pattern#ocop-completeness-hatch").count() == 1
        assert page.locator("path.commune-shape").count() > 0
        centre = page.evaluate(
            "window.ocopMap.map.latLngToContainerPoint(window.ocopMap.map.getCenter())"
        )
        box = page.locator(".folium-map").bounding_box()
        page.mouse.move(box["x"] + centre["x"], box["y"] + centre["y"])
        tooltip = page.locator(".leaflet-tooltip")
        tooltip.wait_for(timeout=5_000)
        text = tooltip.inner_text()
        named, published = status[low]["district_named"], status[low]["district_published"]
        assert status[low]["commune_full_name"] in text
        assert f"{named} / {published}" in text
