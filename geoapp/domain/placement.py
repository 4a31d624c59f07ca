"""Deterministic approximate points strictly inside polygons.

Records known only by commune or district still need a point on the map. ``place_points`` puts
the points of one polygon on a hexagonal lattice (``spacing_m`` apart, in the metric CRS
EPSG:32649) around the polygon's pole of inaccessibility (the interior point farthest from the
edge), nearest first, so several records of one commune are spread instead of stacked. When the
polygon is too small for that spacing the spacing is halved until the points fit; as a last
resort points are drawn at random with a seed taken from the geometry itself. Every returned
point is checked, after rounding, to lie strictly inside its polygon, and the points of one
polygon are distinct. Same input, same output.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

GEOGRAPHIC_CRS = "EPSG:4326"
METRIC_CRS = "EPSG:32649"  # UTM zone 49N: Quảng Nam lies in 106-112 °E
DEFAULT_SPACING_M = 400.0
MIN_SPACING_M = 0.5
_MARGINS_M = (25.0, 5.0, 1.0, 0.2, 0.0)
_RANDOM_TRIES = 20_000


class PlacementError(ValueError):
    """A polygon cannot hold the requested points (empty or degenerate geometry)."""


@lru_cache(maxsize=8)
def _transformers(crs: str, metric_crs: str) -> tuple[Transformer, Transformer]:
    forward = Transformer.from_crs(crs, metric_crs, always_xy=True)
    backward = Transformer.from_crs(metric_crs, crs, always_xy=True)
    return forward, backward


def _apply(transformer: Transformer, geometry: BaseGeometry) -> BaseGeometry:
    def project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, project)


def _largest_part(geometry: BaseGeometry) -> Polygon:
    parts = [g for g in getattr(geometry, "geoms", [geometry]) if isinstance(g, Polygon)]
    if not parts:
        raise PlacementError(f"not a polygon: {geometry.geom_type}")
    return max(parts, key=lambda p: (p.area, p.wkb))


def _as_polygonal(geometry: BaseGeometry) -> BaseGeometry:
    if geometry is None or geometry.is_empty:
        raise PlacementError("empty geometry")
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    polygons = [
        g for g in getattr(geometry, "geoms", [geometry]) if isinstance(g, (Polygon, MultiPolygon))
    ]
    if not polygons or sum(p.area for p in polygons) <= 0:
        raise PlacementError("geometry has no area")
    return shapely.union_all(polygons)


def _centre(body: Polygon) -> Point:
    tolerance = max(1.0, math.sqrt(body.area) / 500.0)
    try:
        centre = polylabel(body, tolerance=tolerance)
    except Exception:  # pragma: no cover - polylabel fails only on degenerate rings
        centre = body.point_on_surface()
    if not body.contains(centre):
        centre = body.point_on_surface()
    return centre


def _lattice(centre: Point, spacing: float, radius: float) -> np.ndarray:
    """Hexagonal lattice points within ``radius`` of ``centre``, nearest first (stable order)."""
    rows = math.ceil(radius / (spacing * math.sqrt(3) / 2)) + 1
    cols = math.ceil(radius / spacing) + 1
    j, i = np.mgrid[-rows : rows + 1, -cols - rows : cols + rows + 1]
    x = (i + 0.5 * j) * spacing
    y = j * spacing * math.sqrt(3) / 2
    dist = np.hypot(x, y)
    keep = dist <= radius + 1e-9
    x, y, dist = x[keep], y[keep], dist[keep]
    angle = np.mod(np.arctan2(y, x), 2 * math.pi)
    order = np.lexsort((np.round(angle, 9), np.round(dist, 6)))
    return np.column_stack([centre.x + x[order], centre.y + y[order]])


def _lattice_candidates(body: Polygon, inner: BaseGeometry, spacing: float, count: int):
    """Yield candidate arrays (metric) for decreasing spacings, each nearest-first."""
    centre = _centre(inner if isinstance(inner, Polygon) else body)
    minx, miny, maxx, maxy = body.bounds
    reach = max(
        math.hypot(cx - centre.x, cy - centre.y) for cx in (minx, maxx) for cy in (miny, maxy)
    )
    while spacing >= MIN_SPACING_M:
        radius = spacing * (math.sqrt(count) + 1)
        while True:
            points = _lattice(centre, spacing, min(radius, reach + spacing))
            inside = shapely.contains_xy(inner, points[:, 0], points[:, 1])
            if inside.sum() >= count or radius >= reach + spacing:
                yield points[inside]
                break
            radius *= 2
        spacing /= 2


def _random_candidates(body: Polygon, inner: BaseGeometry, count: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(body.wkb).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = inner.bounds
    found: list[np.ndarray] = []
    total = 0
    for _ in range(_RANDOM_TRIES // 500):
        xy = np.column_stack([rng.uniform(minx, maxx, 500), rng.uniform(miny, maxy, 500)])
        xy = xy[shapely.contains_xy(inner, xy[:, 0], xy[:, 1])]
        found.append(xy)
        total += len(xy)
        if total >= count * 4:
            break
    return np.concatenate(found) if found else np.empty((0, 2))


def _accept(
    candidates: np.ndarray,
    geometry: BaseGeometry,
    backward: Transformer,
    decimals: int | None,
    count: int,
    taken: list[tuple[float, float]],
) -> None:
    """Append to ``taken`` the candidates that, back in the source CRS and rounded, lie strictly
    inside ``geometry`` and differ from every point already taken."""
    if not len(candidates) or len(taken) >= count:
        return
    x, y = backward.transform(candidates[:, 0], candidates[:, 1])
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if decimals is not None:
        x, y = np.round(x, decimals), np.round(y, decimals)
    inside = shapely.contains_xy(geometry, x, y)
    seen = set(taken)
    for xi, yi, ok in zip(x.tolist(), y.tolist(), inside.tolist(), strict=True):
        if ok and (xi, yi) not in seen:
            taken.append((xi, yi))
            seen.add((xi, yi))
            if len(taken) >= count:
                return


def place_in_polygon(
    geometry: BaseGeometry,
    count: int,
    *,
    crs: str = GEOGRAPHIC_CRS,
    metric_crs: str = METRIC_CRS,
    spacing_m: float = DEFAULT_SPACING_M,
    decimals: int | None = 6,
) -> list[Point]:
    """``count`` distinct points strictly inside ``geometry`` (coordinates in ``crs``).

    Points are ``spacing_m`` apart where the polygon allows it, nearest to the polygon's
    interior centre first; ``decimals`` rounds the coordinates (the check is made after
    rounding). Raises ``PlacementError`` when the geometry has no area or cannot hold them.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if count == 0:
        return []
    geometry = _as_polygonal(geometry)
    forward, backward = _transformers(crs, metric_crs)
    metric = _as_polygonal(_apply(forward, geometry))
    body = _largest_part(metric)
    taken: list[tuple[float, float]] = []
    for margin in _MARGINS_M:
        inner = body.buffer(-margin) if margin else body
        if inner.is_empty:
            continue
        inner = _largest_part(inner) if inner.geom_type == "MultiPolygon" else inner
        for candidates in _lattice_candidates(body, inner, spacing_m, count):
            if len(candidates) >= count:
                _accept(candidates, geometry, backward, decimals, count, taken)
                if len(taken) >= count:
                    return [Point(x, y) for x, y in taken]
                taken.clear()
        # Lattices never held enough points: fall back to seeded random points.
        _accept(_random_candidates(body, inner, count), geometry, backward, decimals, count, taken)
        if len(taken) >= count:
            return [Point(x, y) for x, y in taken]
        taken.clear()
    raise PlacementError(f"could not place {count} distinct point(s) inside the polygon")


def place_points(
    geometries: Iterable[BaseGeometry],
    counts: Sequence[int],
    *,
    crs: str = GEOGRAPHIC_CRS,
    metric_crs: str = METRIC_CRS,
    spacing_m: float = DEFAULT_SPACING_M,
    decimals: int | None = 6,
) -> list[list[Point]]:
    """For each geometry (a GeoSeries or shapely polygons) its ``counts[i]`` points.

    A GeoSeries with a CRS is read in that CRS; the points come back in the same CRS.
    """
    source_crs = getattr(geometries, "crs", None)
    if source_crs is not None:
        crs = source_crs.to_string()
    shapes = list(geometries)
    if len(shapes) != len(counts):
        raise ValueError(f"{len(shapes)} geometries but {len(counts)} counts")
    return [
        place_in_polygon(
            shape, int(n), crs=crs, metric_crs=metric_crs, spacing_m=spacing_m, decimals=decimals
        )
        for shape, n in zip(shapes, counts, strict=True)
    ]
