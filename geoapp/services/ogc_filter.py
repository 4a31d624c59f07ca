"""CQL2 text filters (OGC API - Features Part 3) on a collection's table, with pygeofilter.

pygeofilter parses the text and evaluates it on the GeoDataFrame (its geopandas backend), so
this module only checks what it is given: properties must be queryables of the collection,
``geometry`` its geometry (CRS84 degrees), and the only function is ``BBOX(w, s, e, n)``. What
works: comparisons (``=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``), ``AND``/``OR``/``NOT``,
``IS NULL``, ``LIKE``, ``BETWEEN``, ``IN``, arithmetic, and the spatial predicates
(``S_INTERSECTS`` and the others) against WKT geometries or ``BBOX``. Temporal predicates are not
implemented by the backend and are refused; dates are compared as text
(``first_recognised >= '2023-01-01'``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pygeofilter import ast
from pygeofilter.backends.geopandas.evaluate import to_filter
from pygeofilter.parsers.cql2_text import parse

MAX_FILTER_CHARS = 4000


class FilterError(ValueError):
    """A filter the collection cannot evaluate; ``reason`` says why (for a 400)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _bbox(*numbers: float):
    if len(numbers) == 6:
        numbers = (numbers[0], numbers[1], numbers[3], numbers[4])
    if len(numbers) != 4:
        raise FilterError("BBOX takes 4 (or 6) numbers: west, south, east, north")
    return shapely.box(*numbers)


def _check(node, names: set[str], spatial: bool) -> None:
    if isinstance(node, ast.Attribute):
        if node.name == "geometry" and spatial:
            return
        if node.name not in names:
            raise FilterError(
                f"unknown property {node.name!r}; queryables: {', '.join(sorted(names))}"
            )
    elif isinstance(node, ast.TemporalPredicate):
        raise FilterError("temporal predicates are not supported; use datetime=")
    elif isinstance(node, ast.Function) and node.name.lower() != "bbox":
        raise FilterError(f"unknown function {node.name!r}; the only function is BBOX")
    elif isinstance(node, ast.SpatialComparisonPredicate) and not spatial:
        raise FilterError("this collection has no geometry")
    for sub in node.get_sub_nodes() if isinstance(node, ast.Node) else ():
        _check(sub, names, spatial)


def _arrow(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every property column Arrow-backed: the comparisons of text (Arrow) and of
    numbers (NumPy-backed nullable) give boolean arrays that ``AND``/``OR`` cannot mix."""
    out = frame.copy()
    for name in frame.columns:
        if name != "geometry":
            out[name] = frame[name].convert_dtypes(dtype_backend="pyarrow")
    return out


def cql2_mask(frame: pd.DataFrame, text: str, names: set[str], spatial: bool) -> np.ndarray:
    """Which rows of ``frame`` match the CQL2 text ``text``; ``names`` are the queryables."""
    if len(text) > MAX_FILTER_CHARS:
        raise FilterError(f"longer than {MAX_FILTER_CHARS} characters")
    try:
        root = parse(text)
    except Exception as exc:  # lark's errors carry the position; the message is enough
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FilterError(f"not CQL2 text: {first_line}") from None
    _check(root, names, spatial)
    try:
        result = to_filter(_arrow(frame), root, function_map={"BBOX": _bbox, "bbox": _bbox})
    except FilterError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise FilterError(f"cannot evaluate: {exc}") from None
    if isinstance(result, pd.Series):
        return result.astype("boolean").fillna(False).to_numpy(dtype=bool)
    if isinstance(result, (bool, np.bool_)):
        return np.full(len(frame), bool(result))
    raise FilterError("not a condition (true or false for each feature)")
