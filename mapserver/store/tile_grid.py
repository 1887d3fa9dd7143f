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


CELL_ZOOM = 13
"""The zoom of the tiles the stored per-day cells of closed incidents are (``incident_tile_cells``): a map tile at
zoom z ≤ CELL_ZOOM - 2 is cut into 4 × 4 cluster cells, each the tile at zoom z + 2, so the stored cells nest in
them exactly."""
_LAT_MAX = 85.0511287798
_BYTES = ".".join(f"{b:02X}" for b in range(256))
"""Every byte's two hex digits, three characters apart."""


def tile_size_m(z: int) -> float:
    """A tile's side at zoom ``z`` in Web Mercator metres (a power of two apart from zoom to zoom, exactly)."""
    return 2 * HALF_WORLD_M / 2**z


def mercator_sql(lon: str, lat: str) -> tuple[str, str]:
    """SQL for the EPSG:3857 x and y (metres) of the SQL expressions ``lon``, ``lat`` (WGS-84 degrees; latitude
    clamped to the square world's edge). The same text on both backends, in the tiles' queries and in the schema's
    triggers, so a point falls in the same cell wherever its cell is computed."""
    clamped = f"(CASE WHEN {lat} > {_LAT_MAX} THEN {_LAT_MAX} WHEN {lat} < -{_LAT_MAX} THEN -{_LAT_MAX} ELSE {lat} END)"
    return (f"(radians({lon}) * {EARTH_RADIUS_M!r})",
            f"(ln(tan(pi() / 4 + radians({clamped}) / 2)) * {EARTH_RADIUS_M!r})")


def column_sql(x: str, z: int) -> str:
    """SQL for the column of the zoom-``z`` tile holding Web Mercator ``x`` (SQL, metres): x / side, floored (for
    z and z + k the floors nest exactly: dividing by a power of two more rounds the same)."""
    return f"floor(({x} + {HALF_WORLD_M!r}) / {tile_size_m(z)!r})"


def row_sql(y: str, z: int) -> str:
    """SQL for the row of the zoom-``z`` tile holding Web Mercator ``y`` (SQL, metres), 0 at the north edge."""
    return f"floor(({HALF_WORLD_M!r} - {y}) / {tile_size_m(z)!r})"


def wkb_point_sql(blob: str) -> tuple[str, str]:
    """SQL reading the longitude and latitude of a point stored as little-endian 2-D WKB (what the SQLite store
    writes) in the SQL blob ``blob``, with SQLite's own functions: each IEEE-754 double rebuilt exactly from its
    bytes (sign, exponent, 52-bit mantissa), so that a trigger of any client of the file computes what the store
    computes."""
    def byte(offset: int) -> str:  # the blob's byte at ``offset`` (from 0): where its two hex digits stand in _BYTES
        return f"((instr('{_BYTES}', hex(substr({blob}, {offset + 1}, 1))) - 1) / 3)"

    def double(offset: int) -> str:
        high, next_ = byte(offset + 7), byte(offset + 6)
        exponent = f"((({high} & 127) << 4) | ({next_} >> 4))"
        mantissa = " | ".join([f"(({next_} & 15) << 48)"] + [f"({byte(offset + k)} << {8 * k})" for k in range(6)])
        return (f"(CASE WHEN {exponent} = 0 THEN 0.0 ELSE (1 - 2 * ({high} >> 7)) * (1 + ({mantissa}) / "
                f"4503599627370496.0) * power(2, {exponent} - 1023) END)")

    return double(5), double(13)
