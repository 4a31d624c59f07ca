"""Importing OCOP products, producers and outlets: read, validate, diff, apply; export;
history and rollback; templates.

Files are CSV (UTF-8, with or without BOM; "," ";" or tab separated) or XLSX (one sheet per
kind, or one kind per file). Every import that changes something becomes a new version in the
versions folder (``geoapp.storage.versions``), switched in atomically; the running service
picks it up on its next request. Coordinates are EPSG:4326 throughout.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import io
import sys
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from geoapp.config import Settings
from geoapp.domain import validation as v
from geoapp.domain.names import Commune, District, NameMatcher, NameOverride
from geoapp.domain.ocop import PROVENANCE_COLUMNS
from geoapp.storage.files import FileStore
from geoapp.storage.versions import VersionInfo, utc_now

TABLE_FILES = {"products": "products.csv", "producers": "producers.csv", "outlets": "outlets.csv"}
OTHER_FILES = ("province_stats.csv", "candidates.csv")  # carried into each new version
PROGRESS_MIN_ROWS = 2000
MAX_SCAN_ROWS = 12
READABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")


class ImportRejected(RuntimeError):
    """An import cannot be applied (it has errors, or no versions folder is configured)."""


# -- progress ----------------------------------------------------------------------------------


class _Bar(v.Progress):
    def __init__(self, total: int, label: str) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=label, unit="row", file=sys.stderr, leave=False)

    def update(self, n: int = 1) -> None:
        self._bar.update(n)

    def close(self) -> None:
        self._bar.close()


def terminal_progress(total: int, label: str) -> v.Progress:
    """A tqdm bar on stderr for more than ``PROGRESS_MIN_ROWS`` rows on a terminal, else none."""
    if total < PROGRESS_MIN_ROWS or not sys.stderr.isatty():
        return v.Progress()
    return _Bar(total, label)


def no_progress(total: int, label: str) -> v.Progress:
    return v.Progress()


# -- reading files -----------------------------------------------------------------------------


def _file_issue(name: str, en: str, vi: str, sheet: str = "", code: str = "bad_file") -> v.Issue:
    return v.Issue("error", code, name, sheet, None, "", "", en, vi)


def decode_csv(raw: bytes, name: str) -> tuple[str | None, v.Issue | None]:
    """Text of a UTF-8 file (BOM optional), or an issue explaining how to save it as UTF-8."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None, _file_issue(
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
        return None, _file_issue(
            name,
            f"the file is not UTF-8{guess}: byte 0x{raw[exc.start]:02x} at position {exc.start}; "
            "in Excel use Save As > 'CSV UTF-8 (Comma delimited)', or upload the .xlsx",
            f"tệp không phải UTF-8{guess}: byte 0x{raw[exc.start]:02x} ở vị trí {exc.start}; "
            "trong Excel chọn Save As > 'CSV UTF-8 (Comma delimited)', hoặc tải lên tệp .xlsx",
            code="bad_encoding",
        )


def _table_from_rows(
    name: str, sheet: str, numbered: Iterable[tuple[int, list[str]]], default_kind: str | None
) -> tuple[v.Table | None, v.Issue | None]:
    """A table from numbered, cleaned rows: the header found among the first rows (title rows
    above it are skipped), empty rows dropped."""
    rows = [(n, cells) for n, cells in numbered if any(cells)]
    if not rows:
        return None, None
    header_index = v.find_header_row([cells for _, cells in rows[:MAX_SCAN_ROWS]])
    if header_index is None:
        return None, _file_issue(
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
        return table, _file_issue(
            name,
            "cannot tell whether this holds products, producers or outlets: name the file or "
            "sheet (products / producers / outlets) or include the id column",
            "không xác định được loại dữ liệu (sản phẩm / chủ thể / điểm bán): đặt tên tệp "
            "hoặc trang tính, hoặc thêm cột mã",
            sheet,
        )
    return table, None


def guess_delimiter(text: str) -> str:
    """ "," ";" or tab: the one that splits the first lines into the most columns the most
    consistently (quotes respected; Excel's regional "CSV" may use ";")."""
    lines = text[:50000].splitlines()[:30]
    best, best_score = ",", -1.0
    for delimiter in (",", ";", "\t"):
        widths = [len(r) for r in csv.reader(lines, delimiter=delimiter) if any(r)]
        if not widths:
            continue
        common = max(set(widths), key=widths.count)
        score = (common > 1) * (widths.count(common) / len(widths)) * common
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv_table(
    raw: bytes, name: str, progress: v.ProgressFactory = no_progress
) -> tuple[list[v.Table], list[v.Issue]]:
    text, issue = decode_csv(raw, name)
    if text is None:
        return [], [issue] if issue else []
    records = list(csv.reader(io.StringIO(text), delimiter=guess_delimiter(text)))
    bar = progress(len(records), f"reading {name}")
    numbered = []
    for number, record in enumerate(records, start=1):
        numbered.append((number, [v.clean_cell(c) for c in record]))
        bar.update(1)
    bar.close()
    table, problem = _table_from_rows(name, "", numbered, v.kind_from_name(Path(name).stem))
    if table is None and problem is None:
        problem = _file_issue(name, "the file is empty", "tệp không có dữ liệu")
    return ([table] if table and table.kind else []), ([problem] if problem else [])


def read_xlsx_tables(
    data: bytes | Path, name: str, progress: v.ProgressFactory = no_progress
) -> tuple[list[v.Table], list[v.Issue]]:
    from openpyxl import load_workbook

    source = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        return [], [
            _file_issue(
                name,
                f"not a readable .xlsx workbook ({type(exc).__name__})",
                f"không đọc được tệp .xlsx ({type(exc).__name__})",
            )
        ]
    tables, issues = [], []
    try:
        for sheet in workbook.worksheets:
            total = sheet.max_row or 0
            bar = progress(total, f"reading {name} [{sheet.title}]")
            numbered = []
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                numbered.append((number, [v.clean_cell(c) for c in values]))
                bar.update(1)
            bar.close()
            table, problem = _table_from_rows(
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
    if not tables:
        issues.append(
            _file_issue(
                name,
                "no sheet with products, producers or outlets was found",
                "không có trang tính nào chứa sản phẩm, chủ thể hoặc điểm bán",
            )
        )
    return tables, issues


def read_upload(
    data: bytes, name: str, progress: v.ProgressFactory = no_progress
) -> tuple[list[v.Table], list[v.Issue]]:
    """Tables of one uploaded or local file, by its name's suffix."""
    suffix = Path(name).suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return read_xlsx_tables(data, name, progress)
    if suffix in {".csv", ".txt", ".tsv"}:
        return read_csv_table(data, name, progress)
    if suffix == ".xls":
        return [], [
            _file_issue(
                name,
                "old Excel format (.xls): save the workbook as .xlsx",
                "định dạng Excel cũ (.xls): hãy lưu lại dạng .xlsx",
            )
        ]
    return [], [
        _file_issue(
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


# -- reference ---------------------------------------------------------------------------------


def read_text_tables(ocop_dir: Path) -> dict[str, pd.DataFrame]:
    """The OCOP tables of a data folder as text ("" for empty cells)."""
    out = {}
    for kind, file_name in TABLE_FILES.items():
        path = ocop_dir / file_name
        if path.exists():
            out[kind] = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            out[kind] = pd.DataFrame(columns=list(v.STORE_COLUMNS[kind]))
    return out


def build_matcher(
    communes: pd.DataFrame, districts: pd.DataFrame, settings: Settings | None, seed_dir: Path
) -> NameMatcher:
    """Names of the 2020 communes and districts, with the names before the 2023 renamings
    (from the raw code list, when available) and the seed's explicit name overrides."""
    former: dict[str, tuple[str, ...]] = {}
    if settings is not None:
        code_list = settings.boundary_sources / "qn_communes_2020.csv"
        if code_list.exists():
            raw = pd.read_csv(code_list, dtype=str, keep_default_na=False)
            if "commune_full_name_2020_03" in raw.columns:
                for row in raw.itertuples():
                    old = row.commune_full_name_2020_03
                    if old and old != row.commune_full_name:
                        former[row.commune_code] = (old,)
    commune_list = [
        Commune(
            str(r.commune_code),
            str(r.commune_name),
            str(r.district_code),
            str(r.commune_full_name),
            former.get(str(r.commune_code), ()),
        )
        for r in communes.itertuples()
    ]
    district_list = [
        District(str(r.district_code), str(r.district_name), str(r.district_full_name))
        for r in districts.itertuples()
    ]
    overrides = []
    override_file = seed_dir / "name_overrides.csv"
    if override_file.exists():
        frame = pd.read_csv(override_file, dtype=str, keep_default_na=False)
        known = {c.code for c in commune_list}
        overrides = [
            NameOverride(r.raw_name, r.district_name, r.commune_code, r.reason)
            for r in frame.itertuples()
            if r.commune_code in known
        ]
    try:
        return NameMatcher(commune_list, district_list, overrides)
    except ValueError:
        return NameMatcher(commune_list, district_list)


@dataclasses.dataclass
class ImportPlan:
    """A validated import: what it would do, against which version (``base``, None = seed)."""

    files: list[str]
    validated: v.Validated
    base: str | None
    base_dir: Path
    allow_updates: bool
    reference: v.Reference

    @property
    def report(self) -> v.Report:
        return self.validated.report

    @property
    def ok(self) -> bool:
        return self.validated.ok

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        return self.validated.counts

    def summary(self, lang: str = "en") -> str:
        vi = lang == "vi"
        parts = []
        for kind, counts in self.counts.items():
            if not any(counts.values()):
                continue
            name = v.KIND_NAMES[kind][1 if vi else 0]
            if vi:
                parts.append(
                    f"{name}: thêm {counts['added']}, sửa {counts['changed']}, "
                    f"giữ nguyên {counts['unchanged']}"
                )
            else:
                parts.append(
                    f"{name}: {counts['added']} added, {counts['changed']} changed, "
                    f"{counts['unchanged']} unchanged"
                )
        report = self.report
        if vi:
            head = f"{report.n_errors} lỗi, {report.n_warnings} cảnh báo"
        else:
            head = f"{report.n_errors} error(s), {report.n_warnings} warning(s)"
        return head + ("; " + "; ".join(parts) if parts else "")


class ImportService:
    """Import, export, history and rollback of the OCOP tables served by ``store``."""

    def __init__(self, store: FileStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    @property
    def versions(self):
        if self.store.versions is None:
            raise ImportRejected("this store has no versions folder: imports are disabled")
        return self.store.versions

    # ---- validation ----

    def reference(self, today: dt.date | None = None) -> tuple[v.Reference, str | None, Path]:
        """The reference for validation, with the version it was read from and its folder."""
        base = self.versions.current() if self.store.versions is not None else None
        base_dir = self.store.ocop_dir if base is None else self.versions.root / base
        communes = self.store.communes("2020", "full")
        districts = self.store.districts("full")
        matcher = build_matcher(communes, districts, self.settings, self.store.ocop_dir)
        existing = read_text_tables(base_dir)
        ref = v.build_reference(communes, districts, matcher, existing, today or dt.date.today())
        return ref, base, base_dir

    def plan(
        self,
        sources: Sequence[tuple[str, bytes]],
        *,
        allow_updates: bool = False,
        today: dt.date | None = None,
        progress: v.ProgressFactory = no_progress,
    ) -> ImportPlan:
        """Read and validate ``sources`` ((display name, content) pairs) without applying."""
        report = v.Report()
        tables: list[v.Table] = []
        for name, data in sources:
            found, issues = read_upload(data, name, progress)
            for issue in issues:
                report.add(issue)
            tables.extend(found)
        ref, base, base_dir = self.reference(today)
        validated = v.validate(
            tables, ref, allow_updates=allow_updates, progress=progress, report=report
        )
        return ImportPlan([n for n, _ in sources], validated, base, base_dir, allow_updates, ref)

    def plan_paths(self, paths: Iterable[Path], **options) -> ImportPlan:
        files = expand_paths(paths)
        if not files:
            raise ImportRejected("no .csv or .xlsx file to read")
        return self.plan([(p.name, p.read_bytes()) for p in files], **options)

    # ---- applying ----

    def apply(self, plan: ImportPlan, *, note: str = "") -> str | None:
        """Write the plan as a new current version; None when it changes nothing.

        Raises ``ImportRejected`` when the plan has errors and ``StaleBaseError`` when the data
        changed since it was validated.
        """
        if not plan.ok:
            raise ImportRejected(f"the import has {plan.report.n_errors} error(s): nothing changed")
        if plan.validated.changes() == 0:
            return None
        imported_at = utc_now()
        existing = read_text_tables(plan.base_dir)
        tables: dict[str, pd.DataFrame | Path] = {}
        for kind, file_name in TABLE_FILES.items():
            records = plan.validated.records[kind]
            changed = records.loc[records["_status"].isin(["added", "changed"])]
            if changed.empty and (plan.base_dir / file_name).exists():
                tables[file_name] = plan.base_dir / file_name
                continue
            changed = v.place_missing_points(kind, changed, existing[kind], plan.reference)
            tables[file_name] = merge_records(kind, existing[kind], changed, imported_at)
        for file_name in OTHER_FILES:
            if (plan.base_dir / file_name).exists():
                tables[file_name] = plan.base_dir / file_name
        manifest = {
            "files": plan.files,
            "counts": plan.counts,
            "allow_updates": plan.allow_updates,
            "warnings": plan.report.n_warnings,
            "note": note,
        }
        return self.versions.create(tables, manifest, base=plan.base, check_base=True)

    # ---- export, history, rollback, templates ----

    def export(self, out_dir: Path, fmt: str = "csv") -> list[Path]:
        """Write the served tables in the import format (English headers, place names added)."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        frames = self.export_frames()
        if fmt == "xlsx":
            path = out_dir / "ocop.xlsx"
            write_xlsx(path, {kind: frame for kind, frame in frames.items()})
            return [path]
        paths = []
        for kind, frame in frames.items():
            path = out_dir / TABLE_FILES[kind]
            frame.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
            paths.append(path)
        return paths

    def export_frames(self) -> dict[str, pd.DataFrame]:
        tables = read_text_tables(self.store.current_ocop_dir())
        communes = self.store.communes("2020", "display")
        districts = self.store.districts("display")
        commune_names = dict(
            zip(communes["commune_code"].astype(str), communes["commune_full_name"], strict=True)
        )
        district_names = dict(
            zip(
                districts["district_code"].astype(str), districts["district_full_name"], strict=True
            )
        )
        out = {}
        for kind, frame in tables.items():
            frame = frame.copy()
            if kind != "products":
                frame["commune_name"] = frame["commune_code"].map(commune_names).fillna("")
                frame["district_name"] = frame["district_code"].map(district_names).fillna("")
            columns = v.export_columns(kind)
            for column in columns:
                if column not in frame.columns:
                    frame[column] = ""
            out[kind] = frame[columns]
        return out

    def history(self) -> list[VersionInfo]:
        return self.versions.history() if self.store.versions is not None else []

    def current_version(self) -> str | None:
        return self.versions.current() if self.store.versions is not None else None

    def rollback(self, name: str) -> str | None:
        return self.versions.switch(name, action="rollback")


def merge_records(
    kind: str, existing: pd.DataFrame, changed: pd.DataFrame, imported_at: str
) -> pd.DataFrame:
    """``existing`` with ``changed`` rows (added or changed) written in, with provenance."""
    id_column = v.ID_COLUMN[kind]
    store_columns = list(v.STORE_COLUMNS[kind])
    extras = [c for c in existing.columns if c not in store_columns and c not in PROVENANCE_COLUMNS]
    columns = store_columns + extras + list(PROVENANCE_COLUMNS)
    base = existing.reindex(columns=columns, fill_value="").fillna("")
    new = changed[store_columns].copy()
    for column in extras:
        new[column] = ""
    new["source_file"] = changed["_file"].to_numpy()
    new["source_row"] = [
        f"{sheet}:{row}" if sheet else str(row)
        for sheet, row in zip(changed["_sheet"], changed["_row"], strict=True)
    ]
    new["imported_at"] = imported_at
    new = new[columns].astype(str)
    replaced_ids = set(new[id_column])
    kept = base.loc[~base[id_column].isin(replaced_ids)]
    order = {rid: i for i, rid in enumerate(base[id_column])}
    update = new.loc[new[id_column].isin(order)]
    for column in extras:
        update = update.assign(**{column: update[id_column].map(base.set_index(id_column)[column])})
    merged = pd.concat([kept, update, new.loc[~new[id_column].isin(order)]], ignore_index=True)
    position = merged[id_column].map(order).fillna(len(order) + merged.index.to_series())
    return (
        merged.assign(_pos=position.to_numpy())
        .sort_values("_pos", kind="stable")
        .drop(columns="_pos")
        .reset_index(drop=True)
    )


def write_xlsx(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    """A workbook with one sheet per frame, every cell written as text (ids keep their zeros)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, frame in sheets.items():
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append(list(frame.columns))
        for row in frame.astype(str).itertuples(index=False):
            sheet.append(list(row))
    workbook.save(path)


def write_templates(out_dir: Path, lang: str = "vi") -> list[Path]:
    """Empty CSV templates (one per kind) and one XLSX with a sheet per kind, each with the
    headers (Vietnamese or English) and one example row marked illustrative."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sheets = {}
    paths = []
    for kind in v.KINDS:
        fields = [f for f in v.FIELDS[kind] if f.name not in PROVENANCE_COLUMNS]
        headers = [f.vi if lang == "vi" else f.name for f in fields]
        example = {f.name: f.example for f in fields}
        example["illustrative"] = "true"
        example["notes"] = "Ví dụ: hãy xoá dòng này" if lang == "vi" else "Example: delete this row"
        frame = pd.DataFrame([[example[f.name] for f in fields]], columns=headers)
        name = v.KIND_NAMES[kind][1].capitalize() if lang == "vi" else kind
        sheets[name] = frame
        path = out_dir / f"template_{kind}.csv"
        frame.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
        paths.append(path)
    xlsx = out_dir / "template_ocop.xlsx"
    write_xlsx(xlsx, sheets)
    return [*paths, xlsx]


def describe_version(info: VersionInfo, lang: str = "en") -> str:
    """One line of ``ocop history``."""
    m = info.manifest
    counts = m.get("counts", {})
    changes = ", ".join(
        f"{k} +{c.get('added', 0)} ~{c.get('changed', 0)}"
        for k, c in counts.items()
        if c.get("added") or c.get("changed")
    )
    mark = "*" if info.current else " "
    files = ", ".join(m.get("files", []))
    what = m.get("action", "import")
    return f"{mark} {info.name}  {m.get('created', '')}  {what}  {files}  {changes}".rstrip()


def demo_frames(service: ImportService, spec) -> dict[str, pd.DataFrame]:
    """Illustrative records for the boundaries served by ``service`` (see ``demo_data``)."""
    from geoapp.services.demo_data import generate

    return generate(service.store.communes("2020", "full"), service.store.districts("full"), spec)


def apply_demo(service: ImportService, frames: dict[str, pd.DataFrame], note: str = "") -> str:
    """A new version: the served records that are not illustrative, plus ``frames``.

    Earlier illustrative records are replaced; real records are kept unchanged.
    """
    versions = service.versions
    base = versions.current()
    base_dir = service.store.ocop_dir if base is None else versions.root / base
    existing = read_text_tables(base_dir)
    tables: dict[str, pd.DataFrame | Path] = {}
    counts = {}
    for kind, file_name in TABLE_FILES.items():
        frame = existing[kind]
        flag = frame["illustrative"] if "illustrative" in frame.columns else None
        real = frame if flag is None else frame.loc[~flag.str.strip().str.lower().eq("true")]
        generated = frames[kind]
        columns = list(dict.fromkeys([*real.columns, *generated.columns]))
        tables[file_name] = pd.concat(
            [real.reindex(columns=columns), generated.reindex(columns=columns)], ignore_index=True
        ).fillna("")
        counts[kind] = {"added": len(generated), "changed": 0, "unchanged": len(real)}
    for file_name in OTHER_FILES:
        if (base_dir / file_name).exists():
            tables[file_name] = base_dir / file_name
    manifest = {"files": [], "counts": counts, "note": note, "illustrative": True}
    return versions.create(tables, manifest, base=base, check_base=True, action="demo-data")


def write_frames(frames: dict[str, pd.DataFrame], out_dir: Path) -> list[Path]:
    """Write record frames as import files (CSV UTF-8 with BOM, English headers)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, frame in frames.items():
        columns = [c for c in v.export_columns(kind) if c in frame.columns]
        path = out_dir / TABLE_FILES[kind]
        frame[columns].to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
        paths.append(path)
    return paths
