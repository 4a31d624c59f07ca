"""The boundary build: raw third-party sources -> the processed layers under ``data/boundaries/``.

``build_boundaries`` reads the raw files (see the sources' README), cleans the 2020 communes into
an exact coverage of the 2019 districts, derives the 2020 -> 2025 crosswalk, simplifies display
copies, validates everything and swaps the outputs into place only when all checks pass. All
outputs are EPSG:4326; areas are measured in EPSG:32649 (km²), displacements in metres.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoapp.domain import boundaries as geo
from geoapp.storage.integrity import file_checksums

BUILD_CODE_VERSION = "boundary-build/2"  # 2: the manifest holds the files' checksums

COMMUNES_2020_GEOJSON = "qn_communes_2020.geojson"
COMMUNES_2020_CSV = "qn_communes_2020.csv"
DISTRICTS_2019_GEOJSON = "qn_districts_2019.geojson"
DISTRICTS_2020_CSV = "qn_districts_2020.csv"
PROVINCE_2019_GEOJSON = "qn_province_2019.geojson"
COMMUNES_2025_GEOJSON = "danang_communes_2025.geojson"
CROSSWALK_2025_CSV = "qn_crosswalk_2025.csv"
SOURCE_FILES = (
    COMMUNES_2020_GEOJSON,
    COMMUNES_2020_CSV,
    DISTRICTS_2019_GEOJSON,
    DISTRICTS_2020_CSV,
    PROVINCE_2019_GEOJSON,
    COMMUNES_2025_GEOJSON,
    CROSSWALK_2025_CSV,
)

EXPECTED_COUNTS = {
    "districts_2020": 18,
    "communes_2020": 241,
    "communes_2025": 94,
    "communes_2025_in_former_qn": 78,
}
FORMER_QN = "Quảng Nam"
COMMUNE_TYPES_2020 = ("Xã", "Phường", "Thị trấn")
COMMUNE_TYPES_2025 = ("Xã", "Phường", "Đặc khu")

# (min lon, min lat, max lon, max lat), EPSG:4326. Quảng Nam spans about 107.21-108.74 E,
# 14.95-16.07 N; Đà Nẵng 2025 adds the old city (north to about 16.2 N) and the Hoàng Sa
# (Paracel) special zone, about 111.2-112.8 E, 15.7-17.2 N.
BOX_QUANG_NAM = (107.1, 14.85, 108.85, 16.2)
BOX_DA_NANG_MAINLAND = (107.1, 14.85, 108.85, 16.35)
BOX_HOANG_SA = (111.0, 15.5, 113.0, 17.3)
BOXES = {"2020": (BOX_QUANG_NAM,), "2025": (BOX_DA_NANG_MAINLAND, BOX_HOANG_SA)}

MAX_DISPLAY_DISPLACEMENT_M = 50.0
# displacement is measured at points this far apart along the boundaries (and at every vertex),
# so it may be short by half of it: the checks add that margin
DISPLACEMENT_SPACING_M = 10.0
DISPLAY_DECIMALS = 5
# Noding nearly coincident source edges leaves mm-wide slivers: tolerated up to these sizes.
OUTSIDE_FRAME_TOLERANCE_M2 = 100.0
PROVINCE_TOLERANCE_SHARE = 1e-4
CLEAN_2025_TOLERANCE_M2 = 100.0

COMMUNES_2020 = "communes_2020.parquet"
DISTRICTS_2020 = "districts_2020.parquet"
COMMUNES_2025 = "communes_2025.parquet"
CROSSWALK = "crosswalk_2020_2025.csv"
MANIFEST = "manifest.json"
REPORTS = "reports"
AREA_MOVED_REPORT = "area_moved_2020.csv"
DISAGREEMENTS_REPORT = "crosswalk_disagreements.csv"
LAYERS = ("communes_2020", "districts_2020", "communes_2025")


class BoundaryBuildError(Exception):
    """A source is missing or malformed, or a built layer fails a check (message names it)."""


Echo = Callable[[str], object]


# --------------------------------------------------------------------------------------------
# reading


def _require(source_dir: Path, name: str) -> Path:
    path = source_dir / name
    if not path.is_file():
        raise BoundaryBuildError(f"source file {path} is missing")
    return path


def _read_csv(source_dir: Path, name: str) -> pd.DataFrame:
    try:
        return pd.read_csv(_require(source_dir, name), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise BoundaryBuildError(f"{name}: cannot read ({exc})") from exc


def _read_geojson(source_dir: Path, name: str, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    path = _require(source_dir, name)
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise BoundaryBuildError(f"{name}: cannot read ({exc})") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BoundaryBuildError(f"{name}: missing column(s) {', '.join(missing)}")
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise BoundaryBuildError(f"{name}: expected EPSG:4326, found {frame.crs}")
    for col in columns:
        frame[col] = frame[col].astype(str)
    return frame


def _check_columns(frame: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BoundaryBuildError(f"{name}: missing column(s) {', '.join(missing)}")


def _fail(name: str, problems: list[str], limit: int = 12) -> None:
    if problems:
        more = f" (and {len(problems) - limit} more)" if len(problems) > limit else ""
        raise BoundaryBuildError(f"{name}: " + "; ".join(problems[:limit]) + more)


def _same_codes(
    name: str, found: pd.Series, listed: pd.Series, labels: dict[str, str], what: str
) -> None:
    missing = sorted(set(listed) - set(found))
    extra = sorted(set(found) - set(listed))
    problems = [f"missing {what} {code} {labels.get(code, '')}".rstrip() for code in missing]
    problems += [f"{what} {code} is not in the official list" for code in extra]
    _fail(name, problems)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# the build steps


def _multi(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Every geometry as a MultiPolygon (one geometry type per layer)."""
    parts, index = shapely.get_parts(geoms.to_numpy(), return_index=True)
    multi = shapely.multipolygons(parts, indices=index)
    return gpd.GeoSeries(multi, index=geoms.index, crs=geoms.crs)


def _communes_2020(
    source_dir: Path, echo: Echo
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame, dict]:
    """Clean 2020 communes, their districts and the area-moved report."""
    listed = _read_csv(source_dir, COMMUNES_2020_CSV)
    _check_columns(
        listed,
        COMMUNES_2020_CSV,
        (
            "district_code",
            "district_name",
            "district_full_name",
            "commune_code",
            "commune_name",
            "commune_full_name",
            "commune_type",
            "commune_name_en",
            "commune_full_name_2020_03",
        ),
    )
    district_list = _read_csv(source_dir, DISTRICTS_2020_CSV)
    _check_columns(
        district_list,
        DISTRICTS_2020_CSV,
        (
            "district_code",
            "district_name",
            "district_full_name",
            "district_type",
            "district_name_en",
            "n_communes",
        ),
    )
    raw = _read_geojson(source_dir, COMMUNES_2020_GEOJSON, ("commune_code", "district_code"))
    raw_districts = _read_geojson(source_dir, DISTRICTS_2019_GEOJSON, ("district_code",))
    province = _read_geojson(source_dir, PROVINCE_2019_GEOJSON, ())

    # the lists themselves
    problems = []
    if len(listed) != EXPECTED_COUNTS["communes_2020"]:
        problems.append(f"expected {EXPECTED_COUNTS['communes_2020']} rows, found {len(listed)}")
    dupes = sorted(set(listed.loc[listed["commune_code"].duplicated(), "commune_code"]))
    problems += [f"duplicate commune code {c}" for c in dupes]
    for row in listed.itertuples():
        label = f"{row.commune_code} {row.commune_full_name}"
        if row.commune_type not in COMMUNE_TYPES_2020:
            problems.append(f"commune {label} has unknown type {row.commune_type!r}")
        if row.district_code not in set(district_list["district_code"]):
            problems.append(f"commune {label} is in unknown district {row.district_code}")
    _fail(COMMUNES_2020_CSV, problems)
    if len(district_list) != EXPECTED_COUNTS["districts_2020"]:
        _fail(DISTRICTS_2020_CSV, [f"expected 18 rows, found {len(district_list)}"])

    names = dict(zip(listed["commune_code"], listed["commune_full_name"], strict=True))
    district_names = dict(
        zip(district_list["district_code"], district_list["district_full_name"], strict=True)
    )
    _same_codes(
        COMMUNES_2020_GEOJSON, raw["commune_code"], listed["commune_code"], names, "commune"
    )
    _same_codes(
        DISTRICTS_2019_GEOJSON,
        raw_districts["district_code"],
        district_list["district_code"],
        district_names,
        "district",
    )
    raw = raw.assign(commune_full_name=raw["commune_code"].map(names))
    _fail(
        COMMUNES_2020_GEOJSON,
        geo.layer_problems(
            raw,
            code="commune_code",
            name="commune_full_name",
            expected_count=EXPECTED_COUNTS["communes_2020"],
            boxes=BOXES["2020"],
            code_digits=5,
        ),
    )
    _fail(
        DISTRICTS_2019_GEOJSON,
        geo.layer_problems(
            raw_districts.assign(name=raw_districts["district_code"].map(district_names)),
            code="district_code",
            name="name",
            expected_count=EXPECTED_COUNTS["districts_2020"],
            boxes=BOXES["2020"],
            code_digits=3,
        ),
    )

    # district of each commune: the official list decides
    raw = (
        raw[["commune_code", "geometry"]]
        .merge(listed, on="commune_code", how="left", validate="1:1")
        .sort_values("commune_code", ignore_index=True)
    )
    raw = gpd.GeoDataFrame(raw, geometry="geometry", crs=4326)

    started = time.perf_counter()
    frames = raw_districts[["district_code", "geometry"]].copy()
    frames["geometry"] = geo.clean_frames(frames.geometry)
    frames = frames.sort_values("district_code", ignore_index=True)
    province_geom = province.geometry.union_all()
    province_diff = geo.area_m2(
        [shapely.symmetric_difference(shapely.coverage_union_all(frames.geometry), province_geom)],
        4326,
    )[0]
    province_area = geo.area_m2([province_geom], 4326)[0]
    if province_diff > PROVINCE_TOLERANCE_SHARE * province_area:
        _fail(
            DISTRICTS_2019_GEOJSON,
            [f"the districts differ from the province outline by {province_diff:.0f} m²"],
        )

    clean = geo.clean_commune_coverage(raw, frames)
    clean = clean.merge(
        raw.drop(columns="geometry"), on=["commune_code", "district_code"], validate="1:1"
    )
    clean = gpd.GeoDataFrame(clean, geometry="geometry", crs=4326)
    _fail(
        "clean 2020 communes",
        geo.coverage_problems(
            clean,
            frames,
            name="commune_full_name",
            outside_tolerance_m2=OUTSIDE_FRAME_TOLERANCE_M2,
        ),
    )
    echo(f"  cleaned 241 communes into 18 districts in {time.perf_counter() - started:.1f} s")

    moved = geo.area_moved(raw.geometry, clean.geometry)
    moved.insert(0, "name", raw["commune_full_name"].to_numpy())
    moved.insert(0, "commune_code", raw["commune_code"].to_numpy())

    clean["geometry"] = _multi(clean.geometry)
    clean["area_km2"] = geo.area_km2(clean.geometry)
    communes = clean[
        [
            "commune_code",
            "commune_name",
            "commune_full_name",
            "commune_type",
            "commune_name_en",
            "commune_full_name_2020_03",
            "district_code",
            "district_name",
            "district_full_name",
            "area_km2",
            "geometry",
        ]
    ]

    district_geoms = geo.union_by(communes, "district_code", order=district_list["district_code"])
    districts = district_list.copy()
    districts["n_communes_listed"] = pd.to_numeric(districts["n_communes"], errors="coerce")
    counted = communes.groupby("district_code").size()
    districts["n_communes"] = districts["district_code"].map(counted).fillna(0).astype(int)
    wrong = districts[districts["n_communes"] != districts["n_communes_listed"]]
    _fail(
        DISTRICTS_2020_CSV,
        [
            f"district {r.district_code} {r.district_full_name} lists {r.n_communes_listed} "
            f"communes, the commune list has {r.n_communes}"
            for r in wrong.itertuples()
        ],
    )
    districts = gpd.GeoDataFrame(
        districts.drop(columns=["n_communes_listed"]),
        geometry=_multi(gpd.GeoSeries(district_geoms.to_numpy(), index=districts.index, crs=4326)),
        crs=4326,
    )
    districts["area_km2"] = geo.area_km2(districts.geometry)
    districts = districts[
        [
            "district_code",
            "district_name",
            "district_full_name",
            "district_type",
            "district_name_en",
            "n_communes",
            "area_km2",
            "geometry",
        ]
    ].sort_values("district_code", ignore_index=True)

    overlaps = geo.pairwise_overlaps(communes.geometry)
    stats = {
        "area_moved_km2": round(
            float(moved["area_removed_km2"].sum() + moved["area_added_km2"].sum()), 3
        ),
        "moved_share_median": round(float(moved["moved_share"].median()), 4),
        "moved_share_max": round(float(moved["moved_share"].max()), 4),
        "max_moved_commune": str(moved.loc[moved["moved_share"].idxmax(), "commune_code"]),
        "pairwise_overlap_m2_total": round(float(overlaps["area_m2"].sum()), 4),
        "pairwise_overlap_m2_max": round(float(overlaps["area_m2"].max()), 4)
        if len(overlaps)
        else 0.0,
        "province_vs_districts_m2": round(float(province_diff), 2),
        "coverage_is_valid": bool(shapely.coverage_is_valid(communes.geometry.to_numpy())),
    }
    return communes, districts, moved, stats


def _communes_2025(source_dir: Path) -> tuple[gpd.GeoDataFrame, dict]:
    columns = (
        "ward_code",
        "ward_name",
        "ward_full_name",
        "ward_name_en",
        "former_province",
        "share_in_former_qn",
    )
    raw = _read_geojson(source_dir, COMMUNES_2025_GEOJSON, columns)
    raw = raw.sort_values("ward_code", ignore_index=True)
    problems = geo.layer_problems(
        raw,
        code="ward_code",
        name="ward_full_name",
        expected_count=EXPECTED_COUNTS["communes_2025"],
        boxes=BOXES["2025"],
        code_digits=5,
    )
    types = []
    for row in raw.itertuples():
        kind = row.ward_full_name.removesuffix(" " + row.ward_name)
        if kind not in COMMUNE_TYPES_2025:
            problems.append(f"feature {row.ward_code} {row.ward_full_name}: unknown type {kind!r}")
        types.append(kind)
    in_qn = int((raw["former_province"] == FORMER_QN).sum())
    if in_qn != EXPECTED_COUNTS["communes_2025_in_former_qn"]:
        problems.append(f"expected 78 features in former {FORMER_QN}, found {in_qn}")
    share = pd.to_numeric(raw["share_in_former_qn"], errors="coerce")
    for row in raw[share.isna() | (share < 0) | (share > 1)].itertuples():
        problems.append(f"feature {row.ward_code} {row.ward_full_name}: bad share_in_former_qn")
    _fail(COMMUNES_2025_GEOJSON, problems)

    # the file is an almost exact coverage (0.5 m² of overlap, a few unmatched edges): make it
    # exact so the display copy can keep shared edges
    cleaned = geo.clean_frames(raw.geometry)
    change = geo.area_m2(shapely.symmetric_difference(raw.geometry.to_numpy(), cleaned), 4326)
    _fail(
        COMMUNES_2025_GEOJSON,
        [
            f"feature {code} {name}: cleaning changed {m2:.0f} m²"
            for code, name, m2 in zip(raw["ward_code"], raw["ward_full_name"], change, strict=True)
            if m2 > CLEAN_2025_TOLERANCE_M2
        ],
    )
    out = gpd.GeoDataFrame(
        {
            "commune_code": raw["ward_code"],
            "commune_name": raw["ward_name"],
            "commune_full_name": raw["ward_full_name"],
            "commune_type": types,
            "commune_name_en": raw["ward_name_en"],
            "former_province": raw["former_province"],
            "share_in_former_qn": share,
        },
        geometry=_multi(cleaned),
        crs=4326,
    )
    out.insert(len(out.columns) - 1, "area_km2", geo.area_km2(out.geometry))
    stats = {"clean_change_m2_max": round(float(change.max()), 3)}
    return out, stats


def _crosswalk(
    source_dir: Path, communes_2020: gpd.GeoDataFrame, communes_2025: gpd.GeoDataFrame
) -> pd.DataFrame:
    listed = _read_csv(source_dir, CROSSWALK_2025_CSV)
    _check_columns(listed, CROSSWALK_2025_CSV, ("old_commune_code", "new_ward_code"))
    unknown = sorted(set(listed["new_ward_code"]) - set(communes_2025["commune_code"]))
    _fail(CROSSWALK_2025_CSV, [f"successor {code} is not a 2025 commune" for code in unknown])

    derived = geo.largest_overlap(communes_2020, communes_2025)
    compared = geo.compare_crosswalk(
        derived,
        listed.rename(columns={"old_commune_code": "old_code", "new_ward_code": "new_code"}),
    )
    new_names = dict(
        zip(communes_2025["commune_code"], communes_2025["commune_full_name"], strict=True)
    )
    out = pd.DataFrame(
        {
            "old_commune_code": communes_2020["commune_code"].to_numpy(),
            "old_commune_full_name": communes_2020["commune_full_name"].to_numpy(),
            "old_district_code": communes_2020["district_code"].to_numpy(),
            "new_commune_code": compared["new_code"].to_numpy(),
            "new_commune_full_name": compared["new_code"].map(new_names).fillna("").to_numpy(),
            "overlap_share": compared["overlap_share"].round(4).to_numpy(),
            "file_new_commune_code": compared["file_new_code"].to_numpy(),
            "agrees": compared["agrees"].to_numpy(),
            "method": "geometry",
        }
    )
    _fail(
        "crosswalk",
        [
            f"commune {r.old_commune_code} {r.old_commune_full_name} overlaps no 2025 commune"
            for r in out[out["new_commune_code"] == ""].itertuples()
        ],
    )
    return out


def _display(
    layer: gpd.GeoDataFrame, echo: Echo, label: str
) -> tuple[gpd.GeoDataFrame, dict, np.ndarray]:
    simple, tolerance, moved, rounded = geo.simplify_within(
        layer.geometry,
        MAX_DISPLAY_DISPLACEMENT_M,
        decimals=DISPLAY_DECIMALS,
        spacing_m=DISPLACEMENT_SPACING_M,
    )
    out = layer.copy()
    out["geometry"] = _multi(simple)
    info = {
        "tolerance_m": tolerance,
        "max_displacement_m": round(float(moved.max()), 2),
        "rounded_decimals": DISPLAY_DECIMALS if rounded else None,
        "vertices": int(shapely.get_num_coordinates(out.geometry.to_numpy()).sum()),
        "vertices_full": int(shapely.get_num_coordinates(layer.geometry.to_numpy()).sum()),
    }
    echo(
        f"  {label} display: tolerance {tolerance:g} m, max displacement "
        f"{info['max_displacement_m']} m, {info['vertices_full']} -> {info['vertices']} vertices"
    )
    return out, info, moved


def _check_display(
    full: gpd.GeoDataFrame,
    display: gpd.GeoDataFrame,
    code: str,
    name: str,
    label: str,
    moved: np.ndarray | None = None,
) -> float:
    """Check a display copy: valid, a valid coverage, each feature within the displacement
    limit (``moved`` if already measured, else measured here). Returns the largest."""
    if moved is None:
        moved = geo.displacement_m(
            full.geometry, display.geometry, spacing_m=DISPLACEMENT_SPACING_M
        )
    margin = DISPLACEMENT_SPACING_M / 2
    problems = [
        f"feature {c} {n}: display copy moved {m:.1f} m (+{margin:g} m measuring margin; "
        f"max {MAX_DISPLAY_DISPLACEMENT_M:g} m)"
        for c, n, m in zip(full[code], full[name], moved, strict=True)
        if m + margin > MAX_DISPLAY_DISPLACEMENT_M
    ]
    geoms = display.geometry.to_numpy()
    problems += [
        f"feature {c} {n}: display geometry invalid"
        for c, n, ok in zip(full[code], full[name], shapely.is_valid(geoms), strict=True)
        if not ok
    ]
    if not shapely.coverage_is_valid(geoms):
        problems.append("display copy is not a valid coverage")
    _fail(f"{label} display", problems)
    return float(moved.max())


# --------------------------------------------------------------------------------------------
# writing


def _write_outputs(folder: Path, outputs: dict[str, object]) -> None:
    (folder / REPORTS).mkdir(parents=True, exist_ok=True)
    for name, value in outputs.items():
        path = folder / name
        if isinstance(value, gpd.GeoDataFrame):
            value.to_parquet(path, index=False)
        elif isinstance(value, pd.DataFrame):
            value.to_csv(path, index=False)
        else:
            path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", "utf-8")


def _verify_written(folder: Path, manifest: dict) -> None:
    """Re-read what was written and check the counts, so a bad write never gets swapped in."""
    for layer in LAYERS:
        for suffix in ("", "_display"):
            frame = gpd.read_parquet(folder / f"{layer}{suffix}.parquet")
            expected = manifest["counts"][layer]
            if len(frame) != expected or frame.crs is None or frame.crs.to_epsg() != 4326:
                raise BoundaryBuildError(f"{layer}{suffix}.parquet did not write back correctly")
    crosswalk = pd.read_csv(folder / CROSSWALK, dtype=str)
    if len(crosswalk) != manifest["counts"]["communes_2020"]:
        raise BoundaryBuildError(f"{CROSSWALK} did not write back correctly")


def _swap_in(staging: Path, output_dir: Path, names: list[str]) -> None:
    """Move the staged files into ``output_dir`` (each ``os.replace`` is atomic; the manifest,
    which readers key their cache on, goes last). Other files there (README.md) are kept."""
    output_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        if name == MANIFEST or name.startswith(f"{REPORTS}/"):
            continue
        os.replace(staging / name, output_dir / name)
    old_reports = staging / f"{REPORTS}.previous"
    if (output_dir / REPORTS).exists():
        os.replace(output_dir / REPORTS, old_reports)
    os.replace(staging / REPORTS, output_dir / REPORTS)
    os.replace(staging / MANIFEST, output_dir / MANIFEST)


def build_boundaries(source_dir: Path, output_dir: Path, echo: Echo = print) -> str:
    """Build every boundary output from the raw files in ``source_dir`` into ``output_dir``.

    Outputs (EPSG:4326): communes_2020, districts_2020, communes_2025 (+ ``_display`` copies)
    as GeoParquet, crosswalk_2020_2025.csv, reports/*.csv and manifest.json. Everything is
    written to a staging folder next to ``output_dir`` and moved in only after all checks pass,
    so a failed build leaves the previous one in place. Raises ``BoundaryBuildError`` naming
    the offending source and feature. Returns a short summary.
    """
    started = time.perf_counter()
    source_dir, output_dir = Path(source_dir), Path(output_dir)
    if not source_dir.is_dir():
        raise BoundaryBuildError(f"source folder {source_dir} does not exist")
    hashes = {name: _sha256(_require(source_dir, name)) for name in SOURCE_FILES}

    echo(f"boundaries: reading {source_dir}")
    communes_2020, districts_2020, moved, clean_stats = _communes_2020(source_dir, echo)
    communes_2025, stats_2025 = _communes_2025(source_dir)
    crosswalk = _crosswalk(source_dir, communes_2020, communes_2025)
    echo(f"  crosswalk derived ({(crosswalk['agrees'] == 'false').sum()} disagree with the file)")

    communes_2020_display, info_c20, moved_c20 = _display(communes_2020, echo, "communes_2020")
    districts_2020_display = districts_2020.copy()
    districts_2020_display["geometry"] = _multi(
        geo.union_by(
            communes_2020_display, "district_code", order=districts_2020["district_code"]
        ).set_axis(districts_2020.index)
    )
    communes_2025_display, info_c25, moved_c25 = _display(communes_2025, echo, "communes_2025")
    displacement = {
        "communes_2020": _check_display(
            communes_2020,
            communes_2020_display,
            "commune_code",
            "commune_full_name",
            "communes_2020",
            moved_c20,
        ),
        "districts_2020": _check_display(
            districts_2020,
            districts_2020_display,
            "district_code",
            "district_full_name",
            "districts_2020",
        ),
        "communes_2025": _check_display(
            communes_2025,
            communes_2025_display,
            "commune_code",
            "commune_full_name",
            "communes_2025",
            moved_c25,
        ),
    }

    disagreements = crosswalk[(crosswalk["agrees"] == "false") | (crosswalk["agrees"] == "")]
    counts = {
        "districts_2020": len(districts_2020),
        "communes_2020": len(communes_2020),
        "communes_2025": len(communes_2025),
        "communes_2025_in_former_qn": int((communes_2025["former_province"] == FORMER_QN).sum()),
    }
    if counts != EXPECTED_COUNTS:
        raise BoundaryBuildError(f"built counts {counts} differ from {EXPECTED_COUNTS}")
    version_input = json.dumps({"sources": hashes, "code": BUILD_CODE_VERSION}, sort_keys=True)
    manifest = {
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "build_version": hashlib.sha256(version_input.encode()).hexdigest()[:12],
        "build_code_version": BUILD_CODE_VERSION,
        "sources": hashes,
        "counts": counts,
        "max_display_displacement_m": round(max(displacement.values()), 2),
        "displacement_measure": (
            f"Hausdorff distance in {geo.METRIC_CRS} between full and display boundaries, "
            f"sampled every {DISPLACEMENT_SPACING_M:g} m and at every vertex (may be short by "
            f"up to {DISPLACEMENT_SPACING_M / 2:g} m; checked with that margin)"
        ),
        "display": {
            "communes_2020": info_c20,
            "districts_2020": {
                "tolerance_m": info_c20["tolerance_m"],
                "max_displacement_m": round(displacement["districts_2020"], 2),
                "note": "union of the communes_2020 display copy",
            },
            "communes_2025": info_c25,
        },
        "cleaning_2020": clean_stats,
        "cleaning_2025": stats_2025,
        "crosswalk": {
            "disagreements": int((crosswalk["agrees"] == "false").sum()),
            "derived_only": int((crosswalk["agrees"] == "").sum()),
            "overlap_share_min": float(crosswalk["overlap_share"].min()),
        },
        "crs": "EPSG:4326",
        "area_crs": geo.METRIC_CRS,
    }
    outputs: dict[str, object] = {
        COMMUNES_2020: communes_2020,
        "communes_2020_display.parquet": communes_2020_display,
        DISTRICTS_2020: districts_2020,
        "districts_2020_display.parquet": districts_2020_display,
        COMMUNES_2025: communes_2025,
        "communes_2025_display.parquet": communes_2025_display,
        CROSSWALK: crosswalk,
        f"{REPORTS}/{AREA_MOVED_REPORT}": moved.round(6),
        f"{REPORTS}/{DISAGREEMENTS_REPORT}": disagreements,
        MANIFEST: manifest,
    }

    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}-build-", dir=output_dir.parent))
    try:
        _write_outputs(staging, outputs)
        _verify_written(staging, manifest)
        # checked at every start-up and by /healthz (geoapp.storage.integrity)
        served = [n for n in outputs if n != MANIFEST and not n.startswith(f"{REPORTS}/")]
        manifest["files"] = file_checksums(staging, served)
        _write_outputs(staging, {MANIFEST: manifest})
        _swap_in(staging, output_dir, list(outputs))
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    seconds = time.perf_counter() - started
    return (
        f"boundaries built in {seconds:.1f} s into {output_dir}: "
        f"{counts['districts_2020']} districts, {counts['communes_2020']} communes (2020), "
        f"{counts['communes_2025']} communes (2025, {counts['communes_2025_in_former_qn']} in "
        f"former {FORMER_QN}); area moved by cleaning {clean_stats['area_moved_km2']} km² "
        f"(median {clean_stats['moved_share_median']:.2%} per commune); display within "
        f"{manifest['max_display_displacement_m']} m; crosswalk: "
        f"{manifest['crosswalk']['disagreements']} disagreements with the file, "
        f"{manifest['crosswalk']['derived_only']} derived only"
    )


__all__ = ["BoundaryBuildError", "build_boundaries"]
