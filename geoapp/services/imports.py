"""Importing OCOP products, producers and outlets: read, validate, diff, apply; export;
history and rollback; templates.

Files are CSV (UTF-8, with or without BOM; "," ";" or tab separated) or XLSX (one sheet per
kind, or one kind per file). Every import that changes something becomes a new version in the
versions folder (``geoapp.storage.versions``), switched in atomically; the running service
picks it up on its next request. Coordinates are EPSG:4326 throughout.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from geoapp.config import Settings
from geoapp.domain import validation as v
from geoapp.domain.names import Commune, District, NameMatcher, NameOverride
from geoapp.domain.ocop import PROVENANCE_COLUMNS
from geoapp.services.import_files import (  # noqa: F401 (the reading API, re-exported)
    DEFAULT_LIMITS,
    READABLE_SUFFIXES,
    ReadLimits,
    decode_csv,
    expand_paths,
    guess_delimiter,
    no_progress,
    read_csv_table,
    read_upload,
    read_xlsx_tables,
)
from geoapp.services.spreadsheets import safe_frame, text_cells
from geoapp.storage.files import FileStore
from geoapp.storage.versions import VersionInfo, utc_now

TABLE_FILES = {"products": "products.csv", "producers": "producers.csv", "outlets": "outlets.csv"}
OTHER_FILES = ("province_stats.csv", "candidates.csv")  # carried into each new version
PROGRESS_MIN_ROWS = 2000


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

    def __init__(
        self, store: FileStore, settings: Settings, limits: ReadLimits = DEFAULT_LIMITS
    ) -> None:
        self.store = store
        self.settings = settings
        self.limits = limits

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
            found, issues = read_upload(data, name, progress, self.limits)
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
        sources = []
        for path in files:
            try:
                size = path.stat().st_size
                if size > self.limits.max_file_bytes:  # checked before the file is read
                    raise ImportRejected(
                        f"{path.name} has {size / 2**20:,.1f} MB, more than the "
                        f"{self.limits.max_file_bytes / 2**20:,.0f} MB an import file may have: "
                        "split it"
                    )
                sources.append((path.name, path.read_bytes()))
            except OSError as exc:
                raise ImportRejected(f"cannot read {path.name}: {exc.strerror}") from None
        return self.plan(sources, **options)

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
            write_csv(path, frame)
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
        sheet.append(text_cells(sheet, [str(c) for c in frame.columns]))
        for row in frame.astype(str).itertuples(index=False):
            sheet.append(text_cells(sheet, row))
    workbook.save(path)


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """``frame`` as an import file: CSV UTF-8 with a BOM (Excel reads Vietnamese), text made
    safe for spreadsheets (``geoapp.services.spreadsheets``)."""
    safe_frame(frame).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")


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
        write_csv(path, frame)
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
        write_csv(path, frame[columns])
        paths.append(path)
    return paths
