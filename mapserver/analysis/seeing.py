"""The cameras that see a point (a case's place), for the case page: those whose view covers it, online first and
nearest first among each; then the nearest online cameras within a set distance that do not see it (they may be
turned towards it).

Views are the coverage analysis's (:func:`mapserver.analysis.coverage.views`): a sector from the camera's
direction (degrees clockwise from north), field of view (degrees) and range (metres), or a circle of the range.
Points and views are WGS-84; distances are metres on the WGS-84 ellipsoid.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pyproj
from shapely.geometry import Point, mapping

from mapserver.analysis.coverage import DEFAULT_RANGE_M, views
from mapserver.cameras import effective_status
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.model import Camera
from mapserver.store import Store

NEARBY_M = 300.0  # online cameras this close may be turned towards the point (config: video.nearby_m)
MAX_RANGE_M = 1000.0  # cameras farther than this are not read, whatever their range: no street camera sees further
NEARBY_LIMIT = 5
EDGE_SLACK_M = 1.0  # a view's edge in its plane and the ellipsoid's distance differ by centimetres: test those too
_GEOD = pyproj.Geod(ellps="WGS84")


def _search_box(lon: float, lat: float, metres: float) -> tuple[float, float, float, float]:
    """A WGS-84 box around (lon, lat) reaching at least ``metres`` in every direction."""
    east, _, _ = _GEOD.fwd(lon, lat, 90, metres)
    _, north, _ = _GEOD.fwd(lon, lat, 0, metres)
    dlon, dlat = abs(east - lon), abs(north - lat)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def _distances_m(cameras: Sequence[Camera], lon: float, lat: float) -> np.ndarray:
    """Each camera's distance to (lon, lat) in metres, in one call for all."""
    xs = np.fromiter((c.geom.x for c in cameras), dtype=float, count=len(cameras))
    ys = np.fromiter((c.geom.y for c in cameras), dtype=float, count=len(cameras))
    return np.asarray(_GEOD.inv(xs, ys, np.full_like(xs, lon), np.full_like(ys, lat))[2], dtype=float)


def _json(camera: Camera, *, status: str, distance_m: float, covers: bool, view: Any) -> dict[str, Any]:
    return {"code": camera.code, "name": camera.name, "lon": camera.geom.x, "lat": camera.geom.y,
            "status": status, "distance_m": round(distance_m, 1), "covers": covers,
            "direction_deg": camera.direction_deg, "fov_deg": camera.fov_deg,
            "range_m": camera.range_m or DEFAULT_RANGE_M, "view": mapping(view)}


def cameras_seeing(store: Store, lon: float, lat: float, *, now: datetime, offline_after_s: int,
                   within: Jurisdiction = WHOLE, nearby_m: float = NEARBY_M, nearby_limit: int = NEARBY_LIMIT,
                   with_stream: Callable[[Sequence[str]], Collection[str]] | None = None) -> dict[str, Any]:
    """``{"covering": [...], "nearby": [...], "nearby_m": m}`` for the WGS-84 point: the cameras of ``within`` whose
    view covers it (any status: online ones first, each group nearest first), then up to ``nearby_limit`` online
    ones within ``nearby_m`` metres that do not cover it, nearest first. Each camera carries its status at ``now``,
    its distance in metres and its view as GeoJSON; with ``with_stream`` (which of these codes have a stream,
    asked only for those with video rights) also ``video``: whether it has a live stream to play."""
    # Read only as far as the farthest-seeing camera sees (an index lookup), or as the nearby ones lie.
    reach_m = min(MAX_RANGE_M, max(store.cameras.max_range_m() or 0.0, DEFAULT_RANGE_M)) + EDGE_SLACK_M
    found = store.layers.query("cameras", bbox=_search_box(lon, lat, max(reach_m, nearby_m)), within=within)
    if not found:
        return {"covering": [], "nearby": [], "nearby_m": nearby_m}
    distance = _distances_m(found, lon, lat)
    reach = np.array([c.range_m or DEFAULT_RANGE_M for c in found], dtype=float)
    # Views are built only for the cameras that could see the point or be offered beside those that do.
    near = np.flatnonzero((distance <= reach + EDGE_SLACK_M) | (distance <= nearby_m))
    cameras = [found[i] for i in near]
    point = Point(lon, lat)
    rows = []
    for camera, view, metres in zip(cameras, views(cameras), distance[near].tolist(), strict=True):
        status = effective_status(camera, now=now, offline_after_s=offline_after_s)
        rows.append((camera, view, metres, bool(view.covers(point)), status))
    covering = sorted((r for r in rows if r[3]), key=lambda r: (r[4] != "online", r[2], r[0].code))
    nearby = sorted((r for r in rows if not r[3] and r[4] == "online" and r[2] <= nearby_m),
                    key=lambda r: (r[2], r[0].code))[:nearby_limit]
    out = {"covering": [_json(c, status=s, distance_m=d, covers=True, view=v) for c, v, d, _, s in covering],
           "nearby": [_json(c, status=s, distance_m=d, covers=False, view=v) for c, v, d, _, s in nearby],
           "nearby_m": nearby_m}
    if with_stream is not None:
        listed = out["covering"] + out["nearby"]
        playable = set(with_stream([c["code"] for c in listed])) if listed else set()
        for item in listed:
            item["video"] = item["code"] in playable
    return out
