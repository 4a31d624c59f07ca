"""What a planner sees: the coverage map in Debian's chromium, on the real built data."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "coverage-map.png"


def test_coverage_map_draws_all_communes_and_legend(page, live_server):
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(live_server.url + "/")
    page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
    assert page.locator("path.commune-shape").count() == 241
    assert page.locator("path.district-shape").count() == 18
    legend = page.locator("section.legend")
    assert legend.is_visible()
    assert legend.locator("li.legend-item").count() == 3
    assert "no product recorded" in legend.inner_text().lower()
    assert page.locator(".leaflet-marker-icon.outlet-icon").count() >= 1
    assert page.locator(".leaflet-control-attribution").inner_text().count("dvhcvn") == 1
    assert problems == []
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))


def test_communes_of_districts_with_few_named_products_are_hatched(page, live_server, real_client):
    page.goto(live_server.url + "/?lang=en")
    page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
    features = real_client.get("/api/communes.geojson?edition=2020").get_json()["features"]
    low = sum(1 for f in features if f["properties"]["completeness_low"])
    assert low > 0, "the data has districts with few named products"
    assert page.locator("path.completeness-hatch").count() == low
    assert page.locator("pattern#ocop-completeness-hatch").count() == 1
    assert page.locator("#legend-completeness-low").is_visible()


def test_commune_tooltip_shows_name_and_count(page, live_server):
    page.goto(live_server.url + "/")
    page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
    page.locator("path.commune-shape").nth(120).hover(force=True)
    tooltip = page.locator(".leaflet-tooltip").first
    tooltip.wait_for(timeout=5_000)
    assert "/ 2" in tooltip.inner_text()


def test_edition_2025_draws_94_communes(page, live_server):
    page.goto(live_server.url + "/?edition=2025")
    page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
    assert page.locator("path.commune-shape").count() == 94
    assert page.locator("path.commune-shape.status-no_data").count() == 16


@pytest.mark.parametrize("edition", ["2020", "2025"])
def test_topojson_client_reads_the_boundaries_as_the_geojson_layers(
    page, live_server, real_client, edition
):
    """The boundaries (standard TopoJSON, read by topojson-client) joined with the status JSON
    by code are the GeoJSON layers: the same properties, shapes within the 10 m grid."""
    page.goto(live_server.url + f"/?edition={edition}")
    page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
    got = page.evaluate(
        """async (edition) => {
          const q = "?edition=" + edition;
          const topo = await (await fetch("/api/boundaries.topojson" + q)).json();
          const status = await (await fetch("/api/coverage/status.json" + q)).json();
          return {
            communes: OcopMap.joinStatus(topo, "communes", status.communes, "commune_code"),
            districts: OcopMap.joinStatus(topo, "districts", status.districts, "district_code"),
          };
        }""",
        edition,
    )
    for name in ("communes", "districts"):
        expected = real_client.get(f"/api/{name}.geojson?edition={edition}").get_json()["features"]
        features = got[name]["features"]
        assert len(features) == len(expected) > 0
        for feature, want in zip(features, expected, strict=True):
            assert feature["properties"] == want["properties"]
            drawn = shapely.geometry.shape(feature["geometry"])
            shape = shapely.geometry.shape(want["geometry"])
            assert drawn.hausdorff_distance(shape) < 1e-4, want["properties"]  # degrees: 11 m


def test_many_producers_are_clustered_with_the_plugin_fetched_then(page, real_app):
    """Above cluster_from_points the map fetches Leaflet.markercluster and clusters markers."""
    from geoapp import create_app
    from tests.browser.conftest import LiveServer

    app = create_app({"testing": True, "tile_url": "none", "cluster_from_points": 10})
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    with LiveServer(app) as server:
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
        assert page.locator(".marker-cluster").count() >= 1
        assert page.locator("path.commune-shape").count() == 241
    assert sum("leaflet.markercluster.js" in url for url in asked) == 1
    assert sum("MarkerCluster" in url and url.endswith(".css") for url in asked) == 2


def test_on_a_phone_the_map_fills_the_screen_and_the_legend_follows_it(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server.url + "/?lang=en")
    page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
    box = page.evaluate(
        """() => {
          const map = document.querySelector('.folium-map').getBoundingClientRect();
          const legend = document.querySelector('section.legend').getBoundingClientRect();
          return {mapHeight: map.height, mapBottom: map.bottom + scrollY,
                  legendTop: legend.top + scrollY};
        }"""
    )
    context.close()
    assert box["mapHeight"] >= 0.6 * 844
    assert box["legendTop"] >= box["mapBottom"] - 1  # below the map, not over it


def test_on_a_desktop_the_legend_leaves_the_scale_bar_visible(page, live_server):
    page.goto(live_server.url + "/")
    page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
    legend = page.locator("section.legend").bounding_box()
    scale = page.locator(".leaflet-control-scale").bounding_box()
    assert legend["y"] + legend["height"] <= scale["y"] + 1  # the legend ends above the bar
