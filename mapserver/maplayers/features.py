"""Compact GeoJSON for the browser: WGS-84 longitude/latitude rounded to 6 decimals (about 0.1 m)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

DIGITS = 6  # 1e-6 degree ≈ 0.11 m of latitude: finer than any screen shows, and a third shorter than full floats


def rounded(geom: BaseGeometry, digits: int = DIGITS) -> BaseGeometry:
    """The geometry with every coordinate rounded to ``digits`` decimals."""
    return shapely.transform(geom, lambda xy: np.round(xy, digits))


def feature(fid: str | int, geom: BaseGeometry, properties: Mapping[str, Any]) -> dict[str, Any]:
    """One GeoJSON Feature with a rounded geometry."""
    return {"type": "Feature", "id": fid, "geometry": mapping(rounded(geom)), "properties": dict(properties)}


def collection(features: Iterable[dict[str, Any]], *, matched: int | None = None) -> dict[str, Any]:
    """A FeatureCollection; ``numberMatched`` tells the page when it got fewer features than there are."""
    items = list(features)
    return {"type": "FeatureCollection", "numberMatched": len(items) if matched is None else matched,
            "numberReturned": len(items), "features": items}
