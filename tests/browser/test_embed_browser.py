"""Embedding and exporting in Debian's chromium, on the real built data.

The host page is served by a second server on another port: another origin, as on a
report writer's own site.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

HOI_AN_CENTRE = (15.88, 108.33)  # lat, lon of the old town


class HostSite:
    """A WSGI app that serves one HTML page (set by the test) at ``/``."""

    def __init__(self) -> None:
        self.html = "<!DOCTYPE html><title>host</title>"

    def __call__(self, environ, start_response):
        body = self.html.encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body]


@pytest.fixture(scope="module")
def host():
    site = HostSite()
    with LiveServer(site) as server:
        server.site = site
        yield server


def test_iframe_of_a_district_shows_hoi_an_in_600x400(page, live_server, host):
    src = f"{live_server.url}/embed/coverage?district=503"
    host.site.html = (
        "<!DOCTYPE html><html><body><h1>Báo cáo huyện</h1>"
        f'<iframe id="ocop" src="{src}" width="600" height="400" style="border:0"></iframe>'
        "</body></html>"
    )
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(host.url + "/")
    box = page.locator("#ocop").bounding_box()
    assert (round(box["width"]), round(box["height"])) == (600, 400)
    frame = page.frame_locator("#ocop")
    frame.locator("body[data-map-ready=true]").wait_for(timeout=30_000)
    assert "Hội An" in frame.locator(".embed-title h1").inner_text()
    assert frame.locator(".embed-legend").is_visible()
    assert "dvhcvn" in frame.locator(".leaflet-control-attribution").inner_text()
    link = frame.locator("a.full-view")
    assert link.is_visible()
    assert "district=503" in link.get_attribute("href")
    # the map fills the frame and is centred on Hội An
    child = next(f for f in page.frames if "/embed/coverage" in f.url)
    size = child.evaluate("[innerWidth, innerHeight]")
    assert size == [600, 400]
    map_box = child.evaluate(
        "(() => { const r = document.querySelector('.folium-map').getBoundingClientRect();"
        " return [r.width, r.height]; })()"
    )
    assert map_box == [600, 400]
    view = child.evaluate(
        "(() => { const m = window.ocopMap.map, b = m.getBounds();"
        " return {zoom: m.getZoom(), s: b.getSouth(), w: b.getWest(), n: b.getNorth(),"
        " e: b.getEast()}; })()"
    )
    lat, lon = HOI_AN_CENTRE
    assert view["s"] < lat < view["n"] and view["w"] < lon < view["e"]
    assert view["zoom"] >= 9  # a district, not the province (zoom 8 at this size)
    focus = frame.locator("path.commune-shape:not(.outside-focus)")
    assert focus.count() == 13  # Hội An's communes in colour, the rest dimmed
    assert frame.locator("path.commune-shape.outside-focus").count() == 241 - 13
    # the wheel scrolls the host page until the map is clicked
    assert child.evaluate("window.ocopMap.map.scrollWheelZoom.enabled()") is False
    frame.locator(".folium-map").click(position={"x": 300, "y": 330})
    assert child.evaluate("window.ocopMap.map.scrollWheelZoom.enabled()") is True
    assert problems == []


def test_a_non_embed_page_refuses_to_be_framed(page, live_server, host):
    host.site.html = (
        "<!DOCTYPE html><html><body>"
        f'<iframe id="main" src="{live_server.url}/" width="600" height="400"></iframe>'
        f'<iframe id="ok" src="{live_server.url}/embed/coverage" width="600" height="400">'
        "</iframe></body></html>"
    )
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "frame-ancestors" in m.text else None)
    page.goto(host.url + "/")
    page.frame_locator("#ok").locator("body[data-map-ready=true]").wait_for(timeout=30_000)
    main = page.locator("#main").element_handle().content_frame()
    # chromium replaces a refused document with its error page: none of the map is there
    assert (
        main is None
        or main.url.startswith("chrome-error://")
        or main.locator("#coverage").count() == 0
    )
    assert any("frame-ancestors" in text for text in blocked)


def scripts_loaded(page) -> list[str]:
    return page.evaluate("[...document.scripts].map((s) => s.src).filter(Boolean)")


def test_permalink_reproduces_the_view_and_export_gives_links(page, live_server):
    page.goto(live_server.url + "/?edition=2020&target=1&lang=en")
    page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
    page.evaluate("window.ocopMap.map.setView([15.57, 108.47], 12)")
    page.locator(".leaflet-control-layers").hover()
    page.get_by_label("Producers").uncheck()
    page.wait_for_function("() => new URLSearchParams(location.search).get('layers') !== null")
    query = parse_qs(urlsplit(page.url).query)
    assert query["zoom"] == ["12"]
    lat, lon = (float(v) for v in query["center"][0].split(","))
    assert abs(lat - 15.57) < 1e-3 and abs(lon - 108.47) < 1e-3
    assert query["target"] == ["1"] and query["lang"] == ["en"]
    assert "producers" not in query["layers"][0].split(",")
    # the export dialog offers this very view
    assert not any(r.endswith("/js/export.js") for r in scripts_loaded(page))  # not yet
    page.locator("#export-open").click()
    dialog = page.locator("#export-dialog")
    dialog.wait_for(state="visible", timeout=10_000)
    permalink = page.locator("#export-permalink").input_value()
    assert permalink == page.url
    snippet = page.locator("#export-snippet").input_value()
    assert re.search(r'<iframe src="http://127\.0\.0\.1:\d+/embed/coverage\?[^"]*target=1', snippet)
    assert 'width="600" height="400"' in snippet
    page.locator("#export-width").fill("800")
    page.locator("#export-width").dispatch_event("change")
    assert 'width="800"' in page.locator("#export-snippet").input_value()
    png_href = page.locator("#export-png").get_attribute("href")
    assert "bbox=" in png_href and "target=1" in png_href
    response = page.request.get(png_href)
    assert response.status == 200 and response.headers["content-type"] == "image/png"
    pdf_href = page.locator("#export-pdf").get_attribute("href")
    assert page.request.get(pdf_href).headers["content-type"] == "application/pdf"
    # a fresh page at the permalink shows the same view and layers
    other = page.context.new_page()
    other.goto(permalink)
    other.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
    view = other.evaluate(
        "(() => { const m = window.ocopMap.map, c = m.getCenter();"
        " return [m.getZoom(), c.lat, c.lng]; })()"
    )
    assert view[0] == 12
    assert abs(view[1] - lat) < 1e-4 and abs(view[2] - lon) < 1e-4
    assert other.locator("path.producer-marker").count() == 0
    assert other.locator("path.commune-shape").count() == 241
    other.close()
