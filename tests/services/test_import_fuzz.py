"""Hypothesis drives the importer with random and mutated CSV and XLSX files (encodings, huge
fields, wrong types, formula cells, thousands of columns, zip bombs, XML entities): every file
ends in a report (or ``ImportRejected``), never another exception, and a refused import leaves
the served data as it was.

The reading limits are lowered (``LIMITS``) so that the bombs and oversized files the
strategies make stay small and the whole module runs in well under a minute; the code paths
are the same as with the default limits.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from geoapp.domain import validation as v
from geoapp.domain.text_safety import strip_control
from geoapp.services.import_files import ReadLimits
from geoapp.services.imports import ImportPlan, ImportRejected, ImportService
from tests import hostile_files as hostile
from tests.tiny_data import tiny_app

LIMITS = ReadLimits(
    max_file_bytes=2 * 2**20,
    max_rows=300,
    max_columns=60,
    max_cell_chars=5_000,
    max_total_chars=200_000,
    max_xlsx_bytes=1 * 2**20,
    max_xlsx_members=40,
)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same examples on every run: CI failures can be replayed
)
HEADERS = sorted({key for fields in v.FIELDS.values() for f in fields for key in (f.name, f.vi)})
FORMULAS = ["=1+2", '=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "'=x"]


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> ImportService:
    app = tiny_app(tmp_path_factory.mktemp("fuzz"), as_of="2024-12-31")
    state = app.extensions["geoapp"]
    service = ImportService(state.store, state.settings, LIMITS)
    good = "product_id,name,group_148,stars,producer_id\nN1,Mật ong,Thực phẩm,4,PR1\n"
    service.apply(service.plan([("products.csv", good.encode())]))  # a version to protect
    return service


def served(service: ImportService):
    store = service.store
    return store.data_version(), service.current_version(), store.ocop().products.to_csv()


def check(service: ImportService, name: str, data: bytes) -> ImportPlan | None:
    """The property: a report or ImportRejected, and nothing served changes when refused."""
    before = served(service)
    try:
        plan = service.plan([(name, data)])
    except ImportRejected:
        assert served(service) == before
        return None
    assert isinstance(plan.report, v.Report)
    for issue in plan.report.issues:
        assert issue.message("en") and issue.message("vi")
    if not plan.ok:
        with pytest.raises(ImportRejected):
            service.apply(plan)
    assert served(service) == before
    return plan


cell_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(FORMULAS),
    st.sampled_from(["", "3", "4.0", "-1", "1e309", "nan", "2024-13-45", "31/12/2024", "TRUE"]),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=8).map(lambda s: s * 900),
    st.integers(100_000, 300_000).map(lambda n: "x" * n),  # over the csv module's 128 KiB
    st.sampled_from(["\x00", "\x07\x1b", "\ufffe", "\u202e", "$x^2$", "$"]),
)
header_row = st.lists(st.one_of(st.sampled_from(HEADERS), st.text(max_size=10)), max_size=12)


@st.composite
def csv_files(draw) -> tuple[str, bytes]:
    headers = draw(header_row)
    width = max(1, len(headers))
    rows = draw(st.lists(st.lists(cell_text, min_size=0, max_size=width + 2), max_size=8))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    lines = [headers, *rows]
    if draw(st.booleans()) and draw(st.booleans()):
        lines.append([f"c{i}" for i in range(draw(st.integers(60, 3000)))])  # thousands of cols
    text = "\n".join(delimiter.join(_quote(c, delimiter) for c in row) for row in lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258", "latin-1"]))
    name = draw(st.sampled_from(["products.csv", "producers.csv", "outlets.csv", "x.csv", "y.tsv"]))
    return name, text.encode(encoding, errors="replace")


def _quote(cell: str, delimiter: str) -> str:
    if any(ch in cell for ch in (delimiter, '"', "\n", "\r")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


typed_value = st.one_of(
    cell_text,
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 1, 1)),
    st.none(),
)


@st.composite
def xlsx_files(draw) -> tuple[str, bytes]:
    book = Workbook()
    book.remove(book.active)
    titles = st.sampled_from(["products", "producers", "outlets", "Notes", "Sheet 1"])
    for title in draw(st.lists(titles, min_size=1, max_size=3, unique=True)):
        sheet = book.create_sheet(title)
        sheet.append(_writable(draw(header_row)))
        for row in draw(st.lists(st.lists(typed_value, max_size=10), max_size=6)):
            sheet.append(_writable(row))  # text starting with "=" becomes a formula cell here
        if draw(st.integers(0, 9)) == 0:
            sheet.append(list(range(draw(st.integers(61, 2000)))))
    buffer = io.BytesIO()
    book.save(buffer)
    return draw(st.sampled_from(["ocop.xlsx", "products.xlsx", "data.xlsm"])), buffer.getvalue()


def _writable(row: list) -> list:
    """What openpyxl agrees to write (it refuses control characters; the CSV and the raw XML
    strategies bring those)."""
    return [strip_control(c) if isinstance(c, str) else c for c in row]


def mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    out = bytearray(data)
    for kind, position, value in edits:
        if not out:
            break
        i = position % len(out)
        if kind == 0:
            out[i] = value
        elif kind == 1:
            out.insert(i, value)
        elif kind == 2:
            del out[i]
        else:
            del out[i:]
    return bytes(out)


edits = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2**31), st.integers(0, 255)),
                 min_size=1, max_size=6)  # fmt: skip


def rewrite_members(data: bytes, change) -> bytes:
    """The workbook with ``change(name, xml_text)`` applied to each XML member."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.endswith(".xml"):
                content = change(info.filename, content.decode("utf-8")).encode("utf-8")
            target.writestr(info.filename, content)
    return buffer.getvalue()


@FUZZ
@given(csv_files())
def test_random_csv_files_end_in_a_report(service, file):
    check(service, *file)


@FUZZ
@given(xlsx_files())
def test_random_workbooks_end_in_a_report(service, file):
    plan = check(service, *file)
    assert plan is not None  # a workbook openpyxl wrote is always read


@FUZZ
@given(st.one_of(csv_files(), xlsx_files()), edits)
def test_mutated_files_end_in_a_report(service, file, changes):
    name, data = file
    check(service, name, mutate(data, changes))


@settings(FUZZ, max_examples=40)
@given(
    xlsx_files(),
    st.sampled_from([hostile.BILLION_LAUGHS, hostile.XXE]),
    st.sampled_from(["xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml"]),
)
def test_workbooks_declaring_xml_entities_are_refused(service, file, prolog, member):
    name, data = file

    def add_doctype(filename: str, text: str) -> str:
        if filename != member:
            return text
        body = text.split("?>", 1)[1] if text.startswith("<?xml") else text
        return prolog + body.replace(
            "<sheetData>",
            '<sheetData><row><c t="inlineStr"><is><t>&xxe;&lol9;</t></is></c></row>',
            1,
        )

    plan = check(service, name, rewrite_members(data, add_doctype))
    assert plan is not None and not plan.ok
    assert any(i.code in {"unsafe_xml", "bad_file"} for i in plan.report.issues)


@settings(FUZZ, max_examples=20)
@given(st.integers(50_000, 1_000_000), st.integers(1, 9))
def test_zip_bombs_are_refused(service, rows, level):
    row = b"<row><c><v>1</v></c></row>"
    sheet = [hostile.inline_row(hostile.HEADER).encode(), row * rows]
    head = hostile.XML_HEAD + f'<worksheet xmlns="{hostile.MAIN_NS}"><sheetData>'
    data = hostile.raw_xlsx([head.encode(), *sheet, b"</sheetData></worksheet>"], level=level)
    plan = check(service, "bomb.xlsx", data)
    assert plan is not None and not plan.ok
    assert any(i.code == "file_too_large" for i in plan.report.issues)
