"""Camera coverage of hot cells and the blind spots: hot cells no online camera sees.

A camera's view is a sector from its position (WGS-84), its direction in
degrees clockwise from north, its field of view in degrees and its range in
metres; a circle of the range when the direction or field of view is unknown.
Sectors are built in a local azimuthal equidistant projection (metres, centred
on the cameras) and returned in WGS-84. A cell counts as covered when its
centre lies inside a view. For a jurisdiction, the incidents counted, the
cameras that may cover and the cells judged are its own: the cells of its
study (:func:`mapserver.analysis.study.study_for`), whose centre lies in its
grid's polygon, so Gi* compares them with each other only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pyproj
import shapely
from pyproj.enums import TransformDirection
from shapely.geometry.base import BaseGeometry

from mapserver.analysis.hotspots import cell_hotspots
from mapserver.analysis.study import Study
from mapserver.cameras import effective_status
from mapserver.model import Camera
from mapserver.store import Store
from mapserver.store.incidents import IncidentFilter

DEFAULT_RANGE_M = 50.0  # a camera imported without a range: a typical street camera's useful distance
ARC_STEP_DEG = 5.0  # one vertex per 5° of arc: under 0.1% area error at these ranges
TOP_CELLS = 20  # cells ranked by count when nothing is significantly hot


def _views_metres(xs: np.ndarray, ys: np.ndarray, cameras: Sequence[Camera]) -> np.ndarray:
    """Each camera's view in the local metric plane, camera at (x, y); bearings clockwise from north.

    Built for all cameras at once (a buffer call for the circles, one ragged ring array for the sectors),
    not a polygon at a time, which would cost a shapely call per camera.
    """
    reach = np.array([c.range_m or DEFAULT_RANGE_M for c in cameras], dtype=float)
    circle = np.array([c.direction_deg is None or c.fov_deg is None or c.fov_deg >= 360 for c in cameras])
    out = np.empty(len(cameras), dtype=object)
    if circle.any():
        out[circle] = shapely.buffer(shapely.points(xs[circle], ys[circle]), reach[circle], quad_segs=18)
    sector = np.flatnonzero(~circle)
    if sector.size:
        direction = np.array([cameras[i].direction_deg for i in sector], dtype=float)
        fov = np.array([cameras[i].fov_deg for i in sector], dtype=float)
        arc_points = np.maximum(2, np.ceil(fov / ARC_STEP_DEG).astype(int) + 1)
        ring_sizes = arc_points + 2  # apex, the arc, apex again
        ring = np.repeat(np.arange(sector.size), ring_sizes)
        step = np.arange(ring.size) - np.repeat(np.cumsum(ring_sizes) - ring_sizes, ring_sizes)  # 0 … size-1
        on_arc = (step >= 1) & (step <= arc_points[ring])
        bearing = np.radians(direction[ring] - fov[ring] / 2 + (step - 1) * fov[ring] / (arc_points[ring] - 1))
        x0, y0, r = xs[sector][ring], ys[sector][ring], reach[sector][ring]
        coords = np.column_stack([np.where(on_arc, x0 + r * np.sin(bearing), x0),
                                  np.where(on_arc, y0 + r * np.cos(bearing), y0)])
        out[sector] = shapely.polygons(shapely.linearrings(coords, indices=ring))
    return out


def views(cameras: Sequence[Camera]) -> list[BaseGeometry]:
    """Each camera's view as a WGS-84 polygon, in the order given."""
    if not cameras:
        return []
    lon0 = float(np.mean([c.geom.x for c in cameras]))
    lat0 = float(np.mean([c.geom.y for c in cameras]))
    local = _local_metres(lon0, lat0)
    xs, ys = local.transform(np.array([c.geom.x for c in cameras]), np.array([c.geom.y for c in cameras]))
    planar = _views_metres(np.asarray(xs), np.asarray(ys), cameras)
    # One inverse projection over every vertex of every view, not a pyproj call per camera.
    return list(shapely.transform(planar, lambda xy: np.column_stack(
        local.transform(xy[:, 0], xy[:, 1], direction=TransformDirection.INVERSE))))


def _local_metres(lon0: float, lat0: float) -> pyproj.Transformer:
    """WGS-84 (lon, lat) degrees → metres of an azimuthal equidistant projection on the WGS-84 ellipsoid centred on
    (lon0, lat0); ``direction=INVERSE`` back. Written as a PROJ pipeline, so no CRS is looked up in PROJ's database:
    that lookup cost 30–60 ms a call, paid each time a case page asks for the cameras that see its case."""
    return pyproj.Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=aeqd +lat_0={lat0!r} +lon_0={lon0!r} +ellps=WGS84 +units=m")


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


def coverage(store: Store, study: Study, *, where: IncidentFilter, now: datetime,
             offline_after_s: int) -> dict[str, Any]:
    """Share of the ``study``'s hot cells (or the top cells by count) seen by online cameras, and the unseen ones
    ranked: of the jurisdiction ``where.within``, its incidents and its cameras, on ``study``, which must be that
    jurisdiction's (``study_for(derived, res, where.within)``)."""
    basis, targets = _targets(cell_hotspots(store, study, where=where)["cells"])
    online = [c for c in store.cameras.all(within=where.within)
              if effective_status(c, now=now, offline_after_s=offline_after_s) == "online"]
    seen = covered([(c["lon"], c["lat"]) for c in targets], views(online))
    blind = [c for c, s in zip(targets, seen, strict=True) if not s]
    blind.sort(key=lambda c: (-c["z"], -c["count"], c["id"]))
    return {"resolution": study.res, "basis": basis, "cells": len(targets), "covered": int(seen.sum()),
            "share": round(float(seen.mean()), 6) if targets else None, "cameras_online": len(online),
            "blind_spots": [{k: c[k] for k in ("id", "count", "z", "class", "lon", "lat")} for c in blind]}
