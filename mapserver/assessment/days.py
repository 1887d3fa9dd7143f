"""The day measures of grid workers over a month, kept per person and day so that a month is a sum of at most 31
rows per person, not a month of fixes (a district has 2,000 workers sending a fix every 10 s).

A finished local day (before ``today`` in ``incidents.timezone``) is computed from its fixes the first time it is
asked for (:func:`mapserver.tracks.measures.day_measures`: metres walked, seconds moving, seconds inside the
person's own grid, fixes) and kept in ``track_days``; later asks read the kept row. A day without fixes is kept
too (all zero), so it is not looked for again. Today is still going on: it is not part of a month's figures and
is never kept; one person's today is measured on demand (:func:`today_of`). Fixes that reach the store for a day
already kept (a phone that was offline for days) do not change it. The grid is the person's own grid when the
day is first computed (WGS-84 polygon; none: ``in_grid_s`` is None).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
from shapely.geometry.base import BaseGeometry

from mapserver.assessment.month import Month
from mapserver.errors import Problem
from mapserver.store import Store
from mapserver.store.assessment import DaySummary, Worker, WorkerScope
from mapserver.tracks.measures import day_measures, day_window


class GridAreas:
    """Grid code → its polygon (WGS-84), read once per code; None for no grid or one that is gone."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._areas: dict[str, BaseGeometry | None] = {}

    def __call__(self, code: str | None) -> BaseGeometry | None:
        if code is None:
            return None
        if code not in self._areas:
            try:
                self._areas[code] = self._store.grids.area(self._store.grids.jurisdiction(code))
            except Problem:
                self._areas[code] = None
        return self._areas[code]


def computed_days(store: Store, worker: Worker, days: Sequence[date], zone: str,
                  area: BaseGeometry | None) -> list[DaySummary]:
    """The measures of ``worker``'s ``days`` (in order) from their fixes: one read of the fixes from the first
    day's start to the last day's end, cut at each local midnight."""
    if not days:
        return []
    since, until = day_window(days[0], zone)[0], day_window(days[-1], zone)[1]
    track = store.tracks.track(worker.name, since, until)
    out = []
    for day in days:
        start, end = (t.timestamp() for t in day_window(day, zone))
        a, b = np.searchsorted(track.seconds, [start, end], side="left")
        m = day_measures(track.seconds[a:b], track.lon[a:b], track.lat[a:b], area)
        out.append(DaySummary(worker.name, day, m.fixes, m.distance_m, m.moving_s, m.inside_grid_s))
    return out


def month_days(store: Store, workers: Sequence[Worker], scope: WorkerScope, month: Month, *, zone: str,
               today: date) -> dict[str, list[DaySummary]]:
    """Per worker (of ``scope``), the measures of each finished day of ``month`` (before ``today``), in order, from
    ``track_days``: computed and kept first when missing. Today is left out: its fixes are still coming, and
    measuring every worker's day on each ask is what the kept days are there to spare (see :func:`today_of`)."""
    days = [d for d in month.days() if d < today]
    if not days:
        return {w.name: [] for w in workers}
    kept = store.assessment.days(scope, days[0], days[-1])
    areas = GridAreas(store)
    out: dict[str, list[DaySummary]] = {}
    new: list[DaySummary] = []
    for worker in workers:
        missing = [d for d in days if (worker.name, d) not in kept]
        made = {s.day: s for s in computed_days(store, worker, missing, zone, areas(worker.grid_code))}
        new.extend(made.values())
        out[worker.name] = [kept.get((worker.name, d)) or made[d] for d in days]
    if new:
        store.assessment.keep_days(new)
    return out


def today_of(store: Store, worker: Worker, *, zone: str, today: date) -> DaySummary:
    """One worker's measures of ``today`` so far, from the fixes; never kept."""
    return computed_days(store, worker, [today], zone, GridAreas(store)(worker.grid_code))[0]
