"""Every page works under the Content-Security-Policy in Debian's chromium: no console error,
no page error, no policy violation, and the tiles of another origin still load."""

from __future__ import annotations

import http.server
import io
import threading

import pytest
from PIL import Image

from tests.browser.conftest import LiveServer
from tests.tiny_data import tiny_app

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

TOKEN = "t0ken-for-the-csp-browser-test"
# Each violation is also written to the console, so one listener sees both kinds of problem.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI);
});
"""


def watch(page) -> list[str]:
    problems: list[str] = []
    page.add_init_script(REPORT_VIOLATIONS)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def has_policy(response) -> bool:
    return "script-src 'self'" in (response.headers.get("content-security-policy") or "")


@pytest.mark.parametrize(
    ("path", "ready"),
    [
        ("/", "body[data-map-ready=true]"),
        ("/?edition=2025", "body[data-map-ready=true]"),
        ("/planner", "body[data-planner-ready=true]"),
        ("/nearby?lat=15.57&lon=108.47", "body[data-nearby-ready=true]"),
        ("/embed/coverage?district=503", "body[data-map-ready=true]"),
    ],
)
def test_page_works_under_the_policy(page, live_server, path, ready):
    problems = watch(page)
    response = page.goto(live_server.url + path)
    assert has_policy(response)
    page.wait_for_selector(ready, timeout=30_000)
    if path == "/":
        page.click("#export-open")  # export.js is loaded by an inline script on demand
        page.wait_for_selector("#export-dialog[open]", timeout=10_000)
    page.wait_for_timeout(300)
    assert problems == []


def test_an_injected_inline_script_is_blocked(page, live_server):
    problems = watch(page)
    page.goto(live_server.url + "/planner")
    page.wait_for_selector("body[data-planner-ready=true]", timeout=30_000)
    page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.injected = true"; document.body.appendChild(s); }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.injected === undefined")
    assert any("CSP violation: script-src" in p for p in problems), problems


def test_the_language_switch_of_a_hostile_path_links_to_this_site(page, live_server):
    page.goto(live_server.url + "/%5Cevil.example?lang=en")
    for link in page.locator("nav.lang-switch a").all():
        href = link.evaluate("a => a.href")  # as the browser resolves it
        assert href.startswith(live_server.url + "/"), href


class TileHandler(http.server.BaseHTTPRequestHandler):
    """A tile server on another origin: one grey PNG for every tile."""

    requests: list[str] = []  # noqa: RUF012 (shared by the handler instances of one test)
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 200, 200)).save(buffer, "PNG")
    png = buffer.getvalue()

    def do_GET(self):
        TileHandler.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.png)))
        self.end_headers()
        self.wfile.write(self.png)

    def log_message(self, *args):
        pass


def test_tiles_from_the_configured_server_load(page, tmp_path):
    tiles = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TileHandler)
    thread = threading.Thread(target=tiles.serve_forever, daemon=True)
    thread.start()
    try:
        # "localhost" is another origin than the app's 127.0.0.1
        tile_url = f"http://localhost:{tiles.server_port}/{{z}}/{{x}}/{{y}}.png"
        app = tiny_app(tmp_path, tile_url=tile_url)
        problems = watch(page)
        with LiveServer(app) as server:
            page.goto(server.url + "/")
            page.wait_for_selector("body[data-map-ready=true]", timeout=30_000)
            page.wait_for_function(
                "() => [...document.querySelectorAll('img.leaflet-tile')]"
                ".some(img => img.complete && img.naturalWidth === 256)",
                timeout=10_000,
            )
        assert TileHandler.requests and problems == []
    finally:
        tiles.shutdown()
        thread.join(timeout=5)


def test_admin_pages_work_under_the_policy(page, tmp_path):
    app = tiny_app(tmp_path, admin_token=TOKEN)
    problems = watch(page)
    with LiveServer(app) as server:
        response = page.goto(server.url + "/admin/import?lang=en")
        page.fill("#password", TOKEN)
        page.click("button[type=submit]")
        page.wait_for_selector("#file")
        assert has_policy(response)
        page.click("text=Sign out")
        page.wait_for_selector("#password")
    assert problems == []
