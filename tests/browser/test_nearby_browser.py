"""A visitor on a phone (390x844) in Debian's chromium: /nearby on the real built data."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

HOI_AN = {"latitude": 15.8770, "longitude": 108.3265}  # old town, next to QN-S01
TAM_KY = {"latitude": 15.5730, "longitude": 108.4740}


@pytest.fixture()
def phone(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-US",
        geolocation=HOI_AN,
        permissions=["geolocation"],
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    yield page
    context.close()


def listed(page) -> list[dict]:
    return page.eval_on_selector_all(
        "#nearby-list > li.place",
        "items => items.map(li => ({id: li.dataset.id, d: Number(li.dataset.distanceM),"
        " text: li.querySelector('.place-distance').textContent}))",
    )


def map_centre(page) -> dict:
    return page.evaluate(
        "() => { const c = window.nearbyPage.map.getCenter(); return {lat: c.lat, lon: c.lng}; }"
    )


def test_location_gives_a_sorted_list_and_tapping_an_item_centres_the_map(phone, live_server):
    phone.goto(live_server.url + "/nearby")
    # Permission is granted already, so the page asks for the position by itself.
    phone.wait_for_selector("body[data-nearby-ready=true]", timeout=20_000)
    items = listed(phone)
    assert len(items) >= 5
    assert items[0]["id"] == "QN-S01"
    distances = [item["d"] for item in items]
    assert distances == sorted(distances)
    assert items[0]["text"].endswith(" m") and items[-1]["text"].endswith(" km")
    assert "Your device's location" in phone.locator("#nearby-status").inner_text()
    assert phone.locator("path.visitor-position").count() == 1
    assert phone.locator(".nearby-marker").count() == len(items)
    # Products are judged at today's date: none but a valid one shows OCOP stars.
    products = phone.eval_on_selector_all(
        "#nearby-list li[data-ocop-status]",
        "items => items.map(li => [li.dataset.ocopStatus, li.textContent])",
    )
    assert products
    for status, text in products:
        if status == "expired":
            assert "renewal not recorded" in text and "\u2605" not in text
        elif status != "ocop":
            assert "\u2605" not in text

    third = phone.locator("#nearby-list > li.place").nth(2)
    third.locator("button.place-main").tap()
    target = phone.evaluate(
        "() => { const p = window.nearbyPage.places[2]; return {lat: p.lat, lon: p.lon}; }"
    )
    phone.wait_for_function(
        "([lat, lon]) => { const c = window.nearbyPage.map.getCenter();"
        " return Math.abs(c.lat - lat) < 1e-4 && Math.abs(c.lng - lon) < 1e-4; }",
        arg=[target["lat"], target["lon"]],
        timeout=5_000,
    )
    centre = map_centre(phone)
    assert centre["lat"] == pytest.approx(target["lat"], abs=1e-4)
    assert centre["lon"] == pytest.approx(target["lon"], abs=1e-4)
    assert "selected" in (third.get_attribute("class") or "")
    assert (
        phone.locator(".leaflet-popup-content")
        .inner_text()
        .startswith(phone.evaluate("() => window.nearbyPage.places[2].name"))
    )
    assert phone.problems == []


def test_use_my_location_button_follows_a_new_position(phone, live_server):
    phone.goto(live_server.url + "/nearby")
    phone.wait_for_selector("body[data-nearby-ready=true]", timeout=20_000)
    phone.context.set_geolocation(TAM_KY)
    phone.locator("#locate").tap()
    phone.wait_for_function(
        "() => document.querySelector('#nearby-list > li.place').dataset.id !== 'QN-S01'",
        timeout=10_000,
    )
    items = listed(phone)
    assert items[0]["id"] in {"QN-S02", "QN-S07"}  # the two Tam Kỳ outlets
    assert [i["d"] for i in items] == sorted(i["d"] for i in items)
    assert "lat=15.573" in phone.url  # the position is kept in the address for sharing


def test_search_without_accents_takes_the_visitor_to_the_place(phone, live_server):
    phone.goto(live_server.url + "/nearby?lat=15.0&lon=108.0")
    phone.wait_for_selector("body[data-nearby-ready=true]", timeout=20_000)
    phone.locator("#search-q").fill("tra my")
    phone.locator("#search-form button[type=submit]").tap()
    phone.wait_for_selector("#search-list button.search-hit", timeout=10_000)
    hits = phone.locator("#search-list button.search-hit").all_inner_texts()
    assert any(h.startswith("Huyện Bắc Trà My") for h in hits)
    assert any(h.startswith("Huyện Nam Trà My") for h in hits)
    phone.locator("#search-list button.search-hit", has_text="Huyện Nam Trà My").first.tap()
    phone.wait_for_function(
        "() => document.getElementById('nearby-status').textContent.includes('Nam Trà My')",
        timeout=10_000,
    )
    assert phone.locator("#search-results").is_hidden()
    assert len(listed(phone)) >= 1


def test_tapping_the_map_sets_the_position(phone, live_server):
    phone.goto(live_server.url + "/nearby?lat=15.5&lon=108.0")
    phone.wait_for_selector("body[data-nearby-ready=true]", timeout=20_000)
    before = phone.evaluate("() => window.nearbyPage.position")
    # A point of the bare map (not a marker, a popup or a control), wherever the data puts them.
    point = phone.evaluate(
        """() => {
          const box = document.getElementById('nearby-map').getBoundingClientRect();
          for (const fy of [0.3, 0.5, 0.7, 0.4, 0.6]) {
            for (const fx of [0.25, 0.5, 0.75, 0.35, 0.65]) {
              const x = box.left + box.width * fx, y = box.top + box.height * fy;
              if (document.elementFromPoint(x, y).id === 'nearby-map') return [x, y];
            }
          }
          return null;
        }"""
    )
    assert point is not None
    phone.mouse.click(*point)
    phone.wait_for_function("() => window.nearbyPage.position.source === 'map'", timeout=10_000)
    after = phone.evaluate("() => window.nearbyPage.position")
    assert (after["lat"], after["lon"]) != (before["lat"], before["lon"])
    phone.wait_for_selector("body[data-nearby-ready=true]", timeout=10_000)
    assert "tapped on the map" in phone.locator("#nearby-status").inner_text()


def test_phone_layout_is_usable(phone, live_server):
    phone.goto(live_server.url + "/nearby")
    phone.wait_for_selector("body[data-nearby-ready=true]", timeout=20_000)
    # Nothing wider than the screen.
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    # Every button, link of the list and form control is at least 44 px tall.
    small = phone.evaluate(
        """() => Array.from(document.querySelectorAll(
              'button, select, input[type=search], summary, .lang-switch a, .links a,'
              + ' .nearby-nav a, .leaflet-control-zoom a'))
            .filter(el => el.offsetParent !== null)
            .map(el => [el.id || el.className || el.textContent.trim().slice(0, 20),
                        el.getBoundingClientRect().height])
            .filter(([, h]) => h < 44)"""
    )
    assert small == []
    # Reading order: the list comes before the map in the document.
    assert phone.evaluate(
        "() => !!(document.getElementById('nearby-list').compareDocumentPosition("
        "document.getElementById('nearby-map')) & Node.DOCUMENT_POSITION_FOLLOWING)"
    )
    # No scroll trap: a wheel over the map scrolls the page, not the map's zoom.
    zoom = phone.evaluate("() => window.nearbyPage.map.getZoom()")
    box = phone.locator("#nearby-map").bounding_box()
    phone.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    phone.mouse.wheel(0, 400)
    phone.wait_for_function("() => window.scrollY > 0", timeout=5_000)
    assert phone.evaluate("() => window.nearbyPage.map.getZoom()") == zoom
    # Labels: the search box and the filters are named.
    assert phone.get_by_label("Search a place, shop, producer or product").count() == 1
    phone.locator("details.filters summary").tap()
    assert phone.get_by_label("Product group").is_visible()
    assert phone.get_by_label("Minimum rating").is_visible()


def test_filters_and_language_switch(phone, live_server):
    phone.goto(live_server.url + "/nearby?lat=15.76&lon=108.41")
    phone.wait_for_selector("body[data-nearby-ready=true]", timeout=20_000)
    phone.locator("details.filters summary").tap()
    for kind in ("centre", "sales_point"):
        phone.locator(f"input[name=kind][value={kind}]").uncheck()
    phone.wait_for_function(
        "() => document.querySelectorAll('#nearby-list > li.place').length === 1", timeout=10_000
    )
    assert listed(phone)[0]["id"] == "QN-PR078"
    assert "Made here by this producer" in phone.locator("#nearby-list").inner_text()
    phone.locator(".lang-switch a[hreflang=vi]").tap()
    phone.wait_for_selector("html[lang=vi]")
    phone.wait_for_selector("body[data-nearby-ready=true]", timeout=20_000)
    assert "Sản phẩm OCOP gần bạn" in phone.locator("h1").inner_text()
    assert phone.locator("input[name=kind][value=centre]").is_checked() is False
    text = phone.locator("#nearby-list").inner_text()
    assert "Do chính cơ sở này sản xuất" in text
    assert "," in listed(phone)[0]["text"] or listed(phone)[0]["text"].endswith(" m")
