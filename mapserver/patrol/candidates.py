"""The stops a patrol may visit, each with its weight and why: hot cells (blind spots weigh most), key places,
overdue open incidents, and the stops the request names.

Hot cells are the Getis-Ord Gi* hot H3 cells of the district
(:mod:`mapserver.analysis.hotspots`) whose centre lies in the area; a hot cell
is a blind spot when no camera online now sees its centre
(:mod:`mapserver.analysis.coverage`). A planner bound to a jurisdiction
(:mod:`mapserver.jurisdiction`) plans from its own alone: Gi* on its area's
cells and incidents, its cameras, key places and overdue incidents, each asked
of the store with it (as /api/hotspots and /api/coverage answer that planner).
Positions are WGS-84 (EPSG:4326) degrees; distances metres (local frame);
weights follow :class:`~mapserver.patrol.settings.StopWeights`. Night is judged
in local time (``incidents.timezone``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import h3
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from mapserver.analysis.coverage import covered, views
from mapserver.analysis.hotspots import cell_hotspots
from mapserver.analysis.study import Study
from mapserver.cameras import effective_status
from mapserver.gridindex.metric import metres_per_degree
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.patrol.settings import PatrolSettings
from mapserver.store import Store
from mapserver.store.incidents import IncidentFilter

MAX_OVERDUE = 2000  # overdue incidents read per area: more than a shift could ever visit


@dataclass
class Candidate:
    """A stop the route may visit: what it is (``ref``), where (lon, lat), its weight and every reason for it.

    Each reason is a dict with ``kind`` (hot_cell, key_place, overdue_incident, requested) and ``weight``;
    a hot cell's has ``z`` and ``blind_spot``. ``must`` stops are visited whatever they cost.
    """

    ref: str
    name: str
    lon: float
    lat: float
    weight: float
    reasons: list[dict[str, Any]] = field(default_factory=list)
    must: bool = False

    @property
    def hot_weight(self) -> float:
        """The part of the weight that comes from hot cells (what the hotspot share counts)."""
        return float(sum(r["weight"] for r in self.reasons if r["kind"] == "hot_cell"))


@dataclass(frozen=True)
class Window:
    """What the weights are for: the hotspot window (UTC, until exclusive), day or night, the instant, the zone."""

    since: datetime | None
    until: datetime | None
    night: bool
    now: datetime
    timezone: str


def _inside(area: BaseGeometry, lons: Sequence[float], lats: Sequence[float]) -> np.ndarray:
    if len(lons) == 0:
        return np.zeros(0, dtype=bool)
    return shapely.contains_xy(area, np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))


def _night_shares(store: Store, area: BaseGeometry, window: Window, res: int, settings: PatrolSettings,
                  within: Jurisdiction) -> dict[str, float]:
    """Share of each cell's incidents in the window (of ``within``) reported at night (local time), for cells in
    the area."""
    zone = ZoneInfo(window.timezone)
    found, _ = store.incidents.query(bbox=area.bounds, where=IncidentFilter(since=window.since, until=window.until,
                                                                            within=within))
    night: dict[str, list[int]] = {}
    for incident in found:
        if incident.h3_cell is None or h3.get_resolution(incident.h3_cell) < res:
            continue
        cell = h3.cell_to_parent(incident.h3_cell, res)
        tally = night.setdefault(cell, [0, 0])
        tally[0] += settings.is_night(incident.reported_at.astimezone(zone).hour)
        tally[1] += 1
    return {cell: n / total for cell, (n, total) in night.items()}


def hot_cells(store: Store, study: Study, area: BaseGeometry, window: Window, settings: PatrolSettings, *,
              offline_after_s: int, within: Jurisdiction = WHOLE) -> list[Candidate]:
    """One stop per hot cell of ``study`` (``within``'s, at ``settings.hotspot_res``:
    :func:`mapserver.analysis.study.study_for`) whose centre lies in the area, from ``within``'s incidents,
    weighted by z (more when none of ``within``'s cameras online sees it)."""
    res, weights = study.res, settings.weights
    # Only the hot and cold cells become rows: the city's 142,379 cells at res 9 would be rows to throw away.
    answer = cell_hotspots(store, study, where=IncidentFilter(since=window.since, until=window.until, within=within),
                           significant=True)
    accepted = {f"hot_{c}" for c in (90, 95, 99) if c >= settings.hot_confidence}
    hot = [c for c in answer["cells"] if c["class"] in accepted]
    hot = [c for c, ok in zip(hot, _inside(area, [c["lon"] for c in hot], [c["lat"] for c in hot]), strict=True)
           if ok]
    if not hot:
        return []
    online = [c for c in store.layers.query("cameras", bbox=_grown(area, 500.0).bounds, within=within)
              if effective_status(c, now=window.now, offline_after_s=offline_after_s) == "online"]
    seen = covered([(c["lon"], c["lat"]) for c in hot], views(online))
    shares = _night_shares(store, area, window, res, settings, within) if window.night else {}
    out = []
    for cell, is_seen in zip(hot, seen, strict=True):
        blind = not bool(is_seen)
        weight = float(cell["z"]) * (weights.blind_spot if blind else weights.hot_cell)
        weight *= 1 + (weights.night_factor - 1) * shares.get(cell["id"], 0.0)
        reason = {"kind": "hot_cell", "cell": cell["id"], "z": round(float(cell["z"]), 3), "count": cell["count"],
                  "blind_spot": blind, "weight": round(weight, 4)}
        out.append(Candidate(ref=f"cell:{cell['id']}", name=f"H3 {cell['id']}", lon=cell["lon"], lat=cell["lat"],
                             weight=weight, reasons=[reason]))
    return out


def key_places(store: Store, area: BaseGeometry, settings: PatrolSettings, *,
               within: Jurisdiction = WHOLE) -> list[Candidate]:
    """One stop per key place (重点场所) of ``within`` in the area, at its point or a point inside its outline."""
    out = []
    weight = settings.weights.key_place
    for place in store.layers.query("places", bbox=area.bounds, within=within):
        point = place.geom if place.geom.geom_type == "Point" else place.geom.representative_point()
        if not area.contains(point):
            continue
        reason = {"kind": "key_place", "place": place.code, "name": place.name, "place_kind": place.kind,
                  "weight": weight}
        out.append(Candidate(ref=f"place:{place.code}", name=place.name, lon=point.x, lat=point.y, weight=weight,
                             reasons=[reason]))
    return out


def overdue_incidents(store: Store, area: BaseGeometry, window: Window, settings: PatrolSettings, *,
                      within: Jurisdiction = WHOLE) -> list[Candidate]:
    """One stop per open incident of ``within`` past its deadline (red warning) in the area; night reports weigh
    more at night."""
    weights = settings.weights
    zone = ZoneInfo(window.timezone)
    found, _ = store.incidents.query(bbox=area.bounds, where=IncidentFilter(warning="red", now=window.now,
                                                                            within=within), limit=MAX_OVERDUE)
    out = []
    for incident in found:
        if not area.contains(incident.geom):
            continue
        night = settings.is_night(incident.reported_at.astimezone(zone).hour)
        weight = weights.overdue_incident * (weights.night_factor if window.night and night else 1.0)
        overdue_h = (window.now - incident.due_at).total_seconds() / 3600 if incident.due_at else None
        reason = {"kind": "overdue_incident", "incident": incident.id, "category": incident.category,
                  "overdue_h": round(overdue_h, 1) if overdue_h is not None else None, "weight": weight}
        out.append(Candidate(ref=f"incident:{incident.id}", name=incident.address or incident.id,
                             lon=incident.geom.x, lat=incident.geom.y, weight=weight, reasons=[reason]))
    return out


def _grown(area: BaseGeometry, metres: float) -> BaseGeometry:
    """The area's bounding box grown by ``metres`` on every side (as a polygon)."""
    minx, miny, maxx, maxy = area.bounds
    mx, my = metres_per_degree((miny + maxy) / 2)
    return shapely.box(minx - metres / mx, miny - metres / my, maxx + metres / mx, maxy + metres / my)


def merge_close(candidates: Sequence[Candidate], *, within_m: float) -> list[Candidate]:
    """Stops closer than ``within_m`` become one, at the heaviest one's place, with the weights and reasons summed.

    Must-visit stops are never merged away: a stop merged into one is visited with it.
    """
    if not candidates:
        return []
    order = sorted(candidates, key=lambda c: (not c.must, -c.weight, c.ref))
    lat0 = float(np.mean([c.lat for c in order]))
    mx, my = metres_per_degree(lat0)
    xy = np.array([[c.lon * mx, c.lat * my] for c in order])
    taken = np.zeros(len(order), dtype=bool)
    out = []
    for i, anchor in enumerate(order):
        if taken[i]:
            continue
        near = np.flatnonzero(~taken & (np.hypot(*(xy - xy[i]).T) <= within_m))
        taken[near] = True
        group = [order[j] for j in near]
        out.append(Candidate(ref=anchor.ref, name=anchor.name, lon=anchor.lon, lat=anchor.lat,
                             weight=float(sum(c.weight for c in group)),
                             reasons=[r for c in group for r in c.reasons], must=any(c.must for c in group)))
    return out


def road_bounds(area: BaseGeometry, margin_m: float) -> tuple[float, float, float, float]:
    """The bbox (WGS-84) of the roads a route in this area may use."""
    return tuple(_grown(area, margin_m).bounds)  # type: ignore[return-value]
