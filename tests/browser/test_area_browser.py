"""A map by area in Debian's chromium (tiny data, limit 2 communes): districts when zoomed
out, the communes of the visible cells once zoomed in."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import LiveServer
from tests.tiny_data import tiny_app

pytestmark = pytest.mark.browser


def test_zooming_in_loads_the_communes_of_the_visible_cells(page, tmp_path):
    app = tiny_app(tmp_path, map_full_communes_max=2)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    with LiveServer(app) as server:
        page.goto(server.url + "/?edition=2020&center=15.6,108.1&zoom=7")
        page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
        # zoomed out: two filled districts, no commune, no cell asked for
        assert page.locator("path.district-area").count() == 2
        assert page.locator("path.commune-shape").count() == 0
        assert not [u for u in asked if "communes.topopack" in u]
        fill = page.locator("path.district-area").first.get_attribute("fill")
        assert fill and fill != "none"
        page.evaluate("window.ocopMap.map.setView([15.6, 108.1], 11, {animate: false})")
        page.wait_for_function(
            "document.querySelectorAll('path.commune-shape').length === 4", timeout=10_000
        )
        assert page.locator("path.district-area").first.get_attribute("fill") == "none"
        queries = [parse_qs(urlsplit(u).query) for u in asked if "communes.topopack" in u]
        assert all(q["edition"] == ["2020"] and q["v"] for q in queries)  # versioned data URLs
        cells = [q["cell"][0] for q in queries]
        # the view (about 0.9 x 0.4 degrees around 108.1, 15.6), widened by 0.3 degrees for
        # communes reaching in from a neighbouring cell, covers four cells: the tiny one and
        # three empty ones
        assert sorted(cells) == ["107,15", "107,16", "108,15", "108,16"]
        # moving within the same cell asks for nothing more
        page.evaluate("window.ocopMap.map.setView([15.61, 108.11], 11, {animate: false})")
        page.wait_for_timeout(300)
        assert len([u for u in asked if "communes.topopack" in u]) == 4
        assert page.locator("path.commune-shape").count() == 4
    assert errors == []


def test_a_first_visit_by_area_shows_districts_and_asks_for_no_cell(page, tmp_path):
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
    assert not [u for u in asked if "communes.topopack" in u]
