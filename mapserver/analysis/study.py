"""The study area of every Gi* over H3 cells: the district's outline, its cells at a resolution, their centres and
their first-ring weights matrix.

None of it depends on incidents, only on the grids and the resolution, and at city scale it is most of a hotspot
answer's cost, far more than the incident counts (BENCHMARKS.md). So :data:`DISTRICT` and :data:`STUDY` are kinds of
derived data (:mod:`mapserver.derived`): built once per process, grids' data version and resolution, and shared by
every caller (``/api/hotspots``, the patrol's hot cells, risk colours, camera coverage, trends and the weekly
bulletin), which hands the :class:`Study` to the analysis. Someone bound to a jurisdiction
(:mod:`mapserver.jurisdiction`) gets the study of that grid's area, or of the union of a division's streets,
instead (:data:`AREA_STUDY`, by :func:`study_for`), kept per jurisdiction (a write to the divisions moves the grids'
data version too). A grid's study is built from its polygon; a division's is cut from the store's
(:func:`part_of`: the cells whose centre lies in the union of its streets), since H3's polyfill of a city's outline
of some 17,000 vertices takes seconds, and each worker builds a jurisdiction's study on its first call.

Correctness: the grids' data version (one small query) is compared on every use, so an answer after a write to
the grids uses the new outline. ``mapserver serve`` builds the configured resolutions in the master before forking
(:func:`mapserver.serving.prepare_for_workers`), so workers share them copy-on-write; studies are never changed
once built, so threads share them too. Positions are WGS-84 (lon, lat) degrees, rounded as :func:`cells.centre` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import sparse
from shapely.geometry.base import BaseGeometry

from mapserver.analysis.cells import area_cells, centre, ring_matrix
from mapserver.derived import DerivedData, Kind
from mapserver.jurisdiction import WHOLE, Jurisdiction

MAX_RESOLUTIONS = 4  # studies kept per store: a city's at res 9 takes tens of MB; odd resolutions must not pile up
MAX_JURISDICTION_STUDIES = 48  # a street's study is a tenth of the district's, a community's far less


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


def part_of(study: Study, area: BaseGeometry) -> Study:
    """The cells of ``study`` whose (rounded) centre lies in ``area`` (its boundary included) and their weights,
    taken from ``study``'s: a cell's first ring inside the part is its first ring inside the whole, less the cells
    left out. Vectorised: the centres in ``area``'s box first, then shapely's test on those alone."""
    west, south, east, north = area.bounds
    near = np.flatnonzero((study.lon >= west) & (study.lon <= east) & (study.lat >= south) & (study.lat <= north))
    shapely.prepare(area)
    kept = near[shapely.intersects_xy(area, study.lon[near], study.lat[near])]
    cells = tuple(study.cells[i] for i in kept)  # still sorted: ``kept`` is increasing
    return Study(res=study.res, cells=cells, index={c: i for i, c in enumerate(cells)}, lon=study.lon[kept],
                 lat=study.lat[kept], weights=study.weights[kept][:, kept].tocsr())


def _read_district(derived: DerivedData) -> BaseGeometry | None:
    return derived.store.grids.district_area()


def _build_study(derived: DerivedData, res: int) -> Study:
    return build_study(derived.get(DISTRICT), res)


def _read_area(derived: DerivedData, within: Jurisdiction) -> BaseGeometry | None:
    return derived.store.grids.area(within)


def _build_area_study(derived: DerivedData, res: int, within: Jurisdiction) -> Study:
    area = derived.get(AREA, within)
    if within.is_division and area is not None:  # the store's study is built before the fork; polyfill is not
        return part_of(derived.get(STUDY, res), area)
    return build_study(area, res)


DISTRICT: Kind[BaseGeometry | None] = Kind("district outline", layers=("grids",), build=_read_district,
                                           check_every_s=0.0)
"""The district's outline (the union of the street grids), or None when no grids are stored."""

STUDY: Kind[Study] = Kind("hotspot study area", layers=("grids",), build=_build_study, check_every_s=0.0,
                          keep=MAX_RESOLUTIONS)
"""The district's study at its argument ``res`` for the grids as they are now: ``derived.get(STUDY, 9)``."""

AREA: Kind[BaseGeometry | None] = Kind("jurisdiction outline", layers=("grids",), build=_read_area,
                                       check_every_s=0.0, keep=MAX_JURISDICTION_STUDIES)
"""A jurisdiction's outline (its grid's polygon, or the union of a division's streets), or None when its grid (or any
street of the division) is not stored: ``derived.get(AREA, j)``."""

AREA_STUDY: Kind[Study] = Kind("hotspot study area of a jurisdiction", layers=("grids",), build=_build_area_study,
                               check_every_s=0.0, keep=MAX_JURISDICTION_STUDIES)
"""A jurisdiction's study: the cells at ``res`` whose centre lies in its area, ``derived.get(AREA_STUDY, 9, j)``."""


def study_for(derived: DerivedData, res: int, within: Jurisdiction = WHOLE) -> Study:
    """The study the Gi* of someone whose jurisdiction is ``within`` runs on: the district's for the whole store,
    else the jurisdiction's own area, so the statistic compares its cells with each other and not with cells
    whose incidents it may not count."""
    return derived.get(STUDY, res) if within.whole else derived.get(AREA_STUDY, res, within)


def outline_for(derived: DerivedData, within: Jurisdiction = WHOLE) -> BaseGeometry | None:
    """The outline of ``within``'s area (the district's for the whole store), WGS-84."""
    return derived.get(DISTRICT) if within.whole else derived.get(AREA, within)
