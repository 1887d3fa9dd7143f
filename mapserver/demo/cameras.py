"""Video cameras (雪亮工程) of a demo district: where they stand, which way they look, whether they are online.

Cameras cluster at main-road junctions and along main roads, around key places
(more at hotspots) and at compound gates; all stand inside the district.
Positions are drawn in :data:`~mapserver.demo.boundary.METRIC_CRS` metres and
stored as WGS-84 points rounded to 7 decimals. Direction is degrees clockwise
from north (grid north of the metric CRS, within a degree of true north here),
field of view 40–100°, range 30–120 m (wide lenses see less far). Exactly 1.5% are
offline (online rate 98.5%, as published for 川汇区). Offline cameras were last
seen days before ``as_of``; online ones have no ``last_seen`` until their first
heartbeat reaches the server (a stale time would make them count as offline).

Codes are 20-digit GB/T 28181 device codes: 6-digit county code + 2-digit
grassroots unit (position of the level-1 grid, 01…) + 2-digit industry code (00 road,
01 community, 02 internal) + type code 131 (camera) or 132 (IP camera) at
digits 11–13 + network digit 0 + 6-digit serial.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import shapely

from mapserver.demo.boundary import points_from_metric
from mapserver.demo.grids import GridTree
from mapserver.demo.hotspots import Hotspot
from mapserver.demo.places import KeyPlace
from mapserver.demo.roads import Network
from mapserver.model import Camera

MIX = {"junction": 0.4, "road": 0.25, "place": 0.2, "gate": 0.15}
CLASS_WEIGHT = {"primary": 4.0, "secondary": 2.0, "tertiary": 0.6, "residential": 0.15}
INDUSTRY = {"junction": "00", "road": "00", "place": "02", "gate": "01"}
OFFLINE_SHARE = 0.015
SIDES = ("北", "东", "南", "西")  # by bearing: 0°, 90°, 180°, 270°


@dataclass
class Sites:
    """Candidate camera sites of one kind: metric x, y, view bearing (degrees) and a name each."""

    x: list[float]
    y: list[float]
    bearing: list[float]
    names: list[str]

    def add(self, x: float, y: float, bearing: float, name: str) -> None:
        """One more site."""
        self.x.append(x)
        self.y.append(y)
        self.bearing.append(bearing % 360.0)
        self.names.append(name)


def build_cameras(tree: GridTree, network: Network, places: list[KeyPlace], hotspots: list[Hotspot],
                  rng: np.random.Generator, as_of: datetime) -> list[Camera]:
    """``spec.cameras`` cameras for the district."""
    total = tree.spec.cameras
    counts = dict(zip(MIX, _split_total(total, list(MIX.values())), strict=True))
    makers = {"junction": _junction_sites, "road": _road_sites, "place": _place_sites, "gate": _gate_sites}
    out: list[Camera] = []
    offline = set(rng.choice(total, size=round(total * OFFLINE_SHARE), replace=False).tolist())
    for kind, maker in makers.items():
        sites = maker(tree, network, places, hotspots, rng, counts[kind])
        out += _cameras(tree, sites, kind, len(out), offline, rng, as_of)
    return out


def _split_total(total: int, shares: list[float]) -> list[int]:
    counts = [int(total * s) for s in shares]
    counts[0] += total - sum(counts)
    return counts


def _inside(tree: GridTree, x: float, y: float) -> bool:
    return bool(shapely.contains_xy(tree.boundary_metric, x, y))


def _junction_sites(tree: GridTree, network: Network, places: list[KeyPlace], hotspots: list[Hotspot],
                    rng: np.random.Generator, n: int) -> Sites:
    roads, junctions = network.roads, network.junctions
    weights = np.array([CLASS_WEIGHT[roads[j.through].road_class] + CLASS_WEIGHT[roads[j.ending].road_class]
                        for j in junctions])
    sites = Sites([], [], [], [])
    while len(sites.x) < n:
        j = junctions[int(rng.choice(len(junctions), p=weights / weights.sum()))]
        ending = roads[j.ending].geom
        # Stand a few metres up the side road and look at the junction.
        back = ending.interpolate(float(rng.uniform(6, 15)) if ending.project(j.point) < 1 else
                                  ending.length - float(rng.uniform(6, 15)))
        if not _inside(tree, back.x, back.y):
            continue
        bearing = np.degrees(np.arctan2(j.point.x - back.x, j.point.y - back.y))
        sites.add(back.x, back.y, bearing, f"{roads[j.through].name}与{roads[j.ending].name}交叉口")
    return sites


def _road_sites(tree: GridTree, network: Network, places: list[KeyPlace], hotspots: list[Hotspot],
                rng: np.random.Generator, n: int) -> Sites:
    roads = network.roads
    weights = np.array([r.geom.length * CLASS_WEIGHT[r.road_class] ** 2 for r in roads])
    sites = Sites([], [], [], [])
    while len(sites.x) < n:
        road = roads[int(rng.choice(len(roads), p=weights / weights.sum()))]
        at = float(rng.uniform(0.1, 0.9)) * road.geom.length
        p, ahead = road.geom.interpolate(at), road.geom.interpolate(min(at + 5, road.geom.length))
        if not _inside(tree, p.x, p.y):
            continue
        bearing = np.degrees(np.arctan2(ahead.x - p.x, ahead.y - p.y)) + (180 if rng.random() < 0.5 else 0)
        sites.add(p.x, p.y, bearing, f"{road.name}{int(at // 100) + 1}号杆")
    return sites


def _place_sites(tree: GridTree, network: Network, places: list[KeyPlace], hotspots: list[Hotspot],
                 rng: np.random.Generator, n: int) -> Sites:
    boost = {h.place.place.code: 4.0 for h in hotspots}
    weights = np.array([1.0 + boost.get(p.place.code, 0.0) for p in places])
    sites = Sites([], [], [], [])
    while len(sites.x) < n:
        place = places[int(rng.choice(len(places), p=weights / weights.sum()))]
        x, y = np.asarray(place.point.coords)[0] + rng.normal(0, 60, size=2)
        if not _inside(tree, x, y):
            continue
        label = "门口" if rng.random() < 0.5 else "周边"
        sites.add(x, y, float(rng.uniform(0, 360)), f"{place.place.name}{label}")
    return sites


def _gate_sites(tree: GridTree, network: Network, places: list[KeyPlace], hotspots: list[Hotspot],
                rng: np.random.Generator, n: int) -> Sites:
    compounds = [c for c in tree.levels[2] if not c.rural] or tree.levels[2]
    weights = np.array([c.population for c in compounds], dtype=float)
    sites = Sites([], [], [], [])
    while len(sites.x) < n:
        compound = compounds[int(rng.choice(len(compounds), p=weights / weights.sum()))]
        ring = compound.metric.boundary
        gate = ring.interpolate(float(rng.uniform(0, ring.length)))
        centre = compound.metric.representative_point()
        dx, dy = centre.x - gate.x, centre.y - gate.y
        step = 5.0 / max(np.hypot(dx, dy), 1e-9)
        x, y = gate.x + dx * step, gate.y + dy * step
        if not _inside(tree, x, y):
            continue
        # Look out through the gate; name the gate by the side of the compound it is on.
        outward = float(np.degrees(np.arctan2(-dx, -dy))) % 360
        sites.add(x, y, outward, f"{compound.name}{SIDES[int((outward + 45) % 360 // 90)]}门")
    return sites


def _cameras(tree: GridTree, sites: Sites, kind: str, start: int, offline: set[int], rng: np.random.Generator,
             as_of: datetime) -> list[Camera]:
    n = len(sites.x)
    geoms = points_from_metric(np.asarray(sites.x), np.asarray(sites.y))
    units = _level1_numbers(tree, np.asarray(sites.x), np.asarray(sites.y))
    fov = np.round(rng.uniform(40, 100, size=n), 1)
    reach = np.round(np.clip(120 - (fov - 40) * 1.2 + rng.normal(0, 10, size=n), 30, 120), 1)
    types = np.where(rng.random(n) < 0.75, "132", "131")
    out = []
    for i in range(n):
        serial = start + i
        down = serial in offline
        ago = float(rng.uniform(3600, 30 * 86400)) if down else float(rng.uniform(0, 120))
        out.append(Camera(
            code=f"{tree.spec.adcode}{units[i]:02d}{INDUSTRY[kind]}{types[i]}0{serial + 1:06d}",
            name=sites.names[i], geom=geoms[i], direction_deg=round(float(sites.bearing[i]), 1), fov_deg=float(fov[i]),
            range_m=float(reach[i]), status="offline" if down else "online",
            last_seen=(as_of - timedelta(seconds=round(ago))) if down else None,
        ))
    return out


def _level1_numbers(tree: GridTree, x: np.ndarray, y: np.ndarray) -> list[int]:
    """The 1-based position of the level-1 grid each point lies in (the 2-digit grassroots unit)."""
    cells = np.asarray([c.metric for c in tree.levels[0]], dtype=object)
    found = np.zeros(len(x), dtype=int)
    for index, cell in enumerate(cells):
        inside = shapely.contains_xy(cell, x, y) & (found == 0)
        found[inside] = index + 1
    found[found == 0] = 1
    return found.tolist()
