"""The study area of every Gi* over H3 cells, kept per process: the district's outline, its cells at a resolution,
their centres and their first-ring weights matrix.

None of it depends on incidents, only on the grids and the resolution, and at city scale it was most of a hotspot
answer's cost: for the ten Zhoukou districts at res 9 (142,379 cells) the outline's union takes 0.65 s, filling it
with cells 6.5 s, the matrix (one ``h3.grid_disk`` per cell) 2.0 s and the centres 0.45 s on the bench machine,
against 0.3 s for the incident counts. So it is built once per store, grids' data version and resolution, and
shared by every caller: ``/api/hotspots``, the patrol's hot cells, risk colours, camera coverage, trends and the
weekly bulletin.

Correctness: the grids' data version (one small query) is compared on every use, so an answer after a write to
the grids uses the new outline. Entries are keyed by the store object, not its URL: a test database emptied and
reused under the same URL starts its data versions again, and a new store object must not find the old outline.
``mapserver serve`` builds the configured resolutions in the master before forking
(:func:`mapserver.serving.warm_store_caches`), so workers share them copy-on-write; studies are never changed once
built, so threads share them too. Positions are WGS-84 (lon, lat) degrees, rounded as :func:`cells.centre` does.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from shapely.geometry.base import BaseGeometry

from mapserver.analysis.cells import area_cells, centre, ring_matrix
from mapserver.store import Store

MAX_RESOLUTIONS = 4  # studies kept per store: res 9 for the whole city is ~33 MB; odd API resolutions must not pile up


@dataclass(frozen=True)
class Study:
    """The cells at ``res`` whose centre lies in the district (sorted), their centres and binary k = 1 weights."""

    res: int
    cells: tuple[str, ...]
    index: Mapping[str, int]  # cell → its position in ``cells``
    lon: np.ndarray  # centres, degrees, aligned with ``cells``
    lat: np.ndarray
    weights: sparse.csr_matrix

    def counts(self, by_cell: Mapping[str, int]) -> np.ndarray:
        """Counts aligned with ``cells``, zeros included; cells outside the study area are left out.

        Walks the (few) counted cells rather than the study's 100,000-odd cells.
        """
        y = np.zeros(len(self.cells), dtype=np.float64)
        for cell, n in by_cell.items():
            i = self.index.get(cell)
            if i is not None:
                y[i] = n
        return y

    def centre(self, i: int) -> tuple[float, float]:
        """Cell ``i``'s centre as (lon, lat) degrees, the same floats :func:`cells.centre` gives."""
        return float(self.lon[i]), float(self.lat[i])


def build_study(area: BaseGeometry | None, res: int) -> Study:
    """The study of ``area`` (no area: no cells) at ``res``, built from scratch."""
    cells = tuple(area_cells(area, res)) if area is not None else ()
    centres = np.array([centre(c) for c in cells], dtype=np.float64).reshape(len(cells), 2)
    return Study(res=res, cells=cells, index={c: i for i, c in enumerate(cells)}, lon=centres[:, 0].copy(),
                 lat=centres[:, 1].copy(), weights=ring_matrix(cells))


@dataclass
class _Kept:
    """One store's outline for one grids' data version, and the studies built on it (most recently used last)."""

    version: int
    area: BaseGeometry | None
    studies: OrderedDict[int, Study] = field(default_factory=OrderedDict)


_kept: weakref.WeakKeyDictionary[Store, _Kept] = weakref.WeakKeyDictionary()  # a closed, dropped store goes too
# Guards _kept and every _Kept.studies, and is held while building, so a build is never repeated. A build (seconds
# for a city) holds up the other threads' hotspot answers in that process; workers run one thread by default.
_lock = threading.Lock()


def _renew_lock_after_fork() -> None:
    # The studies built before the fork are what a worker inherits; only the lock must be its own.
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_renew_lock_after_fork)


def _entry(store: Store, version: int) -> _Kept:
    """The store's entry for grids at ``version``; a new one, the outline read again, when the version differs.
    Call with _lock held."""
    kept = _kept.get(store)
    if kept is None or kept.version != version:
        # The version was read before the grids: should they change in between, the next use sees a newer version.
        kept = _Kept(version=version, area=store.grids.district_area())
        _kept[store] = kept
    return kept


def district(store: Store) -> BaseGeometry | None:
    """The district's outline (the union of the street grids), or None when no grids are stored."""
    version = store.layers.data_version("grids")
    with _lock:
        return _entry(store, version).area


def study(store: Store, res: int) -> Study:
    """The district's study at ``res`` for the grids as they are now: kept, or built and kept."""
    version = store.layers.data_version("grids")
    with _lock:
        kept = _entry(store, version)
        found = kept.studies.get(res)
        if found is None:
            # Built under the lock: a second thread asking for the same study waits for it rather than repeating it.
            found = build_study(kept.area, res)
            kept.studies[res] = found
            while len(kept.studies) > MAX_RESOLUTIONS:
                kept.studies.popitem(last=False)
        kept.studies.move_to_end(res)
        return found


def kept_study(store: Store, res: int) -> Study | None:
    """The study at ``res`` this process keeps for ``store``'s grids as they are now, without building one."""
    version = store.layers.data_version("grids")
    with _lock:
        kept = _kept.get(store)
        return kept.studies.get(res) if kept is not None and kept.version == version else None


def warm(store: Store, resolutions: Iterable[int]) -> list[Study]:
    """Build the studies at ``resolutions`` now (before forking workers)."""
    return [study(store, res) for res in sorted(set(resolutions))]


def forget_studies() -> None:
    """Drop every study and outline this process keeps (the next answer builds them again)."""
    with _lock:
        _kept.clear()

