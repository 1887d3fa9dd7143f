"""Pasted coordinates → a WGS-84 point and the grids covering it (for the search box)."""

from __future__ import annotations

import math
from typing import Any

from mapserver.errors import Problem
from mapserver.geo import parse_crs, to_wgs84
from mapserver.maplayers.reads import grids_at
from mapserver.store import Store


def locate(store: Store, lon: float, lat: float, crs: str) -> dict[str, Any]:
    """Convert (lon, lat) from ``crs`` (wgs84, cgcs2000, gcj02, bd09, EPSG:n) to WGS-84; list the grids there."""
    name = parse_crs(crs)
    wlon, wlat = to_wgs84(lon, lat, name)
    if not (math.isfinite(wlon) and math.isfinite(wlat) and -180 <= wlon <= 180 and -90 <= wlat <= 90):
        raise Problem(400, f"({lon}, {lat}) in {name} is not a position on Earth", param="lon")
    grids = grids_at(store, wlon, wlat)
    return {"lon": round(wlon, 7), "lat": round(wlat, 7), "crs": name,
            "grids": [{"code": g.code, "name": g.name, "level": g.level, "kind": g.kind} for g in grids]}
