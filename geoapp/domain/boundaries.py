"""Boundary geometry rules: a clean commune coverage, display simplification, the crosswalk.

Pure functions on GeoPandas/Shapely objects (no I/O). Geometries keep the CRS they come in with
(the build passes WGS 84 longitude/latitude, EPSG:4326); every area, length and distance is
measured in ``metric_crs`` (default UTM zone 49N, EPSG:32649, metres), or in the input CRS itself
when that is already projected. Areas are in m² unless a name says ``km2``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

METRIC_CRS = "EPSG:32649"

# Default tolerances of the checks, in metres / m².
OVERLAP_TOLERANCE_M2 = 1.0
OUTSIDE_TOLERANCE_M2 = 1.0
UNION_TOLERANCE_SHARE = 1e-4

Box = tuple[float, float, float, float]


# --------------------------------------------------------------------------------------------
# small helpers


def metric(geoms: gpd.GeoSeries, metric_crs: str = METRIC_CRS) -> gpd.GeoSeries:
    """``geoms`` in a projected CRS: as they are if projected (or CRS-less), else reprojected."""
    if geoms.crs is None or geoms.crs.is_projected:
        return geoms
    return geoms.to_crs(metric_crs)


def polygonal(geom: BaseGeometry | None) -> BaseGeometry:
    """A valid (Multi)Polygon from ``geom``: ``make_valid`` and keep only the polygonal parts."""
    if geom is None or geom.is_empty:
        return shapely.MultiPolygon()
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return shapely.MultiPolygon()
    return polygonal(shapely.union_all(parts))


def area_m2(
    geoms: Sequence[BaseGeometry] | np.ndarray, crs, metric_crs: str = METRIC_CRS
) -> np.ndarray:
    """Area in m² of each of ``geoms`` (given in ``crs``), measured in ``metric_crs``.

    Overlays are best done in the CRS the coordinates came in (shared vertices then match
    exactly) and only their results measured here."""
    return metric(
        gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=crs), metric_crs
    ).area.to_numpy()


def area_km2(geoms: gpd.GeoSeries, metric_crs: str = METRIC_CRS) -> np.ndarray:
    """Area of each geometry in km², measured in ``metric_crs``."""
    return metric(geoms, metric_crs).area.to_numpy() / 1e6


# --------------------------------------------------------------------------------------------
# cleaning


def _ring_without_spikes(coords: np.ndarray, max_angle_deg: float) -> np.ndarray:
    """Closed ring coordinates with zero-width spikes (vertices where the ring turns back on
    itself by less than ``max_angle_deg``) removed, repeatedly."""
    pts = coords[:-1]
    while len(pts) > 3:
        before = pts - np.roll(pts, 1, axis=0)
        after = np.roll(pts, -1, axis=0) - pts
        norm = np.hypot(*before.T) * np.hypot(*after.T)
        cos = -(before * after).sum(axis=1) / np.where(norm > 0, norm, 1.0)
        angle = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
        spike = (angle < max_angle_deg) & (norm > 0)
        if not spike.any():
            break
        first = int(np.flatnonzero(spike)[0])  # one at a time: neighbours change
        pts = np.delete(pts, first, axis=0)
    return np.vstack([pts, pts[:1]])


def remove_spikes(geom: BaseGeometry, max_angle_deg: float = 1.0) -> BaseGeometry:
    """``geom`` without zero-width spikes: ring vertices where the boundary goes out and comes
    straight back (angle between the two edges < ``max_angle_deg`` degrees). Such spikes have
    next to no area but wreck simplification and overlay. Angles are CRS-independent enough
    for this test (any CRS)."""
    polys = []
    for poly in shapely.get_parts(geom):
        shell = _ring_without_spikes(np.asarray(poly.exterior.coords), max_angle_deg)
        holes = [_ring_without_spikes(np.asarray(r.coords), max_angle_deg) for r in poly.interiors]
        polys.append(shapely.Polygon(shell, [h for h in holes if len(h) >= 4]))
    return polygonal(shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0])


def clean_frames(frames: gpd.GeoSeries, gap_width: float = 1e-5) -> gpd.GeoSeries:
    """Make polygons that almost tile an area into an exact coverage (no overlap, shared edges).

    Zero-width spikes are removed first (``remove_spikes``). ``gap_width`` is in the units of the
    CRS (1e-5 degree ≈ 1 m in EPSG:4326): gaps narrower than that go to the neighbour with the
    longest shared border; overlaps likewise. Vertices are not snapped, so the input
    coordinates survive wherever nothing was wrong.
    """
    despiked = [remove_spikes(g) for g in frames.to_numpy()]
    cleaned = shapely.coverage_clean(despiked, gap_width=gap_width, snapping_distance=0.0)
    out = gpd.GeoSeries([polygonal(g) for g in cleaned], index=frames.index, crs=frames.crs)
    return out


def clean_commune_coverage(
    communes: gpd.GeoDataFrame,
    frames: gpd.GeoDataFrame,
    *,
    code: str = "commune_code",
    frame_code: str = "district_code",
    metric_crs: str = METRIC_CRS,
) -> gpd.GeoDataFrame:
    """Fit rough commune polygons into the exact frames (districts) they belong to.

    ``communes`` has ``code``, ``frame_code`` and geometry; ``frames`` has ``frame_code`` and
    geometry and must be a clean coverage (see ``clean_frames``); both in one CRS (e.g. 4326).

    The boundaries of all frames and communes are noded together and polygonized into faces.
    Each face inside a frame goes to a commune of that frame:

    * covered by exactly one of the frame's communes: to that commune;
    * covered by several (an overlap): to the covering commune that shares the longest boundary
      with it (among faces already assigned);
    * covered by none (a gap, or the band between the commune edge and the frame edge): to the
      frame's commune sharing the longest boundary with it;
    * still unassigned after that (an island nobody covers): to the nearest candidate commune.

    Ties go to the smaller code. Lengths and distances are measured in ``metric_crs`` (metres).
    The result has one row per commune (same index, ``code``, ``frame_code``, geometry in the
    input CRS); each district is then exactly the union of its communes, and neighbours share
    identical edges. A commune left with nothing in its own frame gets an empty geometry (the
    caller's checks report it).
    """
    communes = communes.sort_values(code, kind="stable")
    com_geom = communes.geometry.to_numpy()
    com_frame = communes[frame_code].to_numpy()
    frm_geom = frames.geometry.to_numpy()
    frm_code = frames[frame_code].to_numpy()

    lines = shapely.union_all(
        np.concatenate([shapely.boundary(frm_geom), shapely.boundary(com_geom)])
    )
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    points = shapely.point_on_surface(faces)

    # the frame of each face (faces outside every frame are dropped)
    f_idx, d_idx = shapely.STRtree(frm_geom).query(points, predicate="within")
    face_frame = np.full(len(faces), None, dtype=object)
    face_frame[f_idx] = frm_code[d_idx]
    in_frame = np.zeros(len(faces), dtype=bool)
    in_frame[f_idx] = True
    keep = np.flatnonzero(in_frame)
    faces, points, face_frame = faces[keep], points[keep], face_frame[keep]
    n = len(faces)

    # the communes of that same frame that cover each face
    f_idx, c_idx = shapely.STRtree(com_geom).query(points, predicate="within")
    same = com_frame[c_idx] == face_frame[f_idx]
    covering: list[list[int]] = [[] for _ in range(n)]
    for f, c in zip(f_idx[same], c_idx[same], strict=True):
        covering[f].append(int(c))
    by_frame: dict[object, list[int]] = defaultdict(list)
    for c, fr in enumerate(com_frame):
        by_frame[fr].append(c)

    owner = np.full(n, -1)
    candidates: list[list[int]] = []
    for f in range(n):
        cov = sorted(covering[f])
        if len(cov) == 1:
            owner[f] = cov[0]
        candidates.append(cov if cov else by_frame.get(face_frame[f], []))

    # shared boundary lengths between faces of the same frame, in metres
    faces_m = metric(gpd.GeoSeries(faces, crs=communes.crs), metric_crs).to_numpy()
    a, b = shapely.STRtree(faces_m).query(faces_m, predicate="touches")
    pair = (a < b) & (face_frame[a] == face_frame[b])
    a, b = a[pair], b[pair]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(faces_m[a]), shapely.boundary(faces_m[b]))
    )
    neighbours: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for i, j, length in zip(a, b, shared, strict=True):
        if length > 0:
            neighbours[i].append((int(j), float(length)))
            neighbours[j].append((int(i), float(length)))

    pending = [f for f in range(n) if owner[f] < 0 and candidates[f]]
    while pending:
        decided: dict[int, int] = {}
        for f in pending:
            score: dict[int, float] = defaultdict(float)
            allowed = set(candidates[f])
            for g, length in neighbours[f]:
                if owner[g] >= 0 and owner[g] in allowed:
                    score[int(owner[g])] += length
            if score:
                decided[f] = min(score, key=lambda c: (-score[c], c))
        if not decided:
            break
        for f, c in decided.items():
            owner[f] = c
        pending = [f for f in pending if f not in decided]

    # left over (not touching any candidate): nearest candidate commune
    for f in pending:
        owned = {
            c: shapely.union_all(faces_m[owner == c]) for c in candidates[f] if (owner == c).any()
        }
        if owned:
            owner[f] = min(owned, key=lambda c: (shapely.distance(faces_m[f], owned[c]), c))

    _reattach_fragments(owner, neighbours, shapely.area(faces_m))

    geoms = []
    for c in range(len(communes)):
        mine = faces[owner == c]
        geoms.append(polygonal(shapely.coverage_union_all(mine)) if len(mine) else None)
    out = gpd.GeoDataFrame(
        communes[[code, frame_code]].copy(),
        geometry=[g if g is not None else shapely.MultiPolygon() for g in geoms],
        crs=communes.crs,
    )
    return out


def _components(owner: np.ndarray, neighbours: list[list[tuple[int, float]]]) -> list[list[int]]:
    """Groups of faces with the same owner connected through shared boundary (not corners)."""
    parent = list(range(len(owner)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for f, nbs in enumerate(neighbours):
        for g, _ in nbs:
            if g > f and owner[f] >= 0 and owner[g] == owner[f]:
                parent[find(g)] = find(f)
    groups: dict[int, list[int]] = defaultdict(list)
    for f in range(len(owner)):
        if owner[f] >= 0:
            groups[find(f)].append(f)
    return list(groups.values())


def _reattach_fragments(
    owner: np.ndarray,
    neighbours: list[list[tuple[int, float]]],
    face_area: np.ndarray,
    max_rounds: int = 10,
) -> None:
    """Give each stray piece of a commune (any connected part but its largest) that borders other
    communes of the same frame to the one it shares the longest boundary with. Pieces bordering
    no other commune (islands) stay. Changes ``owner`` in place."""
    for _ in range(max_rounds):
        by_owner: dict[int, list[list[int]]] = defaultdict(list)
        for comp in _components(owner, neighbours):
            by_owner[int(owner[comp[0]])].append(comp)
        changed = False
        for c, comps in sorted(by_owner.items()):
            if len(comps) < 2:
                continue
            comps.sort(key=lambda comp: -face_area[comp].sum())
            for comp in comps[1:]:
                score: dict[int, float] = defaultdict(float)
                for f in comp:
                    for g, length in neighbours[f]:
                        if owner[g] >= 0 and owner[g] != c:
                            score[int(owner[g])] += length
                if score:
                    owner[comp] = min(score, key=lambda d: (-score[d], d))
                    changed = True
        if not changed:
            return


def union_by(
    layer: gpd.GeoDataFrame, by: str, order: Sequence[str] | None = None, coverage: bool = True
) -> gpd.GeoSeries:
    """Union of the polygons of ``layer`` per value of ``by``, indexed by that value, in
    ``order`` if given (missing values: None); same CRS as ``layer``. ``coverage=True`` uses the
    fast coverage union, which requires ``layer`` to be a clean coverage."""
    union = shapely.coverage_union_all if coverage else shapely.union_all
    groups = {
        key: polygonal(union(group.geometry.to_numpy()))
        for key, group in layer.groupby(by, sort=True)
    }
    keys = list(order) if order is not None else list(groups)
    return gpd.GeoSeries([groups.get(k) for k in keys], index=keys, crs=layer.crs)


def area_moved(
    original: gpd.GeoSeries, clean: gpd.GeoSeries, metric_crs: str = METRIC_CRS
) -> pd.DataFrame:
    """Per feature (aligned by position): original, clean, removed and added area in km², and
    ``moved_share`` = (removed + added) / original area; measured in ``metric_crs``."""
    crs = original.crs
    orig = original.to_numpy()
    new = clean.to_crs(crs).to_numpy() if crs is not None else clean.to_numpy()
    original_area = area_m2(orig, crs, metric_crs) / 1e6
    removed = area_m2(shapely.difference(orig, new), crs, metric_crs) / 1e6
    added = area_m2(shapely.difference(new, orig), crs, metric_crs) / 1e6
    return pd.DataFrame(
        {
            "original_area_km2": original_area,
            "clean_area_km2": area_m2(new, crs, metric_crs) / 1e6,
            "area_removed_km2": removed,
            "area_added_km2": added,
            "moved_share": (removed + added) / original_area,
        },
        index=original.index,
    )


# --------------------------------------------------------------------------------------------
# checks (each returns human messages that name the feature; empty list = fine)


def _label(codes: Sequence[str], names: Sequence[str] | None, i: int) -> str:
    return f"{codes[i]} {names[i]}" if names is not None else str(codes[i])


def pairwise_overlaps(geoms: gpd.GeoSeries, metric_crs: str = METRIC_CRS) -> pd.DataFrame:
    """All pairs (positions ``i`` < ``j``) whose interiors overlap, with the overlap area in m²
    (overlay in the input CRS, area measured in ``metric_crs``)."""
    g = geoms.to_numpy()
    a, b = shapely.STRtree(g).query(g, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    area = area_m2(shapely.intersection(g[a], g[b]), geoms.crs, metric_crs)
    frame = pd.DataFrame({"i": a, "j": b, "area_m2": area})
    return frame[frame["area_m2"] > 0].reset_index(drop=True)


def coverage_problems(
    communes: gpd.GeoDataFrame,
    frames: gpd.GeoDataFrame,
    *,
    code: str = "commune_code",
    name: str | None = "commune_full_name",
    frame_code: str = "district_code",
    metric_crs: str = METRIC_CRS,
    overlap_tolerance_m2: float = OVERLAP_TOLERANCE_M2,
    outside_tolerance_m2: float = OUTSIDE_TOLERANCE_M2,
    union_tolerance_share: float = UNION_TOLERANCE_SHARE,
) -> list[str]:
    """Check a clean coverage against its frames: every commune non-empty, valid and inside its
    own frame (area outside ≤ ``outside_tolerance_m2``), no pair overlapping by more than
    ``overlap_tolerance_m2``, each frame equal to the union of its communes (symmetric
    difference ≤ ``union_tolerance_share`` of the frame area), shared edges edge-matched."""
    problems: list[str] = []
    codes = communes[code].to_numpy()
    names = communes[name].to_numpy() if name else None
    geoms = communes.geometry.to_numpy()
    for i in np.flatnonzero(shapely.is_empty(geoms) | shapely.is_missing(geoms)):
        problems.append(f"commune {_label(codes, names, i)} has an empty geometry")
    for i in np.flatnonzero(~shapely.is_valid(geoms) & ~shapely.is_empty(geoms)):
        reason = shapely.is_valid_reason(geoms[i])
        problems.append(f"commune {_label(codes, names, i)} has an invalid geometry ({reason})")
    if problems:
        return problems

    crs = communes.crs
    frame_geoms = frames.to_crs(crs).geometry.to_numpy() if crs else frames.geometry.to_numpy()
    frame_by_code = dict(zip(frames[frame_code], frame_geoms, strict=True))
    own_frame = [frame_by_code.get(fc) for fc in communes[frame_code]]
    for i, fc in enumerate(communes[frame_code]):
        if own_frame[i] is None:
            problems.append(f"commune {_label(codes, names, i)}: no frame {fc}")
    if problems:
        return problems
    outside_m2 = area_m2(shapely.difference(geoms, np.asarray(own_frame)), crs, metric_crs)
    for i, fc in enumerate(communes[frame_code]):
        outside = outside_m2[i]
        if outside > outside_tolerance_m2:
            problems.append(
                f"commune {_label(codes, names, i)} lies {outside:.1f} m² outside frame {fc}"
            )

    overlaps = pairwise_overlaps(communes.geometry, metric_crs)
    for row in overlaps[overlaps["area_m2"] > overlap_tolerance_m2].itertuples():
        problems.append(
            f"communes {_label(codes, names, row.i)} and {_label(codes, names, row.j)} "
            f"overlap by {row.area_m2:.1f} m²"
        )

    unions = union_by(communes, frame_code, list(frames[frame_code]), coverage=False).to_numpy()
    missing = shapely.is_missing(unions)
    for fc in frames[frame_code][missing]:
        problems.append(f"frame {fc} has no communes")
    diffs = area_m2(shapely.symmetric_difference(frame_geoms, unions), crs, metric_crs)
    frame_areas = area_m2(frame_geoms, crs, metric_crs)
    for fc, diff, total, miss in zip(frames[frame_code], diffs, frame_areas, missing, strict=True):
        if not miss and diff > union_tolerance_share * total:
            problems.append(f"frame {fc} differs from the union of its communes by {diff:.0f} m²")

    invalid_edges = shapely.coverage_invalid_edges(geoms)
    for i in np.flatnonzero(~shapely.is_empty(invalid_edges)):
        problems.append(
            f"commune {_label(codes, names, i)} has edges not matched by its neighbours"
        )
    return problems


def layer_problems(
    layer: gpd.GeoDataFrame,
    *,
    code: str,
    name: str,
    expected_count: int,
    boxes: Iterable[Box],
    code_digits: int | None = None,
) -> list[str]:
    """Generic checks of one layer: row count, unique (and ``code_digits``-digit) codes,
    non-empty valid polygonal geometries, each feature's bounds inside one of ``boxes``
    (min lon, min lat, max lon, max lat, in the layer's CRS)."""
    problems: list[str] = []
    if len(layer) != expected_count:
        problems.append(f"expected {expected_count} features, found {len(layer)}")
    codes = layer[code].astype(str).to_numpy()
    names = layer[name].astype(str).to_numpy()
    dupes = sorted(set(layer[code][layer[code].duplicated()].astype(str)))
    if dupes:
        problems.append(f"duplicate code(s): {', '.join(dupes)}")
    boxes = list(boxes)
    for i, geom in enumerate(layer.geometry.to_numpy()):
        label = _label(codes, names, i)
        if code_digits and not (len(codes[i]) == code_digits and codes[i].isdigit()):
            problems.append(f"feature {label}: code is not {code_digits} digits")
        if geom is None or geom.is_empty:
            problems.append(f"feature {label}: empty geometry")
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(f"feature {label}: geometry is a {geom.geom_type}")
            continue
        if not geom.is_valid:
            problems.append(f"feature {label}: invalid geometry ({shapely.is_valid_reason(geom)})")
        x0, y0, x1, y1 = geom.bounds
        if not any(
            bx0 <= x0 and by0 <= y0 and x1 <= bx1 and y1 <= by1 for bx0, by0, bx1, by1 in boxes
        ):
            problems.append(
                f"feature {label}: bounds ({x0:.3f}, {y0:.3f}, {x1:.3f}, {y1:.3f}) "
                "outside the expected area"
            )
    return problems


# --------------------------------------------------------------------------------------------
# display simplification


def _segments(lines: BaseGeometry) -> np.ndarray:
    """The two-point segments of a (multi)linestring, as LineStrings."""
    coords, index = shapely.get_coordinates(shapely.get_parts(lines), return_index=True)
    same = index[1:] == index[:-1]
    pairs = np.stack([coords[:-1][same], coords[1:][same]], axis=1)
    return shapely.linestrings(pairs)


def _farthest(points_of: BaseGeometry, from_lines: BaseGeometry, spacing: float) -> float:
    """Largest distance from ``points_of`` (densified to ``spacing``) to ``from_lines``."""
    if np.isfinite(spacing):
        points_of = shapely.segmentize(points_of, spacing)
    points = shapely.points(shapely.get_coordinates(points_of))
    if len(points) == 0:
        return 0.0
    tree = shapely.STRtree(_segments(from_lines))
    _, dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    return float(dist.max())


def displacement_m(
    original: gpd.GeoSeries,
    simplified: gpd.GeoSeries,
    metric_crs: str = METRIC_CRS,
    spacing_m: float = 10.0,
) -> np.ndarray:
    """Hausdorff distance in metres between each feature's boundary before and after
    simplification (aligned by position), measured in ``metric_crs``: both boundaries are
    densified to points ``spacing_m`` apart (plus every vertex) and each point's distance to
    the other boundary taken, so the value is exact up to ``spacing_m`` / 2."""
    a = shapely.boundary(metric(original, metric_crs).to_numpy())
    b = shapely.boundary(metric(simplified, metric_crs).to_numpy())
    out = np.zeros(len(a))
    for i, (line_a, line_b) in enumerate(zip(a, b, strict=True)):
        if shapely.is_empty(line_a) or shapely.is_empty(line_b):
            out[i] = np.inf if shapely.is_empty(line_a) != shapely.is_empty(line_b) else 0.0
            continue
        out[i] = max(_farthest(line_a, line_b, spacing_m), _farthest(line_b, line_a, spacing_m))
    return out


def simplify_coverage(
    coverage: gpd.GeoSeries, tolerance_m: float, metric_crs: str = METRIC_CRS
) -> gpd.GeoSeries:
    """Topology-preserving (shared edges stay shared) Visvalingam-Whyatt simplification of a clean
    coverage, done in ``metric_crs`` with ``tolerance_m`` in metres (≈ square root of the triangle
    areas removed); returned in the input CRS."""
    geoms_m = metric(coverage, metric_crs)
    simple = shapely.coverage_simplify(geoms_m.to_numpy(), tolerance_m)
    out = gpd.GeoSeries(simple, index=coverage.index, crs=geoms_m.crs)
    return out.to_crs(coverage.crs) if coverage.crs is not None else out


def round_coordinates(geoms: gpd.GeoSeries, decimals: int) -> gpd.GeoSeries | None:
    """Coordinates rounded to ``decimals``; ``None`` if that makes any feature invalid/empty or
    breaks the coverage (shared edges round identically, so normally it does not)."""
    rounded = shapely.transform(geoms.to_numpy(), lambda xy: np.round(xy, decimals))
    if not shapely.is_valid(rounded).all() or shapely.is_empty(rounded).any():
        return None
    if not shapely.coverage_is_valid(rounded):
        return None
    return gpd.GeoSeries(rounded, index=geoms.index, crs=geoms.crs)


def simplify_within(
    coverage: gpd.GeoSeries,
    max_displacement_m: float,
    *,
    tolerances_m: Sequence[float] = (5, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120),
    decimals: int | None = 5,
    metric_crs: str = METRIC_CRS,
    spacing_m: float = 10.0,
) -> tuple[gpd.GeoSeries, float, np.ndarray, bool]:
    """A simplified copy of ``coverage`` whose every feature stays within
    ``max_displacement_m`` metres of the original, as simplified as ``tolerances_m`` allow.

    Displacement is the Hausdorff distance of ``displacement_m`` with points ``spacing_m``
    apart, which may underestimate by up to ``spacing_m`` / 2: that margin is added before
    comparing with the limit. The largest passing tolerance is found by bisection (a coarser
    tolerance displaces more, nearly always), then the next smaller ones are tried if it fails
    the exact test. Coordinates are rounded to ``decimals`` if that keeps the coverage valid.
    Returns (geometries, tolerance in m, per-feature displacement in m, rounded?); falls back to
    the unsimplified coverage (tolerance 0, displacement 0).
    """
    tolerances = sorted(tolerances_m)
    tried: dict[float, tuple[gpd.GeoSeries, bool] | None] = {}

    def attempt(tol: float) -> tuple[gpd.GeoSeries, bool] | None:
        """The simplified copy at ``tol`` if valid and within the limit at its vertices."""
        if tol not in tried:
            simple = simplify_coverage(coverage, tol, metric_crs)
            result = None
            if shapely.is_valid(simple.to_numpy()).all():
                rounded = round_coordinates(simple, decimals) if decimals is not None else None
                candidate = rounded if rounded is not None else simple
                quick = displacement_m(coverage, candidate, metric_crs, np.inf)
                if quick.max() <= max_displacement_m:
                    result = (candidate, rounded is not None)
            tried[tol] = result
        return tried[tol]

    lo, hi = 0, len(tolerances) - 1  # find the last index that passes
    best = -1
    while lo <= hi:
        mid = (lo + hi) // 2
        if attempt(tolerances[mid]) is not None:
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    for index in range(best, -1, -1):
        found = attempt(tolerances[index])
        if found is None:
            continue
        candidate, rounded = found
        moved = displacement_m(coverage, candidate, metric_crs, spacing_m)
        if moved.max() + spacing_m / 2 <= max_displacement_m:
            return candidate, float(tolerances[index]), moved, rounded
    return coverage, 0.0, np.zeros(len(coverage)), False


# --------------------------------------------------------------------------------------------
# crosswalk


def largest_overlap(
    old: gpd.GeoDataFrame,
    new: gpd.GeoDataFrame,
    *,
    old_code: str = "commune_code",
    new_code: str = "commune_code",
    metric_crs: str = METRIC_CRS,
) -> pd.DataFrame:
    """For each ``old`` feature, the ``new`` feature holding the largest part of its area
    (measured in ``metric_crs``; ties to the smaller code): columns old_code, new_code,
    overlap_share (that part / the old area, 0-1). Old features overlapping nothing get
    an empty new_code and share 0."""
    crs = old.crs
    old_g = old.geometry.to_numpy()
    new_g = (new.to_crs(crs) if crs is not None else new).geometry.to_numpy()
    a, b = shapely.STRtree(new_g).query(old_g, predicate="intersects")
    pieces = pd.DataFrame(
        {
            "i": a,
            "new_code": new[new_code].astype(str).to_numpy()[b],
            "area": area_m2(shapely.intersection(old_g[a], new_g[b]), crs, metric_crs),
        }
    )
    pieces = pieces[pieces["area"] > 0].sort_values(
        ["i", "area", "new_code"], ascending=[True, False, True]
    )
    best = pieces.drop_duplicates("i").set_index("i")
    out = pd.DataFrame({"old_code": old[old_code].astype(str).to_numpy()})
    out["new_code"] = best["new_code"].reindex(range(len(out))).fillna("").to_numpy()
    old_area = area_m2(old_g, crs, metric_crs)
    share = best["area"].reindex(range(len(out))).fillna(0.0).to_numpy() / old_area
    out["overlap_share"] = share
    return out


def compare_crosswalk(derived: pd.DataFrame, listed: pd.DataFrame) -> pd.DataFrame:
    """Add the listed answer to a derived crosswalk (``old_code``, ``new_code``).

    ``listed`` has ``old_code``, ``new_code`` and may hold several rows (successors) per old
    code. Adds ``file_new_code`` (listed successors joined by ``;``, "" if the code is not
    listed) and ``agrees``: "true" if the derived code is among them, "false" if not, "" if not
    listed."""
    successors = (
        listed.astype({"old_code": str, "new_code": str})
        .groupby("old_code")["new_code"]
        .agg(lambda s: sorted(set(s)))
    )
    out = derived.copy()
    listed_for = out["old_code"].map(successors)
    out["file_new_code"] = [";".join(s) if isinstance(s, list) else "" for s in listed_for]
    out["agrees"] = [
        ("true" if new in s else "false") if isinstance(s, list) else ""
        for new, s in zip(out["new_code"], listed_for, strict=True)
    ]
    return out
