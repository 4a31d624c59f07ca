"""An import never re-sends the geometry: after it, a reload of the map in Debian's chromium
asks the service for the new coverage status only; the boundaries, under the same boundary
version, come from the browser's cache."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from tests.browser.conftest import LiveServer, sign_in_and_import
from tests.tiny_data import tiny_app

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
# A second counted product for commune 10003 (producer PR2): "below" becomes "met".
CSV = (
    "Mã sản phẩm,Tên sản phẩm,Nhóm sản phẩm,Số sao,Mã chủ thể\nN1,Mật ong Ba,Thực phẩm,4,PR2\n"
).encode("utf-8-sig")
MAP_DATA = ("/api/boundaries.topojson", "/api/coverage/status.json")


def test_after_an_import_the_map_asks_for_the_status_only(page, tmp_path):
    app = tiny_app(
        tmp_path, admin_user="office", admin_password_hash=generate_password_hash(PASSWORD)
    )
    served: list[str] = []  # what reached the service (not the browser's cache)
    wsgi = app.wsgi_app

    def recording(environ, start_response):
        if environ["PATH_INFO"] in MAP_DATA:
            served.append(environ["PATH_INFO"] + "?" + environ.get("QUERY_STRING", ""))
        return wsgi(environ, start_response)

    app.wsgi_app = recording
    upload = tmp_path / "products.csv"
    upload.write_bytes(CSV)
    with LiveServer(app) as server:
        page.goto(server.url + "/?edition=2020&lang=en")
        page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
        first = list(served)
        assert sorted(u.split("?")[0] for u in first) == sorted(MAP_DATA)
        sign_in_and_import(page, server.url, "office", PASSWORD, upload)
        served.clear()
        page.goto(server.url + "/?edition=2020&lang=en")
        page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
        assert [u.split("?")[0] for u in served] == ["/api/coverage/status.json"]
        assert served[0] not in first  # a new data version, so a new status URL
        assert page.locator("path.commune-shape.status-met").count() == 2  # 10003 now meets it
