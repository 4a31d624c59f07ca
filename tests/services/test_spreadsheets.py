"""Spreadsheet writers: formula-like text neutralised, numbers kept, and export then import
still round-trips (the importer takes the quote off again)."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from geoapp.services.spreadsheets import safe_frame, text_cells
from tests.services.test_imports import PRODUCERS_CSV, content, make_app, plan, service_of

NAMES = {
    "F1": '=HYPERLINK("http://evil.example","x")',
    "F2": "+84 235 3812 345",
    "F3": "-1+cmd|' /C calc'!A0",
    "F4": "@SUM(A1:A9)",
    "F5": "'=already quoted",
    "F6": "Mật ong -5",
}
# An imported quote before a formula character is Excel's "text" marker: it is taken off.
STORED = {**NAMES, "F5": "=already quoted"}


def test_text_cells_type_text_as_strings_and_keep_numbers():
    for write_only in (True, False):
        book = Workbook(write_only=write_only)
        sheet = book.create_sheet("s")
        sheet.append(text_cells(sheet, ["=1+2", "-5", "-x", -5, 2.5, None, "\x00@a"]))
        buffer = io.BytesIO()
        book.save(buffer)
        cells = next(load_workbook(io.BytesIO(buffer.getvalue()))["s"].iter_rows())
        assert [c.value for c in cells] == ["'=1+2", "-5", "'-x", -5, 2.5, None, "'@a"]
        assert [c.data_type for c in cells] == ["s", "s", "s", "n", "n", "n", "s"]


def test_safe_frame_leaves_numeric_columns_alone():
    frame = pd.DataFrame({"n": [-5, 3], "t": ["=x", "-5"], "=bad": ["a", None]})
    out = safe_frame(frame)
    assert list(out.columns) == ["n", "t", "'=bad"]
    assert out["n"].tolist() == [-5, 3] and out["t"].tolist() == ["'=x", "-5"]
    assert out["'=bad"].isna().tolist() == [False, True]
    assert frame["t"].tolist() == ["=x", "-5"]  # the input is not changed


@pytest.fixture()
def service_with_formula_names(tmp_path):
    service = service_of(make_app(tmp_path / "a", empty_seed=True))
    rows = "".join(f'{pid},"{name.replace(chr(34), chr(34) * 2)}",Thực phẩm,3,NP1\n'
                   for pid, name in NAMES.items())  # fmt: skip
    products = "product_id,name,group_148,stars,producer_id\n" + rows
    result = plan(
        service, ("products.csv", products.encode()), ("producers.csv", PRODUCERS_CSV.encode())
    )
    assert result.ok, result.report.to_text()
    service.apply(result)
    return service


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_neutralises_formulas_and_import_reads_them_back(
    service_with_formula_names, tmp_path, fmt
):
    service = service_with_formula_names
    exported = service.export(tmp_path / "out", fmt)
    if fmt == "csv":
        products = next(p for p in exported if p.name == "products.csv")
        rows = list(csv.DictReader(io.StringIO(products.read_text(encoding="utf-8-sig"))))
        written = {r["product_id"]: r["name"] for r in rows}
    else:
        book = load_workbook(exported[0])
        assert all(c.data_type != "f" for s in book for row in s.iter_rows() for c in row)
        sheet = book["products"]
        header = [c.value for c in sheet[1]]
        id_col, name_col = header.index("product_id"), header.index("name")
        written = {r[id_col]: r[name_col] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert written["F1"] == "'" + NAMES["F1"] and written["F4"] == "'@SUM(A1:A9)"
    assert written["F5"] == "'=already quoted" and written["F6"] == "Mật ong -5"
    again = service.plan_paths(exported)
    assert again.ok and again.validated.changes() == 0, again.report.to_text()
    fresh = service_of(make_app(tmp_path / "b", empty_seed=True))
    result = fresh.plan_paths(exported)
    assert result.ok, result.report.to_text()
    fresh.apply(result)
    names = content(fresh.export_frames())["products"].set_index("product_id")["name"]
    assert names.to_dict() == STORED


def test_the_export_command_writes_neutralised_files(tmp_path, service_with_formula_names):
    app = make_app(tmp_path / "c", empty_seed=True)
    service = service_of(app)
    exported = service_with_formula_names.export(tmp_path / "seed", "csv")
    assert service.apply(service.plan_paths(exported)) == "v0001"
    result = app.test_cli_runner().invoke(args=["ocop", "export", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "cli" / "products.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=" not in text and ",=" not in text
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    result = app.test_cli_runner().invoke(args=["ocop", "export", str(blocked / "sub")])
    assert result.exit_code == 1 and "cannot write to" in result.output
