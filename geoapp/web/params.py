"""Query-string parsing: every bad value raises ``BadParameter`` naming the parameter."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from geoapp.config import EDITIONS
from geoapp.domain.ocop import PRODUCER_TYPES

if TYPE_CHECKING:
    from geoapp.services.planner import FilterChoices

# Product group taxonomies: QĐ 1048/QĐ-TTg (2019) and QĐ 148/QĐ-TTg (2023) -> products column.
GROUP_TAXONOMIES = {"2019": "group_1048", "2023": "group_148"}
DEFAULT_GROUP_TAXONOMY = "2023"


class BadParameter(ValueError):
    """A request parameter has a value the service cannot use (HTTP 400)."""

    def __init__(self, name: str, value: str, reason: str, valid: Sequence[str] | str = ()):
        self.name, self.value, self.reason = name, value, reason
        self.valid = valid
        valid_text = valid if isinstance(valid, str) else ", ".join(valid)
        message = f"invalid value {value!r} for parameter '{name}': {reason}"
        if valid_text:
            message += f"; valid values: {valid_text}"
        super().__init__(message)


def _raw(args: Mapping[str, str], name: str) -> str | None:
    value = args.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


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
    if not low <= number <= high:
        raise BadParameter(name, value, "out of range", f"{low} to {high}")
    return number


def parse_date(args: Mapping[str, str], name: str) -> dt.date | None:
    value = _raw(args, name)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadParameter(name, value, "not a date", "YYYY-MM-DD, e.g. 2024-12-31") from None


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

    Parameters: ``edition``, ``target`` (1-5), ``min_stars`` (1-5), ``as_of`` (YYYY-MM-DD),
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
