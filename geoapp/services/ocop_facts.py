"""Carry the published OCOP facts of Quảng Nam into ``data/ocop/`` (``flask ocop build``).

Reads the compiled facts (``products.csv``, ``sales_points.csv`` and the tables copied as they
are) and the official 2020 code lists, matches every commune/district name to its GSO code
(``geoapp.domain.names``), derives one producer per distinct producer name and place, and places
each producer and outlet at an approximate point inside its commune, or its district when only
the district is known (``geoapp.domain.placement``, on the built boundary polygons). Nothing is
dropped: names that cannot be matched are kept with the codes that could be found, listed in
``unmatched_names.csv`` and printed.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geoapp.domain.names import (
    Commune,
    District,
    NameMatch,
    NameMatcher,
    NameOverride,
    PlaceMatch,
    normalize_text,
)
from geoapp.domain.ocop import OUTLET_COLUMNS, PRODUCER_COLUMNS, PRODUCT_COLUMNS
from geoapp.domain.placement import PlacementError, place_in_polygon
from geoapp.services.ocop_candidates import CANDIDATES_FILE, build_candidates

PRODUCTS_FILE = "products.csv"
SALES_POINTS_FILE = "sales_points.csv"
COPIED_FILES = ("province_stats.csv", "taxonomy_2019.csv", "taxonomy_2023.csv", "rating_rules.csv")
COMMUNE_LIST = "qn_communes_2020.csv"
DISTRICT_LIST = "qn_districts_2020.csv"
COMMUNE_POLYGONS = "communes_2020.parquet"
DISTRICT_POLYGONS = "districts_2020.parquet"
OVERRIDES_FILE = "name_overrides.csv"
UNMATCHED_FILE = "unmatched_names.csv"

PRODUCT_SOURCE_COLUMNS = (
    "record_id", "product_name", "producer", "producer_type_derived", "commune", "district",
    "stars", "recognition_year", "decision", "source_ids", "group_1048_inferred",
    "group_148_inferred", "notes",
)  # fmt: skip
SALES_POINT_SOURCE_COLUMNS = (
    "record_id", "name", "kind", "address", "commune", "district", "operator", "opened",
    "source_ids", "notes",
)  # fmt: skip
OVERRIDE_COLUMNS = ("raw_name", "district_name", "commune_code", "reason")
UNMATCHED_COLUMNS = (
    "record_id", "field", "raw_value", "context", "problem", "suggestions", "kept_as",
)  # fmt: skip

GROUPS_NOTE = "group_1048/group_148 inferred from the product name, not stated by a source"
TYPE_NOTE = "producer_type inferred from the producer name, not stated by a source"
NO_PRODUCER_NOTE = "producer not stated"
UNCONFIRMED_CENTRE_NOTE = (
    "named as a district OCOP centre by the 2020 programme review; SOURCES.md found no page "
    "confirming that this centre exists (no address, operator or opening date); location is "
    "the district only"
)

# The two district OCOP centres the 2020 programme review names; no page confirms them.
ADDED_CENTRES = (
    ("QN-C01", "Trung tâm OCOP huyện Tiên Phước", "Tiên Phước"),
    ("QN-C02", "Trung tâm OCOP huyện Tây Giang", "Tây Giang"),
)
ADDED_CENTRES_SOURCE = "review-2020"

_DATE_IN_TEXT = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")


class OcopBuildError(Exception):
    """The OCOP facts cannot be built (missing input, bad columns, unplaceable record)."""


# --------------------------------------------------------------------------------------------
# small pure rules


def parse_recognition_date(decision: str, recognition_year: str) -> tuple[str, str]:
    """(ISO date, precision) of a recognition.

    A day/month/year date in the decision text wins ("QĐ 14/QĐ-UBND 03/01/2020" ->
    ("2020-01-03", "day")); else the recognition year stands for its last day
    ("2018" -> ("2018-12-31", "year")); else ("", "unknown").
    """
    for day, month, year in _DATE_IN_TEXT.findall(decision or ""):
        try:
            return dt.date(int(year), int(month), int(day)).isoformat(), "day"
        except ValueError:
            continue
    match = _YEAR.match(recognition_year or "")
    if match:
        return f"{match.group(1)}-12-31", "year"
    return "", "unknown"


def producer_type_of(derived: str) -> str:
    """Map ``producer_type_derived`` ("cooperative (HTX)", "enterprise (company)", ...)."""
    text = normalize_text(derived)
    if text.startswith("cooperative group"):
        return "cooperative_group"
    if text.startswith("cooperative"):
        return "cooperative"
    if text.startswith(("enterprise", "company", "sme")):
        return "sme"
    if text.startswith("household"):
        return "household"
    return "unknown"


def outlet_kind_of(kind: str) -> str:
    """ "centre" for a "trung tâm" row, else "sales_point"."""
    return "centre" if "trung tam" in normalize_text(kind) else "sales_point"


def outlet_status_of(kind: str, name: str, opened: str, notes: str) -> str:
    """ "planned" for a planned row, "unconfirmed" where the source says its status is unknown."""
    if any("planned" in normalize_text(text) for text in (kind, name, opened)):
        return "planned"
    text = normalize_text(notes)
    if re.search(r"status\b.*\bunknown|unconfirmed|not confirmed", text):
        return "unconfirmed"
    return "open"


def merge_source_ids(values: Iterable[str]) -> str:
    """Union of ";"-separated source id lists, first-seen order."""
    seen: list[str] = []
    for value in values:
        for part in (value or "").split(";"):
            part = part.strip()
            if part and part not in seen:
                seen.append(part)
    return ";".join(seen)


def _join_notes(notes: Iterable[str]) -> str:
    out: list[str] = []
    for note in notes:
        note = (note or "").strip().rstrip(".")
        if note and note not in out:
            out.append(note)
    return ". ".join(out) + ("." if out else "")


def _bool(value: bool) -> str:
    return "true" if value else "false"


# --------------------------------------------------------------------------------------------
# reading


def _read_csv(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.exists():
        raise OcopBuildError(f"{path} is missing")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise OcopBuildError(f"{path} lacks column(s): {', '.join(missing)}")
    return frame.apply(lambda col: col.str.strip())


def read_code_lists(boundary_sources: Path) -> tuple[list[Commune], list[District]]:
    """The official 2020 communes (with names before the 2023 renamings) and districts."""
    districts_frame = _read_csv(
        boundary_sources / DISTRICT_LIST, ("district_code", "district_name", "district_full_name")
    )
    communes_frame = _read_csv(
        boundary_sources / COMMUNE_LIST,
        (
            "commune_code", "commune_name", "commune_full_name", "district_code",
            "commune_full_name_2020_03",
        ),
    )  # fmt: skip
    districts = [
        District(r.district_code, r.district_name, r.district_full_name)
        for r in districts_frame.itertuples()
    ]
    communes = []
    for r in communes_frame.itertuples():
        former = r.commune_full_name_2020_03
        former_names = (former,) if former and former != r.commune_full_name else ()
        communes.append(
            Commune(
                r.commune_code, r.commune_name, r.district_code, r.commune_full_name, former_names
            )
        )
    return communes, districts


def read_overrides(path: Path) -> list[NameOverride]:
    frame = _read_csv(path, OVERRIDE_COLUMNS)
    return [
        NameOverride(r.raw_name, r.district_name, r.commune_code, r.reason)
        for r in frame.itertuples()
    ]


def read_polygons(boundaries_dir: Path) -> tuple[gpd.GeoSeries, gpd.GeoSeries]:
    """Clean commune and district polygons (EPSG:4326) indexed by code, from the built files."""
    out = []
    for name, code in ((COMMUNE_POLYGONS, "commune_code"), (DISTRICT_POLYGONS, "district_code")):
        path = boundaries_dir / name
        if not path.exists():
            raise OcopBuildError(
                f"{path} is missing: build the boundaries first (`flask --app wsgi boundaries "
                "build`); OCOP locations are placed inside the built commune/district polygons"
            )
        frame = gpd.read_parquet(path)
        if code not in frame.columns:
            raise OcopBuildError(f"{path} lacks column {code}")
        frame = frame.to_crs("EPSG:4326") if frame.crs and frame.crs.to_epsg() != 4326 else frame
        out.append(frame.set_index(frame[code].astype(str)).geometry)
    return out[0], out[1]


# --------------------------------------------------------------------------------------------
# building


@dataclass
class _Located:
    """A producer or outlet being built: its row and where it is."""

    row: dict[str, str]
    place: PlaceMatch


@dataclass
class _Unmatched:
    rows: list[dict[str, str]] = field(default_factory=list)

    def add(self, record_id: str, field_name: str, raw: str, context: str, match: NameMatch,
            kept_as: str) -> None:  # fmt: skip
        self.rows.append(
            {
                "record_id": record_id,
                "field": field_name,
                "raw_value": raw,
                "context": context,
                "problem": match.problem + (f": {match.note}" if match.note else ""),
                "suggestions": "; ".join(match.suggestions),
                "kept_as": kept_as,
            }
        )


def _kept_as(place: PlaceMatch) -> str:
    if place.precision == "commune":
        return f"commune {place.commune_code}"
    if place.precision == "district":
        return f"district {place.district_code} only"
    return "no codes (no location)"


def _record_place(
    record_id: str, commune: str, district: str, place: PlaceMatch, unmatched: _Unmatched
) -> list[str]:
    """List the names of one record that did not match; return notes about the matching."""
    notes = []
    if place.district.problem:
        unmatched.add(record_id, "district", district, "", place.district, _kept_as(place))
    if place.commune.problem:
        unmatched.add(record_id, "commune", commune, district, place.commune, _kept_as(place))
        notes.append(f"commune {commune!r} not matched to a code; placed in its district")
    if not commune and not district:
        unmatched.add(
            record_id, "place", "", "", NameMatch(None, problem="not_found", note="no place given"),
            _kept_as(place),
        )  # fmt: skip
    if place.commune.method == "override":
        notes.append(f"commune matched by override: {place.commune.note}")
    elif place.commune.method == "former_name":
        notes.append(f"commune given by its {place.commune.note}")
    return notes


def _place_text(commune: str, district: str) -> str:
    return ", ".join(p for p in (commune, district) if p)


def _build_products_and_producers(
    products: pd.DataFrame, matcher: NameMatcher, unmatched: _Unmatched
) -> tuple[list[dict[str, str]], list[_Located]]:
    product_rows: list[dict[str, str]] = []
    producers: dict[tuple[str, ...], _Located] = {}
    producer_places: dict[tuple[str, ...], list[str]] = {}
    for src in products.to_dict("records"):
        record_id = src["record_id"]
        place = matcher.match(src["commune"], src["district"])
        place_notes = _record_place(record_id, src["commune"], src["district"], place, unmatched)
        name = src["producer"]
        where = (place.commune_code or "", place.district_code or "")
        if not any(where):
            where = (normalize_text(src["commune"]), normalize_text(src["district"]))
        key = ("named", normalize_text(name), *where) if name else ("unnamed", record_id)
        producer_type = producer_type_of(src["producer_type_derived"])
        if key not in producers:
            producer_id = f"QN-PR{len(producers) + 1:03d}"
            notes = [] if name else [NO_PRODUCER_NOTE]
            if producer_type != "unknown":
                notes.append(TYPE_NOTE)
            producers[key] = _Located(
                {
                    "producer_id": producer_id,
                    "name": name,
                    "producer_type": producer_type,
                    "commune_code": place.commune_code or "",
                    "district_code": place.district_code or "",
                    "location_precision": place.precision if place.precision != "none" else "",
                    "sells_on_site": _bool(False),
                    "source_ids": "",
                    "notes": "",
                    "illustrative": _bool(False),
                    "_notes": notes,
                },
                place,
            )
            producer_places[key] = []
        producer = producers[key]
        row = producer.row
        if row["producer_type"] != producer_type:
            row["_notes"].append(
                f"{record_id} gives producer type {src['producer_type_derived']!r} "
                f"(kept {row['producer_type']!r})"
            )
        row["source_ids"] = merge_source_ids([row["source_ids"], src["source_ids"]])
        row["_notes"].extend(place_notes)
        text = _place_text(src["commune"], src["district"])
        if text and text not in producer_places[key]:
            producer_places[key].append(text)
        product_rows.append(
            {
                "product_id": record_id,
                "name": src["product_name"],
                "group_1048": src["group_1048_inferred"],
                "group_148": src["group_148_inferred"],
                "stars": src["stars"],
                "recognition_year": src["recognition_year"],
                **dict(
                    zip(
                        ("recognition_date", "recognition_date_precision"),
                        parse_recognition_date(src["decision"], src["recognition_year"]),
                        strict=True,
                    )
                ),
                "decision": src["decision"],
                "producer_id": row["producer_id"],
                "source_ids": src["source_ids"],
                "notes": _join_notes([src["notes"], GROUPS_NOTE]),
                "illustrative": _bool(False),
            }
        )
    for key, producer in producers.items():
        places = producer_places[key]
        if places:
            producer.row["_notes"].append("place as given by the source: " + " | ".join(places))
    return product_rows, list(producers.values())


def _build_outlets(
    sales_points: pd.DataFrame, matcher: NameMatcher, unmatched: _Unmatched
) -> list[_Located]:
    outlets: list[_Located] = []
    for src in sales_points.to_dict("records"):
        record_id = src["record_id"]
        place = matcher.match(src["commune"], src["district"])
        notes = _record_place(record_id, src["commune"], src["district"], place, unmatched)
        status = outlet_status_of(src["kind"], src["name"], src["opened"], src["notes"])
        if status == "unconfirmed":
            notes.append("status unconfirmed: the source does not say whether it still operates")
        elif status == "planned":
            notes.append("status planned: the source describes it as planned")
        street = "" if normalize_text(src["address"]) in {"", "not given"} else src["address"]
        address = ", ".join(p for p in (street, src["commune"], src["district"]) if p)
        outlets.append(
            _Located(
                {
                    "outlet_id": record_id,
                    "name": src["name"],
                    "kind": outlet_kind_of(src["kind"]),
                    "status": status,
                    "address": address,
                    "commune_code": place.commune_code or "",
                    "district_code": place.district_code or "",
                    "location_precision": place.precision if place.precision != "none" else "",
                    "operator": src["operator"],
                    "opened": src["opened"],
                    "source_ids": src["source_ids"],
                    "notes": "",
                    "illustrative": _bool(False),
                    "_notes": [src["notes"], f"kind in source: {src['kind']}", *notes],
                },
                place,
            )
        )
    for outlet_id, name, district in ADDED_CENTRES:
        place = matcher.match("", district)
        if place.district_code is None:
            raise OcopBuildError(f"district {district!r} of {outlet_id} is not in the code list")
        outlets.append(
            _Located(
                {
                    "outlet_id": outlet_id,
                    "name": name,
                    "kind": "centre",
                    "status": "unconfirmed",
                    "address": f"Huyện {district}",
                    "commune_code": "",
                    "district_code": place.district_code,
                    "location_precision": "district",
                    "operator": "",
                    "opened": "",
                    "source_ids": ADDED_CENTRES_SOURCE,
                    "notes": "",
                    "illustrative": _bool(False),
                    "_notes": [UNCONFIRMED_CENTRE_NOTE],
                },
                place,
            )
        )
    return outlets


def _mark_sellers(producers: list[_Located], outlets: list[_Located]) -> None:
    """A producer that runs an outlet in its own commune sells on site (e.g. a producer's shop)."""
    for outlet in outlets:
        operator = normalize_text(outlet.row["operator"])
        if not operator:
            continue
        for producer in producers:
            row = producer.row
            if (
                normalize_text(row["name"]) == operator
                and row["commune_code"]
                and row["commune_code"] == outlet.row["commune_code"]
            ):
                row["sells_on_site"] = _bool(True)
                row["source_ids"] = merge_source_ids([row["source_ids"], outlet.row["source_ids"]])
                row["_notes"].append(
                    f"sells on site: runs {outlet.row['name']} ({outlet.row['outlet_id']})"
                )


def _record_id(item: _Located) -> str:
    return item.row.get("producer_id") or item.row["outlet_id"]


def _place_all(located: list[_Located], communes: gpd.GeoSeries, districts: gpd.GeoSeries) -> None:
    """Give every located record lon/lat inside its commune or district polygon."""
    groups: dict[tuple[str, str], list[_Located]] = {}
    for item in located:
        precision = item.row["location_precision"]
        code = item.row["commune_code"] if precision == "commune" else item.row["district_code"]
        item.row["lon"] = item.row["lat"] = ""
        if precision in {"commune", "district"}:
            groups.setdefault((precision, code), []).append(item)
    for (precision, code), items in sorted(groups.items()):
        polygons = communes if precision == "commune" else districts
        items.sort(key=_record_id)
        if code not in polygons.index:
            raise OcopBuildError(
                f"no {precision} polygon with code {code} in the built boundaries "
                f"(needed by {', '.join(_record_id(i) for i in items)})"
            )
        try:
            points = place_in_polygon(polygons.loc[code], len(items), decimals=6)
        except PlacementError as exc:
            raise OcopBuildError(f"cannot place points in {precision} {code}: {exc}") from exc
        for item, point in zip(items, points, strict=True):
            item.row["lon"] = f"{point.x:.6f}"
            item.row["lat"] = f"{point.y:.6f}"


def _finish(rows: list[dict[str, str]], columns: tuple[str, ...]) -> pd.DataFrame:
    for row in rows:
        if "_notes" in row:
            row["notes"] = _join_notes(row.pop("_notes"))
    return pd.DataFrame(rows, columns=list(columns)).fillna("")


# --------------------------------------------------------------------------------------------
# writing


def _write_frame(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_csv(tmp, index=False, lineterminator="\n")
    os.replace(tmp, path)


def _copy(source: Path, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def _read_sources(
    ocop_sources: Path, echo: Callable[[str], object]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(products, sales points, candidates) of ``ocop_sources``, checked; candidates are
    optional (an older source folder has none)."""
    products = _read_csv(ocop_sources / PRODUCTS_FILE, PRODUCT_SOURCE_COLUMNS)
    sales_points = _read_csv(ocop_sources / SALES_POINTS_FILE, SALES_POINT_SOURCE_COLUMNS)
    candidates = pd.DataFrame(columns=list(PRODUCT_SOURCE_COLUMNS))
    if (ocop_sources / CANDIDATES_FILE).exists():
        candidates = _read_csv(ocop_sources / CANDIDATES_FILE, PRODUCT_SOURCE_COLUMNS)
    else:
        echo(f"warning: {ocop_sources / CANDIDATES_FILE} not found: no candidates written")
    named = ((PRODUCTS_FILE, products), (SALES_POINTS_FILE, sales_points))
    for name, frame in (*named, (CANDIDATES_FILE, candidates)):
        ids = frame["record_id"]
        if ids.eq("").any() or ids.duplicated().any():
            raise OcopBuildError(f"{name}: record_id must be present and unique")
    for name in COPIED_FILES:
        if not (ocop_sources / name).exists():
            raise OcopBuildError(f"{ocop_sources / name} is missing")
    return products, sales_points, candidates


def build_ocop_facts(
    ocop_sources: Path,
    boundary_sources: Path,
    boundaries_dir: Path,
    ocop_dir: Path,
    echo: Callable[[str], object] = print,
    *,
    overrides_file: Path | None = None,
) -> str:
    """Build ``ocop_dir`` from the facts in ``ocop_sources``; return a one-line summary.

    ``boundary_sources`` holds the official code lists, ``boundaries_dir`` the built polygons.
    ``overrides_file`` (default ``ocop_dir/name_overrides.csv``) is the explicit table of name
    decisions; without it every name must match by the rules alone.
    """
    ocop_sources, boundary_sources = Path(ocop_sources), Path(boundary_sources)
    boundaries_dir, ocop_dir = Path(boundaries_dir), Path(ocop_dir)
    products, sales_points, candidates = _read_sources(ocop_sources, echo)

    communes, districts = read_code_lists(boundary_sources)
    overrides_path = Path(overrides_file) if overrides_file else ocop_dir / OVERRIDES_FILE
    if overrides_path.exists():
        overrides = read_overrides(overrides_path)
    else:
        echo(f"warning: {overrides_path} not found: matching without overrides")
        overrides = []
    try:
        matcher = NameMatcher(communes, districts, overrides)
    except ValueError as exc:
        raise OcopBuildError(f"{overrides_path}: {exc}") from exc
    commune_polygons, district_polygons = read_polygons(boundaries_dir)

    unmatched = _Unmatched()
    product_rows, producers = _build_products_and_producers(products, matcher, unmatched)
    outlets = _build_outlets(sales_points, matcher, unmatched)

    def place_candidate(record_id: str, commune: str, district: str):
        place = matcher.match(commune, district)
        return place, _record_place(record_id, commune, district, place, unmatched)

    candidates_out = build_candidates(candidates, place_candidate, producer_type_of, _join_notes)
    _mark_sellers(producers, outlets)
    _place_all([*producers, *outlets], commune_polygons, district_polygons)

    products_out = _finish(product_rows, PRODUCT_COLUMNS)
    producers_out = _finish([p.row for p in producers], PRODUCER_COLUMNS)
    outlets_out = _finish([o.row for o in outlets], OUTLET_COLUMNS)
    unmatched_out = pd.DataFrame(unmatched.rows, columns=list(UNMATCHED_COLUMNS))

    ocop_dir.mkdir(parents=True, exist_ok=True)
    _write_frame(products_out, ocop_dir / "products.csv")
    _write_frame(producers_out, ocop_dir / "producers.csv")
    _write_frame(outlets_out, ocop_dir / "outlets.csv")
    _write_frame(candidates_out, ocop_dir / CANDIDATES_FILE)
    _write_frame(unmatched_out, ocop_dir / UNMATCHED_FILE)
    for name in COPIED_FILES:
        _copy(ocop_sources / name, ocop_dir / name)

    for row in unmatched.rows:
        echo(
            f"unmatched {row['field']} {row['raw_value']!r} of {row['record_id']}"
            + (f" (district {row['context']})" if row["context"] else "")
            + f": {row['problem']}; suggestions: {row['suggestions'] or 'none'}; "
            f"kept as {row['kept_as']}"
        )
    precision_of = producers_out.set_index("producer_id")["location_precision"]
    product_precision = products_out["producer_id"].map(precision_of).fillna("")
    n_commune = int(product_precision.eq("commune").sum())
    n_district = int(product_precision.eq("district").sum())
    n_none = len(products_out) - n_commune - n_district
    return (
        f"wrote {ocop_dir}: {len(products_out)} products ({n_commune} located by commune, "
        f"{n_district} by district only, {n_none} without location), "
        f"{len(producers_out)} producers, {len(outlets_out)} outlets "
        f"({len(sales_points)} sales points + {len(ADDED_CENTRES)} unconfirmed centres), "
        f"{len(candidates_out)} candidates (not certified); "
        f"{len(unmatched.rows)} unmatched name(s) listed in {UNMATCHED_FILE}"
    )
