"""What the OpenAPI document says of each API route: its parameters and its answer.

A view is marked with ``@documented(...)`` beside its route; ``geoapp.web.openapi`` walks the
app's URL map and builds the document (apispec) from the routes and these marks. The parameter
schemas come from the parsers' own constants (ranges, choices, lengths), so a range changed in
the parser is changed in the document.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from geoapp.config import EDITIONS
from geoapp.domain.coverage import STATUSES
from geoapp.domain.ocop import PRODUCER_TYPES
from geoapp.domain.search import MAX_QUERY_LENGTH
from geoapp.i18n import LANGUAGES
from geoapp.services.visitors import MAX_LIMIT, PLACE_KINDS
from geoapp.web.params import GROUP_TAXONOMIES, STARS_RANGE, TARGET_RANGE

ATTRIBUTE = "__geoapp_apidoc__"
# Dates of the programme (OCOP began in 2018): generated examples stay in its span.
DATE_PATTERN = r"^20(1[89]|2[0-9])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$"


@dataclasses.dataclass(frozen=True)
class Param:
    """One query or path parameter (an OpenAPI parameter object)."""

    name: str
    schema: dict[str, Any]
    description: str
    required: bool = False
    where: str = "query"

    def openapi(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "in": self.where,
            "required": self.required or self.where == "path",
            "description": self.description,
            "schema": self.schema,
        }


def _int(low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high}


LANG = Param("lang", {"type": "string", "enum": list(LANGUAGES)}, "Language of texts")
COVERAGE = (
    Param("edition", {"type": "string", "enum": list(EDITIONS)}, "Boundary edition"),
    Param("target", _int(*TARGET_RANGE), "Products each commune should have"),
    Param("min_stars", _int(*STARS_RANGE), "Lowest star rating counted"),
    Param(
        "as_of",
        {"type": "string", "format": "date", "pattern": DATE_PATTERN},
        "Certificates valid on this day (YYYY-MM-DD)",
    ),
    Param("group", {"type": "string", "maxLength": 100}, "A product group of the taxonomy"),
    Param(
        "group_taxonomy",
        {"type": "string", "enum": list(GROUP_TAXONOMIES)},
        "2019: QĐ 1048, 2023: QĐ 148",
    ),
    Param("producer_type", {"type": "string", "enum": list(PRODUCER_TYPES)}, "Producer type"),
    Param("district", {"type": "string", "maxLength": 10}, "A 2020 district code"),
    LANG,
)


def table_params(max_text: int, sort_fields: tuple[str, ...]) -> tuple[Param, ...]:
    statuses = "|".join([*STATUSES, "all"])
    return (
        Param(
            "status",
            {"type": "string", "pattern": rf"^({statuses})(,({statuses}))*$"},
            "Statuses shown, comma-separated, or all",
        ),
        Param("q", {"type": "string", "maxLength": max_text}, "Text in the commune's name"),
        Param(
            "sort",
            {"type": "string", "enum": [*sort_fields, *(f"-{f}" for f in sort_fields)]},
            "Column to sort by (- first: descending)",
        ),
    )


KINDS = "|".join(PLACE_KINDS)
LIMIT = Param("limit", _int(1, MAX_LIMIT), "Most places returned")
NEARBY = (
    Param("lat", {"type": "number", "minimum": -90, "maximum": 90}, "Latitude (°)", True),
    Param("lon", {"type": "number", "minimum": -180, "maximum": 180}, "Longitude (°)", True),
    LIMIT,
    Param(
        "kind",
        {"type": "string", "pattern": rf"^({KINDS})(,({KINDS}))*$"},
        "Kinds of place, comma-separated",
    ),
    Param("group", {"type": "string", "maxLength": 100}, "A QĐ 148 product group"),
    Param("min_stars", _int(*STARS_RANGE), "Lowest star rating"),
    LANG,
)
SEARCH = (
    Param(
        "q",
        {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_LENGTH, "pattern": r"\S"},
        "Name to search for (diacritics ignored)",
        True,
    ),
    LIMIT,
    LANG,
)


def object_schema(*required: str, **properties: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "required": list(required)}
    if properties:
        schema["properties"] = properties
    return schema


FEATURE_COLLECTION = object_schema(
    "type",
    "features",
    type={"type": "string", "enum": ["FeatureCollection"]},
    features={
        "type": "array",
        "items": object_schema("type", "geometry", "properties"),
    },
)


@dataclasses.dataclass(frozen=True)
class Doc:
    """The documentation of one operation."""

    summary: str
    params: tuple[Param, ...] = ()
    media_type: str | tuple[str, ...] = "application/json"  # several: one per format
    schema: dict[str, Any] | None = None
    limited: bool = False  # answers 429 past the client's limit


def documented(summary: str, params: tuple[Param, ...] = (), **options: Any) -> Callable:
    """Mark a view for the OpenAPI document (see ``Doc`` for ``options``)."""
    doc = Doc(summary, tuple(params), **options)

    def mark(view: Callable) -> Callable:
        setattr(view, ATTRIBUTE, doc)
        return view

    return mark


def doc_of(view: Callable) -> Doc | None:
    return getattr(view, ATTRIBUTE, None)
