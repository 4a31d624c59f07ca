"""The admin upload in Debian's chromium: sign in, check a file, see the preview (with the
data's text escaped), confirm, and the map's data is the new version."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from tests.browser.conftest import LiveServer
from tests.tiny_data import tiny_app

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
CSV = (
    "Mã sản phẩm,Tên sản phẩm,Nhóm sản phẩm,Số sao,Mã chủ thể\n"
    'N1,"Mật ong <img src=x onerror=alert(1)>",Thực phẩm,4,PR1\n'
).encode("utf-8-sig")


def test_an_office_imports_a_file_and_the_map_serves_it(page, tmp_path):
    app = tiny_app(
        tmp_path, admin_user="office", admin_password_hash=generate_password_hash(PASSWORD)
    )
    upload = tmp_path / "products.csv"
    upload.write_bytes(CSV)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    with LiveServer(app) as server:
        page.goto(server.url + "/admin/import?lang=en")
        page.fill("#user", "office")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#file")
        page.set_input_files("#file", str(upload))
        page.click("text=Check the file")
        page.wait_for_selector("#confirm")
        assert page.locator("tr[data-kind=products] td.added").inner_text() == "1"
        page.click("#confirm")
        page.wait_for_selector("p.message.ok")
        assert "Imported as version v0001" in page.locator("p.message.ok").inner_text()
        response = page.request.get(server.url + "/api/producers.geojson")
        names = [
            item["name"]
            for feature in response.json()["features"]
            for item in feature["properties"]["products"]
        ]
        assert "Mật ong <img src=x onerror=alert(1)>" in names
        # the map's popup shows it as text, never as markup
        page.goto(server.url + "/?edition=2020")
        page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
        texts = []
        markers = page.locator("path.producer-marker")
        for n in range(markers.count()):
            markers.nth(n).click(force=True)
            popup = page.locator(".leaflet-popup-content").last
            popup.wait_for(timeout=5_000)
            texts.append(popup.inner_text())
        assert any("Mật ong <img src=x onerror=alert(1)>" in t for t in texts), texts
        assert page.locator(".leaflet-popup-content img").count() == 0
    assert dialogs == []
