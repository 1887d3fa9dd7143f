"""Patrol route planning: weight collected against the greedy baselines on the demo district and the demo city,
and time per plan with 100 candidate stops on a 50,000-edge street network.

Usage: python bench/bench_patrol.py [--no-demo] [--no-lattice] [--city] [--areas N] [--db demo.db]

``--db`` keeps the demo's SQLite file between runs (built there the first time; with ``--city``, the city's).

1. Demo district (川汇区, seed 1) in SQLite, hotspot window the 90 days before the demo's end, each area planned
   from the road point nearest its centre: 20 community liaisons spread over the alphabet (passing over those
   with nothing to patrol) on foot with 20 and 45 minutes, and the street liaisons (station chiefs, whose areas
   hold many more stops) on foot with 60 and 120 minutes and by bike with 120. Compared on the same stops and
   travel times with two greedy baselines: "best per minute" (next: the stop with the most weight per second
   of travel that still lets the patrol get back) and "nearest" (next: the nearest stop that still fits);
   total weight and hotspot weight collected, over all areas and over those where the budget binds (the plan
   leaves some of the offered weight behind; elsewhere every tour collects everything), and every route's
   duration on the real paths against its budget.
2. With ``--city``, instead of the district: the demo city (the ten Zhoukou districts, seed 1, 1,000,000
   incidents; building and loading it into SQLite takes minutes) and 20 street liaisons (station chiefs) spread
   over the alphabet (every k-th; one with nothing to patrol or no stop within reach is replaced from the next
   pass: the hot cells are those of the whole city, and most rural towns hold none and no key place), each with
   a shift's budget: on foot with 60 and 120 minutes and by bike with 120, as in 1. Should fewer than 20 street
   liaisons have something to patrol, the output says so and 20 community liaisons on foot with 60 minutes
   (where the budget binds) are planned as well.
   In 1 and 2 the data derived from the store is first built as ``mapserver serve`` builds it before forking its
   workers (:func:`mapserver.serving.warm_store_caches`: the road layer's network and the hotspot study areas), so
   each row's first plan is what a worker's first plan costs; each row prints its first, median and slowest plan.
3. A synthetic street lattice, 158 × 158 blocks of 100 m (50,244 road edges, every 4th street one-way), in
   SQLite, one street grid over it and 100 key places as the candidate stops: time per plan by car with a
   60-minute budget, end to end (store reads included): cold (the plan reads the roads and builds the network),
   first after the caches are built at start (as ``mapserver serve`` does before forking its workers), and
   later plans; and by step.
Issue 8's targets: on the demo city, for 20 liaison areas, the hotspot weight collected within the budget ≥ 1.2 ×
a greedy nearest-next-best-stop baseline, every route within its budget; ≤ 3 s per plan with 100 candidate stops
on a 50,000-edge network.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, box

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_demo import machine

from mapserver.config import Settings
from mapserver.derived import DerivedData
from mapserver.errors import Problem
from mapserver.model import Grid, Place
from mapserver.patrol.planner import PlanContext, plan_patrol
from mapserver.patrol.request import parse_plan_request
from mapserver.serving import warm_store_caches
from mapserver.store import Store, open_store

ZONE = "Asia/Shanghai"
TARGET_RATIO = 1.2
TARGET_SECONDS = 3.0


def _plan(derived: DerivedData, body: dict[str, Any], now: Any, settings: Settings) -> tuple[dict[str, Any], float]:
    request = parse_plan_request(body, zone=ZONE, now=now, hotspot_days=settings.patrol.hotspot_days)
    context = PlanContext(settings=settings.patrol, timezone=ZONE, offline_after_s=10**9, now=now)
    started = time.perf_counter()
    found = plan_patrol(derived, request, context)
    return found, time.perf_counter() - started


def _liaisons(store: Store, level: int) -> list[str]:
    """Liaisons named once who serve a base grid of ``level`` (1: a street's station chief, 2: a community's)."""
    staff = store.layers.query("grid_staff", where={"role": "police_liaison"})
    people: dict[str, set[tuple[str | None, str | None]]] = {}
    for person in staff:
        people.setdefault(person.name, set()).add((person.phone, person.unit))
    grids = {g.code for g in store.layers.query("grids", where={"level": level, "kind": "base"})}
    return sorted({p.name for p in staff if p.grid_code in grids and len(people[p.name]) == 1})


def _start_near_centre(store: Store, liaison: str) -> dict[str, float]:
    """The point of the road nearest the centre of the liaison's outermost grids (so every start is on a road)."""
    grids = [store.layers.get("grids", p.grid_code) for p in
             store.layers.query("grid_staff", where={"role": "police_liaison", "name": liaison})]
    top = min(g.level for g in grids)
    area = shapely.union_all([g.geom for g in grids if g.level == top])
    centre = area.centroid
    nearest = min(store.layers.query("roads", bbox=area.bounds), key=lambda r: r.geom.distance(centre))
    foot = nearest.geom.interpolate(nearest.geom.project(centre))
    return {"lon": foot.x, "lat": foot.y}


def _demo_store(path: Path | None, scale: str = "district") -> Store:
    """The demo district or city in SQLite: at ``path`` when given (built there the first time, under another name
    until the load has finished), else in a temporary file."""
    from mapserver.demo import build_city, load_city

    target = path or Path(tempfile.mkdtemp()) / "bench.db"
    if not target.exists():
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        store = open_store(f"sqlite:///{partial}")
        store.migrate()
        started = time.perf_counter()
        city = build_city(seed=1, scale=scale)
        built = time.perf_counter()
        load_city(store, city, progress=False)
        store.close()
        del city
        partial.rename(target)
        print(f"demo {scale} built in {built - started:.0f} s and loaded into SQLite in "
              f"{time.perf_counter() - built:.0f} s")
    store = open_store(f"sqlite:///{target}")
    store.migrate()
    return store


def _spread(names: list[str], n: int) -> list[str]:
    """``names`` in passes of every k-th, so the first ``n`` are spread over the list and the rest follow."""
    stride = max(1, len(names) // n)
    return [names[k] for first in range(stride) for k in range(first, len(names), stride)]


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}×" if theirs else "—"


def _compare(derived: DerivedData, label: str, names: list[str], *, n_areas: int, mode: str, budget: int) -> int:
    """Plan each area (passing over those with nothing to patrol) and print the sums against both baselines, over
    all areas and over those where the budget binds (the plan leaves some of the offered weight behind); return
    how many areas were planned."""
    from mapserver.demo import AS_OF

    settings, store = Settings(), derived.store
    keys = ("ours", "greedy", "nearest", "ours_hot", "greedy_hot", "nearest_hot")
    sums, binding = dict.fromkeys(keys, 0.0), dict.fromkeys(keys, 0.0)
    over, bound, planned, passed, times = 0, 0, 0, 0, []
    started = time.perf_counter()
    for name in names:
        if planned == n_areas:
            break
        body = {"area": {"liaison": name}, "start": _start_near_centre(store, name), "budget_min": budget,
                "mode": mode, "since": (AS_OF - timedelta(days=90)).isoformat(), "until": AS_OF.isoformat()}
        try:
            found, seconds = _plan(derived, body, AS_OF, settings)
        except Problem as problem:
            if problem.status != 422:
                raise
            passed += 1  # nothing to patrol in the window, or no stop within reach of the budget
            continue
        planned += 1
        solver = found["solver"]
        got = {"ours": solver["weight"], "greedy": solver["greedy_weight"], "nearest": solver["nearest_weight"],
               "ours_hot": found["hotspot"]["collected"], "greedy_hot": solver["greedy_hotspot_weight"],
               "nearest_hot": solver["nearest_hotspot_weight"]}
        binds = found["weight"]["collected"] < found["weight"]["offered"] - 1e-9
        for key in keys:
            sums[key] += got[key]
            binding[key] += got[key] if binds else 0.0
        over += found["duration_min"] > budget
        bound += binds
        times.append(seconds)
    first, median, slowest = (times[0], statistics.median(times), max(times)) if times else (float("nan"),) * 3
    print(f"  {label}, {mode} {budget} min: {planned} areas ({passed} passed over); weight {sums['ours']:,.0f} = "
          f"{_ratio(sums['ours'], sums['greedy'])} greedy best-per-minute ({sums['greedy']:,.0f}), "
          f"{_ratio(sums['ours'], sums['nearest'])} greedy nearest ({sums['nearest']:,.0f}) [target ≥ "
          f"{TARGET_RATIO}×]; hotspot weight {_ratio(sums['ours_hot'], sums['greedy_hot'])} / "
          f"{_ratio(sums['ours_hot'], sums['nearest_hot'])}; budget binding in {bound} of {planned}, over those: "
          f"weight {_ratio(binding['ours'], binding['greedy'])} / {_ratio(binding['ours'], binding['nearest'])}, "
          f"hotspot weight {_ratio(binding['ours_hot'], binding['greedy_hot'])} / "
          f"{_ratio(binding['ours_hot'], binding['nearest_hot'])}; over budget {over} [target 0]; first plan "
          f"{first:.2f} s, median {median:.2f} s, slowest {slowest:.2f} s per plan [target ≤ {TARGET_SECONDS:g} s] "
          f"({time.perf_counter() - started:.0f} s for the row, load average {_load()})", flush=True)
    return planned


def _warm_as_served(store: Store) -> DerivedData:
    """The store's derived data, built as ``mapserver serve`` builds it before forking (the grid index, the road
    network, the hotspot study areas)."""
    started = time.perf_counter()
    derived = DerivedData(store)
    warm_store_caches(derived, Settings())
    print(f"  caches built as before the fork of a served worker in {time.perf_counter() - started:.2f} s "
          f"(load average {_load()})", flush=True)
    return derived


def demo_district(n_areas: int, db: Path | None) -> None:
    store = _demo_store(db)
    print(f"demo district: {store.layers.count('roads'):,} road edges, {store.layers.count('incidents'):,} "
          "incidents; hotspot window the last 90 days")
    derived = _warm_as_served(store)
    communities = _liaisons(store, 2)
    spread = communities[::max(1, len(communities) // (2 * n_areas))]  # over the alphabet, twice what is needed
    for budget in (20, 45):
        _compare(derived, "community liaisons", spread, n_areas=n_areas, mode="foot", budget=budget)
    streets = _liaisons(store, 1)
    for mode, budget in (("foot", 60), ("foot", 120), ("bike", 120)):
        _compare(derived, "street liaisons (station chiefs)", streets, n_areas=n_areas, mode=mode, budget=budget)
    store.close()


def demo_city(n_areas: int, db: Path | None) -> None:
    store = _demo_store(db, "city")
    print(f"demo city: {store.layers.count('roads'):,} road edges, {store.layers.count('incidents'):,} incidents; "
          "hotspot window the last 90 days")
    derived = _warm_as_served(store)
    streets = _liaisons(store, 1)
    print(f"  {len(streets)} street liaisons (station chiefs) named once; {n_areas} spread over the alphabet")
    short = 0
    for mode, budget in (("foot", 60), ("foot", 120), ("bike", 120)):
        planned = _compare(derived, "street liaisons (station chiefs)", _spread(streets, n_areas), n_areas=n_areas,
                           mode=mode, budget=budget)
        short = max(short, n_areas - planned)
    if short:
        print(f"  fewer than {n_areas} street liaisons have something to patrol: {n_areas} community liaisons too")
        communities = _liaisons(store, 2)
        _compare(derived, "community liaisons", _spread(communities, n_areas), n_areas=n_areas, mode="foot",
                 budget=60)
    store.close()


def _load() -> str:
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def lattice_network() -> None:
    from mapserver.patrol.lattice import street_lattice

    west, south, blocks = 114.50, 33.50, 158
    roads = street_lattice(west=west, south=south, blocks_x=blocks, blocks_y=blocks, block_m=100.0,
                           oneway_every=4)
    lattice = box(*shapely.total_bounds([r.geom for r in roads]))
    street = Grid(code="411699001000000", level=1, name="格子街道", geom=lattice.buffer(0.001, join_style="mitre"))
    rng = np.random.default_rng(8)
    centre = lattice.centroid
    # 100 key places within about 4 km of the start: reachable by car, more than an hour can visit.
    offsets = rng.uniform(-0.04, 0.04, (100, 2))
    places = [Place(code=f"K{k:03d}", name=f"重点{k}", kind="school", geom=Point(centre.x + dx, centre.y + dy))
              for k, (dx, dy) in enumerate(offsets)]
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/lattice.db")
        store.migrate()
        store.layers.add("grids", [street])
        store.layers.add("roads", roads)
        store.layers.add("places", places)
        print(f"lattice: {len(roads):,} road edges, {len(places)} key places")
        _steps(store, street, settings)
        quicker = settings.model_copy(update={"patrol": settings.patrol.model_copy(update={"solve_time_s": 1.0})})
        for mode, budget, chosen in (("car", 60, settings), ("car", 60, quicker), ("bike", 90, settings),
                                     ("foot", 120, settings)):
            body = {"area": {"grids": [street.code]}, "start": {"lon": centre.x, "lat": centre.y},
                    "budget_min": budget, "mode": mode}
            # Cold: nothing kept, the plan reads the roads and builds the network and the hotspot study.
            _, cold = _plan(DerivedData(store), body, datetime.now(UTC), chosen)
            # As after `mapserver serve` starts: the network and the study built before the first request.
            started = time.perf_counter()
            derived = DerivedData(store)
            warm_store_caches(derived, chosen)
            warm_s = time.perf_counter() - started
            runs, over = [], 0
            for _ in range(4):
                found, seconds = _plan(derived, body, datetime.now(UTC), chosen)
                runs.append(seconds)
                over += found["duration_min"] > budget
            later = statistics.median(runs[1:])
            solver = found["solver"]
            print(f"  {mode} {budget} min, solve_time_s {chosen.patrol.solve_time_s:g}, {solver['candidates']} "
                  f"candidates on {found['network']['edges']:,} directed edges: cold first plan {cold:.2f} s "
                  f"(network and hotspot study built in it); caches built at start {warm_s:.2f} s, then first plan "
                  f"{runs[0]:.2f} s (target ≤ {TARGET_SECONDS:g} s: ratio {runs[0] / TARGET_SECONDS:.2f}), later "
                  f"plans median {later:.2f} s (ratio {later / TARGET_SECONDS:.2f}); solver "
                  f"{solver['time_s']:.2f} s of its {solver['limit_s']:g} s limit; {len(found['stops'])} stops, "
                  f"{found['duration_min']:.1f} of {budget} min, over budget {over}; weight {solver['weight']:.0f} "
                  f"vs greedy {solver['greedy_weight']:.0f}", flush=True)
        store.close()


def _steps(store: Store, street: Grid, settings: Settings) -> None:
    """Time the steps before the solver on their own: the layer's network (read, build, pieces), the area's part
    of it, snapping and the legs; then the networkx graph (built only when asked for) and, for comparison, the
    roads read as records."""
    from mapserver.patrol.candidates import road_bounds
    from mapserver.patrol.legs import shortest_legs
    from mapserver.patrol.network import RoadNetwork

    t0 = time.perf_counter()
    codes, wkb, oneway = store.layers.road_columns()
    t1 = time.perf_counter()
    network = RoadNetwork.from_columns(codes, shapely.from_wkb(wkb), oneway)
    t2 = time.perf_counter()
    network.pieces()
    t3 = time.perf_counter()
    part = network.within(road_bounds(street.geom, settings.patrol.road_margin_m))
    part.pieces()
    t4 = time.perf_counter()
    centre = street.geom.centroid
    places = store.layers.query("places")
    snaps = [part.snap(p.geom.x, p.geom.y, within_m=settings.patrol.snap_m) for p in places]
    start = part.snap(centre.x, centre.y, within_m=settings.patrol.snap_m)
    t5 = time.perf_counter()
    shortest_legs(part, [start, *snaps], limit_m=3600 * settings.patrol.speed_mps("car"))
    t6 = time.perf_counter()
    graph = network.graph
    t7 = time.perf_counter()
    store.layers.query("roads")
    t8 = time.perf_counter()
    print(f"  steps: read {len(codes):,} roads as columns {t1 - t0:.2f} s, build the network (WKB, frame, arrays, "
          f"STRtree) {t2 - t1:.2f} s, strongly connected pieces {t3 - t2:.2f} s, the area's part "
          f"({part.road_count:,} roads) {t4 - t3:.2f} s, snap 101 points {t5 - t4:.2f} s, shortest legs 101 × 101 "
          f"{t6 - t5:.2f} s; the networkx graph when asked for ({graph.number_of_edges():,} edges) {t7 - t6:.2f} s; "
          f"for comparison, the roads read as records (store.query) {t8 - t7:.2f} s", flush=True)


def main() -> None:
    print(f"bench_patrol · {machine()} {datetime.now(UTC):%H:%M} UTC; load average {_load()}")
    areas = int(sys.argv[sys.argv.index("--areas") + 1]) if "--areas" in sys.argv else 20
    db = Path(sys.argv[sys.argv.index("--db") + 1]) if "--db" in sys.argv else None
    if "--no-lattice" not in sys.argv:
        lattice_network()
    if "--no-demo" not in sys.argv:
        (demo_city if "--city" in sys.argv else demo_district)(areas, db)


if __name__ == "__main__":
    main()
