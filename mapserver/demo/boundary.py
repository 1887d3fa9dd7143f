"""The real district boundaries the demo city is built in, and the two CRSs it works in.

The boundaries ship with the package (``data/411600_zhoukou_districts_gcj02.geojson``:
Zhoukou city's ten districts as published by web map providers, GCJ-02 degrees) and
are converted to WGS-84 (EPSG:4326, lon/lat degrees) with
:func:`mapserver.geo.transform_geometry`. Nothing outside the package is read.

Areas, distances and splits are computed in :data:`METRIC_CRS`, a transverse
Mercator centred on Zhoukou (metres, scale factor 1 on lon 114.85°), whose scale
error over the city is below 1e-4. Records are stored in WGS-84 with coordinates
on a 1e-7 degree grid (about 1 cm), see :data:`GRID_DEG`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, TypeVar

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from mapserver.geo import transform_geometry

DATA_FILE = "411600_zhoukou_districts_gcj02.geojson"
CHUANHUI = 411602
METRIC_CRS = "+proj=tmerc +lat_0=33.7 +lon_0=114.85 +k=1 +x_0=500000 +y_0=0 +ellps=WGS84 +units=m +no_defs"
GRID_DEG = 1e-7
"""Stored coordinates are multiples of this (7 decimals of a degree, about 1 cm)."""

G = TypeVar("G")


@dataclass(frozen=True)
class District:
    """One county-level district: GB/T 2260 code, name, WGS-84 boundary and published centre."""

    adcode: int
    name: str
    geom: BaseGeometry
    center: tuple[float, float]


@functools.lru_cache(maxsize=2)
def _transformer(inverse: bool) -> Transformer:
    if inverse:
        return Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
    return Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)


def _apply(geom: G, inverse: bool) -> G:
    transformer = _transformer(inverse)

    def convert(x: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
        return transformer.transform(x, y)

    return shapely.transform(geom, convert, interleaved=False)


def to_metric(geom: G) -> G:
    """WGS-84 geometry (or array of them) → :data:`METRIC_CRS` metres."""
    return _apply(geom, inverse=False)


def to_wgs84(geom: G) -> G:
    """:data:`METRIC_CRS` geometry (or array of them) → WGS-84 degrees, not yet rounded."""
    return _apply(geom, inverse=True)


def metric_xy_to_lonlat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Metric coordinates → (n, 2) WGS-84 lon/lat rounded to 7 decimals."""
    lon, lat = _transformer(True).transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.round(np.column_stack([lon, lat]), 7)


def points_from_metric(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Metric coordinates → array of WGS-84 shapely Points rounded to 7 decimals."""
    return shapely.points(metric_xy_to_lonlat(x, y))


def round_geometry(geom: G) -> G:
    """Coordinates rounded to 7 decimals (used for lines and points, never for tilings)."""
    return shapely.transform(geom, lambda c: np.round(c, 7))


@functools.lru_cache(maxsize=1)
def _features() -> tuple[dict[str, Any], ...]:
    text = resources.files("mapserver.demo").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    return tuple(json.loads(text)["features"])


@functools.lru_cache(maxsize=16)
def district(adcode: int) -> District:
    """The district with this adcode, its boundary converted from GCJ-02 to WGS-84."""
    for feature in _features():
        props = feature["properties"]
        if int(props["adcode"]) == adcode:
            geom = shapely.make_valid(transform_geometry(shape(feature["geometry"]), "gcj02"))
            center = transform_geometry(shapely.Point(props["center"]), "gcj02")
            return District(adcode=adcode, name=props["name"], geom=geom, center=(center.x, center.y))
    raise KeyError(f"no district with adcode {adcode} in {DATA_FILE}")


def all_adcodes() -> list[int]:
    """Every district adcode in the packaged file, ascending."""
    return sorted(int(f["properties"]["adcode"]) for f in _features())
