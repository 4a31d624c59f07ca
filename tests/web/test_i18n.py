"""Languages: Vietnamese by default, English by choice, and every UI string translated.

Two checks cover "no untranslated string": the catalogue check extracts every message of the
code and templates (as ``make messages`` does, with babel.cfg) and requires a Vietnamese
translation for each; the page walk renders every HTML page of the app in both languages and
looks for texts of the other language in what a reader sees or hears.
"""

from __future__ import annotations

import html.parser
import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from geoapp.config import PROJECT_ROOT
from geoapp.i18n import compile_catalogues

PO_FILE = PROJECT_ROOT / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")
# Pages that need a parameter or are not HTML are reached through these addresses.
EXTRA_PAGES = ("/no/such/page", "/?edition=1999", "/nearby?lat=15.6&lon=108.1")


def catalogue():
    with PO_FILE.open("rb") as handle:
        return read_po(handle, locale="vi")


def extracted_messages() -> dict[str, list[str]]:
    with (PROJECT_ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, *_ in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        messages = message if isinstance(message, tuple) else (message,)
        for text in messages:
            if text:
                found.setdefault(text, []).append(f"{filename}:{lineno}")
    return found


def test_every_message_of_code_and_templates_has_a_vietnamese_translation():
    po = catalogue()
    translated = {m.id: m.string for m in po if m.id and m.string and not m.fuzzy}
    missing = {
        msgid: places for msgid, places in extracted_messages().items() if msgid not in translated
    }
    assert not missing, (
        "untranslated UI strings (run `make messages`, translate translations/vi, `make`): "
        + json.dumps(missing, ensure_ascii=False, indent=1)
    )


def test_catalogue_has_no_empty_or_fuzzy_entry_and_keeps_placeholders():
    po = catalogue()
    entries = [m for m in po if m.id]
    assert len(entries) > 100
    for message in entries:
        assert message.string, message.id
        assert not message.fuzzy, message.id
        assert sorted(PLACEHOLDER.findall(message.id)) == sorted(
            PLACEHOLDER.findall(message.string)
        ), message.id


def test_compiled_catalogue_is_up_to_date(tmp_path):
    # The .mo is built (make translations / on start-up) from the .po; compiling again from
    # the same .po must give the same bytes.
    target = tmp_path / "vi" / "LC_MESSAGES"
    target.mkdir(parents=True)
    (target / "messages.po").write_bytes(PO_FILE.read_bytes())
    (written,) = compile_catalogues(tmp_path)
    assert written.read_bytes() == PO_FILE.with_suffix(".mo").read_bytes()


class VisibleText(html.parser.HTMLParser):
    """Texts a reader sees or hears: text nodes (not script/style), labels in attributes, and
    the labels the page scripts show (JSON configuration in ``<script>``)."""

    ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0
        self._json = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
            self._json = tag == "script" and attrs.get("type") == "application/json"
        for name in self.ATTRIBUTES:
            if attrs.get(name):
                self.texts.append(attrs[name])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
            self._json = False

    def handle_data(self, data):
        if self._json:
            self.texts.extend(_json_strings(json.loads(data)))
        elif not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def _json_strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _json_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return []


def visible_text(page: str) -> str:
    parser = VisibleText()
    parser.feed(page)
    # Labels of the coverage map script travel inside its inline script as JSON.
    for blob in re.findall(r'"labels": (\{[^{}]*\})', page):
        parser.texts.extend(_json_strings(json.loads(blob)))
    return "\n".join(parser.texts)


def pattern(text: str) -> re.Pattern:
    parts = [re.escape(" ".join(p.split())) for p in PLACEHOLDER.split(text)]
    return re.compile(r"(?<!\w)" + r".{1,80}?".join(parts) + r"(?!\w)")


def html_pages(app) -> list[str]:
    pages = []
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods:
            continue
        if rule.rule.startswith(("/api/", "/static")):
            continue
        pages.append(rule.rule)
    return sorted(pages) + list(EXTRA_PAGES)


def distinctive(messages, side: str) -> list[tuple[str, re.Pattern]]:
    """Messages of one language that cannot be mistaken for the other or for a name."""
    out = []
    for m in messages:
        if not m.id or m.id == m.string:
            continue
        text = m.id if side == "en" else m.string
        literal = PLACEHOLDER.sub("", text)
        if len(literal.split()) >= 3 and len(literal) >= 15:
            out.append((text, pattern(text)))
    return out


@pytest.fixture(scope="module")
def walked(tiny_data_dir):
    from geoapp import create_app

    app = create_app(
        {"data_dir": tiny_data_dir, "testing": True, "as_of": "2024-12-31", "tile_url": "none"}
    )
    client = app.test_client()
    result = {}
    for path in html_pages(app):
        for lang in ("vi", "en"):
            joiner = "&" if "?" in path else "?"
            response = client.get(f"{path}{joiner}lang={lang}", follow_redirects=True)
            if response.mimetype != "text/html":
                continue
            result[(path, lang)] = response.get_data(as_text=True)
    return result


def test_walk_reaches_every_page(walked):
    paths = {path for path, _ in walked}
    assert {"/", "/nearby", "/planner", "/no/such/page"} <= paths


def test_english_pages_show_no_vietnamese_ui_text(walked):
    vietnamese = distinctive(catalogue(), "vi")
    problems = []
    for (path, lang), page in walked.items():
        if lang != "en":
            continue
        assert '<html lang="en"' in page, path
        text = visible_text(page)
        problems += [(path, vi) for vi, regex in vietnamese if regex.search(text)]
    assert problems == []


def test_vietnamese_pages_show_no_english_ui_text(walked):
    english = distinctive(catalogue(), "en")
    assert len(english) > 50
    problems = []
    for (path, lang), page in walked.items():
        if lang != "vi":
            continue
        assert '<html lang="vi"' in page, path
        text = visible_text(page)
        problems += [(path, en) for en, regex in english if regex.search(text)]
    assert problems == []


def test_the_page_checks_would_see_the_other_language(walked):
    # The detector itself: English texts are found on English pages, Vietnamese on Vietnamese.
    english, vietnamese = distinctive(catalogue(), "en"), distinctive(catalogue(), "vi")
    for path in ("/", "/nearby"):
        en_text = visible_text(walked[(path, "en")])
        vi_text = visible_text(walked[(path, "vi")])
        assert sum(1 for _, regex in english if regex.search(en_text)) >= 5, path
        assert sum(1 for _, regex in vietnamese if regex.search(vi_text)) >= 5, path


def test_every_page_has_the_language_switch(walked):
    for (path, lang), page in walked.items():
        if path.startswith("/embed/"):
            # The chrome-less iframe map takes its language from its URL; no switch is shown.
            assert '<body class="embed-page' in page, path
            continue
        assert 'class="lang-switch"' in page, path
        current = re.search(r'<a href="([^"]+)" hreflang="(\w+)" lang="\w+" aria-current', page)
        assert current and current.group(2) == lang, path
        assert f"lang={'en' if lang == 'vi' else 'vi'}" in page


def test_vietnamese_is_the_default(client):
    page = client.get("/nearby").get_data(as_text=True)
    assert '<html lang="vi"' in page
    assert "Sản phẩm OCOP gần bạn" in page


def test_accept_language_chooses_english(client):
    page = client.get("/nearby", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en"' in page.get_data(as_text=True)
    assert "Accept-Language" in page.headers["Vary"]
    vi = client.get("/", headers={"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"})
    assert '<html lang="vi"' in vi.get_data(as_text=True)


def test_lang_parameter_wins_and_is_remembered_in_a_cookie(client):
    first = client.get("/?lang=en", headers={"Accept-Language": "vi"})
    assert '<html lang="en"' in first.get_data(as_text=True)
    cookie = first.headers["Set-Cookie"]
    assert cookie.startswith("lang=en;") and "SameSite=Lax" in cookie and "Max-Age=" in cookie
    again = client.get("/nearby", headers={"Accept-Language": "vi"})
    assert '<html lang="en"' in again.get_data(as_text=True)  # the cookie beats the browser
    back = client.get("/nearby?lang=vi")
    assert '<html lang="vi"' in back.get_data(as_text=True)
    assert client.get("/nearby").get_data(as_text=True).count('<html lang="vi"') == 1
    ignored = client.get("/nearby?lang=fr")
    assert '<html lang="vi"' in ignored.get_data(as_text=True)
    assert "Set-Cookie" not in ignored.headers


def test_switch_links_keep_the_other_parameters(client):
    page = client.get("/?edition=2025&lang=en").get_data(as_text=True)
    assert 'href="/?edition=2025&amp;lang=vi"' in page


def test_product_and_place_names_are_not_translated(client):
    page = client.get("/nearby?lang=en").get_data(as_text=True)
    assert "Quảng Nam" in page
    body = client.get("/api/search?q=xa mot&lang=en").get_json()
    assert body[0]["name"] == "Xã Một"


def test_translations_directory_layout():
    assert PO_FILE.exists()
    assert (PROJECT_ROOT / "babel.cfg").exists()
    assert Path(PO_FILE).with_suffix(".mo").exists()
