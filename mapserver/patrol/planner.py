"""Plan one patrol: area → roads → stops → shortest legs → prize-collecting tour → checked route.

Everything a plan says is in WGS-84 (EPSG:4326) degrees, metres and minutes.
The route is closed (it ends where it starts) and never longer than its
budget: after solving, the time is recomputed from the real path lengths and,
should it ever exceed the budget, the lightest stops are dropped until it
fits. Bad requests are problems: 404 for an unknown liaison, grid or start
place; 422 for an area without roads or stops, a start beyond the snap
distance, a budget too small to leave the start, must-visit stops that do not
fit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from mapserver.analysis.study import study_for
from mapserver.derived import DerivedData
from mapserver.errors import Problem
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.patrol.area import Area, area_of_grids, area_of_liaison
from mapserver.patrol.candidates import (
    Candidate,
    Window,
    hot_cells,
    key_places,
    merge_close,
    overdue_incidents,
    road_bounds,
)
from mapserver.patrol.greedy import greedy_tour
from mapserver.patrol.legs import Legs, shortest_legs
from mapserver.patrol.network import RoadNetwork, Snap
from mapserver.patrol.networks import road_network
from mapserver.patrol.request import PlanRequest, Point
from mapserver.patrol.settings import PatrolSettings
from mapserver.patrol.solver import solve_tour, time_limit_s
from mapserver.store import Store

DIGITS = 7  # route coordinates: 1e-7 degree ≈ 1 cm


@dataclass(frozen=True)
class PlanContext:
    """What a plan needs besides the request: patrol settings, the local time zone, camera liveness, the clock,
    and the planner's jurisdiction (its area's grids, liaison and start place are looked up in it, and its stops
    are its hot cells, blind spots, key places and overdue incidents)."""

    settings: PatrolSettings
    timezone: str
    offline_after_s: int
    now: datetime
    within: Jurisdiction = WHOLE


@dataclass(frozen=True)
class Timing:
    """A tour's minutes: arrival at each stop (from setting off), and the whole round with its metres."""

    arrivals_min: list[float]
    duration_min: float
    length_m: float


def _area(store: Store, request: PlanRequest, within: Jurisdiction) -> Area:
    if request.liaison:
        return area_of_liaison(store, request.liaison, within=within)
    return area_of_grids(store, request.grids, within=within)


def _start_point(store: Store, request: PlanRequest, within: Jurisdiction) -> Point:
    if request.start is not None:
        return request.start
    place = store.layers.get("places", request.start_place, within=within)
    if place is None:
        raise Problem(404, f"no key place (police post) with code {request.start_place!r}", param="start.place")
    point = place.geom if place.geom.geom_type == "Point" else place.geom.representative_point()
    return Point(point.x, point.y, place.name)


def _snap_start(network: RoadNetwork, start: Point, usable: np.ndarray, snap_m: float) -> Snap:
    snap = network.snap(start.lon, start.lat, within_m=snap_m, among=usable)
    if snap is not None:
        return snap
    anywhere = network.snap(start.lon, start.lat, within_m=snap_m)
    if anywhere is not None:
        raise Problem(422, f"the start is {anywhere.offset_m:.0f} m from road {network.codes[anywhere.road]}, "
                           "which lies on a piece of the road network cut off from the rest (a patrol could not "
                           "leave and come back); start elsewhere", param="start")
    nearest = network.snap(start.lon, start.lat, within_m=1e7)
    far = f"{nearest.offset_m:.0f} m" if nearest else "far"
    raise Problem(422, f"the start is {far} from the nearest road, beyond the snap distance of {snap_m:g} m",
                  param="start")


def _start_piece(network: RoadNetwork, start: Point, snap_m: float) -> int:
    """The strongly connected piece the start's nearest road belongs to (the largest piece when it has none)."""
    labels = network.pieces().labels
    near = network.snap(start.lon, start.lat, within_m=snap_m)
    if near is None:
        return 0
    ends = labels[network.start_node[near.road]], labels[network.end_node[near.road]]
    return int(ends[0]) if ends[0] == ends[1] else 0


def _candidates(derived: DerivedData, request: PlanRequest, area: Area,
                ctx: PlanContext) -> tuple[list[Candidate], float]:
    """The merged, capped stops on offer (must-visit ones first) and the area's whole hotspot weight."""
    s, store = ctx.settings, derived.store
    window = Window(since=request.since, until=request.until, night=request.window == "night", now=ctx.now,
                    timezone=ctx.timezone)
    within = ctx.within  # every stop on offer is the planner's jurisdiction's
    hot = hot_cells(store, study_for(derived, s.hotspot_res, within), area.geom, window, s,
                    offline_after_s=ctx.offline_after_s, within=within)
    found = [*hot, *key_places(store, area.geom, s, within=within),
             *overdue_incidents(store, area.geom, window, s, within=within)]
    for k, point in enumerate(request.must_visit):
        found.append(Candidate(ref=f"requested:{k + 1}", name=point.name or f"requested stop {k + 1}", lon=point.lon,
                               lat=point.lat, weight=0.0, must=True,
                               reasons=[{"kind": "requested", "weight": 0.0}]))
    merged = merge_close(found, within_m=s.merge_m)
    must = [c for c in merged if c.must]
    rest = sorted((c for c in merged if not c.must and c.weight > 0), key=lambda c: (-c.weight, c.ref))
    return [*must, *rest[:max(0, s.max_candidates - len(must))]], float(sum(c.hot_weight for c in hot))


def _seconds(legs: Legs, speed_mps: float, dwell_s: float) -> np.ndarray:
    """Whole seconds from leaving node i to leaving node j (travel, plus the dwell at j unless j is the start)."""
    travel = np.ceil(legs.metres / speed_mps)
    out = travel + math.ceil(dwell_s)
    out[:, 0] = travel[:, 0]
    np.fill_diagonal(out, 0)
    return out


def timing(legs: Legs, order: Sequence[int], *, speed_mps: float, dwell_s: float) -> Timing:
    """Arrival minutes at each stop and the round's minutes and metres, from the real path lengths."""
    clock, metres, arrivals, here = 0.0, 0.0, [], 0
    for node in [*order, 0]:
        leg = legs.path_metres(here, node) if node != here else 0.0
        metres += leg
        clock += leg / speed_mps
        if node != 0:
            arrivals.append(clock / 60)
            clock += dwell_s
        here = node
    return Timing(arrivals, clock / 60, metres)


def fit_budget(legs: Legs, order: list[int], weights: Sequence[float], must: Sequence[bool], *, budget_min: float,
               speed_mps: float, dwell_s: float) -> tuple[list[int], Timing]:
    """The tour with its lightest optional stops dropped until its real time fits the budget."""
    order = list(order)
    measured = timing(legs, order, speed_mps=speed_mps, dwell_s=dwell_s)
    while measured.duration_min > budget_min + 1e-9:
        optional = [n for n in order if not must[n]]
        if not optional:
            raise Problem(422, f"the must-visit stops need {measured.duration_min:.1f} min, more than the budget of "
                               f"{budget_min:g} min", param="must_visit")
        order.remove(min(optional, key=lambda n: (weights[n], n)))
        measured = timing(legs, order, speed_mps=speed_mps, dwell_s=dwell_s)
    return order, measured


def _route_feature(legs: Legs, order: Sequence[int], measured: Timing) -> dict[str, Any]:
    parts, here = [], 0
    for node in [*order, 0]:
        coords = legs.path_coords(here, node)
        parts.append(coords if not parts else coords[1:])
        here = node
    coords = np.round(np.concatenate(parts), DIGITS).tolist()
    if len(coords) < 2:
        coords = [coords[0], coords[0]]
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords},
            "properties": {"length_m": round(measured.length_m, 1), "duration_min": round(measured.duration_min, 2)}}


def _stop_json(k: int, candidate: Candidate, snap: Snap, arrival_min: float, start_at: datetime) -> dict[str, Any]:
    return {"order": k, "ref": candidate.ref, "name": candidate.name, "lon": round(candidate.lon, DIGITS),
            "lat": round(candidate.lat, DIGITS), "road_point": [round(snap.lon, DIGITS), round(snap.lat, DIGITS)],
            "arrival_min": round(arrival_min, 2),
            "arrival_at": (start_at + timedelta(minutes=arrival_min)).isoformat(timespec="seconds"),
            "weight": round(candidate.weight, 4), "reasons": candidate.reasons}


def _network_report(network: RoadNetwork, piece: int) -> dict[str, Any]:
    pieces = network.pieces()
    on_piece = int(pieces.sizes[piece]) if pieces.count else 0
    return {"roads": network.road_count, "edges": network.edge_count, "junctions": network.node_count,
            "pieces": pieces.count, "start_piece_junctions": on_piece,
            "junctions_off_start_piece": network.node_count - on_piece}


def plan_patrol(derived: DerivedData, request: PlanRequest, ctx: PlanContext) -> dict[str, Any]:
    """A checked, closed patrol route for the request, as the JSON the API returns and the store keeps.

    Read from ``derived.store``; the road networks and the hotspot study are those ``derived`` keeps.
    """
    s, store = ctx.settings, derived.store
    area = _area(store, request, ctx.within)
    start = _start_point(store, request, ctx.within)
    network = road_network(derived, road_bounds(area.geom, s.road_margin_m))
    if network.road_count == 0:
        raise Problem(422, "there are no roads in or near the area; import roads first", param="area")
    piece = _start_piece(network, start, s.snap_m)
    usable = network.roads_within(piece)
    start_snap = _snap_start(network, start, usable, s.snap_m)
    offered, hot_total = _candidates(derived, request, area, ctx)
    if not offered:
        raise Problem(422, "nothing to patrol in the area: no hot cells, key places or overdue incidents in the "
                           "window, and no must_visit stops", param="area")
    plan = _solve(network, usable, start_snap, offered, request, s)
    return _plan_json(request, area, start, start_snap, network, piece, plan, hot_total, s)


@dataclass
class _Solved:
    legs: Legs
    stops: list[Candidate]
    snaps: list[Snap]
    order: list[int]
    measured: Timing
    dropped: list[dict[str, Any]]
    solver: dict[str, Any]


def _solve(network: RoadNetwork, usable: np.ndarray, start_snap: Snap, offered: list[Candidate],
           request: PlanRequest, s: PatrolSettings) -> _Solved:
    speed, dwell_s, budget_s = s.speed_mps(request.mode), s.dwell_min * 60, int(request.budget_min * 60)
    dropped: list[dict[str, Any]] = []
    stops, snaps = [], []
    for c in offered:
        snap = network.snap(c.lon, c.lat, within_m=s.snap_m, among=usable)
        if snap is None:
            elsewhere = network.snap(c.lon, c.lat, within_m=s.snap_m) is not None
            dropped.append({"ref": c.ref, "name": c.name, "reason": "on a piece of the road network the start is "
                            "not connected to" if elsewhere else f"farther than {s.snap_m:g} m from any road"})
        else:
            stops.append(c)
            snaps.append(snap)
    legs = shortest_legs(network, [start_snap, *snaps], limit_m=budget_s * speed)
    seconds = _seconds(legs, speed, dwell_s)
    there_and_back = seconds[0, 1:] + seconds[1:, 0]
    reachable = there_and_back <= budget_s
    for c, ok in zip(stops, reachable, strict=True):
        if not ok:
            dropped.append({"ref": c.ref, "name": c.name, "reason": "too far to reach and come back within the "
                            "budget (or not reachable along one-way streets)"})
    must_refs = {c.ref for c in offered if c.must}
    for d in dropped:
        if d["ref"] in must_refs:
            raise Problem(422, f"must-visit stop {d['name']!r} cannot be planned: {d['reason']}", param="must_visit")
    if not reachable.any():
        nearest = float(np.min(there_and_back)) / 60 if len(stops) else math.inf
        needs = f"the nearest stop needs {nearest:.1f} min there and back" if math.isfinite(nearest) else \
            "no stop can be reached and left again in time"
        raise Problem(422, f"a budget of {request.budget_min:g} min is too small to leave the start: {needs}",
                      param="budget_min")
    keep = [0, *(k + 1 for k in np.flatnonzero(reachable))]
    stops = [stops[k - 1] for k in keep[1:]]
    snaps = [snaps[k - 1] for k in keep[1:]]
    legs = legs.subset(keep)
    seconds = seconds[np.ix_(keep, keep)]
    weights = [0.0, *(c.weight for c in stops)]
    must = [False, *(c.must for c in stops)]
    limit = time_limit_s(len(stops), s.solve_time_s)
    started = time.perf_counter()
    baseline = greedy_tour(seconds, weights, must, budget_s=budget_s)
    tour = solve_tour(seconds, weights, must, budget_s=budget_s, limit_s=limit, hint=baseline)
    solve_s = time.perf_counter() - started
    if tour is None:
        raise Problem(422, "the must-visit stops cannot all be visited within the budget", param="must_visit")
    nearest = greedy_tour(seconds, weights, must, budget_s=budget_s, nearest=True)
    order, measured = fit_budget(legs, tour.order, weights, must, budget_min=request.budget_min,
                                 speed_mps=speed, dwell_s=dwell_s)
    solver = {"status": tour.status, "time_s": round(solve_s, 3), "limit_s": round(limit, 3),
              "candidates": len(stops), "weight": round(sum(weights[n] for n in order), 4),
              "greedy_weight": round(sum(weights[n] for n in baseline), 4),
              "greedy_hotspot_weight": round(sum(stops[n - 1].hot_weight for n in baseline), 4),
              "nearest_weight": round(sum(weights[n] for n in nearest), 4),
              "nearest_hotspot_weight": round(sum(stops[n - 1].hot_weight for n in nearest), 4)}
    return _Solved(legs, stops, snaps, order, measured, dropped, solver)


def _plan_json(request: PlanRequest, area: Area, start: Point, start_snap: Snap, network: RoadNetwork,
               piece: int, solved: _Solved, hot_total: float, s: PatrolSettings) -> dict[str, Any]:
    visited = [solved.stops[n - 1] for n in solved.order]
    stops = [_stop_json(k + 1, solved.stops[n - 1], solved.snaps[n - 1], arrival, request.start_at)
             for k, (n, arrival) in enumerate(zip(solved.order, solved.measured.arrivals_min, strict=True))]
    hot_collected = float(sum(c.hot_weight for c in visited))
    offered_weight = float(sum(c.weight for c in solved.stops))
    return {
        "request": request.as_json(),
        "liaison": area.liaison, "unit": area.unit, "grids": list(area.codes),
        "mode": request.mode, "window": request.window, "budget_min": request.budget_min,
        "speed_kmh": round(s.speed_mps(request.mode) * 3.6, 3), "dwell_min": s.dwell_min,
        "start": {"lon": round(start.lon, DIGITS), "lat": round(start.lat, DIGITS), "name": start.name,
                  "road": str(network.codes[start_snap.road]), "snap_m": round(start_snap.offset_m, 1),
                  "road_point": [round(start_snap.lon, DIGITS), round(start_snap.lat, DIGITS)]},
        "start_at": request.start_at.isoformat(timespec="seconds"),
        "length_m": round(solved.measured.length_m, 1), "duration_min": round(solved.measured.duration_min, 2),
        "stops": stops,
        "weight": {"collected": round(sum(c.weight for c in visited), 4), "offered": round(offered_weight, 4)},
        "hotspot": {"collected": round(hot_collected, 4), "total": round(hot_total, 4),
                    "share": round(hot_collected / hot_total, 4) if hot_total > 0 else None},
        "route": _route_feature(solved.legs, solved.order, solved.measured),
        "dropped": solved.dropped,
        "network": _network_report(network, piece),
        "solver": solved.solver,
    }
