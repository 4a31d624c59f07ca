"""Import service on the tiny fixture: files, Excel quirks, versions, round trip, atomicity."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from geoapp import create_app
from geoapp.config import PROJECT_ROOT
from geoapp.domain import validation as v
from geoapp.domain.ocop import OUTLET_COLUMNS, PRODUCER_COLUMNS, PRODUCT_COLUMNS
from geoapp.services import imports
from geoapp.services.demo_data import DemoSpec
from geoapp.services.imports import ImportRejected, ImportService
from geoapp.storage import versions as versions_module
from geoapp.storage.versions import StaleBaseError
from tests.tiny_data import write_tiny_data

PRODUCTS_CSV = (
    "product_id,name,group_148,stars,recognition_date,producer_id\n"
    "N1,Mật ong mới,Thực phẩm,4,2024-05-10,PR1\n"
    "N2,Rượu mới,Đồ uống,3,2023,PR2\n"
)
PRODUCERS_CSV = (
    "Mã chủ thể,Tên chủ thể,Loại hình chủ thể,Xã/phường/thị trấn,Huyện/thị xã/thành phố\n"
    "NP1,HTX Mới,Hợp tác xã,Xã Hai,Huyện Tây\n"
)


def make_app(tmp_path: Path, *, empty_seed: bool = False):
    data = write_tiny_data(tmp_path / "data")
    if empty_seed:
        for name, columns in (
            ("products", PRODUCT_COLUMNS),
            ("producers", PRODUCER_COLUMNS),
            ("outlets", OUTLET_COLUMNS),
        ):
            pd.DataFrame(columns=list(columns)).to_csv(data / "ocop" / f"{name}.csv", index=False)
    return create_app(
        {
            "data_dir": data,
            "versions_dir": tmp_path / "versions",
            "testing": True,
            "tile_url": "none",
            "as_of": "2024-12-31",
        }
    )


def service_of(app) -> ImportService:
    state = app.extensions["geoapp"]
    return ImportService(state.store, state.settings)


@pytest.fixture()
def app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture()
def service(app) -> ImportService:
    return service_of(app)


def served_ids(app, kind: str) -> list[str]:
    data = app.extensions["geoapp"].store.ocop()
    frame = {"products": data.products, "producers": data.producers, "outlets": data.outlets}[kind]
    return sorted(frame[v.ID_COLUMN[kind]].astype(str))


def plan(service, *files: tuple[str, bytes], **options):
    return service.plan(list(files), today=dt.date(2025, 1, 1), **options)


# -- reading -----------------------------------------------------------------------------------


def test_utf8_with_and_without_bom_and_semicolons(service):
    for data in (
        PRODUCTS_CSV.encode("utf-8"),
        PRODUCTS_CSV.encode("utf-8-sig"),
        PRODUCTS_CSV.replace(",", ";").encode("utf-8-sig"),
    ):
        result = plan(service, ("products.csv", data))
        assert result.ok, result.report.to_text()
        assert result.counts["products"]["added"] == 2
        assert list(result.validated.records["products"]["name"]) == ["Mật ong mới", "Rượu mới"]


def test_other_encodings_get_a_clear_error(service):
    legacy = "product_id,name,group_148,stars\nN1,Cà phê,Thuc pham,3\n".encode("cp1258")
    assert legacy != legacy.decode("cp1258").encode("utf-8")
    result = plan(service, ("products.csv", legacy))
    (issue,) = result.report.errors()
    assert issue.code == "bad_encoding" and issue.file == "products.csv"
    assert "not UTF-8" in issue.message("en") and "CSV UTF-8" in issue.message("en")
    assert "không phải UTF-8" in issue.message("vi")
    utf16 = plan(service, ("products.csv", PRODUCTS_CSV.encode("utf-16")))
    assert [i.code for i in utf16.report.errors()] == ["bad_encoding"]


def test_unknown_file_types_and_old_excel(service):
    result = plan(service, ("a.xls", b"\xd0\xcf"), ("b.pdf", b"%PDF"), ("c.xlsx", b"not a zip"))
    assert [i.file for i in result.report.errors()] == ["a.xls", "b.pdf", "c.xlsx"]


def workbook_bytes(sheets: dict[str, list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_one_sheet_per_kind_with_excel_quirks(app, service):
    data = workbook_bytes(
        {
            "Sản phẩm": [
                ["DANH SÁCH SẢN PHẨM OCOP 2024"],  # a title row above the header
                [],
                [
                    "Mã sản phẩm",
                    "Tên sản phẩm ",
                    "Nhóm sản phẩm",
                    "Số sao",
                    "Ngày công nhận",
                    "Mã chủ thể",
                ],
                ["X1", "  Trà   gừng ", "Thực phẩm", " 4 ", dt.datetime(2024, 3, 2), "XP1"],
                [1001, "Bánh", "Thực phẩm", 3.0, "02/03/2024", 7],  # numbers stored as numbers
                [None, None, None, None, None, None],  # empty trailing rows
                ["", "  ", None, None, None, None],
            ],
            "Chủ thể": [
                ["Mã chủ thể", "Tên chủ thể", "Mã xã", "Kinh độ", "Vĩ độ"],
                ["XP1", "HTX X", 10001, 108.05, 15.55],
                [7, "Hộ Bảy", "10002", "108,05", "15,65"],  # numbers as text, decimal comma
            ],
            "Ghi chú": [["Nothing to import here"]],
        }
    )
    result = plan(service, ("ocop.xlsx", data))
    assert [i.code for i in result.report.errors()] == []
    # the notes sheet has no header: it is skipped with a warning
    assert [(i.code, i.sheet) for i in result.report.warnings()] == [("no_header", "Ghi chú")]
    products = result.validated.records["products"]
    assert list(products["product_id"]) == ["X1", "1001"]
    assert list(products["name"]) == ["Trà gừng", "Bánh"]
    assert list(products["stars"]) == ["4", "3"]
    assert list(products["recognition_date"]) == ["2024-03-02", "2024-03-02"]
    assert list(products["_row"]) == [4, 5] and set(products["_sheet"]) == {"Sản phẩm"}
    producers = result.validated.records["producers"]
    assert list(producers["producer_id"]) == ["XP1", "7"]
    assert list(producers["lat"]) == ["15.550000", "15.650000"]
    assert list(producers["location_precision"]) == ["exact", "exact"]
    version = service.apply(result)
    assert version == "v0001"
    assert "X1" in served_ids(app, "products") and "7" in served_ids(app, "producers")


def test_xlsx_errors_name_the_sheet(service):
    data = workbook_bytes(
        {"products": [["product_id", "name", "group_148", "stars"], ["A", "B", "Thực phẩm", 9]]}
    )
    (issue,) = plan(service, ("list.xlsx", data)).report.errors()
    assert (issue.file, issue.sheet, issue.row, issue.column) == (
        "list.xlsx",
        "products",
        2,
        "D (stars)",
    )


def test_folder_of_files(tmp_path, service):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "products.csv").write_text(PRODUCTS_CSV.replace("PR2", "NP1"), encoding="utf-8")
    (folder / "chu_the.csv").write_text(PRODUCERS_CSV, encoding="utf-8")
    (folder / "notes.md").write_text("ignored")
    result = service.plan_paths([folder])
    assert result.ok, result.report.to_text()
    assert result.files == ["chu_the.csv", "products.csv"]


# -- applying, provenance, history -------------------------------------------------------------


def test_import_creates_a_version_with_provenance(app, service):
    before = served_ids(app, "products")
    result = plan(service, ("products.csv", PRODUCTS_CSV.encode()))
    assert service.apply(result, note="test") == "v0001"
    assert served_ids(app, "products") == sorted([*before, "N1", "N2"])
    products = app.extensions["geoapp"].store.ocop().products.set_index("product_id")
    assert products.loc["N1", "source_file"] == "products.csv"
    assert products.loc["N2", "source_row"] == "3"
    assert str(products.loc["N1", "imported_at"]).endswith("Z")
    assert pd.isna(products.loc["P1", "source_file"])  # the seed's records keep no file
    assert products.loc["P1", "source_ids"] == "T"
    (info,) = service.history()
    assert info.manifest["counts"]["products"]["added"] == 2 and info.manifest["note"] == "test"


def test_import_with_errors_changes_nothing(app, service):
    bad = PRODUCTS_CSV + "N3,X,Thực phẩm,7,,PR1\n"
    result = plan(service, ("products.csv", bad.encode()))
    with pytest.raises(ImportRejected):
        service.apply(result)
    assert service.history() == [] and "N1" not in served_ids(app, "products")


def test_nothing_to_change_makes_no_version(service):
    first = plan(service, ("products.csv", PRODUCTS_CSV.encode()))
    service.apply(first)
    again = plan(service, ("products.csv", PRODUCTS_CSV.encode()))
    assert again.counts["products"] == {"added": 0, "changed": 0, "unchanged": 2}
    assert service.apply(again) is None and len(service.history()) == 1


def test_update_keeps_columns_the_file_does_not_have(app, service):
    update = "product_id,name,group_148,stars,producer_id\nP2,Trà xanh đặc biệt,Đồ uống,5,PR1\n"
    result = plan(service, ("products.csv", update.encode()), allow_updates=True)
    assert result.ok and result.counts["products"]["changed"] == 1
    service.apply(result)
    row = app.extensions["geoapp"].store.ocop().products.set_index("product_id").loc["P2"]
    assert (row["name"], int(row["stars"])) == ("Trà xanh đặc biệt", 5)
    assert row["recognition_date"] == "2024-01-10" and row["decision"] == "test"
    assert row["source_file"] == "products.csv"


def test_records_without_coordinates_get_a_free_point_inside_their_commune(app, service):
    result = plan(service, ("producers.csv", PRODUCERS_CSV.replace("Xã Hai", "Xã Một").encode()))
    service.apply(result)
    producers = app.extensions["geoapp"].store.ocop().producers.set_index("producer_id")
    point = producers.loc["NP1", "geometry"]
    communes = app.extensions["geoapp"].store.communes("2020")
    assert communes.set_index("commune_code").loc["10001", "geometry"].contains(point)
    assert point != producers.loc["PR1", "geometry"]
    assert producers.loc["NP1", "location_precision"] == "commune"


def test_history_and_rollback(app, service):
    service.apply(plan(service, ("products.csv", PRODUCTS_CSV.encode())))
    service.apply(plan(service, ("producers.csv", PRODUCERS_CSV.encode())))
    assert [i.name for i in service.history()] == ["v0001", "v0002"]
    assert "NP1" in served_ids(app, "producers")
    service.rollback("v0001")
    assert "NP1" not in served_ids(app, "producers") and "N1" in served_ids(app, "products")
    service.rollback("seed")
    assert "N1" not in served_ids(app, "products")
    service.rollback("2")
    assert "NP1" in served_ids(app, "producers")
    assert service.current_version() == "v0002"


def test_a_plan_validated_against_an_older_version_is_refused(service):
    stale = plan(service, ("products.csv", PRODUCTS_CSV.encode()))
    service.apply(plan(service, ("producers.csv", PRODUCERS_CSV.encode())))
    with pytest.raises(StaleBaseError):
        service.apply(stale)
    assert len(service.history()) == 1


# -- export and round trip ---------------------------------------------------------------------


def content(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    out = {}
    for kind, frame in frames.items():
        columns = list(v.STORE_COLUMNS[kind])
        out[kind] = frame[columns].fillna("").astype(str).reset_index(drop=True)
    return out


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_gives_identical_data(tmp_path, fmt):
    source = make_app(tmp_path / "a", empty_seed=True)
    source_service = service_of(source)
    frames = imports.demo_frames(source_service, DemoSpec(products=40, seed=5))
    imports.apply_demo(source_service, frames)
    extra = plan(source_service, ("producers.csv", PRODUCERS_CSV.encode()))
    source_service.apply(extra)
    exported = source_service.export(tmp_path / "export", fmt)
    # into the same data: every record unchanged
    same = source_service.plan_paths(exported)
    assert same.ok and same.validated.changes() == 0
    assert same.counts["products"]["unchanged"] == 40
    # into an empty store: the same records come back
    target = make_app(tmp_path / "b", empty_seed=True)
    target_service = service_of(target)
    result = target_service.plan_paths(exported)
    assert result.ok, result.report.to_text()
    target_service.apply(result)
    before = content(source_service.export_frames())
    after = content(target_service.export_frames())
    for kind in v.KINDS:
        pd.testing.assert_frame_equal(before[kind], after[kind])
    assert len(after["producers"]) == len(frames["producers"]) + 1


def test_export_writes_english_headers_and_place_names(service, tmp_path):
    (products, producers, _outlets) = service.export(tmp_path / "out")
    header = producers.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header == v.export_columns("producers")
    frame = pd.read_csv(producers, dtype=str, keep_default_na=False)
    assert frame.set_index("producer_id").loc["PR1", "commune_name"] == "Xã Một"
    assert products.read_bytes().startswith(b"\xef\xbb\xbf")


# -- templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_templates_have_known_headers_and_an_illustrative_example(tmp_path, service, lang):
    paths = imports.write_templates(tmp_path / "t", lang)
    assert [p.name for p in paths] == [
        "template_products.csv",
        "template_producers.csv",
        "template_outlets.csv",
        "template_ocop.xlsx",
    ]
    book = load_workbook(paths[-1])
    assert len(book.sheetnames) == 3
    result = service.plan_paths(paths)
    assert not [i for i in result.report.issues if i.code in {"unknown_column", "bad_file"}]
    assert {k: c["added"] for k, c in result.counts.items()} == {
        "products": 2,
        "producers": 2,
        "outlets": 2,
    } or result.report.has_errors  # duplicate ids between the CSV and XLSX copies
    products = result.validated.records["products"]
    assert set(products["illustrative"]) == {"true"}
    # the example rows use real Quảng Nam codes, unknown to the tiny fixture only
    assert {i.code for i in result.report.errors()} <= {
        "unknown_commune",
        "unknown_district",
        "duplicate_id",
    }


# -- atomicity ---------------------------------------------------------------------------------


def test_an_exception_mid_import_leaves_the_previous_version_served(app, service, monkeypatch):
    client = app.test_client()
    service.apply(plan(service, ("products.csv", PRODUCTS_CSV.encode())))
    before = client.get("/api/producers.geojson").get_json()

    def fail(stage: str) -> None:
        if stage == "wrote producers.csv":
            raise RuntimeError("crash")

    monkeypatch.setattr(versions_module, "_checkpoint", fail)
    with pytest.raises(RuntimeError, match="crash"):
        service.apply(plan(service, ("producers.csv", PRODUCERS_CSV.encode())))
    assert service.current_version() == "v0001"
    assert client.get("/api/producers.geojson").get_json() == before
    assert "NP1" not in served_ids(app, "producers")


KILL_SCRIPT = r"""
import pathlib, sys, time
from geoapp import create_app
from geoapp.services.imports import ImportService
from geoapp.storage import versions

data_dir, versions_dir, wanted, path = sys.argv[1:5]

def checkpoint(stage):
    if stage == wanted:
        print("AT " + stage, flush=True)
        time.sleep(120)

versions._checkpoint = checkpoint
app = create_app({"data_dir": data_dir, "versions_dir": versions_dir, "testing": True,
                  "tile_url": "none"})
state = app.extensions["geoapp"]
service = ImportService(state.store, state.settings)
plan = service.plan_paths([pathlib.Path(path)])
assert plan.ok, plan.report.to_text()
print("DONE " + str(service.apply(plan)), flush=True)
"""


@pytest.mark.parametrize(
    ("stage", "switched"),
    [
        ("wrote products.csv", False),
        ("renamed", False),
        ("pointer_written", False),
        ("switched", True),
    ],
)
def test_sigkill_at_any_step_leaves_a_loadable_served_version(tmp_path, stage, switched):
    app = make_app(tmp_path)
    service = service_of(app)
    client = app.test_client()
    service.apply(plan(service, ("producers.csv", PRODUCERS_CSV.encode())))  # v0001
    served_before = client.get("/api/producers.geojson").get_json()
    incoming = tmp_path / "products.csv"
    incoming.write_text(PRODUCTS_CSV.replace("PR2", "NP1"), encoding="utf-8")
    settings = app.extensions["geoapp"].settings
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILL_SCRIPT,
            str(settings.data_dir),
            str(settings.ocop_versions_dir),
            stage,
            str(incoming),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
    )
    try:
        line = child.stdout.readline()
        assert line.strip() == f"AT {stage}", child.stderr.read()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    # the running app still answers, from a complete version
    served = client.get("/api/producers.geojson")
    assert served.status_code == 200
    products = served_ids(app, "products")
    if switched:
        assert service.current_version() == "v0002" and "N1" in products
    else:
        assert service.current_version() == "v0001" and "N1" not in products
        assert served.get_json() == served_before
    # a fresh process (a restart) loads it too, and the next import works
    fresh = make_app_like(app)
    assert served_ids(fresh, "producers") == served_ids(app, "producers")
    more = "product_id,name,group_148,stars,producer_id\nZ9,Z,Thực phẩm,3,PR1\n"
    name = service.apply(plan(service, ("more.csv", more.encode())))
    # numbering skips a folder left by the killed import, whether or not it became current
    assert name == ("v0003" if stage in {"renamed", "pointer_written", "switched"} else "v0002")
    assert "Z9" in served_ids(app, "products")


def make_app_like(app):
    settings = app.extensions["geoapp"].settings
    return create_app(
        {
            "data_dir": settings.data_dir,
            "versions_dir": settings.ocop_versions_dir,
            "testing": True,
            "tile_url": "none",
        }
    )


def test_progress_bar_is_quiet_off_a_terminal():
    bar = imports.terminal_progress(1_000_000, "reading")
    assert type(bar) is v.Progress  # no tqdm bar: stderr is not a terminal under pytest
    assert type(imports.terminal_progress(10, "reading")) is v.Progress


def test_the_documented_header_mapping_lists_every_column():
    text = (PROJECT_ROOT / "docs" / "data-import.md").read_text(encoding="utf-8")
    for kind in v.KINDS:
        for field in v.FIELDS[kind]:
            assert f"`{field.name}`" in text and field.vi in text, (kind, field.name)


@pytest.fixture()
def real_service(real_app, tmp_path) -> ImportService:
    """The built data with an empty versions folder of its own (never the instance one)."""
    settings = real_app.extensions["geoapp"].settings
    app = create_app(
        {
            "data_dir": settings.data_dir,
            "versions_dir": tmp_path / "versions",
            "testing": True,
            "tile_url": "none",
        }
    )
    return service_of(app)


@pytest.mark.realdata
def test_real_seed_exports_and_validates_as_unchanged(real_service, tmp_path):
    paths = real_service.export(tmp_path / "export")
    result = real_service.plan_paths(paths)
    assert result.ok, result.report.to_text()
    assert result.validated.changes() == 0
    assert result.counts["products"]["unchanged"] == len(real_service.store.ocop().products)


@pytest.mark.realdata
def test_real_templates_and_demo_data_validate(real_service, tmp_path):
    templates = imports.write_templates(tmp_path / "t", "vi")
    result = real_service.plan_paths([templates[-1]])
    assert result.ok and result.report.n_warnings == 0, result.report.to_text()
    frames = imports.demo_frames(real_service, DemoSpec(products=400, seed=11))
    result = real_service.plan_paths(imports.write_frames(frames, tmp_path / "demo"))
    assert result.ok and result.report.n_warnings == 0, result.report.to_text()
    assert set(frames["producers"]["district_code"]) <= {str(c) for c in range(502, 520)}


def test_the_commands(app, tmp_path):
    runner = app.test_cli_runner()
    good, bad = tmp_path / "products.csv", tmp_path / "bad.csv"
    good.write_text(PRODUCTS_CSV, encoding="utf-8")
    bad.write_text(PRODUCTS_CSV + "N3,X,Thực phẩm,7,,PR1\n", encoding="utf-8")
    result = runner.invoke(args=["ocop", "validate", str(bad), "--lang", "vi"])
    assert result.exit_code == 1 and "LỖI bad.csv, dòng 4" in result.output
    result = runner.invoke(args=["ocop", "import", str(bad)])
    assert result.exit_code != 0 and "nothing was changed" in result.output
    result = runner.invoke(args=["ocop", "import", str(good)])
    assert result.exit_code == 0 and "imported as v0001" in result.output
    result = runner.invoke(args=["ocop", "history"])
    assert "* v0001" in result.output and "seed -> v0001" in result.output
    result = runner.invoke(args=["ocop", "rollback", "seed"])
    assert result.exit_code == 0 and "now serving seed" in result.output
    assert runner.invoke(args=["ocop", "rollback", "v0042"]).exit_code != 0
    result = runner.invoke(args=["ocop", "export", str(tmp_path / "out"), "--format", "xlsx"])
    assert (tmp_path / "out" / "ocop.xlsx").exists()
    result = runner.invoke(args=["ocop", "template", str(tmp_path / "tpl")])
    assert len(list((tmp_path / "tpl").iterdir())) == 4
    result = runner.invoke(
        args=["ocop", "demo-data", "--products", "12", "--seed", "4", "--out", str(tmp_path / "d")]
    )
    assert result.exit_code == 0 and "12 products" in result.output
    result = runner.invoke(args=["ocop", "demo-data", "--products", "12", "--seed", "4"])
    assert "created v0002" in result.output
    assert sum(p.startswith("DEMO-") for p in served_ids(app, "products")) == 12
