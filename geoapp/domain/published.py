"""Published OCOP counts (``province_stats.csv``): what the province and districts say they have.

The facts are free text compiled from public pages ("482 (422 3★, 60 4★)", "2024-12-26",
"page undated"); these rules read the number and the date they refer to. Rows whose measure
starts with ``PLANNED`` are targets, and rows about one round, registrations, participants or
scores are not totals: none of them is ever used as a published total.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd

from geoapp.domain.names import normalize_text

PROVINCE_AREAS = ("Quảng Nam", "Quảng Nam (province)")
STATS_COLUMNS = ["area", "as_of", "measure", "value", "source_ids"]

_RANGE = re.compile(r"(?<!\d)(20\d\d)\s*[-–]\s*(20\d\d)(?!\d)")
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_ISO_DAY = re.compile(r"(?<!\d)(20\d\d)-(\d\d)(?:-(\d\d))?(?!\d)")
# A whole number: not part of a decimal ("4.5"), but it may end a sentence ("110. KH 1992").
_NUMBER = re.compile(r"(?<![\d.])(\d+)(?!\d|\.\d)")
_BY_LEVEL = re.compile(r"^\s*(\d+)\s+\w+-star\s*\+\s*(\d+)\s+\w+-star\s*$")
_TOTAL_MEASURE = re.compile(r"total|(?<!\d)20\d\d\s*[-–]\s*20\d\d", re.IGNORECASE)
_TOTAL_AS_OF = re.compile(r"^\s*(?:by|end)\b|(?<!\d)20\d\d\s*[-–]\s*20\d\d(?!\d)", re.IGNORECASE)
# Measures that are not a count of certified products held by an area.
_NOT_A_HOLDING = re.compile(
    r"^PLANNED|participat|submitted|scored|registered|pilot|approved|\bnew\b|newly|5★ national",
    re.IGNORECASE,
)


@dataclasses.dataclass(frozen=True)
class PublishedTotal:
    """A published count of an area's certified products, with the date it refers to."""

    area: str
    number: int
    as_of: str
    measure: str
    source_ids: str


def published_year(as_of: str) -> int | None:
    """Year a published figure refers to: the end of a range ("2018-2021" -> 2021), else the
    first year named ("20 Dec (2023 or 2024)" -> 2023)."""
    text = str(as_of)
    span = _RANGE.search(text)
    if span:
        return int(span.group(2))
    year = _YEAR.search(text)
    return int(year.group(1)) if year else None


def published_number(value: str) -> int | None:
    """The first whole number of a published value ("482 (422 3★, 60 4★)" -> 482), or the
    sum of a value given only by star levels ("23 three-star + 3 four-star" -> 26)."""
    by_level = _BY_LEVEL.match(str(value))
    if by_level:
        return int(by_level.group(1)) + int(by_level.group(2))
    match = _NUMBER.search(str(value))
    return int(match.group(1)) if match else None


def published_sort_key(as_of: str) -> str:
    """A sortable "YYYY-MM-DD" for the date a figure refers to ("2025-04" -> "2025-04-99",
    after every day of April; "2024" -> "2024-99-99"), "" when no year is named."""
    day = _ISO_DAY.search(str(as_of))
    if day:
        return f"{day.group(1)}-{day.group(2)}-{day.group(3) or '99'}"
    year = published_year(as_of)
    return f"{year}-99-99" if year else ""


def _clean(stats: pd.DataFrame) -> pd.DataFrame:
    rows = stats.copy()
    for column in STATS_COLUMNS:
        if column not in rows.columns:
            rows[column] = ""
        rows[column] = rows[column].astype("string").fillna("")
    return rows


def published_figures(stats: pd.DataFrame, area_name: str) -> pd.DataFrame:
    """The rows of ``province_stats`` for one area (compared without diacritics), with
    ``year``, ``number`` and ``kind``: ``total`` for running totals ("certified total",
    "by 2020-01", "2018-2021"), ``planned`` for targets, ``as_stated`` for everything else."""
    columns = [*STATS_COLUMNS, "year", "number", "kind"]
    if stats.empty or "area" not in stats.columns:
        return pd.DataFrame(columns=columns)
    keys = {_area_key(area_name)}
    province = {_area_key(a) for a in PROVINCE_AREAS}
    if keys & province:
        keys |= province
    rows = _clean(stats)
    rows = rows.loc[rows["area"].map(_area_key).isin(keys)].copy()
    rows["year"] = pd.array([published_year(v) for v in rows["as_of"]], dtype="Int64")
    rows["number"] = pd.array([published_number(v) for v in rows["value"]], dtype="Int64")
    total = rows["measure"].str.contains(_TOTAL_MEASURE) | rows["as_of"].str.contains(_TOTAL_AS_OF)
    planned = rows["measure"].str.startswith("PLANNED")
    rows["kind"] = np.where(planned, "planned", np.where(total.fillna(False), "total", "as_stated"))
    return rows[columns].reset_index(drop=True)


def latest_province_total(stats: pd.DataFrame) -> PublishedTotal | None:
    """The most recent published count of certified products of the province ("493", April
    2025), from the rows that name a month or a day; ``None`` if there is none."""
    rows = published_figures(stats, PROVINCE_AREAS[0])
    certified = rows["measure"].str.contains("certified", case=False) & ~rows[
        "measure"
    ].str.contains(_NOT_A_HOLDING)
    dated = rows["as_of"].map(lambda text: bool(_ISO_DAY.search(text))).astype(bool)
    chosen = rows.loc[certified & dated & rows["number"].notna()]
    if chosen.empty:
        return None
    best = chosen.loc[chosen["as_of"].map(published_sort_key).idxmax()]
    return _total(best)


def district_totals(stats: pd.DataFrame, district_names: pd.Series) -> dict[str, PublishedTotal]:
    """Per district code (``district_names`` maps code -> name): the largest published count
    of the district's certified products, the best estimate of what it holds (the sources
    count cumulatively). Districts with no such figure are absent."""
    result: dict[str, PublishedTotal] = {}
    for code, name in district_names.items():
        rows = published_figures(stats, str(name))
        usable = rows.loc[rows["number"].notna() & ~rows["measure"].str.contains(_NOT_A_HOLDING)]
        if usable.empty:
            continue
        best = usable.loc[usable["number"].astype(int).idxmax()]
        result[str(code)] = _total(best)
    return result


def _area_key(name: str) -> str:
    """ "TX. Điện Bàn" and "Điện Bàn" are one district in the facts: compared without the
    prefix, case or diacritics."""
    return normalize_text(re.sub(r"^\s*(?:TP|TX|H)\.\s*", "", str(name)))


def _total(row: pd.Series) -> PublishedTotal:
    return PublishedTotal(
        area=str(row["area"]),
        number=int(row["number"]),
        as_of=str(row["as_of"]),
        measure=str(row["measure"]),
        source_ids=str(row["source_ids"]),
    )
