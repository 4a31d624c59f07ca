"""The map page on the tiny data set: figures, legend, escaping, errors as HTML."""

from __future__ import annotations

import re


def test_index_shows_figures_legend_and_map(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'id="figure-met">\s*1 / 4', html)
    assert 'data-status="none"' in html
    assert 'data-status="no_data"' not in html  # edition 2020 has no "no data" class
    assert "OcopMap.init(map_coverage" in html
    assert "/api/coverage/status.json?edition=2020" in html
    assert "cdn." not in html and "https://" not in html  # tiles "none", assets local


def test_index_2025_has_no_data_class(client):
    html = client.get("/?edition=2025").get_data(as_text=True)
    match = re.search(r'data-status="no_data">.*?<span class="count">(\d+)</span>', html, re.S)
    assert match and match.group(1) == "1"


def test_legend_counts_follow_target(client):
    html = client.get("/?target=1").get_data(as_text=True)
    met = re.search(r'data-status="met">.*?<span class="count">(\d+)</span>', html, re.S)
    assert met.group(1) == "2"


def test_bad_edition_is_html_400_listing_values(client):
    response = client.get("/?edition=1999")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "2020, 2025" in text
    assert "Traceback" not in text


def test_error_message_is_escaped(client):
    response = client.get("/?edition=<script>alert(1)</script>")
    text = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;" in text


def test_unknown_page_is_404(client):
    assert client.get("/no/such/page").status_code == 404


def test_data_texts_in_page_are_escaped(client):
    # Commune "Xã Bốn <b>" never reaches the page unescaped (it only travels as JSON).
    html = client.get("/").get_data(as_text=True)
    assert "Bốn <b>" not in html


def test_reserved_url_for_arguments_in_the_query_do_not_crash(client):
    response = client.get("/?_method=POST&_external=1&_scheme=javascript")
    assert response.status_code == 200
    assert "javascript:" not in response.get_data(as_text=True)


def test_language_links_stay_on_this_site(client):
    text = client.get("//evil.example/page").get_data(as_text=True)
    assert 'href="//evil.example' not in text


def test_a_district_opens_the_map_on_it(client):
    html = client.get("/?edition=2020&district=101").get_data(as_text=True)
    assert "[[15.5, 108.0], [15.7, 108.1]]" in html  # the map fits district 101's bounds
    assert '"focus": {"district": "101"}' in html  # and dims the communes outside it
    assert (
        'href="/api/coverage/status.json?edition=2020&amp;district=101&amp;v=' in html
    )  # preloaded
    assert client.get("/?district=999").status_code == 400


def figure(html: str, name: str) -> str:
    match = re.search(rf'<dd id="figure-{name}">(.*?)</dd>', html, re.S)
    assert match, name
    return " ".join(match.group(1).split())


def test_the_header_and_legend_of_a_district_show_its_own_figures(client):
    province = client.get("/?edition=2020").get_data(as_text=True)
    district = client.get("/?edition=2020&district=101").get_data(as_text=True)
    assert figure(province, "met").startswith("1 / 4")
    assert figure(district, "met").startswith("1 / 2")  # 10001 met, 10002 none
    assert figure(district, "none") == "1"
    assert 'id="area-heading"' in district and 'id="area-heading"' not in province
    back = re.search(r'id="province-link" href="([^"]+)"', district).group(1)
    assert "district" not in back and "edition=2020" in back
    legend = dict(re.findall(r'data-status="(\w+)">.*?<span class="count">(\d+)</span>', district))
    assert legend == {"none": "1", "below": "0", "met": "1"}
