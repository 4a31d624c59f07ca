"""Reading import files (CSV and XLSX) into text tables, within bounds set inside the file.

A file is refused, with a message naming the limit, when it has more rows, columns, characters
in one cell or in all cells than ``ReadLimits`` allows, or, for an XLSX workbook (a zip of XML
files), when its members would expand beyond ``max_xlsx_bytes`` (zip bombs) or its XML declares
entities (defusedxml, which openpyxl uses when it is installed, refuses them). The bounds are
checked while reading, so a refused file costs little time and memory. Every refusal and every
unreadable file becomes an ``Issue`` of the report: reading never raises.

Text cells are read with ``geoapp.domain.text_safety``: characters XML cannot hold are
removed and the quote our exports put before formula-like text is taken off again.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import logging
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from geoapp.domain import validation as v
from geoapp.domain.text_safety import restore, strip_control

log = logging.getLogger(__name__)

MAX_SCAN_ROWS = 12
READABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
MB = 2**20


@dataclasses.dataclass(frozen=True)
class ReadLimits:
    """Bounds on one import file. The defaults leave room for every OCOP product of the
    country (about 17,000 by 2024) several times over; ``max_cell_chars`` is Excel's own limit
    for one cell."""

    max_file_bytes: int = 64 * MB
    max_rows: int = 100_000
    max_columns: int = 200
    max_cell_chars: int = 32_767
    max_total_chars: int = 40_000_000
    max_xlsx_bytes: int = 100 * MB  # all members of the zip, uncompressed
    max_xlsx_members: int = 1_000


DEFAULT_LIMITS = ReadLimits()


class FileRefused(Exception):
    """A file breaks a bound or cannot be parsed; carries the report's texts."""

    def __init__(self, en: str, vi: str, code: str = "file_refused", sheet: str = "") -> None:
        super().__init__(en)
        self.en, self.vi, self.code, self.sheet = en, vi, code, sheet


def file_issue(name: str, en: str, vi: str, sheet: str = "", code: str = "bad_file") -> v.Issue:
    return v.Issue("error", code, name, sheet, None, "", "", en, vi)


def _refused_issue(name: str, exc: FileRefused) -> v.Issue:
    return file_issue(name, exc.en, exc.vi, exc.sheet, exc.code)


def no_progress(total: int, label: str) -> v.Progress:
    return v.Progress()


def _mb(size: int) -> str:
    return f"{size / MB:,.1f} MB"


class _Budget:
    """Counts rows and characters of one file against the limits while it is read."""

    def __init__(self, limits: ReadLimits, sheet: str = "") -> None:
        self.limits, self.sheet, self.total = limits, sheet, 0

    def refuse(self, en: str, vi: str) -> FileRefused:
        return FileRefused(en, vi, "file_too_large", self.sheet)

    def row(self, number: int, values: Iterable[object]) -> list[str]:
        """The cleaned text cells of row ``number`` (trailing empty cells dropped)."""
        limits = self.limits
        if number > limits.max_rows:
            raise self.refuse(
                f"more than {limits.max_rows:,} rows: split the file",
                f"nhiều hơn {limits.max_rows:,} dòng: hãy chia nhỏ tệp",
            )
        cells = list(values)
        while cells and (cells[-1] is None or cells[-1] == ""):
            cells.pop()
        if len(cells) > limits.max_columns:
            raise self.refuse(
                f"row {number} has {len(cells):,} columns (at most {limits.max_columns})",
                f"dòng {number} có {len(cells):,} cột (tối đa {limits.max_columns})",
            )
        out = []
        for index, value in enumerate(cells):
            if isinstance(value, str):
                if len(value) > limits.max_cell_chars:
                    where = f"{v.column_letter(index)}{number}"
                    raise self.refuse(
                        f"cell {where} holds {len(value):,} characters (at most "
                        f"{limits.max_cell_chars:,} in one cell)",
                        f"ô {where} có {len(value):,} ký tự (tối đa {limits.max_cell_chars:,})",
                    )
                value = restore(strip_control(value))
            text = v.clean_cell(value)
            self.total += len(text)
            out.append(text)
        if self.total > limits.max_total_chars:
            raise self.refuse(
                f"more than {limits.max_total_chars:,} characters of text in all: split the file",
                f"nhiều hơn {limits.max_total_chars:,} ký tự: hãy chia nhỏ tệp",
            )
        return out


# -- CSV ----------------------------------------------------------------------------------------


def decode_csv(raw: bytes, name: str) -> tuple[str | None, v.Issue | None]:
    """Text of a UTF-8 file (BOM optional), or an issue explaining how to save it as UTF-8."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None, file_issue(
            name,
            "the file is UTF-16; save it as 'CSV UTF-8 (Comma delimited)'",
            "tệp mã hoá UTF-16; hãy lưu lại dạng 'CSV UTF-8 (Comma delimited)'",
            code="bad_encoding",
        )
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        guess = ""
        for encoding in ("cp1258", "cp1252"):
            try:
                raw.decode(encoding)
                guess = f" (it looks like {encoding.replace('cp', 'Windows-')})"
                break
            except UnicodeDecodeError:
                continue
        return None, file_issue(
            name,
            f"the file is not UTF-8{guess}: byte 0x{raw[exc.start]:02x} at position {exc.start}; "
            "in Excel use Save As > 'CSV UTF-8 (Comma delimited)', or upload the .xlsx",
            f"tệp không phải UTF-8{guess}: byte 0x{raw[exc.start]:02x} ở vị trí {exc.start}; "
            "trong Excel chọn Save As > 'CSV UTF-8 (Comma delimited)', hoặc tải lên tệp .xlsx",
            code="bad_encoding",
        )


def guess_delimiter(text: str) -> str:
    """ "," ";" or tab: the one that splits the first lines into the most columns the most
    consistently (quotes respected; Excel's regional "CSV" may use ";")."""
    lines = text[:50000].splitlines()[:30]
    best, best_score = ",", -1.0
    for delimiter in (",", ";", "\t"):
        try:
            widths = [len(r) for r in csv.reader(lines, delimiter=delimiter) if any(r)]
        except csv.Error:
            continue
        if not widths:
            continue
        common = max(set(widths), key=widths.count)
        score = (common > 1) * (widths.count(common) / len(widths)) * common
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_rows(text: str, limits: ReadLimits) -> list[tuple[int, list[str]]]:
    budget = _Budget(limits)
    reader = csv.reader(io.StringIO(text), delimiter=guess_delimiter(text))
    numbered = []
    try:
        for number, record in enumerate(reader, start=1):
            numbered.append((number, budget.row(number, record)))
    except csv.Error as exc:
        # The csv module stops at fields over csv.field_size_limit() (128 KiB) before our
        # own cell limit sees them.
        line = reader.line_num
        if "field limit" in str(exc):
            raise budget.refuse(
                f"line {line}: a field longer than {csv.field_size_limit():,} characters "
                f"(at most {limits.max_cell_chars:,} in one cell)",
                f"dòng {line}: một ô dài hơn {csv.field_size_limit():,} ký tự "
                f"(tối đa {limits.max_cell_chars:,})",
            ) from None
        raise FileRefused(
            f"line {line}: not a readable CSV file ({exc})",
            f"dòng {line}: không đọc được tệp CSV ({exc})",
            "bad_file",
        ) from None
    return numbered


def read_csv_table(
    raw: bytes,
    name: str,
    progress: v.ProgressFactory = no_progress,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> tuple[list[v.Table], list[v.Issue]]:
    text, issue = decode_csv(raw, name)
    if text is None:
        return [], [issue] if issue else []
    try:
        numbered = _csv_rows(text, limits)
    except FileRefused as exc:
        return [], [_refused_issue(name, exc)]
    bar = progress(len(numbered), f"reading {name}")
    bar.update(len(numbered))
    bar.close()
    table, problem = table_from_rows(name, "", numbered, v.kind_from_name(Path(name).stem))
    if table is None and problem is None:
        problem = file_issue(name, "the file is empty", "tệp không có dữ liệu")
    return ([table] if table and table.kind else []), ([problem] if problem else [])


# -- XLSX ---------------------------------------------------------------------------------------


# A DTD is how XML declares entities (billion laughs, external files). Excel never writes one.
# openpyxl parses sheets with defusedxml, but other parts with lxml when lxml is installed
# (without resolving entities): refusing any DTD up front keeps one rule whatever is installed.
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
_UNSAFE_XML = (
    "the workbook's XML declares entities or a DTD (refused: they can expand without "
    "bound or read other files); save it again from Excel or LibreOffice",
    "XML trong tệp khai báo thực thể hoặc DTD (bị từ chối vì lý do an toàn); hãy lưu "
    "lại tệp bằng Excel hoặc LibreOffice",
)


def _damaged(exc: Exception) -> FileRefused:
    return FileRefused(
        f"not a readable .xlsx workbook (not a zip archive: {exc})",
        "không đọc được tệp .xlsx (không phải tệp nén zip)",
        "bad_file",
    )


def _scan_for_dtd(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> None:
    """Refuse a member that declares a DTD (read in chunks: sizes are bounded already)."""
    for member in members:
        if member.is_dir():
            continue
        with archive.open(member) as stream:
            tail = b""
            while chunk := stream.read(MB):
                window = tail + chunk
                if any(marker in window for marker in _DTD_MARKERS):
                    raise FileRefused(*_UNSAFE_XML, "unsafe_xml")
                tail = window[-32:]


def check_xlsx_archive(data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> None:
    """Refuse a workbook whose zip members would expand beyond the limits, before any XML is
    parsed, or whose XML declares a DTD. The sizes in the zip directory bound what is read:
    Python's zipfile stops at the declared size of a member (and fails its CRC check if the
    data was longer)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise _damaged(exc) from None
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_xlsx_members:
            raise FileRefused(
                f"the workbook has {len(members):,} parts (at most {limits.max_xlsx_members:,})",
                f"tệp có {len(members):,} phần (tối đa {limits.max_xlsx_members:,})",
                "file_too_large",
            )
        expanded = sum(member.file_size for member in members)
        if expanded > limits.max_xlsx_bytes:
            raise FileRefused(
                f"the workbook would expand to {_mb(expanded)} when unpacked (at most "
                f"{_mb(limits.max_xlsx_bytes)}): far more than an OCOP list, or a zip bomb",
                f"tệp .xlsx khi giải nén sẽ có {_mb(expanded)} (tối đa "
                f"{_mb(limits.max_xlsx_bytes)}): quá lớn hoặc là tệp nén độc hại",
                "file_too_large",
            )
        try:
            _scan_for_dtd(archive, members)
        except (FileRefused, MemoryError):
            raise
        except Exception as exc:  # a damaged zip raises many types (CRC, seek, zlib, ...)
            raise _damaged(exc) from None


def _xml_refusal(exc: Exception, sheet: str = "") -> FileRefused:
    """A clear message for whatever openpyxl or its XML parser raised on a bad workbook
    (openpyxl wraps the parser's error in a ValueError: the cause tells what it was)."""
    chain = [exc]
    while chain[-1].__cause__ is not None and len(chain) < 10:
        chain.append(chain[-1].__cause__)
    exc = chain[-1]
    kind = type(exc).__name__
    if kind in {"EntitiesForbidden", "DTDForbidden", "ExternalReferenceForbidden"}:
        return FileRefused(*_UNSAFE_XML, "unsafe_xml", sheet)
    if kind == "ParseError" or isinstance(exc, SyntaxError):
        return FileRefused(
            f"not a readable .xlsx workbook: malformed XML ({exc})",
            "không đọc được tệp .xlsx: XML bị lỗi",
            "bad_file",
            sheet,
        )
    return FileRefused(
        f"not a readable .xlsx workbook ({kind})",
        f"không đọc được tệp .xlsx ({kind})",
        "bad_file",
        sheet,
    )


def _sheet_rows(sheet, limits: ReadLimits) -> Iterator[tuple[int, list[str]]]:
    budget = _Budget(limits, sheet.title)
    declared = sheet.max_row  # from the sheet's <dimension>: may be missing or wrong
    if declared is not None and declared > limits.max_rows:
        raise budget.refuse(
            f"the sheet declares {declared:,} rows (at most {limits.max_rows:,}): split the file",
            f"trang tính khai báo {declared:,} dòng (tối đa {limits.max_rows:,})",
        )
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield number, budget.row(number, values)


def _read_sheets(
    data: bytes, name: str, progress: v.ProgressFactory, limits: ReadLimits
) -> tuple[list[v.Table], list[v.Issue]]:
    from openpyxl import load_workbook

    check_xlsx_archive(data, limits)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except MemoryError:
        raise
    except Exception as exc:  # openpyxl raises a zoo of types on a damaged file
        log.info("unreadable workbook %s: %r", name, exc)
        raise _xml_refusal(exc) from None
    tables, issues = [], []
    try:
        for sheet in workbook.worksheets:
            bar = progress(sheet.max_row or 0, f"reading {name} [{sheet.title}]")
            numbered = []
            try:
                for row in _sheet_rows(sheet, limits):
                    numbered.append(row)
                    bar.update(1)
            except (FileRefused, MemoryError):
                raise
            except Exception as exc:  # the sheet's XML is parsed here, lazily
                log.info("unreadable sheet %s [%s]: %r", name, sheet.title, exc)
                raise _xml_refusal(exc, sheet.title) from None
            finally:
                bar.close()
            table, problem = table_from_rows(
                name, sheet.title, numbered, v.kind_from_name(sheet.title)
            )
            if problem is not None and problem.code == "no_header":
                # a sheet of notes beside the data: skipped, with a warning
                problem = dataclasses.replace(problem, severity="warning")
            if problem:
                issues.append(problem)
            if table is not None and table.kind:
                tables.append(table)
    finally:
        workbook.close()
    return tables, issues


def read_xlsx_tables(
    data: bytes,
    name: str,
    progress: v.ProgressFactory = no_progress,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> tuple[list[v.Table], list[v.Issue]]:
    """The tables of a workbook's sheets (one kind per sheet), or the issue refusing it."""
    try:
        tables, issues = _read_sheets(data, name, progress, limits)
    except FileRefused as exc:
        return [], [_refused_issue(name, exc)]
    if not tables:
        issues.append(
            file_issue(
                name,
                "no sheet with products, producers or outlets was found",
                "không có trang tính nào chứa sản phẩm, chủ thể hoặc điểm bán",
            )
        )
    return tables, issues


# -- both ---------------------------------------------------------------------------------------


def table_from_rows(
    name: str, sheet: str, numbered: Iterable[tuple[int, list[str]]], default_kind: str | None
) -> tuple[v.Table | None, v.Issue | None]:
    """A table from numbered, cleaned rows: the header found among the first rows (title rows
    above it are skipped), empty rows dropped."""
    rows = [(n, cells) for n, cells in numbered if any(cells)]
    if not rows:
        return None, None
    header_index = v.find_header_row([cells for _, cells in rows[:MAX_SCAN_ROWS]])
    if header_index is None:
        return None, file_issue(
            name,
            "no header row found in the first rows (expected column names such as product_id, "
            "name, stars or Mã sản phẩm, Tên sản phẩm, Số sao)",
            "không tìm thấy dòng tiêu đề cột ở các dòng đầu (ví dụ Mã sản phẩm, Tên sản phẩm, "
            "Số sao)",
            sheet,
            code="no_header",
        )
    headers = rows[header_index][1]
    while headers and not headers[-1]:
        headers = headers[:-1]
    data = rows[header_index + 1 :]
    kind = v.kind_from_headers(headers) or default_kind
    table = v.Table(
        name, sheet, headers, [cells for _, cells in data], [n for n, _ in data], kind=kind
    )
    if kind is None:
        return table, file_issue(
            name,
            "cannot tell whether this holds products, producers or outlets: name the file or "
            "sheet (products / producers / outlets) or include the id column",
            "không xác định được loại dữ liệu (sản phẩm / chủ thể / điểm bán): đặt tên tệp "
            "hoặc trang tính, hoặc thêm cột mã",
            sheet,
        )
    return table, None


def read_upload(
    data: bytes,
    name: str,
    progress: v.ProgressFactory = no_progress,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> tuple[list[v.Table], list[v.Issue]]:
    """Tables of one uploaded or local file, by its name's suffix."""
    suffix = Path(name).suffix.lower()
    if len(data) > limits.max_file_bytes:
        return [], [
            file_issue(
                name,
                f"the file has {_mb(len(data))} (at most {_mb(limits.max_file_bytes)}): split it",
                f"tệp có {_mb(len(data))} (tối đa {_mb(limits.max_file_bytes)}): hãy chia nhỏ",
                code="file_too_large",
            )
        ]
    if suffix in {".xlsx", ".xlsm"}:
        return read_xlsx_tables(data, name, progress, limits)
    if suffix in {".csv", ".txt", ".tsv"}:
        return read_csv_table(data, name, progress, limits)
    if suffix == ".xls":
        return [], [
            file_issue(
                name,
                "old Excel format (.xls): save the workbook as .xlsx",
                "định dạng Excel cũ (.xls): hãy lưu lại dạng .xlsx",
            )
        ]
    return [], [
        file_issue(
            name,
            "unknown file type: use .csv or .xlsx",
            "loại tệp không hỗ trợ: dùng .csv hoặc .xlsx",
        )
    ]


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files of ``paths``; a folder stands for its .csv and .xlsx files (sorted)."""
    out: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            out.extend(
                p
                for p in sorted(path.iterdir())
                if p.suffix.lower() in READABLE_SUFFIXES and not p.name.startswith((".", "~$"))
            )
        else:
            out.append(path)
    return out
