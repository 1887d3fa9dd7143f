"""The web map's tile grid: XYZ tiles of spherical Web Mercator (EPSG:3857), as Leaflet and ``ST_TileEnvelope``
number them (x east from 180° W, y south from the north edge, 2^z × 2^z tiles at zoom z).

The store keeps WGS-84 (EPSG:4326) degrees and the wall draws them on Web Mercator as they are: no GCJ-02 shift is
applied to stored data anywhere, so a tile's features sit where the wall's other layers put them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mapserver.errors import Problem

EARTH_RADIUS_M = 6378137.0
"""The sphere of EPSG:3857 (WGS-84's semi-major axis), metres."""
HALF_WORLD_M = math.pi * EARTH_RADIUS_M
"""Half the width of the Web Mercator world, metres: x and y run from -HALF_WORLD_M to HALF_WORLD_M."""
MAX_ZOOM = 22
"""The deepest tile zoom served (the wall's max_zoom is at most 22)."""
EXTENT = 4096
"""Tile coordinates per tile side (the MVT default: 16 per pixel of a 256-pixel tile)."""


@dataclass(frozen=True)
class TileAddress:
    """One tile: zoom ``z``, column ``x``, row ``y`` (0 at the north)."""

    z: int
    x: int
    y: int

    @classmethod
    def checked(cls, z: int, x: int, y: int) -> TileAddress:
        """The tile, or a 404 problem naming the address when the grid has no such tile."""
        if not 0 <= z <= MAX_ZOOM:
            raise Problem(404, f"no tile at zoom {z}: zooms run from 0 to {MAX_ZOOM}", param="z")
        if not (0 <= x < 2**z and 0 <= y < 2**z):
            raise Problem(404, f"no tile {z}/{x}/{y}: at zoom {z}, x and y run from 0 to {2**z - 1}", param="x")
        return cls(z, x, y)

    @property
    def size_m(self) -> float:
        """The tile's side in Web Mercator metres."""
        return 2 * HALF_WORLD_M / 2**self.z

    def mercator_bounds(self) -> tuple[float, float, float, float]:
        """(min x, min y, max x, max y) in EPSG:3857 metres, as ``ST_TileEnvelope(z, x, y)``."""
        size = self.size_m
        west = -HALF_WORLD_M + self.x * size
        north = HALF_WORLD_M - self.y * size
        return west, north - size, west + size, north

    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in WGS-84 degrees: the same rectangle, Web Mercator being separable."""
        minx, miny, maxx, maxy = self.mercator_bounds()
        return (math.degrees(minx / EARTH_RADIUS_M), _lat(miny), math.degrees(maxx / EARTH_RADIUS_M), _lat(maxy))


def _lat(y_m: float) -> float:
    return math.degrees(math.atan(math.sinh(y_m / EARTH_RADIUS_M)))


def to_mercator(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 degrees → EPSG:3857 metres (latitudes clamped to ±85.06°, the square world's edge)."""
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.clip(np.asarray(lat, dtype=float), -85.0511287798, 85.0511287798)
    x = np.radians(lon_a) * EARTH_RADIUS_M
    y = np.log(np.tan(np.pi / 4 + np.radians(lat_a) / 2)) * EARTH_RADIUS_M
    return x, y


def to_tile_units(tile: TileAddress, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 degrees → the tile's integer coordinates (0 … EXTENT, y down from the north edge), rounded as
    ``ST_AsMVTGeom`` rounds."""
    x, y = to_mercator(lon, lat)
    minx, _, _, maxy = tile.mercator_bounds()
    scale = EXTENT / tile.size_m
    return np.rint((x - minx) * scale), np.rint((maxy - y) * scale)
