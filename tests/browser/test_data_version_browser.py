"""After an import and after a rollback, one reload shows one state in every view: header,
legend, the commune's colour on the map, the planner's row and ``/api/coverage`` change
together (the data URLs carry the data version, so no cached layer is stale)."""

from __future__ import annotations

import re

import pytest
from werkzeug.security import generate_password_hash

from geoapp.render.palette import STATUS_COLOURS
from tests.browser.conftest import LiveServer, sign_in_and_import
from tests.tiny_data import tiny_app

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
# A second counted product for commune 10003 (producer PR2): "below" (1 of 2) becomes "met".
CSV = (
    "Mã sản phẩm,Tên sản phẩm,Nhóm sản phẩm,Số sao,Mã chủ thể\nN1,Mật ong Ba,Thực phẩm,4,PR2\n"
).encode("utf-8-sig")


def views(page, url: str) -> dict:
    """What a user sees of commune 10003 and the province after (re)loading the pages."""
    page.goto(url + "/?edition=2020&lang=en")
    page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
    colour = page.evaluate(
        """() => {
          let found = null;
          window.ocopMap.layers.communes.eachLayer((layer) => {
            if (layer.feature.properties.commune_code === "10003") found = layer.options.fillColor;
          });
          return found;
        }"""
    )
    legend = {
        item.get_attribute("data-status"): int(item.locator(".count").inner_text())
        for item in page.locator("li.legend-item[data-status]").all()
    }
    header = page.locator("#figure-met").inner_text()
    page.goto(url + "/planner?edition=2020&status=all&lang=en")
    row = page.locator("tr[data-code='10003']")
    row.wait_for(timeout=30_000)
    planner_status = row.get_attribute("data-status")
    api = page.request.get(url + "/api/coverage?edition=2020").json()
    api_status = next(r["status"] for r in api["communes"] if r["commune_code"] == "10003")
    return {
        "colour": colour,
        "legend_met": legend["met"],
        "header_met": int(re.match(r"\s*(\d+)", header).group(1)),
        "planner": planner_status,
        "api": api_status,
        "api_met": api["province"]["communes_met"],
    }


def consistent(seen: dict, status: str, met: int) -> None:
    assert seen["colour"].lower() == STATUS_COLOURS[status].lower()
    assert seen["planner"] == seen["api"] == status
    assert seen["legend_met"] == seen["header_met"] == seen["api_met"] == met


def test_import_and_rollback_change_every_view_together(page, tmp_path):
    app = tiny_app(
        tmp_path, admin_user="office", admin_password_hash=generate_password_hash(PASSWORD)
    )
    upload = tmp_path / "products.csv"
    upload.write_bytes(CSV)
    with LiveServer(app) as server:
        consistent(views(page, server.url), "below", 1)

        sign_in_and_import(page, server.url, "office", PASSWORD, upload)
        consistent(views(page, server.url), "met", 2)

        page.goto(server.url + "/admin/import?lang=en")
        page.select_option("#version", "seed")
        page.click("text=Restore")
        page.wait_for_selector("p.message.ok")
        consistent(views(page, server.url), "below", 1)
