"""The cameras that see a point (a case's place), for the case page: those whose view covers it, nearest first;
when none does, the nearest online cameras within a few hundred metres.

Views are the coverage analysis's (:func:`mapserver.analysis.coverage.views`): a sector from the camera's
direction (degrees clockwise from north), field of view (degrees) and range (metres), or a circle of the range.
Points and views are WGS-84; distances are metres on the WGS-84 ellipsoid.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyproj
from shapely.geometry import Point, mapping

from mapserver.analysis.coverage import DEFAULT_RANGE_M, views
from mapserver.cameras import effective_status
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.model import Camera
from mapserver.store import Store

NEARBY_M = 300.0  # when no view covers the point: online cameras this close may be turned towards it
MAX_RANGE_M = 1000.0  # cameras farther than this are not read: no street camera sees further
NEARBY_LIMIT = 5
_GEOD = pyproj.Geod(ellps="WGS84")


def _search_box(lon: float, lat: float, metres: float) -> tuple[float, float, float, float]:
    """A WGS-84 box around (lon, lat) reaching at least ``metres`` in every direction."""
    east, _, _ = _GEOD.fwd(lon, lat, 90, metres)
    _, north, _ = _GEOD.fwd(lon, lat, 0, metres)
    dlon, dlat = abs(east - lon), abs(north - lat)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def _distance_m(camera: Camera, lon: float, lat: float) -> float:
    return float(_GEOD.inv(camera.geom.x, camera.geom.y, lon, lat)[2])


def _json(camera: Camera, *, status: str, distance_m: float, covers: bool, view: Any) -> dict[str, Any]:
    return {"code": camera.code, "name": camera.name, "lon": camera.geom.x, "lat": camera.geom.y,
            "status": status, "distance_m": round(distance_m, 1), "covers": covers,
            "direction_deg": camera.direction_deg, "fov_deg": camera.fov_deg,
            "range_m": camera.range_m or DEFAULT_RANGE_M, "view": mapping(view)}


def cameras_seeing(store: Store, lon: float, lat: float, *, now: datetime, offline_after_s: int,
                   within: Jurisdiction = WHOLE, nearby_m: float = NEARBY_M) -> dict[str, Any]:
    """``{"covering": [...], "nearby": [...]}`` for the WGS-84 point: the cameras of ``within`` whose view covers
    it (any status, nearest first), and, only when none does, up to five online ones within ``nearby_m`` metres.
    Each camera carries its status at ``now``, its distance in metres and its view as GeoJSON."""
    box = _search_box(lon, lat, max(MAX_RANGE_M, nearby_m))
    found, _ = store.cameras.query(bbox=box, now=now, offline_after_s=offline_after_s, within=within)
    point = Point(lon, lat)
    rows = []
    for camera, view in zip(found, views(found), strict=True):
        rows.append((_distance_m(camera, lon, lat), camera, view, view.covers(point),
                     effective_status(camera, now=now, offline_after_s=offline_after_s)))
    rows.sort(key=lambda r: (r[0], r[1].code))
    covering = [_json(c, status=s, distance_m=d, covers=True, view=v) for d, c, v, hit, s in rows if hit]
    nearby = [] if covering else [_json(c, status=s, distance_m=d, covers=False, view=v)
                                  for d, c, v, _, s in rows if s == "online" and d <= nearby_m][:NEARBY_LIMIT]
    return {"covering": covering, "nearby": nearby, "nearby_m": nearby_m}
