"""Distances for tracks: on the WGS-84 ellipsoid (pyproj's geodesics) for measures, on a sphere for the quick speed
check, and a local plane in metres for distances to stops and routes.

The local plane is an equirectangular projection about a reference point, scaled by the ellipsoid's radii of
curvature there: over the few kilometres of a patrol its distances differ from the geodesic ones by far less than
a metre, which is why the 50 m tests use it.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt
from pyproj import Geod

EARTH_RADIUS_M = 6371008.8
"""The mean Earth radius (IUGG), for speeds on the sphere."""
_A = 6378137.0
_E2 = 0.00669437999014  # WGS-84 first eccentricity squared


@functools.cache
def _geod() -> Geod:
    return Geod(ellps="WGS84")


def sphere_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle metres between two WGS-84 points on the mean sphere (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def segment_lengths_m(lon: npt.ArrayLike, lat: npt.ArrayLike) -> np.ndarray:
    """Geodesic metres on the WGS-84 ellipsoid between consecutive points (one fewer than the points)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if lon.size < 2:
        return np.zeros(0)
    _, _, dist = _geod().inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    return np.asarray(dist, dtype=float)


class LocalPlane:
    """Metres east and north of a reference point (lon0, lat0) in WGS-84 degrees."""

    def __init__(self, lon0: float, lat0: float) -> None:
        phi = math.radians(lat0)
        w = 1 - _E2 * math.sin(phi) ** 2
        meridian = _A * (1 - _E2) / w ** 1.5  # radius of curvature along the meridian
        normal = _A / math.sqrt(w)  # ... and across it
        self.lon0, self.lat0 = lon0, lat0
        self._kx = math.radians(1) * normal * math.cos(phi)
        self._ky = math.radians(1) * meridian

    def xy(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) metres of WGS-84 degrees."""
        return ((np.asarray(lon, dtype=float) - self.lon0) * self._kx,
                (np.asarray(lat, dtype=float) - self.lat0) * self._ky)
