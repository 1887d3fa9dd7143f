"""The grid index itself: build, point lookup, bulk assign, edits in place and freshness.

See the package docstring (:mod:`mapserver.gridindex`) for the semantics. Coordinates
are WGS-84 (EPSG:4326) lon/lat degrees; distances are metres.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import shapely
from rtree import index as rtree_index

from mapserver.derived import Kind
from mapserver.errors import Problem
from mapserver.gridindex import cover as cv
from mapserver.gridindex.meta import GridRef, Lookup, Meta, build_meta, staff_by_code, update_meta
from mapserver.gridindex.metric import LocalFrame
from mapserver.gridindex.nearest import BoxGroups
from mapserver.gridindex.raster import Raster, Window, cell_size_m, raster_for
from mapserver.model import Grid, GridStaff, check_record

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from mapserver.derived import DerivedData
    from mapserver.store import Store

_CENTRE = shapely.Point(0.0, 0.0)  # the query point in its own frame
TIE_M = 1e-3
"""Grids this close (metres) to equally near count as tied when snapping; the finest, then smallest code wins."""
EDITS_IN_PLACE = 16
"""A refresh that finds at most max(this, 1 % of the grids) changed applies them as edits; more means a rebuild."""


@dataclass(frozen=True)
class _State:
    """One consistent snapshot: readers take ``index._state`` once and use only it."""

    grids: list[Grid | None]  # by slot; None once removed (slots are never reused)
    geoms: np.ndarray  # prepared geometries by slot, for vectorised tests
    geom_list: list[BaseGeometry | None]  # the same, as a list: cheaper item access from plain Python
    slot_of: dict[str, int]  # code → slot of every live grid
    base_slot_of: dict[str, int]  # the same for base grids only
    children: dict[str, tuple[int, ...]]  # parent code → slots of live base grids naming it
    base: cv.BaseCover
    specials: dict[int, cv.SpecialEntry]
    near: BoxGroups  # base grid boxes for snapping
    staff: dict[str, tuple[GridStaff, ...]]
    meta: Meta


def _rank(grid: Grid) -> tuple[int, str]:
    """The tie-break rule as a sort key: higher level first, then smaller code."""
    return -grid.level, grid.code


def _slots(grids: Sequence[Grid | None], kind: str, among: Iterable[int] | None = None) -> np.ndarray:
    """Live slots of one kind, best first (by :func:`_rank`)."""
    candidates = range(len(grids)) if among is None else among
    found = [s for s in candidates if grids[s] is not None and grids[s].kind == kind]
    found.sort(key=lambda s: _rank(grids[s]))
    return np.array(found, dtype=np.int64)


def _children(grids: Sequence[Grid | None]) -> dict[str, tuple[int, ...]]:
    out: dict[str, list[int]] = {}
    for slot, grid in enumerate(grids):
        if grid is not None and grid.kind == "base" and grid.parent_code:
            out.setdefault(grid.parent_code, []).append(slot)
    return {code: tuple(slots) for code, slots in out.items()}


def _descendants(grids: Sequence[Grid | None], children: dict[str, tuple[int, ...]], codes: Iterable[str]) -> set[int]:
    """Live base slots below the grids with these codes (following parent codes down)."""
    found: set[int] = set()
    todo = list(codes)
    while todo:
        for slot in children.get(todo.pop(), ()):
            if slot not in found:
                found.add(slot)
                todo.append(grids[slot].code)
    return found


def _check_point(lon: float, lat: float) -> tuple[float, float]:
    """Plain floats in range, or a 400 problem naming the bad coordinate."""
    out = []
    for name, value, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise Problem(400, f"{name} must be a number of degrees, got {value!r}", param=name) from None
        if not (math.isfinite(number) and -limit <= number <= limit):
            raise Problem(400, f"{name} must be a finite number in -{limit:g}..{limit:g} degrees, got {value!r}",
                          param=name)
        out.append(number)
    return out[0], out[1]


def _build_state(grids: Sequence[Grid], staff: dict[str, tuple[GridStaff, ...]]) -> _State:
    """A snapshot over these grids (codes unique) from scratch: cell size, raster, covers, lookup material."""
    grid_list: list[Grid | None] = list(grids)
    geoms = np.empty(len(grid_list), dtype=object)
    geoms[:] = [g.geom for g in grids]
    shapely.prepare(geoms)
    base_slots, special_slots = _slots(grid_list, "base"), _slots(grid_list, "special")
    if len(grid_list):
        bounds = shapely.total_bounds(geoms)
        finest_level = max((grid_list[s].level for s in base_slots), default=0)
        finest = [geoms[s] for s in base_slots if grid_list[s].level == finest_level]
        raster = raster_for(bounds, cell_size_m(finest, bounds))
        base = cv.BaseCover.from_patch(raster, cv.cover_window(raster, raster.whole, geoms[base_slots], base_slots))
        specials = cv.special_cells(raster, raster.whole, geoms[special_slots], special_slots)
    else:
        base, specials = cv.BaseCover.empty(), {}
    base_slot_of = {grid_list[s].code: int(s) for s in base_slots}
    near = BoxGroups.build(base_slots, np.array([grid_list[s].level for s in base_slots], dtype=np.int64),
                           shapely.bounds(geoms[base_slots]).reshape(-1, 4))
    return _State(grid_list, geoms, list(geoms), {g.code: s for s, g in enumerate(grids)}, base_slot_of,
                  _children(grid_list), base, specials, near, staff, build_meta(grid_list, base_slot_of, staff))


def _new_rtree(grids: Sequence[Grid | None]) -> rtree_index.Index:
    """An R-tree of grid bounding boxes by slot (bulk-loaded)."""
    live = [s for s, g in enumerate(grids) if g is not None]
    boxes = shapely.bounds(np.array([grids[s].geom for s in live], dtype=object)).tolist() if live else []
    items = [(s, tuple(b), None) for s, b in zip(live, boxes, strict=True)]
    return rtree_index.Index(iter(items)) if items else rtree_index.Index()


class GridIndex:
    """Point → grids for every grid of a district or city, held in memory (see the package docstring)."""

    def __init__(self, grids: Iterable[Grid], staff: Iterable[GridStaff] = (), *, max_snap_m: float = 50.0) -> None:
        if not (isinstance(max_snap_m, int | float) and max_snap_m >= 0):
            raise ValueError(f"max_snap_m must be a number of metres ≥ 0, got {max_snap_m!r}")
        self.max_snap_m = float(max_snap_m)
        self._write_lock = threading.RLock()  # one writer at a time; readers never wait for it
        self._rtree_lock = threading.Lock()  # libspatialindex is not safe for a read during a write
        self._refresh_lock = threading.Lock()
        self._versions: tuple[int, int] | None = None
        self._install(list({g.code: g for g in grids}.values()), staff_by_code(list(staff)))

    @classmethod
    def from_store(cls, store: Store, *, max_snap_m: float = 50.0) -> GridIndex:
        """An index of every grid and grid staff record in ``store`` (a :class:`mapserver.store.Store`)."""
        # Versions first: a write landing while we read makes the next refresh see a newer version.
        versions = (store.layers.data_version("grids"), store.layers.data_version("grid_staff"))
        index = cls(store.layers.query("grids"), store.layers.query("grid_staff"), max_snap_m=max_snap_m)
        index._versions = versions
        return index

    def _install(self, grids: list[Grid], staff: dict[str, tuple[GridStaff, ...]]) -> None:
        started = time.perf_counter()
        state = _build_state(grids, staff)
        tree = _new_rtree(state.grids)
        with self._rtree_lock:
            self._state, self._rtree = state, tree
        self.build_s = time.perf_counter() - started

    # -- reading ----------------------------------------------------------------

    def lookup(self, lon: float, lat: float, *, max_snap_m: float | None = None) -> Lookup | None:
        """The grids at a point (degrees): within a base grid, else snapped to the nearest one.

        Raises a 404 :class:`Problem` (with the distance) when the nearest base grid is farther than
        ``max_snap_m`` metres (default: the index's), a 400 one for a bad coordinate. Returns None
        only when the index holds no base grid at all.
        """
        lon, lat = _check_point(lon, lat)
        st = self._state
        cell = st.base.raster.cell(lon, lat)
        slot = st.base.slot_at(cell, lon, lat, st.geom_list)
        if slot < 0:
            return self._snap(st, lon, lat, self.max_snap_m if max_snap_m is None else max_snap_m)
        found = st.meta.within[slot]
        special = self._special_at(st, cell, lon, lat)
        if special:
            return Lookup(found.chain, special, found.staff, found.police_liaison, "within", 0.0)
        return found

    def assign(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        """The code of the finest base grid covering each point ("" for none; no snapping), same shape as lons."""
        x, y = np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)
        if x.shape != y.shape:
            raise Problem(400, f"lons and lats differ in shape: {x.shape} and {y.shape}", param="lat")
        st = self._state
        slots = st.base.slots_at(x.ravel(), y.ravel(), st.geoms)
        return st.meta.codes[slots].reshape(x.shape)

    def grid(self, code: str) -> Grid | None:
        """The grid record with this code, as indexed."""
        st = self._state
        slot = st.slot_of.get(code)
        return None if slot is None else st.grids[slot]

    def __len__(self) -> int:
        return len(self._state.slot_of)

    @property
    def cell_m(self) -> float:
        """The side of a cover cell in metres (see the package docstring for the rule)."""
        return self._state.base.raster.cell_m

    def stats(self) -> dict[str, float]:
        """Figures for logs and the bench: grids, cells, share of mixed cells, last full build seconds."""
        st = self._state
        base = len(_slots(st.grids, "base"))
        cells = st.base.raster.size
        mixed = int(np.count_nonzero(st.base.table < cv.NO_GRID))
        return {"grids": len(st.slot_of), "base_grids": base, "special_grids": len(st.slot_of) - base,
                "cell_m": st.base.raster.cell_m, "cells": cells, "mixed_share": mixed / cells if cells else 0.0,
                "build_s": self.build_s}

    def _special_at(self, st: _State, cell: int, lon: float, lat: float) -> tuple[GridRef, ...]:
        entry = st.specials.get(cell)
        if entry is None:
            return ()
        whole, partial = entry
        slots = [*whole, *(s for s in partial if shapely.intersects_xy(st.geom_list[s], lon, lat))]
        return tuple(sorted((st.meta.refs[s] for s in slots), key=lambda ref: ref.code))

    # -- snapping ---------------------------------------------------------------

    def _snap(self, st: _State, lon: float, lat: float, limit: float) -> Lookup | None:
        frame = LocalFrame(lon, lat)
        found = _nearest_base(st, frame)
        if found is None:
            return None
        slot, distance_m = found
        if distance_m > limit:
            raise Problem(404, f"no grid covers lon {lon:.6f}, lat {lat:.6f}; nearest grid {st.grids[slot].code} "
                               f"is {distance_m:.1f} m away (limit {limit:g} m)", param="lon")
        found_at = st.meta.within[slot]
        special = self._special_at(st, st.base.raster.cell(lon, lat), lon, lat)
        return Lookup(found_at.chain, special, found_at.staff, found_at.police_liaison, "nearest", distance_m)

    # -- editing ----------------------------------------------------------------

    def update_grid(self, grid: Grid) -> None:
        """Add a grid or replace the one with its code; only the cells it touches (before and after) are redone."""
        problems = check_record(grid) if isinstance(grid, Grid) else [("grid", "expected a Grid record")]
        if problems:
            raise Problem(422, "; ".join(f"{f}: {r}" for f, r in problems), param=problems[0][0])
        with self._write_lock:
            self._edit([grid], [])

    def remove_grid(self, code: str) -> bool:
        """Drop the grid with this code; False when there is none."""
        with self._write_lock:
            if code not in self._state.slot_of:
                return False
            self._edit([], [code])
            return True

    def set_staff(self, staff: Iterable[GridStaff]) -> None:
        """Replace every staff record (grids are left as they are)."""
        with self._write_lock:
            st = self._state
            by_code = staff_by_code(list(staff))
            self._state = replace(st, staff=by_code, meta=build_meta(st.grids, st.base_slot_of, by_code))

    def _edit(self, upserts: Sequence[Grid], removals: Sequence[str]) -> None:
        """Apply grid changes: in place when every new grid fits the raster, else by a rebuild."""
        st = self._state
        upserts = list({g.code: g for g in upserts}.values())
        if not all(st.base.raster.holds(g.geom.bounds) for g in upserts):
            merged = {code: g for code, slot in st.slot_of.items() if (g := st.grids[slot]) is not None}
            for code in removals:
                merged.pop(code, None)
            merged.update((g.code, g) for g in upserts)
            self._install(list(merged.values()), st.staff)
            return
        grids, geoms, slot_of = list(st.grids), list(st.geom_list), dict(st.slot_of)
        gone = [slot_of.pop(code) for code in {*removals, *(g.code for g in upserts)} if code in slot_of]
        for s in gone:
            grids[s] = geoms[s] = None
        for grid in upserts:
            shapely.prepare(grid.geom)
            slot_of[grid.code] = len(grids)
            grids.append(grid)
            geoms.append(grid.geom)
        added = [slot_of[g.code] for g in upserts]
        with self._rtree_lock:
            for s in gone:
                self._rtree.delete(s, st.grids[s].geom.bounds)
            for s in added:
                self._rtree.insert(s, grids[s].geom.bounds)
            self._state = self._patched(st, grids, geoms, slot_of, gone, added)

    def _patched(self, st: _State, grids: list[Grid | None], geom_list: list[BaseGeometry | None],
                 slot_of: dict[str, int], gone: list[int], added: list[int]) -> _State:
        """A new snapshot after slots ``gone`` were emptied and ``added`` appended (the R-tree knows already)."""
        geoms = np.empty(len(geom_list), dtype=object)
        geoms[:] = geom_list
        old = [st.grids[s] for s in gone]
        emptied = set(gone)
        base_slot_of = {code: s for code, s in st.base_slot_of.items() if s not in emptied}
        base_slot_of.update((grids[s].code, s) for s in added if grids[s].kind == "base")
        children = _children(grids) if gone or added else st.children
        raster, base, specials = st.base.raster, st.base, st.specials
        for grid in [*old, *(grids[s] for s in added)]:
            win = raster.window(grid.geom.bounds)
            near = list(self._rtree.intersection(raster.window_bounds(win)))
            if grid.kind == "base":
                slots = _slots(grids, "base", near)
                base = base.patched(cv.cover_window(raster, win, geoms[slots], slots))
            else:
                slots = _slots(grids, "special", near)
                kept = {c: e for c, e in specials.items() if not _in_window(raster, win, c)}
                specials = kept | cv.special_cells(raster, win, geoms[slots], slots)
        codes = {g.code for g in old} | {grids[s].code for s in added}
        targets = _descendants(grids, children, codes) | {s for s in added if grids[s].kind == "base"}
        meta = update_meta(st.meta, grids, base_slot_of, st.staff, changed=[*gone, *added], targets=targets)
        added_base = [s for s in added if grids[s].kind == "base"]
        near = st.near.with_added(added_base, shapely.bounds(geoms[added_base]).reshape(-1, 4))
        return _State(grids, geoms, geom_list, slot_of, base_slot_of, children, base, specials, near, st.staff,
                      meta)

    # -- freshness --------------------------------------------------------------

    def refresh(self, store: Store) -> bool:
        """Catch up with ``store`` when its grids or staff changed; True when the index changed.

        Two tiny data-version queries when nothing changed; a refresh already running in another thread is not
        waited for. How often to ask is the caller's: :data:`GRID_INDEX` asks at most once a second.
        """
        versions = (store.layers.data_version("grids"), store.layers.data_version("grid_staff"))
        if versions == self._versions or not self._refresh_lock.acquire(blocking=False):
            return False
        try:
            old = self._versions or (None, None)
            staff = store.layers.query("grid_staff") if versions[1] != old[1] else None
            if versions[0] != old[0]:
                self._sync_grids(store.layers.query("grids"), staff)
            elif staff is not None:
                self.set_staff(staff)
            self._versions = versions
            return True
        finally:
            self._refresh_lock.release()

    def _sync_grids(self, fresh: list[Grid], staff: list[GridStaff] | None) -> None:
        """Bring the grids in line with ``fresh``: as edits when few differ, else rebuilt."""
        with self._write_lock:
            st = self._state
            current = {code: st.grids[slot] for code, slot in st.slot_of.items()}
            fresh_by_code = {g.code: g for g in fresh}
            changed = [g for code, g in fresh_by_code.items() if current.get(code) != g]
            removed = [code for code in current if code not in fresh_by_code]
            staff_map = st.staff if staff is None else staff_by_code(staff)
            if len(changed) + len(removed) > max(EDITS_IN_PLACE, len(fresh) // 100):
                self._install(list(fresh_by_code.values()), staff_map)
                return
            if changed or removed:
                self._edit(changed, removed)
            if staff is not None:
                self.set_staff(staff)


def _nearest_base(st: _State, frame: LocalFrame) -> tuple[int, float] | None:
    """The nearest base grid's slot and geodesic distance in metres (ranked in ``frame``; ties: finest, smallest
    code); None when there is no base grid."""
    projected: dict[int, BaseGeometry] = {}

    def measure(slots: np.ndarray) -> np.ndarray:
        shapes = frame.project(st.geoms[slots])  # one vectorised pass; removed slots hold None
        metres = shapely.distance(shapes, _CENTRE)
        projected.update(zip(slots.tolist(), shapes.tolist(), strict=True))
        return np.where(np.isnan(metres), np.inf, metres)

    slots, _ = st.near.nearest(frame, measure, TIE_M)
    if not len(slots):
        return None
    slot = min(slots.tolist(), key=lambda s: _rank(st.grids[s]))
    return slot, frame.nearest(st.geom_list[slot], projected=projected[slot])[2]


def _in_window(raster: Raster, win: Window, cell: int) -> bool:
    j, i = divmod(cell, raster.nx)
    return win.i0 <= i < win.i1 and win.j0 <= j < win.j1


def _build_index(derived: DerivedData, max_snap_m: float) -> GridIndex:
    return GridIndex.from_store(derived.store, max_snap_m=max_snap_m)


GRID_INDEX: Kind[GridIndex] = Kind("grid index", layers=("grids", "grid_staff"), build=_build_index,
                                   refresh=GridIndex.refresh)
"""The index of a store's grids, snapping up to its argument ``max_snap_m`` metres: ``derived.get(GRID_INDEX, 50.0)``.
Edits to the grids and staff are applied in place, within a second."""
