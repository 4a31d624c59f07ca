"""Query-string parsing: every bad value raises ``BadParameter`` naming the parameter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from geoapp.config import EDITIONS


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


def parse_coverage_query(args: Mapping[str, str], default_edition: str) -> tuple[str, dict]:
    """Edition and coverage overrides (target, min_stars, as_of) from a query string."""
    edition = parse_edition(args, default_edition)
    overrides = {
        "target": parse_int(args, "target", 1, 5),
        "min_stars": parse_int(args, "min_stars", 1, 5),
        "as_of": parse_date(args, "as_of"),
    }
    return edition, overrides
