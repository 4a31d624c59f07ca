"""The map's boundaries in standard formats, kept apart from their coverage status.

Geometry (per *boundary version*, the build's ``build_version`` in
``data/boundaries/manifest.json``; EPSG:4326):

- ``boundaries(edition)``: one standard TopoJSON with objects ``communes`` and ``districts`` (the
  2020 districts, drawn on both editions' maps), built by the ``topojson`` package from the
  boundary build's *display* copies. Those are simplified once, in the build (within 40 m, as a
  valid coverage: neighbours share their edges exactly), so the topology's shared arcs need no
  further simplification; coordinates are quantised to a grid of at most ``GRID_M`` metres a
  cell (a point moves at most ``GRID_M / sqrt(2)``). Each geometry carries only its code.
- An edition with more communes than ``full_communes_max`` is mapped *by area*: its TopoJSON
  holds the districts alone, simplified for the low zoom that shows them all (``AREA_SIMPLIFY_M``,
  topology-preserving: the ``topojson`` package simplifies the shared arcs), and the communes
  come as Mapbox Vector Tiles (``geoapp.services.vector_tiles``).

Status (per data version and coverage parameters): ``status(edition, params)`` is a small JSON
``{"communes": {code: properties}, "districts": {code: properties}}`` with every property of the
GeoJSON layers of ``CoverageService`` (all but the geometry). The browser joins it to the
geometry by code, so an import re-sends the status only, never the geometry.

``map_topojson`` is the two together in one TopoJSON, for other clients.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import geopandas as gpd

from geoapp.domain import coverage as cov
from geoapp.services.boundary_build import MAX_DISPLAY_DISPLACEMENT_M
from geoapp.services.cache import LruCache
from geoapp.services.coverage import CoverageService, Payload, payload
from geoapp.storage.base import Store

MIMETYPE = "application/topo+json"
STATUS_MIMETYPE = "application/json"
GRID_M = 10.0
# The build keeps its display copies within MAX_DISPLAY_DISPLACEMENT_M of full detail.
MAX_DISPLACEMENT_M = MAX_DISPLAY_DISPLACEMENT_M + GRID_M / math.sqrt(2)
# A map by area first shows its districts at a country's zoom (6: about 2.3 km a pixel at the
# equator): 300 m is well under a pixel.
AREA_SIMPLIFY_M = 300.0
AREA_GRID_M = 50.0
CODES = {"communes": "commune_code", "districts": "district_code"}
# Metres per degree: a degree of latitude is at least 110,574 m and at most 111,694 m; a degree
# of longitude is at most 111,320 m (at the equator) and shrinks with the cosine of the latitude.
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


def build_topology(
    layers: dict[str, tuple[gpd.GeoDataFrame, str]],
    grid_m: float = GRID_M,
    simplify_m: float = 0.0,
) -> dict[str, Any]:
    """One standard TopoJSON (a dict) of ``layers`` (object name -> (frame in EPSG:4326, code
    column)); each geometry's properties are its code alone.

    Quantised to cells of at most ``grid_m`` metres; ``simplify_m`` > 0 simplifies the shared
    arcs (Douglas-Peucker, by the ``topojson`` package) within that many metres, so neighbours
    stay without gaps or overlaps.
    """
    import topojson

    frames = []
    for frame, code in layers.values():
        if frame.crs is not None and frame.crs.to_epsg() != 4326:
            raise ValueError(f"layers must be EPSG:4326, got {frame.crs}")
        frames.append(gpd.GeoDataFrame({code: frame[code].astype(str)}, geometry=frame.geometry))
    bounds = (
        min(f.total_bounds[0] for f in frames),
        min(f.total_bounds[1] for f in frames),
        max(f.total_bounds[2] for f in frames),
        max(f.total_bounds[3] for f in frames),
    )
    transform = grid_transform(bounds, grid_m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the package warns about options we set on purpose
        topo = topojson.Topology(
            frames,
            object_name=list(layers),
            topology=True,
            prequantize=transform,
            presimplify=False,
            # in degrees (the package simplifies before quantising): a degree is at most
            # M_PER_DEGREE_MAX metres, so no point moves more than simplify_m
            toposimplify=simplify_m / M_PER_DEGREE_MAX if simplify_m else False,
        )
        data = topo.to_dict()
    for name in layers:
        for geometry in data["objects"][name]["geometries"]:
            geometry.pop("id", None)
            geometry.pop("bbox", None)
    data.pop("bbox", None)
    return data


def topology_bytes(topology: dict[str, Any], properties: dict[str, dict[str, dict]] | None = None):
    """The TopoJSON text of ``topology``, with ``properties`` (object -> code -> properties)
    in place of each geometry's code-only properties when given."""
    if properties:
        objects = {
            name: {
                **obj,
                "geometries": [
                    {
                        **g,
                        "properties": properties.get(name, {}).get(_code(name, g), g["properties"]),
                    }
                    for g in obj["geometries"]
                ],
            }
            for name, obj in topology["objects"].items()
        }
        topology = {**topology, "objects": objects}
    return json.dumps(topology, ensure_ascii=False, separators=(",", ":")).encode()


def _code(name: str, geometry: dict[str, Any]) -> str:
    return str((geometry.get("properties") or {}).get(CODES[name], ""))


def _properties_by(body: bytes, code: str) -> dict[str, dict[str, Any]]:
    features = json.loads(body)["features"]
    return {str(f["properties"].get(code)): f["properties"] for f in features}


class MapTopologyService:
    """The coverage map's geometry (per boundary version) and status (per data version).

    Geometry has its own cache, keyed by the boundary version: an import (a new data version
    with the same boundaries) neither rebuilds nor re-sends it, and the many filter
    combinations whose status fills the other cache never push it out.
    """

    def __init__(
        self, store: Store, coverage: CoverageService, full_communes_max: int = 2000
    ) -> None:
        self.store = store
        self.coverage = coverage
        self.full_communes_max = full_communes_max
        self._cache = LruCache(max_entries=64)
        self._geometry = LruCache(max_entries=8)

    def boundary_version(self) -> str:
        """The boundary build's version (what the geometry URLs are versioned by)."""
        return self.store.boundary_version()

    def _cached(self, *key: Any, compute):
        return self._cache.get_or_compute((self.store.data_version(), *key), compute)

    def _geometry_cached(self, *key: Any, compute):
        return self._geometry.get_or_compute((self.boundary_version(), *key), compute)

    def by_area(self, edition: str) -> bool:
        """Whether ``edition`` has too many communes to send at once."""
        return len(self.store.communes(edition, "display")) > self.full_communes_max

    def topology(self, edition: str) -> dict[str, Any]:
        """The geometry of ``edition``'s map as a TopoJSON dict (code-only properties):
        communes and districts, or the districts alone for an edition mapped by area."""

        def build() -> dict[str, Any]:
            districts = (self.store.districts("display"), "district_code")
            if self.by_area(edition):
                return build_topology({"districts": districts}, AREA_GRID_M, AREA_SIMPLIFY_M)
            communes = (self.store.communes(edition, "display"), "commune_code")
            return build_topology({"communes": communes, "districts": districts})

        return self._geometry_cached("topology", edition, compute=build)

    def boundaries(self, edition: str) -> Payload:
        """``topology(edition)`` as TopoJSON text: what the map page loads, once per build."""

        def build() -> Payload:
            return payload(topology_bytes(self.topology(edition)), MIMETYPE)

        return self._geometry_cached("boundaries", edition, compute=build)

    def _properties(self, edition: str, params: cov.CoverageParams) -> dict[str, dict]:
        def build() -> dict[str, dict]:
            communes = self.coverage.communes_geojson(edition, params)
            districts = self.coverage.districts_geojson(params)
            return {
                "communes": _properties_by(communes.body, "commune_code"),
                "districts": _properties_by(districts.body, "district_code"),
            }

        return self._cached("properties", edition, params, compute=build)

    def status(self, edition: str, params: cov.CoverageParams) -> Payload:
        """Every property of the communes' and districts' GeoJSON layers, by code."""

        def build() -> Payload:
            body = json.dumps(
                self._properties(edition, params), ensure_ascii=False, separators=(",", ":")
            )
            return payload(body.encode(), STATUS_MIMETYPE)

        return self._cached("status", edition, params, compute=build)

    def map_topojson(self, edition: str, params: cov.CoverageParams) -> Payload:
        """Geometry and status in one TopoJSON, with the GeoJSON layers' properties (only
        ``districts`` for an edition mapped by area)."""

        def build() -> Payload:
            properties = self._properties(edition, params)
            return payload(topology_bytes(self.topology(edition), properties), MIMETYPE)

        return self._cached("map.topojson", edition, params, compute=build)
