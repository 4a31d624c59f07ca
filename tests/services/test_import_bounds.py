"""Bounds inside import files: zip bombs, huge cells, rows, columns, XML entities, malformed
XML, CSV fields over 128 KB; each is refused quickly, in bounded memory, with a clear message,
and the data served is unchanged."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import openpyxl
import pytest

from geoapp.services import import_files
from geoapp.services.import_files import ReadLimits
from geoapp.services.imports import ImportRejected, ImportService
from tests import hostile_files as hostile
from tests.tiny_data import tiny_app

MB = 2**20


@pytest.fixture()
def app(tmp_path):
    return tiny_app(tmp_path, as_of="2024-12-31")


@pytest.fixture()
def service(app) -> ImportService:
    state = app.extensions["geoapp"]
    return ImportService(state.store, state.settings)


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    return hostile.zip_bomb_xlsx(20_000_000)


@pytest.fixture(scope="module")
def gigabyte_cell() -> bytes:
    return hostile.huge_cell_xlsx(2**30)


def served(service: ImportService):
    store = service.store
    return store.data_version(), store.ocop().products.to_csv()


def refused(service, name: str, data: bytes):
    """Plan an import of one file; return its error issues, the seconds it took and the peak
    of memory allocated meanwhile (MB), checking that nothing changed."""
    before = served(service)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        plan = service.plan([(name, data)])
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()
    errors = [i for i in plan.report.issues if i.severity == "error"]
    assert not plan.ok and errors
    with pytest.raises(ImportRejected):
        service.apply(plan)
    assert served(service) == before
    return errors, seconds, peak


def test_a_3_mb_xlsx_expanding_to_20_million_rows_is_refused_at_once(service, zip_bomb):
    assert len(zip_bomb) < 4 * MB
    errors, seconds, peak = refused(service, "bomb.xlsx", zip_bomb)
    (error,) = errors
    assert error.code == "file_too_large"
    assert "would expand to 1,220.7 MB" in error.en and "zip bomb" in error.en
    assert "tệp nén độc hại" in error.vi
    assert seconds < 2 and peak < 40, (seconds, peak)


def test_a_gigabyte_cell_is_refused_at_once(service, gigabyte_cell):
    assert len(gigabyte_cell) < 2 * MB
    errors, seconds, peak = refused(service, "cell.xlsx", gigabyte_cell)
    assert errors[0].code == "file_too_large" and "1,024.0 MB" in errors[0].en
    assert seconds < 2 and peak < 40, (seconds, peak)


def test_a_cell_longer_than_excel_allows_is_refused_naming_it(service):
    (error,), _, _ = refused(service, "cell.xlsx", hostile.huge_cell_xlsx(40_000))
    assert error.en == "cell B2 holds 40,000 characters (at most 32,767 in one cell)"


def test_one_long_string_repeated_in_many_cells_stops_at_the_text_budget(service):
    data = hostile.repeated_string_xlsx(cells=3_000, chars=30_000)  # 90 M characters
    assert len(data) < 100_000
    (error,), seconds, peak = refused(service, "repeat.xlsx", data)
    assert "more than 40,000,000 characters" in error.en
    assert peak < 200 and seconds < 10, (seconds, peak)


@pytest.mark.parametrize("where", ["shared", "sheet"])
@pytest.mark.parametrize("prolog", [hostile.BILLION_LAUGHS, hostile.XXE], ids=["laughs", "xxe"])
def test_xml_entities_are_refused(service, where, prolog):
    (error,), seconds, _ = refused(service, "entities.xlsx", hostile.entity_xlsx(where, prolog))
    assert error.code == "unsafe_xml" and "declares entities" in error.en
    assert "root:" not in error.en and seconds < 2


@pytest.mark.parametrize("where", ["shared", "sheet"])
def test_openpyxl_itself_parses_sheets_with_defusedxml(where):
    # the second line of defence, behind the importer's own refusal of any DTD
    assert openpyxl.DEFUSEDXML  # defusedxml is pinned in requirements.txt
    data = hostile.entity_xlsx(where, hostile.BILLION_LAUGHS)
    with pytest.raises(Exception) as caught:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        for sheet in book.worksheets:
            list(sheet.iter_rows(values_only=True))
    chain = [caught.value, caught.value.__cause__, caught.value.__context__]
    assert any(type(e).__name__ == "EntitiesForbidden" for e in chain), chain


def test_a_dtd_in_any_part_is_refused_even_where_openpyxl_uses_lxml(service):
    # workbook.xml is parsed by lxml (entities not resolved) when lxml is installed
    data = hostile.raw_xlsx(hostile.sheet_xml([hostile.inline_row(hostile.HEADER)]))
    patched = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(patched, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/workbook.xml":
                content = content.replace(b"<workbook", hostile.XXE.split("\n", 1)[1].encode()
                                          + b"<workbook", 1)  # fmt: skip
            target.writestr(info.filename, content)
    (error,), _, _ = refused(service, "dtd.xlsx", patched.getvalue())
    assert error.code == "unsafe_xml"


def test_malformed_xml_is_a_clear_error(service):
    (error,), _, _ = refused(service, "broken.xlsx", hostile.malformed_xlsx())
    assert error.en.startswith("not a readable .xlsx workbook: malformed XML")


def test_not_a_zip_is_a_clear_error(service):
    (error,), _, _ = refused(service, "fake.xlsx", b"PK\x03\x04 not really a zip")
    assert error.en.startswith("not a readable .xlsx workbook (not a zip archive")


def test_a_sheet_declaring_too_many_rows_is_refused_before_reading_them(service):
    sheet = hostile.sheet_xml([hostile.inline_row(hostile.HEADER)]).replace(
        "<sheetData>", '<dimension ref="A1:E20000000"/><sheetData>'
    )
    (error,), _, _ = refused(service, "rows.xlsx", hostile.raw_xlsx(sheet))
    assert error.en == "the sheet declares 20,000,000 rows (at most 100,000): split the file"


def test_rows_beyond_the_limit_are_refused_while_reading(app):
    state = app.extensions["geoapp"]
    service = ImportService(state.store, state.settings, ReadLimits(max_rows=50))
    text = "product_id,name,group_148,stars,producer_id\n" + "P,X,Thực phẩm,3,PR1\n" * 60
    (error,), _, _ = refused(service, "products.csv", text.encode())
    assert error.en == "more than 50 rows: split the file"


def test_thousands_of_columns_are_refused(service):
    text = "product_id,name,stars," + ",".join(f"c{i}" for i in range(5000)) + "\n"
    (error,), _, _ = refused(service, "products.csv", text.encode())
    assert error.en == "row 1 has 5,003 columns (at most 200)"


def test_a_csv_field_over_128_kb_is_a_clear_error(service):
    text = 'product_id,name,stars\nP1,"' + "x" * 200_000 + '",3\n'
    (error,), seconds, _ = refused(service, "products.csv", text.encode())
    assert error.en == "line 2: a field longer than 131,072 characters (at most 32,767 in one cell)"
    assert seconds < 2


def test_a_file_too_large_is_refused_before_it_is_read(app, tmp_path):
    state = app.extensions["geoapp"]
    service = ImportService(state.store, state.settings, ReadLimits(max_file_bytes=1000))
    path = tmp_path / "products.csv"
    path.write_bytes(b"product_id,name\n" + b"P,X\n" * 1000)
    with pytest.raises(ImportRejected, match="more than the 0 MB an import file may have"):
        service.plan_paths([path])
    tables, issues = import_files.read_upload(path.read_bytes(), "x.csv", limits=service.limits)
    assert not tables and issues[0].code == "file_too_large"


# -- the command line: messages, never a traceback -------------------------------------------


def test_the_cli_reports_hostile_files_and_absurd_versions_without_a_traceback(app, tmp_path):
    runner = app.test_cli_runner()
    files = {
        "field.csv": ('product_id,name,stars\nP1,"' + "x" * 200_000 + '",3\n').encode(),
        "broken.xlsx": hostile.malformed_xlsx(),
        "entities.xlsx": hostile.entity_xlsx("sheet"),
    }
    expected = {
        "field.csv": "a field longer than 131,072 characters",
        "broken.xlsx": "malformed XML",
        "entities.xlsx": "declares entities",
    }
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        for command in ("validate", "import"):
            result = runner.invoke(args=["ocop", command, str(path)])
            assert result.exit_code == 1, result.output
            assert expected[name] in result.output
            assert result.exception is None or isinstance(result.exception, SystemExit)
            assert "Traceback" not in result.output
    for name, message in [
        ("9" * 5000, "not a version name: '99999999999999999999…'"),
        ("../../etc", "not a version name"),
        ("v\x00", "not a version name"),
        ("v٣", "not a version name"),  # an Arabic-Indic digit is not a version number
        ("v9999", "no version v9999; known: seed"),
    ]:
        result = runner.invoke(args=["ocop", "rollback", name])
        assert result.exit_code == 1 and message in result.output, result.output
        assert not isinstance(result.exception, (ValueError, TypeError))
