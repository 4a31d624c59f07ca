"""The planner in Debian's chromium on the real data: filters in the URL, row click zooms the
map, a map click highlights the row, reload and back reproduce the view."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

READY = "body[data-planner-ready=true]"
TIEN_PHUOC = "514"


def query_of(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def commune_in_view(page, code: str) -> bool:
    """Whether the map shows the whole commune."""
    return page.evaluate(
        """code => {
            const map = ocopPlanner.map, shape = ocopPlanner.shapes()[code];
            return map.getBounds().contains(shape.getBounds());
        }""",
        code,
    )


def open_planner(page, url: str, problems: list[str]) -> None:
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(url)
    page.wait_for_selector(READY, timeout=30_000)


def test_district_filter_row_click_zoom_url_and_reload(page, live_server):
    problems: list[str] = []
    open_planner(page, live_server.url + "/planner?target=3", problems)
    province_zoom = page.evaluate("ocopPlanner.map.getZoom()")

    page.select_option("select[name=district]", TIEN_PHUOC)
    page.wait_for_selector(READY)
    rows = page.locator("#commune-table tbody tr")
    assert rows.count() == 15  # target 3: every commune of Tiên Phước is below it
    districts = set(page.locator("#commune-table tbody tr td:nth-child(2)").all_inner_texts())
    assert districts == {"Tiên Phước"}
    assert query_of(page) == {"edition": "2020", "target": "3", "district": TIEN_PHUOC}

    row = rows.nth(4)
    code = row.get_attribute("data-code")
    name = row.locator("td").first.inner_text()
    row.click()
    page.wait_for_selector(READY)
    assert query_of(page) == {
        "edition": "2020",
        "target": "3",
        "district": TIEN_PHUOC,
        "commune": code,
    }
    zoom = page.evaluate("ocopPlanner.map.getZoom()")
    assert zoom > province_zoom + 1
    assert commune_in_view(page, code)
    detail = page.locator("#commune-detail")
    assert detail.is_visible()
    assert detail.get_attribute("data-code") == code
    assert name in detail.locator("h2").inner_text()
    assert page.locator(f'#commune-table tr[data-code="{code}"]').get_attribute("class") == (
        "selected"
    )

    page.reload()
    page.wait_for_selector(READY, timeout=30_000)
    assert query_of(page)["commune"] == code
    assert page.locator("select[name=district]").input_value() == TIEN_PHUOC
    assert page.locator("select[name=target]").input_value() == "3"
    assert page.locator("#commune-table tbody tr").count() == 15
    assert page.locator("#commune-detail").get_attribute("data-code") == code
    assert page.evaluate("ocopPlanner.map.getZoom()") == zoom
    assert commune_in_view(page, code)

    page.go_back()
    page.wait_for_selector(READY)
    assert "commune" not in query_of(page)
    assert page.locator("#commune-detail").is_hidden()
    page.go_back()
    page.wait_for_selector(READY)
    assert query_of(page) == {"target": "3"}
    assert page.locator("select[name=district]").input_value() == ""
    assert problems == []


def test_map_click_highlights_the_row(page, live_server):
    problems: list[str] = []
    open_planner(page, live_server.url + f"/planner?district={TIEN_PHUOC}&target=3", problems)
    # A point inside a commune that is listed in the table, where that commune is on top.
    point = page.evaluate(
        """() => {
            for (const row of document.querySelectorAll('#commune-table tbody tr')) {
                const code = row.dataset.code;
                const path = document.querySelector(`path[data-code="${code}"]`);
                const box = path.getBoundingClientRect();
                const x = box.left + box.width / 2, y = box.top + box.height / 2;
                if (document.elementFromPoint(x, y) === path) return {code, x, y};
            }
            return null;
        }"""
    )
    assert point is not None
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector(READY)
    assert query_of(page)["commune"] == point["code"]
    selected = page.locator("#commune-table tbody tr.selected")
    assert selected.count() == 1
    assert selected.get_attribute("data-code") == point["code"]
    assert (
        page.locator(f'path[data-code="{point["code"]}"]')
        .get_attribute("class")
        .endswith("selected")
    )
    assert problems == []


def test_text_filter_ignores_diacritics_and_empty_view_says_so(page, live_server):
    problems: list[str] = []
    open_planner(page, live_server.url + "/planner?status=all", problems)
    page.fill("input[name=q]", "tien phuoc")
    page.wait_for_function("new URLSearchParams(location.search).get('q') === 'tien phuoc'")
    page.wait_for_selector(READY)
    districts = set(page.locator("#commune-table tbody tr td:nth-child(2)").all_inner_texts())
    assert districts == {"Tiên Phước"}
    assert page.locator("#commune-table tbody tr").count() == 15
    page.fill("input[name=q]", "khong co xa nay")
    page.wait_for_function("new URLSearchParams(location.search).get('q') === 'khong co xa nay'")
    page.wait_for_selector(READY)
    assert page.locator("#commune-table tbody tr").count() == 0
    assert page.locator("#commune-empty").is_visible()
    csv_link = page.locator("#downloads a[data-format=csv]").get_attribute("href")
    assert "q=khong+co+xa+nay" in csv_link and "status=all" in csv_link
    assert problems == []


def test_bad_address_shows_message_and_a_map(page, live_server):
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    response = page.goto(live_server.url + "/planner?district=999")
    assert response.status == 400
    page.wait_for_selector(READY, timeout=30_000)
    assert "999" in page.locator("#planner-errors").inner_text()
    assert page.locator("path.commune-shape").count() == 241
    assert problems == []


def test_progress_chart_and_its_tables_show_the_same_figures(page, live_server):
    problems: list[str] = []
    open_planner(page, live_server.url + f"/planner?district={TIEN_PHUOC}&lang=en", problems)
    page.wait_for_selector("#progress-chart svg .point-label")
    progress = page.evaluate(
        "fetch('/api/coverage/progress?district=" + TIEN_PHUOC + "').then(r => r.json())"
    )
    rows = page.locator("#progress-table tbody tr")
    assert rows.count() == len(progress["years"])
    last = rows.nth(rows.count() - 1).locator("td").all_inner_texts()
    assert last == [
        str(progress["years"][-1]),
        progress["dates"][-1],
        f"{progress['communes_met'][-1]} / {progress['n_communes']}",
        str(progress["products_counted"][-1]),
        str(progress["five_star_counted"][-1]),
        str(progress["new"][-1]),
    ]
    labels = page.evaluate(
        """() => [...document.querySelectorAll('#progress-chart .point-label')]
            .filter(t => t.dataset.series === 'communes_met').map(t => t.textContent)"""
    )
    assert labels == [str(v) for v in progress["communes_met"]]
    published = page.locator("#published-table tbody tr")
    assert published.count() == len(progress["published"])
    assert published.first.locator("td").last.inner_text() == progress["published"][0]["source_ids"]
    assert page.locator("#progress-chart svg > title").text_content().endswith("Tiên Phước")
    assert problems == []
