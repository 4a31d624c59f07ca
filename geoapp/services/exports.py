"""The planner's downloads: the commune table as CSV, XLSX, GeoJSON and GeoPackage, and their
file names. Geometries are EPSG:4326; text cells go through ``services.spreadsheets`` (formula
neutralisation, control characters)."""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from geoapp.domain.names import normalize_text
from geoapp.services.geojson import feature_collection, json_value
from geoapp.services.spreadsheets import safe_frame, text_cells

if TYPE_CHECKING:
    from geoapp.services.planner import PlannerView
    from geoapp.services.progress import Progress

LIST_FIELDS = ("groups", "product_names")
LIST_SEPARATOR = "; "


def flat_rows(frame: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
    """The table with list columns joined by ``"; "`` (for CSV, XLSX and GeoPackage)."""
    out = frame[fields].copy()
    for column in LIST_FIELDS:
        if column in out.columns:
            out[column] = out[column].map(lambda items: LIST_SEPARATOR.join(items))
    return out


def slug(text: str) -> str:
    """File-name-safe form of a filter value ("Thực phẩm" -> "thuc-pham"), ASCII only: it goes
    into a Content-Disposition header, which servers write as Latin-1."""
    return "-".join(re.findall(r"[a-z0-9]+", normalize_text(text)))[:40] or "x"


def download_name(view: PlannerView, group_taxonomy: str, extension: str) -> str:
    """``ocop-coverage_<edition>_<as-of>_<filters>.<ext>``, ASCII only."""
    p = view.params
    parts = [
        "ocop-coverage",
        view.edition,
        p.as_of.isoformat(),
        f"target{p.target}",
        f"stars{p.min_stars}",
    ]
    if p.group:
        parts.append(f"group{group_taxonomy}-{slug(p.group)}")
    if p.producer_type:
        parts.append(f"producer-{slug(p.producer_type)}")
    if view.table.district:
        parts.append(f"district{view.table.district}")
    if view.table.statuses:
        parts.append("status-" + "-".join(view.table.statuses))
    if view.table.text:
        parts.append(f"q-{slug(view.table.text)}")
    return "_".join(parts) + f".{extension}"


def to_csv(view: PlannerView) -> bytes:
    """The commune rows as CSV, UTF-8 with a byte order mark (Excel reads Vietnamese)."""
    buffer = io.StringIO()
    safe_frame(flat_rows(view.communes, view.fields)).to_csv(
        buffer, index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL
    )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_geojson(view: PlannerView) -> bytes:
    """The commune rows with their display geometry (EPSG:4326) as GeoJSON."""
    return feature_collection(view.communes, view.fields)


def to_geopackage(view: PlannerView, district_shapes: gpd.GeoDataFrame) -> bytes:
    """The commune rows (lists joined by ``"; "``) as a GeoPackage layer ``communes``
    (EPSG:4326), plus a ``districts`` layer of the district summaries in edition 2020."""
    communes = gpd.GeoDataFrame(
        flat_rows(view.communes, view.fields),
        geometry=view.communes.geometry.values,
        crs=view.communes.crs,
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "coverage.gpkg"
        communes.to_file(path, layer="communes", driver="GPKG", engine="pyogrio")
        if len(view.districts):
            shapes = district_shapes[["district_code", "geometry"]]
            districts = shapes.merge(view.districts, on="district_code")
            districts.to_file(path, layer="districts", driver="GPKG", engine="pyogrio")
        return path.read_bytes()


def to_xlsx(view: PlannerView, progress: Progress, filters: Mapping[str, str]) -> bytes:
    """One sheet per table (communes, districts, province, progress, published, filters),
    each with a bold, frozen header row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    sheets: list[tuple[str, pd.DataFrame]] = [
        ("communes", flat_rows(view.communes, view.fields)),
        ("districts", view.districts),
        (
            "province",
            pd.DataFrame(
                {
                    "figure": list(view.province),
                    "value": [_cell(v) for v in view.province.values()],
                }
            ),
        ),
        ("progress", progress.rows()),
        ("progress_by_district", progress.by_district),
        ("published_totals", progress.published),
        ("published_other", progress.published_other),
        (
            "filters",
            pd.DataFrame({"parameter": list(filters), "value": [str(v) for v in filters.values()]}),
        ),
    ]
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for title, frame in sheets:
        sheet = book.create_sheet(title)
        sheet.append(text_cells(sheet, [str(c) for c in frame.columns]))
        for cell in sheet[1]:
            cell.font = bold
        for row in frame.astype(object).itertuples(index=False):
            sheet.append(text_cells(sheet, [_cell(v) for v in row]))
        sheet.freeze_panes = "A2"
        for index, column in enumerate(frame.columns, start=1):
            width = max([len(str(column))] + [len(str(_cell(v))) for v in frame[column]])
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(60, width + 2)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    """A value openpyxl can write (NA -> empty, lists -> "; "-joined, dicts -> JSON)."""
    plain = json_value(value)
    if isinstance(plain, list):
        return LIST_SEPARATOR.join(str(v) for v in plain)
    if isinstance(plain, dict):
        return json.dumps(plain, ensure_ascii=False)
    return plain
