"""The map's boundaries as one compact TopoJSON per edition: shared arcs, simplified, quantised.

Why: GeoJSON repeats every shared edge twice (once per neighbour) and spells every coordinate
out in full. TopoJSON stores each edge once as an arc, quantised to integers and
delta-encoded; the 2020 districts (unions of communes) reuse the communes' arcs. After gzip
the page's boundaries shrink to about a third (2020) or a sixth (2025) of the GeoJSON layers.

Geometry, per data version and edition (EPSG:4326, the full-detail layers of the store):

- the communes of the edition and the 2020 districts (drawn on both editions' maps) become
  one topology, so neighbours share their edges exactly;
- every arc is simplified (Douglas-Peucker) within ``SIMPLIFY_M`` metres; the arcs are shared,
  so the simplification preserves the topology: no gaps or overlaps appear between neighbours;
- coordinates are quantised to a fixed grid of at most ``GRID_M`` metres a cell, which moves a
  point by at most ``GRID_M / sqrt(2)`` metres.

So no drawn point lies more than ``MAX_DISPLACEMENT_M`` (≤ 50 m) from the full-detail line:
finer than a pixel at the maps' default zoom (about 300 m a pixel at zoom 9).

Properties, per data version, edition and coverage parameters: copied from the GeoJSON layers
of ``CoverageService``, so the TopoJSON features carry exactly the GeoJSON API's fields.

The map page loads the same topology *packed* (``/api/map.topopack``): the integers of its arcs
and geometries as variable-length bytes instead of JSON text, which gzips to about two thirds
(``geoapp.services.topopack``); the properties stay JSON. ``/api/map.topojson`` stays the
standard format for other clients.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from collections.abc import Collection
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geoapp.domain import coverage as cov
from geoapp.services.cache import LruCache
from geoapp.services.coverage import CoverageService, Payload, payload
from geoapp.services.topopack import PACKED_MIMETYPE, pack_arcs, pack_geometries, pack_topology
from geoapp.storage.base import Store

MIMETYPE = "application/topo+json"
SIMPLIFY_M = 42.5
GRID_M = 10.0
MAX_DISPLACEMENT_M = SIMPLIFY_M + GRID_M / math.sqrt(2)
# A map served by area (too many communes to send at once) first shows its districts at a
# country's zoom (6: about 2.3 km a pixel at the equator): 300 m is well under a pixel.
AREA_SIMPLIFY_M = 300.0
AREA_GRID_M = 50.0
CELL_DEG = 1.0
# Metres per degree: a degree of latitude is at most 111,694 m; a degree of longitude at most
# 111,320 m (at the equator). Dividing metres by the larger figure errs on the safe side.
M_PER_DEGREE_MAX = 111_694.0
M_PER_DEGREE_LAT_MIN = 110_574.0
M_PER_DEGREE_LON_EQUATOR = 111_320.0


def grid_transform(bounds: tuple[float, float, float, float], grid_m: float = GRID_M) -> dict:
    """A TopoJSON transform whose cells measure at most ``grid_m`` metres on each side.

    ``bounds`` is (west, south, east, north) in degrees. The cell's width in degrees of
    longitude is set for the latitude furthest from the equator, where degrees are shortest
    in metres, so cells are never wider than ``grid_m`` anywhere in ``bounds``.
    """
    west, south, _east, north = bounds
    nearest_equator = 0.0 if south <= 0.0 <= north else min(abs(south), abs(north))
    lon_m = M_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(nearest_equator))
    return {
        "scale": [grid_m / lon_m, grid_m / M_PER_DEGREE_LAT_MIN],
        "translate": [west, south],
    }


@dataclasses.dataclass(frozen=True)
class Shapes:
    """The geometry part of a map topology, pre-serialised.

    ``arcs`` holds the delta-encoded arcs as JSON text (``n_arcs`` of them), ``transform`` the
    topology's transform as JSON text, ``packed_arcs`` and ``packed_geometries`` the arcs and
    the geometries packed (``geoapp.services.topopack``); ``objects`` maps an object name to
    its ``(code, geometry JSON)`` pairs, in layer order, where the geometry JSON lacks only its
    properties and closing brace; ``lines`` (absolute integer arcs) and ``geometries`` ((code,
    geometry) pairs per object) are the same, unserialised, for ``subset_shapes``. ``n_points``
    counts the arcs' points; ``restored_arcs`` the arcs kept unsimplified to keep polygons valid.
    """

    arcs: str
    transform: str
    packed_arcs: bytes
    packed_geometries: bytes
    objects: dict[str, list[tuple[str, str]]]
    lines: tuple[np.ndarray, ...]
    geometries: dict[str, list[tuple[str, dict[str, Any]]]]
    n_arcs: int
    n_points: int
    max_displacement_m: float  # the most a drawn point can be from the full-detail line
    restored_arcs: int = 0


def _absolute_arcs(arcs: list[list[list[int]]]) -> list[np.ndarray]:
    """Delta-encoded integer arcs -> absolute integer grid coordinates."""
    return [np.cumsum(np.asarray(arc, dtype=np.int64).reshape(-1, 2), axis=0) for arc in arcs]


def _delta_arcs(arcs: list[np.ndarray]) -> list[list[list[int]]]:
    return [np.vstack([arc[:1], np.diff(arc, axis=0)]).tolist() for arc in arcs]


def _simplify_arc(arc: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker within ``tolerance`` (grid units); the end points always stay.

    A closed arc (a whole ring) keeps at least four points, so it stays a ring.
    """
    if len(arc) <= 2 or tolerance <= 0:
        return arc
    simplified = shapely.get_coordinates(
        shapely.simplify(shapely.LineString(arc), tolerance, preserve_topology=False)
    ).astype(np.int64)
    closed = bool((arc[0] == arc[-1]).all())
    if closed and len(simplified) < 4:
        return arc if len(arc) <= 4 else _simplify_arc(arc, tolerance / 2)
    return simplified


def _arc_indices(geometry: dict[str, Any]) -> list[int]:
    kind, arcs = geometry.get("type"), geometry.get("arcs") or []
    rings = arcs if kind == "Polygon" else [r for p in arcs for r in p] if kind else []
    return [i if i >= 0 else ~i for ring in rings for i in ring]


def _ring(lines: list[np.ndarray], indices: list[int]) -> np.ndarray:
    parts = []
    for n, index in enumerate(indices):
        arc = lines[index] if index >= 0 else lines[~index][::-1]
        parts.append(arc if n == 0 else arc[1:])
    return np.concatenate(parts)


def _shape(lines: list[np.ndarray], geometry: dict[str, Any]):
    """The shapely polygon(s) of one TopoJSON geometry over decoded ``lines``, or None."""
    kind = geometry.get("type")

    def polygon(rings: list[list[int]]):
        points = [_ring(lines, r) for r in rings]
        return shapely.Polygon(points[0], points[1:])

    if kind == "Polygon":
        return polygon(geometry["arcs"])
    if kind == "MultiPolygon":
        return shapely.MultiPolygon([polygon(p) for p in geometry["arcs"]])
    return None


def _is_invalid(shape) -> bool:
    return shape is not None and not shapely.is_valid(shape)


def build_shapes(
    layers: dict[str, tuple[gpd.GeoDataFrame, str]],
    simplify_m: float = SIMPLIFY_M,
    grid_m: float = GRID_M,
) -> Shapes:
    """One topology of ``layers`` (object name -> (frame in EPSG:4326, code column)).

    Arcs are simplified one by one on the integer grid: a grid cell measures at most
    ``grid_m`` metres a side, so ``simplify_m / grid_m`` cells are at most ``simplify_m``
    metres. A polygon that simplification would make invalid (a ring crossing itself or a
    neighbour's ring) keeps its arcs at full detail.
    """
    import topojson

    frames = []
    for frame, code in layers.values():
        if frame.crs is not None and frame.crs.to_epsg() != 4326:
            raise ValueError(f"layers must be EPSG:4326, got {frame.crs}")
        frames.append(gpd.GeoDataFrame({code: frame[code].astype(str)}, geometry=frame.geometry))
    west = min(f.total_bounds[0] for f in frames)
    south = min(f.total_bounds[1] for f in frames)
    east = max(f.total_bounds[2] for f in frames)
    north = max(f.total_bounds[3] for f in frames)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the package warns about options we set on purpose
        topo = topojson.Topology(
            frames,
            object_name=list(layers),
            topology=True,
            prequantize=grid_transform((west, south, east, north), grid_m),
            presimplify=False,
            toposimplify=False,
        )
        # to_dict() deep-copies the output first (half the time on 2025); the topology is
        # thrown away here, so its own output can be converted in place (topojson 2.2).
        to_dict = getattr(topo, "_to_dict", None)
        data = to_dict(topo.output, False, False) if to_dict else topo.to_dict()
    original = _absolute_arcs(data["arcs"])
    tolerance = simplify_m / grid_m
    lines = [_simplify_arc(arc, tolerance) for arc in original]
    geometries = [g for name in layers for g in data["objects"][name]["geometries"]]
    restored: set[int] = set()
    candidates = geometries
    for _ in range(5):
        invalid = [g for g in candidates if _is_invalid(_shape(lines, g))]
        newly = {i for g in invalid for i in _arc_indices(g)} - restored
        if not newly:
            break  # left invalid only by the grid itself (a ring touching itself in a cell)
        for index in newly:
            lines[index] = original[index]
        restored |= newly
        candidates = [g for g in geometries if newly.intersection(_arc_indices(g))]
    objects = {
        name: [
            (
                str((geometry.get("properties") or {}).get(code, "")),
                {k: v for k, v in geometry.items() if k not in ("properties", "id", "bbox")},
            )
            for geometry in data["objects"][name]["geometries"]
        ]
        for name, (_, code) in layers.items()
    }
    return _assemble(
        lines, data["transform"], objects, simplify_m + grid_m / math.sqrt(2), len(restored)
    )


def _assemble(
    lines: list[np.ndarray],
    transform: dict[str, Any],
    geometries: dict[str, list[tuple[str, dict[str, Any]]]],
    max_displacement_m: float,
    restored_arcs: int = 0,
) -> Shapes:
    """``Shapes`` of absolute integer arcs and (code, geometry) pairs per object."""
    delta_arcs = _delta_arcs(lines)
    return Shapes(
        arcs=json.dumps(delta_arcs, separators=(",", ":")),
        transform=json.dumps(transform, separators=(",", ":")),
        packed_arcs=pack_arcs(delta_arcs),
        packed_geometries=pack_geometries([[g for _, g in pairs] for pairs in geometries.values()]),
        objects={
            name: [(code, json.dumps(g, separators=(",", ":"))[:-1]) for code, g in pairs]
            for name, pairs in geometries.items()
        },
        lines=tuple(lines),
        geometries=geometries,
        n_arcs=len(lines),
        n_points=sum(len(line) for line in lines),
        max_displacement_m=max_displacement_m,
        restored_arcs=restored_arcs,
    )


def _renumber(arcs: Any, new_index: dict[int, int]) -> Any:
    """TopoJSON arc references (nested lists of ints, ``~i`` for reversed) renumbered."""
    if isinstance(arcs, int):
        return new_index[arcs] if arcs >= 0 else ~new_index[~arcs]
    return [_renumber(item, new_index) for item in arcs]


def subset_shapes(shapes: Shapes, name: str, codes: Collection[str]) -> Shapes:
    """The geometries of object ``name`` whose code is in ``codes``, with only the arcs they
    use (renumbered): a piece of the topology, with no geometry work."""
    wanted = set(codes)
    kept = [(code, g) for code, g in shapes.geometries[name] if code in wanted]
    used = sorted({i for _, g in kept for i in _arc_indices(g)})
    new_index = {old: new for new, old in enumerate(used)}
    renumbered = [
        (code, {**g, "arcs": _renumber(g["arcs"], new_index)} if "arcs" in g else dict(g))
        for code, g in kept
    ]
    return _assemble(
        [shapes.lines[i] for i in used],
        json.loads(shapes.transform),
        {name: renumbered},
        shapes.max_displacement_m,
    )


def topojson_bytes(
    shapes: Shapes, properties: dict[str, dict[str, dict[str, Any]]], packed: bool = False
) -> bytes:
    """The TopoJSON text of ``shapes`` with ``properties`` (object -> code -> properties).

    ``packed``: the JSON part of the packed topology (``pack_shapes``): no arcs, only their
    count as ``packed_arcs``, and geometries reduced to their properties.
    """
    parts = []
    for name, pairs in shapes.objects.items():
        props = properties.get(name, {})
        geometries = ",".join(
            ("{" if packed else shape + ",")
            + '"properties":'
            + json.dumps(props.get(code, {}), ensure_ascii=False)
            + "}"
            for code, shape in pairs
        )
        parts.append(
            json.dumps(name) + ':{"type":"GeometryCollection","geometries":[' + geometries + "]}"
        )
    arcs = f'"arcs":[],"packed_arcs":{shapes.n_arcs}' if packed else '"arcs":' + shapes.arcs
    head = '{"type":"Topology",' + arcs + ',"transform":' + shapes.transform
    return (head + ',"objects":{' + ",".join(parts) + "}}").encode()


def pack_shapes(shapes: Shapes, properties: dict[str, dict[str, dict[str, Any]]]) -> bytes:
    """The packed topology (``geoapp.services.topopack``) of ``shapes`` with ``properties``."""
    head = topojson_bytes(shapes, properties, packed=True)
    return pack_topology(head, shapes.packed_arcs, shapes.packed_geometries)


def _properties_by(body: bytes, code: str) -> dict[str, dict[str, Any]]:
    features = json.loads(body)["features"]
    return {str(f["properties"].get(code)): f["properties"] for f in features}


class MapTopologyService:
    """The coverage map's communes and districts as TopoJSON, cached per data version.

    An edition with more than ``full_communes_max`` communes is served *by area*: the map's
    topology holds the districts alone, simplified for the low zoom that shows them all
    (``AREA_SIMPLIFY_M``: up to about 335 m from full detail, so the page draws them only
    below the communes' zoom), and the communes come in cells of ``CELL_DEG`` degrees
    (``communes_cell``, ≤ 50 m) once the map is zoomed in far enough to draw them.

    Geometry (topologies, cells) has its own cache, so that many filter combinations, whose
    payloads fill the other one, never push out an edition's whole topology.
    """

    def __init__(
        self, store: Store, coverage: CoverageService, full_communes_max: int = 2000
    ) -> None:
        self.store = store
        self.coverage = coverage
        self.full_communes_max = full_communes_max
        self._cache = LruCache(max_entries=32)
        self._geometry = LruCache(max_entries=8)
        self._cells = LruCache(max_entries=512)

    def _cached(self, *key: Any, compute):
        return self._cache.get_or_compute((self.store.data_version(), *key), compute)

    def _geometry_cached(self, *key: Any, compute):
        return self._geometry.get_or_compute((self.store.data_version(), *key), compute)

    def by_area(self, edition: str) -> bool:
        """Whether ``edition`` has too many communes to send at once."""
        return len(self.store.communes(edition, "display")) > self.full_communes_max

    def shapes(self, edition: str) -> Shapes:
        """Communes of ``edition`` and the 2020 districts, in one topology (geometry only)."""

        def build() -> Shapes:
            return build_shapes(
                {
                    "communes": (self.store.communes(edition, "full"), "commune_code"),
                    "districts": (self.store.districts("full"), "district_code"),
                }
            )

        return self._geometry_cached("shapes", edition, compute=build)

    def area_shapes(self) -> Shapes:
        """The districts alone, simplified for a low zoom (first load of a map by area)."""

        def build() -> Shapes:
            districts = self.store.districts("full")
            return build_shapes(
                {"districts": (districts, "district_code")}, AREA_SIMPLIFY_M, AREA_GRID_M
            )

        return self._geometry_cached("area_shapes", compute=build)

    def cell_codes(self, edition: str) -> dict[tuple[int, int], frozenset[str]]:
        """Commune codes by cell ``(floor(lon / CELL_DEG), floor(lat / CELL_DEG))`` of their
        representative point (inside the commune), so each commune is in exactly one cell.
        A commune with no geometry has no point and no cell (it cannot be drawn)."""

        def build() -> dict[tuple[int, int], frozenset[str]]:
            communes = self.store.communes(edition, "full")
            points = communes.geometry.representative_point()
            lon, lat = points.x.to_numpy(), points.y.to_numpy()
            drawn = np.isfinite(lon) & np.isfinite(lat)
            xs = np.floor(lon[drawn] / CELL_DEG).astype(int).tolist()
            ys = np.floor(lat[drawn] / CELL_DEG).astype(int).tolist()
            codes = communes["commune_code"].astype(str).to_numpy()[drawn]
            cells: dict[tuple[int, int], set[str]] = {}
            for code, x, y in zip(codes, xs, ys, strict=True):
                cells.setdefault((x, y), set()).add(code)
            return {cell: frozenset(codes) for cell, codes in cells.items()}

        return self._geometry_cached("cells", edition, compute=build)

    def _properties(self, edition: str, params: cov.CoverageParams) -> dict[str, dict]:
        def build() -> dict[str, dict]:
            communes = self.coverage.communes_geojson(edition, params)
            districts = self.coverage.districts_geojson(params)
            return {
                "communes": _properties_by(communes.body, "commune_code"),
                "districts": _properties_by(districts.body, "district_code"),
            }

        return self._cached("properties", edition, params, compute=build)

    def _map_shapes(self, edition: str) -> Shapes:
        return self.area_shapes() if self.by_area(edition) else self.shapes(edition)

    def map_topojson(self, edition: str, params: cov.CoverageParams) -> Payload:
        """Objects ``communes`` and ``districts`` with the GeoJSON layers' properties (only
        ``districts`` for an edition served by area)."""

        def build() -> Payload:
            properties = self._properties(edition, params)
            return payload(topojson_bytes(self._map_shapes(edition), properties), MIMETYPE)

        return self._cached("map.topojson", edition, params, compute=build)

    def map_topopack(self, edition: str, params: cov.CoverageParams) -> Payload:
        """``map_topojson`` packed (``pack_shapes``): what the map page loads."""

        def build() -> Payload:
            return payload(
                pack_shapes(self._map_shapes(edition), self._properties(edition, params)),
                PACKED_MIMETYPE,
            )

        return self._cached("map.topopack", edition, params, compute=build)

    def communes_cell(
        self, edition: str, params: cov.CoverageParams, cell: tuple[int, int]
    ) -> Payload:
        """Packed topology (object ``communes``) of the communes of one cell: the piece of the
        edition's topology they use, with their properties. An empty cell has no geometries."""

        def build() -> Payload:
            codes = self.cell_codes(edition).get(cell, frozenset())
            piece = subset_shapes(self.shapes(edition), "communes", codes)
            properties = {"communes": self._properties(edition, params)["communes"]}
            return payload(pack_shapes(piece, properties), PACKED_MIMETYPE)

        key = (self.store.data_version(), edition, params, cell)
        return self._cells.get_or_compute(key, build)


def decode(topology: dict[str, Any], name: str) -> list[tuple[dict[str, Any], Any]]:
    """``(properties, shapely geometry)`` of each geometry of object ``name`` (EPSG:4326).

    The inverse of the encoding above, for checks and the benchmark (browsers use
    ``topologyFeatures`` in static/js/coverage-map.js).
    """
    transform = topology["transform"]
    scale = np.asarray(transform["scale"], dtype=float)
    translate = np.asarray(transform["translate"], dtype=float)
    lines = [arc * scale + translate for arc in _absolute_arcs(topology["arcs"])]
    return [
        (geometry.get("properties") or {}, _shape(lines, geometry))
        for geometry in topology["objects"][name]["geometries"]
    ]
