"""Security headers, the policy's hashes of inline code, local-only links and redirects."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from geoapp.web.security import (
    content_security_policy,
    inline_hashes,
    safe_local_path,
    tile_origins,
)
from tests.tiny_data import tiny_app

HOSTILE_TARGETS = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "/%2F%2Fevil.example",
    "%2F%2Fevil.example",
    "https://evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "/\t/evil.example",
    "/%09/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "evil.example",
]


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.mark.parametrize(
    "path", ["/", "/planner", "/nearby", "/api/outlets.geojson", "/healthz", "/no/such/page"]
)
def test_every_answer_has_the_headers(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    policy = directives(response.headers["Content-Security-Policy"])
    for name in ("script-src", "style-src", "default-src", "connect-src"):
        assert policy[name][0] == "'self'", name
    assert not any("unsafe" in v for v in policy["script-src"] + policy["style-src"])
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]


def test_inline_code_of_a_page_is_allowed_by_its_hash_only(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    policy = directives(response.headers["Content-Security-Policy"])
    inline = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(inline) >= 2  # folium's map script and the export button's loader
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"]
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert styles and len(policy["style-src"]) == 1 + len(set(styles))
    # a script injected into the page would not match any hash
    scripts, _ = inline_hashes("<script>alert(1)</script>")
    assert scripts[0] not in policy["script-src"]


def test_a_cached_page_keeps_the_policy_of_its_bytes(client):
    first = client.get("/?edition=2020")
    second = client.get("/?edition=2020")
    assert client.application.extensions["geoapp.page_cache"].hits >= 1
    assert first.get_data() == second.get_data()
    assert first.headers["Content-Security-Policy"] == second.headers["Content-Security-Policy"]


def test_inline_hashes_skip_external_scripts_and_hash_styles():
    scripts, styles = inline_hashes(
        '<script src="/a.js"></script><SCRIPT type="module">x()</SCRIPT><style>b{}</style>'
    )
    assert scripts == [
        "'sha256-" + base64.b64encode(hashlib.sha256(b"x()").digest()).decode() + "'"
    ]
    assert len(styles) == 1


def test_tile_server_images_are_allowed(tmp_path):
    app = tiny_app(tmp_path, tile_url="https://{s}.tile.example.org/{z}/{x}/{y}.png")
    policy = directives(app.test_client().get("/").headers["Content-Security-Policy"])
    assert "https://*.tile.example.org" in policy["img-src"]
    assert tile_origins("https://tiles.example.org:8443/{z}/{x}/{y}.png") == (
        "https://tiles.example.org:8443",
    )
    assert tile_origins("none") == () and tile_origins("/tiles/{z}/{x}/{y}.png") == ()


def test_policy_has_no_unsafe_script_source():
    policy = content_security_policy("'self'", (), ["'sha256-x'"], [])
    assert "script-src 'self' 'sha256-x'" in policy
    assert "unsafe-inline" not in directives(policy)["script-src"]


# -- frames -------------------------------------------------------------------------------------


def test_embed_may_be_framed_anywhere(client):
    response = client.get("/embed/coverage")
    assert directives(response.headers["Content-Security-Policy"])["frame-ancestors"] == ["*"]
    assert "X-Frame-Options" not in response.headers


@pytest.mark.parametrize("path", ["/", "/planner", "/report/coverage.png?width=300", "/nope"])
def test_other_pages_only_by_the_site(client, path):
    response = client.get(path)
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'self'"]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_admin_pages_by_no_one(tmp_path):
    client = tiny_app(tmp_path, admin_token="t" * 24).test_client()
    response = client.get("/admin/login")
    assert response.status_code == 200
    assert directives(response.headers["Content-Security-Policy"])["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"


# -- links and redirects to this site only ------------------------------------------------------


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_safe_local_path_refuses_other_sites(target):
    assert safe_local_path(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target", ["/", "/planner?edition=2020", "/admin/import", "/a%20b"])
def test_safe_local_path_keeps_local_paths(target):
    assert safe_local_path(target) == target


def language_hrefs(html: str) -> list[str]:
    nav = re.search(r'<nav class="lang-switch".*?</nav>', html, re.S).group(0)
    return re.findall(r'href="([^"]*)"', nav)


@pytest.mark.parametrize(
    "raw_path",
    [
        "/\\evil.example",
        "//evil.example",
        "/\\\\evil.example/x",
        "/\t/evil.example",
        "/https://evil.example",
        "/%5Cevil.example",
        "/\\/evil.example",
    ],
)
def test_language_switch_links_stay_on_the_site(client, raw_path):
    response = client.get("/", environ_overrides={"PATH_INFO": raw_path})
    hrefs = language_hrefs(response.get_data(as_text=True))
    assert len(hrefs) == 2
    for href in hrefs:
        href = href.replace("&amp;", "&")
        # one slash then no slash or backslash; nothing a browser drops or reads as a slash
        assert re.match(r"/(?![/\\])", href), href
        assert not re.search(r"[\\\x00-\x20\x7f]", href), href


def test_language_switch_keeps_the_page_and_query(client):
    html = client.get("/planner?edition=2020&q=a b").get_data(as_text=True)
    assert "/planner?edition=2020&amp;q=a+b&amp;lang=en" in language_hrefs(html)


@pytest.mark.parametrize("target", [*HOSTILE_TARGETS, "/planner", "/admin\\..\\x"])
def test_admin_sign_in_redirects_only_inside_admin(tmp_path, target):
    client = tiny_app(tmp_path, admin_token="t" * 24).test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/admin/login",
        query_string={"next": target},
        data={"password": "t" * 24, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/import"
