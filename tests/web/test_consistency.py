"""One number in every view: for random filter combinations (hypothesis), every view that
shows a coverage figure agrees with the eligibility rule, computed here straight from the
store's data by ``geoapp.domain.eligibility.product_eligibility``. A view with a rule of its
own (another expiry rule, another star rule, another placement) fails these tests."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from urllib.parse import urlencode

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader

from geoapp.domain import eligibility as elig
from geoapp.domain.coverage import status_of

GROUPS = (None, "Thực phẩm", "Đồ uống", "Thảo dược", "Hàng thủ công mỹ nghệ")
PRODUCER_TYPES = (None, "cooperative", "sme", "household", "cooperative_group")

filters = st.fixed_dictionaries(
    {
        "edition": st.sampled_from(["2020", "2025"]),
        "target": st.integers(1, 5),
        "min_stars": st.integers(1, 5),
        "as_of": st.dates(dt.date(2017, 1, 1), dt.date(2026, 12, 31)),
        "group": st.sampled_from(GROUPS),
        "producer_type": st.sampled_from(PRODUCER_TYPES),
    }
)


def examples(n: int):
    """Hypothesis settings: ``n`` examples, no deadline (the real data's first renders are slow)."""
    return settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def query_of(f: dict) -> str:
    args = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in f.items() if v}
    return urlencode(args)


def truth(app, f: dict) -> tuple[pd.Series, pd.Series, int, int]:
    """(products per scored commune, status per scored commune, products counted, district-only
    products counted) by the rule itself, from the store's tables."""
    state = app.extensions["geoapp"]
    store, edition = state.store, f["edition"]
    communes = store.communes(edition, "display")
    if edition == "2025":
        communes = communes.loc[communes["former_province"].eq("Quảng Nam")]
    rule = elig.EligibilityFilter(
        as_of=f["as_of"],
        min_stars=f["min_stars"],
        certificate_months=state.settings.certificate_months,
        group=f["group"],
        producer_type=f["producer_type"],
    )
    rows = elig.product_eligibility(
        store.ocop().products,
        state.coverage.producers(edition),
        rule,
        edition=edition,
        communes_in_scope=pd.Index(communes["commune_code"]),
    )
    counted = rows.loc[rows["counts"]]
    per_commune = (
        counted["commune_code"].value_counts().reindex(communes["commune_code"], fill_value=0)
    )
    status = status_of(per_commune, f["target"])
    return per_commune, status, len(counted), int(counted["commune_code"].isna().sum())


def known(app, f: dict) -> bool:
    """Groups that the data does not have are refused with 400 (tested elsewhere)."""
    groups = app.extensions["geoapp"].store.ocop().products["group_148"].dropna().unique()
    return f["group"] is None or f["group"] in set(groups)


def header_figure(html: str, name: str) -> str:
    match = re.search(rf'<dd id="figure-{name}">(.*?)</dd>', html, re.S)
    assert match, name
    return " ".join(match.group(1).split())


@pytest.mark.realdata
@examples(200)
@given(f=filters)
def test_map_header_legend_api_geojson_and_csv_agree_with_the_rule(real_app, real_client, f):
    if not known(real_app, f):
        return
    per_commune, status, n_counted, n_district_only = truth(real_app, f)
    query = query_of(f)

    api = real_client.get(f"/api/coverage?{query}").get_json()
    rows = {r["commune_code"]: r for r in api["communes"] if r["status"] != "no_data"}
    assert {c: rows[c]["n_products"] for c in per_commune.index} == per_commune.to_dict()
    assert {c: rows[c]["status"] for c in status.index} == status.to_dict()
    province = api["province"]
    assert province["products_counted"] == n_counted
    assert province["products_in_communes_sum"] + province["products_district_only"] == n_counted
    assert province["products_district_only"] == n_district_only
    assert province["communes_met"] == int(status.eq("met").sum())
    if f["as_of"] < elig.PROGRAMME_START:  # nothing counts before the programme started
        assert province["communes_met"] == 0 and n_counted == 0

    geojson = real_client.get(f"/api/communes.geojson?{query}").get_json()
    shown = {
        ft["properties"]["commune_code"]: ft["properties"]["n_products"]
        for ft in geojson["features"]
        if ft["properties"]["status"] != "no_data"
    }
    assert shown == per_commune.to_dict()

    page = real_client.get(f"/?{query}").get_data(as_text=True)
    met = int(status.eq("met").sum())
    assert header_figure(page, "met").startswith(f"{met} / {len(status)}")
    assert header_figure(page, "products") == str(n_counted)
    legend = dict(re.findall(r'data-status="(\w+)">.*?<span class="count">(\d+)</span>', page))
    for name in ("none", "below", "met"):
        assert int(legend[name]) == int(status.eq(name).sum()), name

    body = real_client.get(f"/planner/download.csv?{query}").get_data().decode("utf-8-sig")
    table = {
        r["commune_code"]: int(r["n_products"])
        for r in csv.DictReader(io.StringIO(body))
        if r["status"] != "no_data"
    }
    assert table == per_commune.to_dict()


@pytest.mark.realdata
@examples(12)
@given(f=filters)
def test_workbook_and_pdf_agree_with_the_rule(real_app, real_client, f):
    if not known(real_app, f):
        return
    per_commune, status, n_counted, _ = truth(real_app, f)
    query = query_of(f)
    book = load_workbook(io.BytesIO(real_client.get(f"/planner/download.xlsx?{query}").data))
    sheet = book["communes"]
    header = [c.value for c in sheet[1]]
    code, n, st_ = (header.index(k) for k in ("commune_code", "n_products", "status"))
    cells = {
        str(row[code]): int(row[n])
        for row in sheet.iter_rows(min_row=2, values_only=True)
        if row[st_] != "no_data"
    }
    assert cells == per_commune.to_dict()
    province = dict(book["province"].iter_rows(min_row=2, values_only=True))
    assert province["products_counted"] == n_counted

    pdf = real_client.get(f"/report/coverage.pdf?{query}&lang=en")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    text = " ".join(text.split())
    met = int(status.eq("met").sum())
    assert f"{met} / {len(status)}" in text
    assert re.search(rf"Products counted \(≥{f['min_stars']}★, valid\) {n_counted}\b", text)
