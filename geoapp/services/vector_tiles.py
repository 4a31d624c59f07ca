"""Mapbox Vector Tiles of an edition's communes, for a map too large to send at once.

Tiles follow the usual XYZ scheme (Web Mercator, EPSG:3857; ``y`` counted from the north), as
``/tiles/{edition}/{z}/{x}/{y}.mvt`` (OGC API - Tiles style). Each holds one layer,
``communes``, whose features carry only ``commune_code``: the map joins the coverage status
(``MapTopologyService.status``) by that code. The geometry is the boundary build's display copy
(within 50 m of full detail), clipped to the tile plus a margin of ``BUFFER`` tile units and
quantised to ``EXTENT`` units a side (at zoom 9 a unit is about 75 m at the equator, at 12
under 10 m).

Why tiles are made on first request and kept in memory, not written to an MBTiles file at build
time: a country has millions of tiles from the communes' zoom to the deepest one, and visitors
ask for a few hundred; an STRtree finds a tile's communes in microseconds and encoding one takes
milliseconds. The cache is keyed by the boundary version, so a new boundary build (never an
import of OCOP records) starts it afresh.
"""

from __future__ import annotations

import math

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import shapely

from geoapp.services.cache import LruCache
from geoapp.services.coverage import Payload, payload
from geoapp.storage.base import Store

MIMETYPE = "application/vnd.mapbox-vector-tile"
LAYER = "communes"
EXTENT = 4096
BUFFER = 64  # tile units: lines at a tile's edge are drawn by the tiles on both sides
MAX_ZOOM = 20
WORLD_M = 20_037_508.342789244  # half the Web Mercator world's width, metres


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of tile ``z/x/y`` in EPSG:3857 metres."""
    size = 2 * WORLD_M / 2**z
    west = -WORLD_M + x * size
    north = WORLD_M - y * size
    return west, north - size, west + size, north


def valid_tile(z: int, x: int, y: int) -> bool:
    """Whether ``z/x/y`` names a tile of the XYZ scheme up to ``MAX_ZOOM``."""
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


class EditionTiles:
    """The communes of one edition in EPSG:3857 with a spatial index over them."""

    def __init__(self, communes: gpd.GeoDataFrame) -> None:
        drawn = communes.loc[~(communes.geometry.is_empty | communes.geometry.isna())]
        self.codes = drawn["commune_code"].astype(str).to_numpy()
        self.geometries = drawn.geometry.to_crs(3857).to_numpy()
        self.tree = shapely.STRtree(self.geometries)

    def encode(self, z: int, x: int, y: int) -> bytes:
        """Tile ``z/x/y``: its communes clipped to it (with ``BUFFER``), as MVT bytes."""
        west, south, east, north = tile_bounds(z, x, y)
        margin = (east - west) * BUFFER / EXTENT
        box = (west - margin, south - margin, east + margin, north + margin)
        found = np.sort(self.tree.query(shapely.box(*box)))
        clipped = shapely.clip_by_rect(self.geometries[found], *box)
        # to tile units (y up; the encoder rounds and flips them), in one vectorised step
        scale = EXTENT / (east - west)
        clipped = shapely.transform(clipped, lambda c: (c - (west, south)) * scale)
        features = [
            {"geometry": shape, "properties": {"commune_code": str(code)}}
            for shape, code in zip(clipped, self.codes[found], strict=True)
            if not shape.is_empty and shape.area > 0
        ]
        return mapbox_vector_tile.encode(
            [{"name": LAYER, "features": features}],
            default_options={"extents": EXTENT},
        )


class VectorTileService:
    """MVT tiles of every edition, made on first request, cached per boundary version."""

    def __init__(self, store: Store, max_tiles: int = 4096) -> None:
        self.store = store
        self._editions = LruCache(max_entries=4)
        self._tiles = LruCache(max_entries=max_tiles)

    def edition(self, edition: str) -> EditionTiles:
        key = (self.store.boundary_version(), edition)
        return self._editions.get_or_compute(
            key, lambda: EditionTiles(self.store.communes(edition, "display"))
        )

    def tile(self, edition: str, z: int, x: int, y: int) -> Payload:
        """Tile ``z/x/y`` of ``edition`` (``valid_tile`` must hold)."""
        key = (self.store.boundary_version(), edition, z, x, y)
        return self._tiles.get_or_compute(
            key, lambda: payload(self.edition(edition).encode(z, x, y), MIMETYPE)
        )


def lon_lat_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The ``(x, y)`` of the tile at zoom ``z`` holding the point (degrees, EPSG:4326)."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    lat_r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)
