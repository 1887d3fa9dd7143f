"""A saved patrol plan against the track actually walked: which stops were passed within :data:`NEAR_M` and when
first, and the share of the planned route that lies within :data:`NEAR_M` of the track.

The plan is the store's (:mod:`mapserver.store.patrols`): stops and route in WGS-84, as are the fixes. Distances
are measured in a local plane about the route (:class:`~mapserver.tracks.geodesy.LocalPlane`). The track is cut at
gaps (:data:`~mapserver.tracks.measures.MAX_GAP_S`): between two fixes of one part the person is taken to have
walked straight, so a stop passed between two fixes counts, at the time interpolated along that stretch when
the person first came within reach; across a gap nothing is assumed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString, Point

from mapserver.tracks.geodesy import LocalPlane
from mapserver.tracks.measures import instant, parts

NEAR_M = 50.0
"""How near (metres) a stop or a stretch of route must be to the track to count as passed or walked."""


def _first_within(px: np.ndarray, py: np.ndarray, sx: float, sy: float, radius: float) -> tuple[int, float] | None:
    """The first stretch (index k: from point k to k + 1) that comes within ``radius`` of (sx, sy), and the fraction
    along it where it first does; None when none does. A lone point is a stretch of length zero."""
    ax, ay = px[:-1] - sx, py[:-1] - sy
    dx, dy = px[1:] - px[:-1], py[1:] - py[:-1]
    a, b, c = dx * dx + dy * dy, 2 * (ax * dx + ay * dy), ax * ax + ay * ay - radius * radius
    disc = b * b - 4 * a * c
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(a > 0, (-b - np.sqrt(np.maximum(disc, 0))) / (2 * np.where(a > 0, a, 1)), np.inf)
    start_in = c <= 0
    enters = (a > 0) & (disc >= 0) & (s >= 0) & (s <= 1)
    hit = np.flatnonzero(start_in | enters)
    if hit.size == 0:
        end_in = (px[-1] - sx) ** 2 + (py[-1] - sy) ** 2 <= radius * radius
        return (len(px) - 1, 0.0) if end_in else None
    k = int(hit[0])
    return k, 0.0 if start_in[k] else float(s[k])


def plan_against_track(plan: dict[str, Any], seconds: npt.ArrayLike, lon: npt.ArrayLike,
                       lat: npt.ArrayLike) -> dict[str, Any]:
    """Each stop of ``plan`` (by order): passed or not, when first within reach, how near the track came; and the
    route's length, the length of it walked and their ratio. Fixes are at epoch ``seconds``, in time order."""
    route = plan["route"]["geometry"]["coordinates"]
    centre = np.mean(np.asarray(route, dtype=float), axis=0) if route else (plan["start"]["lon"], plan["start"]["lat"])
    plane = LocalPlane(float(centre[0]), float(centre[1]))
    tx, ty = plane.xy(lon, lat)
    seconds = np.asarray(seconds, dtype=float)
    runs = parts(seconds)
    track_parts = []
    for run in runs:
        coords = list(zip(tx[run].tolist(), ty[run].tolist(), strict=True))
        track_parts.append(LineString(coords) if len(coords) >= 2 else Point(coords[0]))
    track = shapely.union_all(track_parts) if track_parts else None
    stops = []
    for stop in plan["stops"]:
        (sx,), (sy,) = plane.xy([stop["lon"]], [stop["lat"]])
        first_at, closest = None, None
        if track is not None:
            closest = float(track.distance(Point(sx, sy)))
            for run in runs:
                found = _first_within(tx[run], ty[run], sx, sy, NEAR_M) if closest <= NEAR_M else None
                if found is not None:
                    k, frac = found
                    t0 = float(seconds[run.start + k])
                    t1 = float(seconds[min(run.start + k + 1, run.stop - 1)])
                    first_at = instant(t0 + frac * (t1 - t0))
                    break
        stops.append({"order": stop["order"], "name": stop.get("name", ""), "lon": stop["lon"], "lat": stop["lat"],
                      "passed": first_at is not None, "first_at": first_at.isoformat() if first_at else None,
                      "closest_m": None if closest is None else round(closest, 1)})
    planned = LineString(list(zip(*plane.xy([c[0] for c in route], [c[1] for c in route]), strict=True))) \
        if len(route) >= 2 else None
    planned_m = float(planned.length) if planned is not None else 0.0
    walked_m = 0.0
    if planned is not None and track is not None:
        reach = shapely.buffer(shapely.simplify(track, 1.0), NEAR_M, quad_segs=4)
        walked_m = float(planned.intersection(reach).length)
    share = walked_m / planned_m if planned_m > 0 else None
    passed = sum(1 for s in stops if s["passed"])
    return {"near_m": NEAR_M, "stops": stops, "stops_planned": len(stops), "stops_passed": passed,
            "route_length_m": round(planned_m, 1), "route_walked_m": round(walked_m, 1),
            "route_share": None if share is None else round(min(share, 1.0), 4),
            "fixes": int(seconds.size)}
