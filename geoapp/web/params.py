"""Query-string parsing: every bad value raises ``BadParameter`` naming the parameter.

Every parameter has a range, so that no request can ask for unbounded work: texts at most
``MAX_TEXT_CHARS`` characters (control characters dropped), numbers within their bounds,
dates from ``EARLIEST_AS_OF`` to a year from today, boxes within
the region. The route modules parse through these functions only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from geoapp.config import EDITIONS
from geoapp.domain.ocop import PRODUCER_TYPES
from geoapp.domain.text_safety import strip_control

if TYPE_CHECKING:
    from geoapp.services.planner import FilterChoices

# Product group taxonomies: QĐ 1048/QĐ-TTg (2019) and QĐ 148/QĐ-TTg (2023) -> products column.
GROUP_TAXONOMIES = {"2019": "group_1048", "2023": "group_148"}
DEFAULT_GROUP_TAXONOMY = "2023"
MAX_TEXT_CHARS = 200  # any parameter's text; some have a lower limit of their own
SHOWN_VALUE_CHARS = 40  # how much of a bad value an error message repeats
# bbox: degrees (EPSG:4326) around Quảng Nam, with room for the whole of central Vietnam
BBOX_LON = (100.0, 120.0)
BBOX_LAT = (5.0, 25.0)
# Some years before the programme started (2018): a date before it is a fair question (the
# answer is "nothing counts yet", 0 communes met), not an error. No loop starts earlier than
# the programme, so the range bounds the work.
EARLIEST_AS_OF = dt.date(2015, 1, 1)


class BadParameter(ValueError):
    """A request parameter has a value the service cannot use (HTTP 400)."""

    def __init__(self, name: str, value: str, reason: str, valid: Sequence[str] | str = ()):
        value = str(value)
        if len(value) > SHOWN_VALUE_CHARS:
            value = value[:SHOWN_VALUE_CHARS] + "…"
        self.name, self.value, self.reason = name, value, reason
        self.valid = valid
        valid_text = valid if isinstance(valid, str) else ", ".join(valid)
        message = f"invalid value {value!r} for parameter '{name}': {reason}"
        if valid_text:
            message += f"; valid values: {valid_text}"
        super().__init__(message)


def latest_date(today: dt.date | None = None) -> dt.date:
    """The last date a request may ask about: a year from ``today``."""
    today = today or dt.date.today()
    try:
        return today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year + 1, day=28)


def _raw(args: Mapping[str, str], name: str, max_chars: int = MAX_TEXT_CHARS) -> str | None:
    """The stripped value, ``None`` when absent or blank. Control characters (NUL...) are
    dropped: they mean nothing in any parameter and would break XML downloads."""
    value = args.get(name)
    if value is None:
        return None
    value = strip_control(value).strip()
    if value == "":
        return None
    if len(value) > max_chars:
        raise BadParameter(name, value, f"longer than {max_chars} characters")
    return value


def parse_text(args: Mapping[str, str], name: str, max_chars: int = MAX_TEXT_CHARS) -> str | None:
    """A free text (``None`` when absent): at most ``max_chars`` characters, no controls."""
    return _raw(args, name, max_chars)


def parse_list(args: Mapping[str, str], name: str, choices: Sequence[str]) -> tuple[str, ...]:
    """Comma-separated values of ``choices`` (duplicates dropped; empty when absent)."""
    value = _raw(args, name)
    if value is None:
        return ()
    items = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    if not items or any(item not in choices for item in items):
        raise BadParameter(name, value, "unknown value", choices)
    return items


def parse_choice(args: Mapping[str, str], name: str, choices: Sequence[str], default: str) -> str:
    value = _raw(args, name)
    if value is None:
        return default
    if value not in choices:
        raise BadParameter(name, value, "unknown value", choices)
    return value


def parse_edition(args: Mapping[str, str], default: str) -> str:
    return parse_choice(args, "edition", EDITIONS, default)


def parse_int(args: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    value = _raw(args, name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise BadParameter(name, value, "not a whole number", f"{low} to {high}") from None
    if not low <= number <= high:
        raise BadParameter(name, value, "out of range", f"{low} to {high}")
    return number


def parse_float(args: Mapping[str, str], name: str, low: float, high: float) -> float | None:
    value = _raw(args, name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise BadParameter(name, value, "not a number", f"{low} to {high}") from None
    if not math.isfinite(number):
        raise BadParameter(name, value, "not a finite number", f"{low} to {high}")
    if not low <= number <= high:
        raise BadParameter(name, value, "out of range", f"{low} to {high}")
    return number


def parse_date(
    args: Mapping[str, str],
    name: str,
    low: dt.date = EARLIEST_AS_OF,
    high: dt.date | None = None,
) -> dt.date | None:
    """A date YYYY-MM-DD within ``low`` .. ``high`` (default: a year from today)."""
    value = _raw(args, name)
    if value is None:
        return None
    high = high or latest_date()
    span = f"YYYY-MM-DD from {low.isoformat()} to {high.isoformat()}"
    try:
        date = dt.date.fromisoformat(value)
    except ValueError:
        raise BadParameter(name, value, "not a date", span) from None
    if not low <= date <= high:
        raise BadParameter(name, value, "out of range", span)
    return date


def parse_region_bbox(args: Mapping[str, str], name: str = "bbox") -> tuple[float, ...] | None:
    """``west,south,east,north`` in degrees (EPSG:4326), within ``BBOX_LON`` x ``BBOX_LAT``
    (the reports' area; ``parse_bbox`` below is the OGC API's, any box on Earth)."""
    value = _raw(args, name)
    if value is None:
        return None
    valid = (
        f"west,south,east,north in degrees, west < east within {BBOX_LON[0]:g} to "
        f"{BBOX_LON[1]:g}, south < north within {BBOX_LAT[0]:g} to {BBOX_LAT[1]:g}, "
        "e.g. 107.2,14.9,108.8,16.1"
    )
    try:
        west, south, east, north = (float(part) for part in value.split(","))
    except ValueError:
        raise BadParameter(name, value, "not four numbers", valid) from None
    lon_low, lon_high = BBOX_LON
    lat_low, lat_high = BBOX_LAT
    if not (lon_low <= west < east <= lon_high and lat_low <= south < north <= lat_high):
        raise BadParameter(name, value, "outside the region or empty", valid)
    return west, south, east, north


@dataclasses.dataclass(frozen=True)
class CoverageQuery:
    """A parsed coverage query string.

    ``overrides`` are keyword arguments for ``CoverageService.default_params`` (``None`` where
    the parameter was not given); ``district`` is a 2020 district code that limits tables to
    that district (``None``: the whole province). Unpacks as ``edition, overrides``.
    """

    edition: str
    overrides: dict[str, Any]
    district: str | None = None
    group_taxonomy: str = DEFAULT_GROUP_TAXONOMY

    def __iter__(self) -> Iterator[Any]:
        return iter((self.edition, self.overrides))

    def args(self) -> dict[str, str]:
        """The given parameters as canonical query-string values (for links and file names)."""
        out = {"edition": self.edition}
        for name in ("target", "min_stars", "as_of", "group", "producer_type"):
            value = self.overrides.get(name)
            if value is not None:
                out[name] = value.isoformat() if isinstance(value, dt.date) else str(value)
        if self.group_taxonomy != DEFAULT_GROUP_TAXONOMY:
            out["group_taxonomy"] = self.group_taxonomy
        if self.district:
            out["district"] = self.district
        return out


def parse_coverage_query(
    args: Mapping[str, str], default_edition: str, choices: FilterChoices | None = None
) -> CoverageQuery:
    """Edition, coverage overrides and district from a query string.

    Parameters: ``edition``, ``target`` (1-5), ``min_stars`` (1-5), ``as_of`` (YYYY-MM-DD,
    ``EARLIEST_AS_OF`` to a year from today),
    ``group`` (a product group of ``group_taxonomy``: 2019 = QĐ 1048, 2023 = QĐ 148, default
    2023), ``producer_type`` and ``district`` (a 2020 district code, edition 2020 only).
    ``choices`` (``PlannerService.choices()``) holds the districts and groups of the data;
    without it ``group`` and ``district`` are taken as given, unchecked.
    """
    edition = parse_edition(args, default_edition)
    taxonomy = parse_choice(args, "group_taxonomy", tuple(GROUP_TAXONOMIES), DEFAULT_GROUP_TAXONOMY)
    group = _raw(args, "group")
    if group is not None and choices is not None:
        valid_groups = choices.groups.get(taxonomy, ())
        if group not in valid_groups:
            reason = f"not a product group of the {taxonomy} taxonomy in the data"
            raise BadParameter("group", group, reason, valid_groups)
    district = _raw(args, "district")
    if district is not None and choices is not None:
        valid_districts = [f"{code} ({name})" for code, name in choices.districts]
        if edition != "2020":
            reason = "districts exist in edition 2020 only (use edition=2020)"
            raise BadParameter("district", district, reason, valid_districts)
        if district not in {code for code, _ in choices.districts}:
            raise BadParameter("district", district, "unknown district code", valid_districts)
    overrides = {
        "target": parse_int(args, "target", 1, 5),
        "min_stars": parse_int(args, "min_stars", 1, 5),
        "as_of": parse_date(args, "as_of"),
        "group": group,
        "group_field": GROUP_TAXONOMIES[taxonomy],
        "producer_type": parse_choice(args, "producer_type", PRODUCER_TYPES, None),
    }
    return CoverageQuery(edition, overrides, district, taxonomy)


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """``west,south,east,north`` (or with heights: 6 numbers) in CRS84 degrees; an empty value
    is no bbox, as for every other parameter."""
    if raw is None or not raw.strip():
        return None
    valid = "west,south,east,north in degrees (CRS84), e.g. 108.0,15.5,108.5,16.0"
    try:
        numbers = [float(part) for part in raw.split(",")]
    except ValueError:
        raise BadParameter("bbox", raw, "not a list of numbers", valid) from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(map(_finite, numbers)):
        raise BadParameter("bbox", raw, "needs 4 (or 6) finite numbers", valid)
    west, south, east, north = numbers
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise BadParameter("bbox", raw, "outside -180..180, -90..90 or south above north", valid)
    return west, south, east, north


def _finite(number: float) -> bool:
    return number == number and abs(number) != float("inf")


def _instant(text: str, raw: str) -> dt.date | None:
    if text in ("", ".."):
        return None
    try:
        if "T" in text or "t" in text:
            return dt.datetime.fromisoformat(text.replace("z", "Z")).date()
        return dt.date.fromisoformat(text)
    except ValueError:
        valid = "a date or date-time (RFC 3339), or an interval start/end with .. for open"
        raise BadParameter("datetime", raw, "not a date, date-time or interval", valid) from None


def parse_datetime(raw: str | None) -> tuple[dt.date | None, dt.date | None] | None:
    """``datetime``: an instant or ``start/end`` (``..`` or empty for an open end), as dates;
    an empty value is no datetime."""
    if raw is None or not raw.strip():
        return None
    parts = raw.split("/")
    if len(parts) == 1:
        day = _instant(parts[0], raw)
        if day is None:
            raise BadParameter("datetime", raw, "an instant cannot be open", "e.g. 2024-05-01")
        return day, day
    if len(parts) != 2 or parts == ["..", ".."] or parts == ["", ""]:
        raise BadParameter("datetime", raw, "not an interval start/end", "e.g. 2023-01-01/..")
    start, end = _instant(parts[0], raw), _instant(parts[1], raw)
    if start and end and start > end:
        raise BadParameter("datetime", raw, "the start is after the end", "start <= end")
    return start, end
