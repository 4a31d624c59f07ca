"""Nearest points on the Earth: a spatial index on the sphere, refined to WGS 84 geodesics.

Inputs and outputs are WGS 84 latitude/longitude in degrees (EPSG:4326); distances are metres.

``SphereIndex`` keeps the points as 3D unit vectors in a k-d tree (``scipy.spatial.cKDTree``).
The straight-line (chord) distance between unit vectors grows strictly with the great-circle
angle, so the k nearest by chord are exactly the k nearest by haversine distance on a sphere of
radius ``EARTH_RADIUS_M``: no scan, no projection, no seam at the antimeridian or the poles.

``NearestIndex`` answers "the k nearest by geodesic distance on the WGS 84 ellipsoid". It takes
the k nearest on the sphere, then every point whose spherical distance could still beat the
k-th geodesic distance (spherical and ellipsoidal distances differ by less than ``SPHERE_SLACK``),
measures those with ``pyproj.Geod`` and keeps the k nearest; an index of at most
``SCAN_MAX_POINTS`` points simply measures them all. The result equals a brute-force geodesic
ranking; ties are broken by the point's position in the input.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from pyproj import Geod

# IUGG mean Earth radius (metres): the sphere of the haversine formula.
EARTH_RADIUS_M = 6_371_008.8
# On WGS 84 the radii of curvature lie between 6,335,439 m (meridian at the equator) and
# 6,399,594 m (at the poles), so a geodesic is between 0.9944 and 1.0045 times the great-circle
# distance on the mean sphere. 1 % covers that with room to spare.
SPHERE_SLACK = 0.01
WGS84 = Geod(ellps="WGS84")
# Up to this many points one geodesic measurement of each is quicker than the tree's two
# queries and two measurements (about 40 µs against 200 µs for 30 points).
SCAN_MAX_POINTS = 512


def unit_vectors(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """Points on the unit sphere, shape ``(n, 3)``, from latitudes and longitudes in degrees."""
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    lon = np.radians(np.asarray(lon_deg, dtype=float))
    cos_lat = np.cos(lat)
    return np.column_stack((cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)))


def haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in metres on the sphere of radius ``EARTH_RADIUS_M`` (broadcasts)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def geodesic_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Geodesic distance in metres on the WGS 84 ellipsoid (``pyproj.Geod``; broadcasts)."""
    lat1, lon1, lat2, lon2 = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (lat1, lon1, lat2, lon2))
    )
    _, _, distance = WGS84.inv(lon1.ravel(), lat1.ravel(), lon2.ravel(), lat2.ravel())
    return np.asarray(distance, dtype=float).reshape(lat1.shape)


def arc_to_chord(distance_m: float) -> float:
    """Chord length on the unit sphere for a great-circle distance in metres."""
    angle = min(distance_m / EARTH_RADIUS_M, math.pi)
    return 2.0 * math.sin(angle / 2.0)


def _check_point(lat: float, lon: float) -> None:
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"not a WGS 84 position: lat={lat!r}, lon={lon!r}")


@dataclasses.dataclass(frozen=True)
class Neighbours:
    """Positions (into the indexed arrays) of the nearest points and their distances in metres."""

    index: np.ndarray
    distance_m: np.ndarray

    def __len__(self) -> int:
        return len(self.index)


class SphereIndex:
    """k-nearest and radius queries by great-circle distance (metres, mean-Earth sphere)."""

    def __init__(self, lat_deg, lon_deg) -> None:
        self.lat = np.asarray(lat_deg, dtype=float)
        self.lon = np.asarray(lon_deg, dtype=float)
        if self.lat.shape != self.lon.shape or self.lat.ndim != 1:
            raise ValueError("lat and lon must be 1-D arrays of the same length")
        if not (np.isfinite(self.lat).all() and np.isfinite(self.lon).all()):
            raise ValueError("every indexed point needs a finite lat and lon")
        from scipy.spatial import cKDTree  # loaded with the first index, not at start (~23 MB)

        self.tree = cKDTree(unit_vectors(self.lat, self.lon)) if len(self.lat) else None

    def __len__(self) -> int:
        return len(self.lat)

    def nearest(
        self, lat: float, lon: float, k: int, allowed: np.ndarray | None = None
    ) -> Neighbours:
        """The ``k`` nearest points (among ``allowed``, a boolean mask) by haversine distance."""
        _check_point(lat, lon)
        n = len(self)
        candidates = self._k_nearest_allowed(lat, lon, k, allowed)
        if not len(candidates) or n == 0:
            return Neighbours(np.empty(0, dtype=np.intp), np.empty(0))
        distance = haversine_m(lat, lon, self.lat[candidates], self.lon[candidates])
        order = np.lexsort((candidates, distance))[:k]
        return Neighbours(candidates[order], distance[order])

    def _k_nearest_allowed(
        self, lat: float, lon: float, k: int, allowed: np.ndarray | None
    ) -> np.ndarray:
        """Indices of (at least) the k nearest allowed points by chord; may include ties."""
        n = len(self)
        if k <= 0 or n == 0 or self.tree is None:
            return np.empty(0, dtype=np.intp)
        if allowed is not None and not allowed.any():
            return np.empty(0, dtype=np.intp)
        query = unit_vectors([lat], [lon])[0]
        want = min(k, n)
        ask = want
        while True:
            chord, index = self.tree.query(query, k=ask)
            chord, index = np.atleast_1d(chord), np.atleast_1d(index)
            keep = index < n
            chord, index = chord[keep], index[keep]
            if allowed is not None:
                ok = allowed[index]
                chord, index = chord[ok], index[ok]
            if len(index) >= want or ask >= n:
                break
            ask = min(n, ask * 4)
        if not len(index):
            return index.astype(np.intp)
        # Points tied with the k-th (same chord) may sit beyond it in the tree's answer: take
        # every point within that chord so that ties are broken by input position, as in a scan.
        kth = chord[min(want, len(chord)) - 1]
        within = np.asarray(self.tree.query_ball_point(query, r=kth * (1 + 1e-12)), dtype=np.intp)
        if allowed is not None:
            within = within[allowed[within]]
        return np.unique(np.concatenate((index.astype(np.intp), within)))

    def within_m(self, lat: float, lon: float, radius_m: float) -> np.ndarray:
        """Indices of every point within ``radius_m`` (great-circle) of the position."""
        _check_point(lat, lon)
        if self.tree is None:
            return np.empty(0, dtype=np.intp)
        query = unit_vectors([lat], [lon])[0]
        found = self.tree.query_ball_point(query, r=arc_to_chord(radius_m) * (1 + 1e-12))
        return np.asarray(found, dtype=np.intp)


class NearestIndex:
    """k-nearest by WGS 84 geodesic distance, through a ``SphereIndex``."""

    def __init__(self, lat_deg, lon_deg) -> None:
        self.sphere = SphereIndex(lat_deg, lon_deg)

    def __len__(self) -> int:
        return len(self.sphere)

    def nearest(
        self, lat: float, lon: float, k: int, allowed: np.ndarray | None = None
    ) -> Neighbours:
        """The ``k`` nearest points (among ``allowed``), sorted by geodesic ``distance_m``."""
        sphere = self.sphere
        if len(sphere) <= SCAN_MAX_POINTS:
            return self._scan(lat, lon, k, allowed)
        first = sphere.nearest(lat, lon, k, allowed)
        if not len(first):
            return first
        geodesic = geodesic_m(lat, lon, sphere.lat[first.index], sphere.lon[first.index])
        # Any point nearer than the worst of these k (geodesically) is within this sphere radius.
        radius_m = float(geodesic.max()) / (1 - SPHERE_SLACK)
        candidates = sphere.within_m(lat, lon, radius_m)
        if allowed is not None:
            candidates = candidates[allowed[candidates]]
        candidates = np.union1d(candidates, first.index)
        distance = geodesic_m(lat, lon, sphere.lat[candidates], sphere.lon[candidates])
        order = np.lexsort((candidates, distance))[:k]
        return Neighbours(candidates[order], distance[order])

    def _scan(self, lat: float, lon: float, k: int, allowed: np.ndarray | None) -> Neighbours:
        _check_point(lat, lon)
        positions = np.arange(len(self.sphere))
        if allowed is not None:
            positions = positions[allowed]
        if k <= 0 or not len(positions):
            return Neighbours(np.empty(0, dtype=np.intp), np.empty(0))
        sphere = self.sphere
        distance = geodesic_m(lat, lon, sphere.lat[positions], sphere.lon[positions])
        order = np.lexsort((positions, distance))[:k]
        return Neighbours(positions[order], distance[order])


def brute_force_nearest(
    lat: float, lon: float, lats, lons, k: int, metric: str = "geodesic"
) -> Neighbours:
    """Reference answer by measuring every point (``metric``: "geodesic" or "haversine")."""
    lats, lons = np.asarray(lats, dtype=float), np.asarray(lons, dtype=float)
    measure = geodesic_m if metric == "geodesic" else haversine_m
    distance = measure(lat, lon, lats, lons)
    positions = np.arange(len(lats))
    order = np.lexsort((positions, distance))[:k]
    return Neighbours(positions[order], distance[order])
