"""Products in the pipeline (candidates): where they are, per commune and per district.

Candidates are registered or scored products whose certification no source confirms. They are
counted here and only here, in columns of their own (``n_candidates``); no coverage figure
includes them. Codes are GSO codes as text: a candidate's ``commune_code`` is of the 2020
edition; in edition 2025 it follows the crosswalk (old commune -> its one new commune).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

DISTRICT_COLUMNS = ("district_code", "n_candidates", "n_candidates_district_only")
# What a commune's detail lists of each candidate.
DETAIL_COLUMNS = (
    "candidate_id",
    "name",
    "producer",
    "stars",
    "recognition_year",
    "decision",
    "source_ids",
)


def candidate_communes(
    candidates: pd.DataFrame, edition: str, crosswalk: pd.DataFrame
) -> pd.Series:
    """Each candidate's commune in ``edition`` (``<NA>`` when only its district is known)."""
    communes = candidates["commune_code"].astype("string").replace("", pd.NA)
    if edition == "2020":
        return communes
    successor = crosswalk.set_index("old_commune_code")["new_commune_code"]
    return communes.map(successor).astype("string")


def per_commune(candidates: pd.DataFrame, edition: str, crosswalk: pd.DataFrame) -> pd.Series:
    """Number of candidates per commune code of ``edition`` (communes with none are absent)."""
    return candidate_communes(candidates, edition, crosswalk).dropna().value_counts()


def per_district(candidates: pd.DataFrame) -> pd.DataFrame:
    """Per 2020 district: every candidate in it (``n_candidates``) and those known only by the
    district (``n_candidates_district_only``); districts with none are absent."""
    district = candidates["district_code"].astype("string").replace("", pd.NA)
    no_commune = candidates["commune_code"].astype("string").replace("", pd.NA).isna()
    frame = pd.DataFrame({"district_code": district, "district_only": no_commune}).dropna(
        subset=["district_code"]
    )
    grouped = frame.groupby("district_code")["district_only"]
    out = pd.DataFrame(
        {"n_candidates": grouped.size(), "n_candidates_district_only": grouped.sum()}
    ).reset_index()
    return out.astype({"n_candidates": int, "n_candidates_district_only": int})[
        list(DISTRICT_COLUMNS)
    ]


def with_district_counts(summary: pd.DataFrame, candidates: pd.DataFrame) -> pd.DataFrame:
    """``summary`` (one row per 2020 ``district_code``) with ``n_candidates`` and
    ``n_candidates_district_only`` (0 where none)."""
    pipeline = per_district(candidates)
    pipeline["district_code"] = pipeline["district_code"].astype(summary["district_code"].dtype)
    frame = summary.merge(pipeline, on="district_code", how="left", validate="one_to_one")
    for column in DISTRICT_COLUMNS[1:]:
        frame[column] = frame[column].fillna(0).astype(int)
    return frame


def in_commune(
    candidates: pd.DataFrame, edition: str, crosswalk: pd.DataFrame, code: str
) -> pd.DataFrame:
    """The candidates of one commune of ``edition``, in file order."""
    commune = candidate_communes(candidates, edition, crosswalk)
    return candidates.loc[commune.eq(code).fillna(False).to_numpy(dtype=bool)]


def layer_points(
    candidates: pd.DataFrame,
    edition: str,
    crosswalk: pd.DataFrame,
    communes: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    """One point (EPSG:4326, inside the area) per commune of ``edition`` with candidates, and
    per 2020 district for those known only by district (``districts``; ``None`` in 2025,
    which has no districts): ``area_kind``, ``area_code``, ``area_name``, ``n_candidates``,
    ``names`` and ``candidate_ids`` (file order)."""
    commune = candidate_communes(candidates, edition, crosswalk)
    frames = [
        _points(candidates, commune, communes, "commune_code", "commune_full_name", "commune")
    ]
    if districts is not None:
        district = candidates["district_code"].astype("string").replace("", pd.NA)
        district = district.where(commune.isna())
        frames.append(
            _points(
                candidates, district, districts, "district_code", "district_full_name", "district"
            )
        )
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry")


def _points(
    candidates: pd.DataFrame,
    area: pd.Series,
    shapes: gpd.GeoDataFrame,
    code_column: str,
    name_column: str,
    kind: str,
) -> gpd.GeoDataFrame:
    located = candidates.assign(_area=area.to_numpy()).dropna(subset=["_area"])
    shapes = shapes.set_index(shapes[code_column].astype(str))
    rows = []
    for code, group in located.groupby("_area", sort=True):
        if code not in shapes.index:
            continue
        rows.append(
            {
                "area_kind": kind,
                "area_code": str(code),
                "area_name": shapes.at[code, name_column],
                "n_candidates": len(group),
                "names": group["name"].fillna("").tolist(),
                "candidate_ids": group["candidate_id"].tolist(),
                "geometry": shapes.geometry[code].representative_point(),
            }
        )
    columns = ["area_kind", "area_code", "area_name", "n_candidates", "names", "candidate_ids"]
    frame = pd.DataFrame(rows, columns=[*columns, "geometry"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=shapes.crs)
