"""What a planner sees: the coverage map in Debian's chromium, on the real built data."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    assert page.locator(".leaflet-marker-icon.outlet-icon").count() >= 1
    assert page.locator(".leaflet-control-attribution").inner_text().count("dvhcvn") == 1
    assert problems == []
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))


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
