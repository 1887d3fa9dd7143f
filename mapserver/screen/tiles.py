"""A local MBTiles basemap (MBTiles 1.3: SQLite, raster tiles, TMS row order), read-only.

Served at ``/tiles/{z}/{x}/{y}`` in XYZ order (y down from the north), which
Leaflet asks for; MBTiles rows count from the south, so y is flipped.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

RASTER_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


class MBTilesError(Exception):
    """The file is missing or is not a raster MBTiles file; the message names it."""


class MBTiles:
    """Read tiles from one MBTiles file; one read-only connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise MBTilesError(f"basemap MBTiles file {path} does not exist")
        self._local = threading.local()
        try:
            self.metadata = dict(self._connection().execute("SELECT name, value FROM metadata").fetchall())
            self._connection().execute("SELECT 1 FROM tiles LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            raise MBTilesError(f"{path} is not an MBTiles file: {exc}") from None
        fmt = str(self.metadata.get("format", "png")).lower()
        if fmt not in RASTER_TYPES:
            raise MBTilesError(f"{path} holds '{fmt}' tiles; the big screen draws raster tiles only "
                               f"({', '.join(RASTER_TYPES)})")
        self.mimetype = RASTER_TYPES[fmt]

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at XYZ (z, x, y), or None when the file has none there."""
        if not (0 <= z <= 30 and 0 <= x < 2**z and 0 <= y < 2**z):
            return None
        row = self._connection().execute(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
            (z, x, (2**z - 1) - y),
        ).fetchone()
        return bytes(row[0]) if row else None

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(west, south, east, north) in degrees from the metadata, if it says."""
        try:
            west, south, east, north = (float(v) for v in str(self.metadata["bounds"]).split(","))
        except (KeyError, ValueError):
            return None
        return west, south, east, north

    def zoom_range(self) -> tuple[int | None, int | None]:
        """(min zoom, max zoom) the file has tiles for, if its metadata says."""
        def number(key: str) -> int | None:
            try:
                return int(self.metadata[key])
            except (KeyError, ValueError):
                return None

        return number("minzoom"), number("maxzoom")
