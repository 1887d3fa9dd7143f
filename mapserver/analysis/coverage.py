"""Camera coverage of hot cells and the blind spots: hot cells no online camera sees.

A camera's view is a sector from its position (WGS-84), its direction in
degrees clockwise from north, its field of view in degrees and its range in
metres; a circle of the range when the direction or field of view is unknown.
Sectors are built in a local azimuthal equidistant projection (metres, centred
on the cameras) and returned in WGS-84. A cell counts as covered when its
centre lies inside a view.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from mapserver.analysis.hotspots import cell_hotspots
from mapserver.cameras import effective_status
from mapserver.model import Camera
from mapserver.store.base import Store
from mapserver.store.incident_store import IncidentFilter

DEFAULT_RANGE_M = 50.0  # a camera imported without a range: a typical street camera's useful distance
ARC_STEP_DEG = 5.0  # one vertex per 5° of arc: under 0.1% area error at these ranges
TOP_CELLS = 20  # cells ranked by count when nothing is significantly hot


def _view_metres(x: float, y: float, camera: Camera) -> Polygon:
    """The view in the local metric plane, camera at (x, y); bearings clockwise from north."""
    reach = camera.range_m or DEFAULT_RANGE_M
    if camera.direction_deg is None or camera.fov_deg is None or camera.fov_deg >= 360:
        return shapely.Point(x, y).buffer(reach, quad_segs=18)
    half = camera.fov_deg / 2
    bearings = np.radians(np.linspace(camera.direction_deg - half, camera.direction_deg + half,
                                      max(2, int(np.ceil(camera.fov_deg / ARC_STEP_DEG)) + 1)))
    arc = np.column_stack([x + reach * np.sin(bearings), y + reach * np.cos(bearings)])
    return Polygon([(x, y), *map(tuple, arc), (x, y)])


def views(cameras: Sequence[Camera]) -> list[BaseGeometry]:
    """Each camera's view as a WGS-84 polygon, in the order given."""
    if not cameras:
        return []
    lon0 = float(np.mean([c.geom.x for c in cameras]))
    lat0 = float(np.mean([c.geom.y for c in cameras]))
    local = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m")
    forward = pyproj.Transformer.from_crs("EPSG:4326", local, always_xy=True)
    back = pyproj.Transformer.from_crs(local, "EPSG:4326", always_xy=True)
    xs, ys = forward.transform([c.geom.x for c in cameras], [c.geom.y for c in cameras])
    planar = [_view_metres(x, y, c) for x, y, c in zip(xs, ys, cameras, strict=True)]
    return [shapely.transform(p, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1]))) for p in planar]


def covered(points: Sequence[tuple[float, float]], areas: Sequence[BaseGeometry]) -> np.ndarray:
    """Whether each (lon, lat) lies inside any of ``areas``."""
    out = np.zeros(len(points), dtype=bool)
    if not points or not areas:
        return out
    tree = shapely.STRtree(list(areas))
    hits, _ = tree.query(shapely.points(list(points)), predicate="within")
    out[hits] = True
    return out


def _targets(cells: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    hot = [c for c in cells if c["class"].startswith("hot")]
    if hot:
        return "hot", hot
    ranked = sorted((c for c in cells if c["count"] > 0), key=lambda c: (-c["count"], c["id"]))
    return "top", ranked[:TOP_CELLS]


def coverage(store: Store, *, where: IncidentFilter, res: int, now: datetime, offline_after_s: int) -> dict[str, Any]:
    """Share of hot cells (or the top cells by count) seen by online cameras, and the unseen ones ranked."""
    basis, targets = _targets(cell_hotspots(store, where=where, res=res)["cells"])
    online = [c for c in store.all_cameras()
              if effective_status(c, now=now, offline_after_s=offline_after_s) == "online"]
    seen = covered([(c["lon"], c["lat"]) for c in targets], views(online))
    blind = [c for c, s in zip(targets, seen, strict=True) if not s]
    blind.sort(key=lambda c: (-c["z"], -c["count"], c["id"]))
    return {"resolution": res, "basis": basis, "cells": len(targets), "covered": int(seen.sum()),
            "share": round(float(seen.mean()), 6) if targets else None, "cameras_online": len(online),
            "blind_spots": [{k: c[k] for k in ("id", "count", "z", "class", "lon", "lat")} for c in blind]}
