"""Candidates (in the pipeline, not certified) in the planner: columns of their own, never in
the coverage. Tiny data (tests/tiny_data.py) with ``candidates()`` added; expected counts are
computed here from the candidates file, not pinned."""

from __future__ import annotations

import pandas as pd
import pytest

from geoapp.domain.ocop import CANDIDATE_COLUMNS
from geoapp.services.planner import PlannerService, TableFilter
from geoapp.storage import FileStore
from tests.tiny_data import tiny_app, write_candidates, write_tiny_data

EDITIONS = ("2020", "2025")


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    """The same tiny data without and with a candidates file, and that file."""
    without = tiny_app(tmp_path_factory.mktemp("without"), as_of="2024-12-31")
    root = tmp_path_factory.mktemp("with")
    with_candidates = tiny_app(root, as_of="2024-12-31")
    path = write_candidates(root / "data")
    return without, with_candidates, pd.read_csv(path, dtype=str, keep_default_na=False)


def planner(app) -> tuple[PlannerService, object]:
    coverage = app.extensions["geoapp"].coverage
    return PlannerService(coverage), coverage.default_params()


@pytest.mark.parametrize("edition", EDITIONS)
def test_candidates_never_change_coverage(apps, edition):
    without, with_candidates, _ = apps
    (plain, params), (piped, _) = planner(without), planner(with_candidates)
    a = plain.view(edition, params, TableFilter())
    b = piped.view(edition, params, TableFilter())
    columns = ["commune_code", "status", "n_products", "missing", "product_names"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.communes[columns]), pd.DataFrame(b.communes[columns])
    )
    assert a.province == b.province
    coverage_columns = [c for c in a.districts.columns if not c.startswith("n_candidates")]
    pd.testing.assert_frame_equal(a.districts[coverage_columns], b.districts[coverage_columns])
    assert b.communes["n_candidates"].sum() > 0  # the candidates are there, in their own column


def test_commune_counts_equal_the_candidates_file(apps):
    _, app, csv = apps
    service, params = planner(app)
    table = service.commune_table("2020", params)
    expected = csv.loc[csv["commune_code"].ne(""), "commune_code"].value_counts()
    got = dict(zip(table["commune_code"], table["n_candidates"], strict=True))
    assert {code: n for code, n in got.items() if n} == expected.to_dict()
    # Edition 2025: each 2020 commune's candidates go to its successor (crosswalk file).
    crosswalk = pd.read_csv(
        app.extensions["geoapp"].settings.data_dir / "boundaries" / "crosswalk_2020_2025.csv",
        dtype=str,
    )
    successor = dict(zip(crosswalk["old_commune_code"], crosswalk["new_commune_code"], strict=True))
    expected_2025 = csv["commune_code"].map(successor).dropna().value_counts().to_dict()
    table_2025 = service.commune_table("2025", params)
    got_2025 = dict(zip(table_2025["commune_code"], table_2025["n_candidates"], strict=True))
    assert {code: n for code, n in got_2025.items() if n} == expected_2025


def test_district_counts_include_those_known_only_by_district(apps):
    _, app, csv = apps
    service, params = planner(app)
    view = service.view("2020", params, TableFilter())
    communes = view.communes.groupby("district_code")["n_candidates"].sum()
    for row in view.districts.itertuples():
        in_district = csv.loc[csv["district_code"].eq(row.district_code)]
        assert row.n_candidates == len(in_district)
        assert row.n_candidates_district_only == int(in_district["commune_code"].eq("").sum())
        assert row.n_candidates == communes.get(row.district_code, 0) + (
            row.n_candidates_district_only
        )
    assert view.districts["n_candidates_district_only"].sum() > 0


def test_commune_detail_lists_its_candidates(apps):
    _, app, csv = apps
    service, params = planner(app)
    for code in ("10001", "10004", "10002"):
        detail = service.commune_detail("2020", code, params)
        listed = [c["candidate_id"] for c in detail["candidates"]]
        assert listed == csv.loc[csv["commune_code"].eq(code), "candidate_id"].tolist()
    stars = {
        c["candidate_id"]: c["stars"]
        for c in service.commune_detail("2020", "10001", params)["candidates"]
    }
    assert stars["C1"] == "3?"  # kept as text
    # Candidates are never listed as products of the commune.
    products = service.commune_detail("2020", "10001", params)["products"]
    assert not {p["product_id"] for p in products} & set(csv["candidate_id"])


def test_a_folder_without_candidates_reads_as_an_empty_table(tmp_path):
    data = FileStore(write_tiny_data(tmp_path)).ocop()
    assert data.candidates.empty
    assert tuple(data.candidates.columns) == CANDIDATE_COLUMNS
