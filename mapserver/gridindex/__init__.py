"""In-memory index of every grid (网格): point → chain of grids, staff and police liaison; bulk point → grid code.

Coordinates are WGS-84 (EPSG:4326) longitude/latitude in decimal **degrees**,
axis order (lon, lat); distances are **metres**.

API (see :class:`GridIndex`)::

    index = GridIndex.from_store(store, max_snap_m=50.0)      # or derived.get(GRID_INDEX, 50.0) per request
    index.lookup(lon, lat) -> Lookup | None                     # chain, special, staff, police_liaison, …
    index.assign(lons, lats) -> numpy array of str              # finest base grid code, "" for none
    index.update_grid(grid); index.remove_grid(code)            # edits in place
    index.refresh(store) -> bool                                # catch up with the store

Semantics
---------
* **Closed polygons.** A grid covers the points of its interior *and boundary*
  (PostGIS ``ST_Covers``, shapely ``intersects_xy`` for points).
* **Finest grid, and the tie-break.** Of the base grids covering a point the one
  of the highest level wins (4 building, else 3, …); among grids of that level
  the smallest code (lexicographic) wins. So a point on an edge or vertex shared
  by several grids gets one answer, always the same, from ``lookup`` and
  ``assign`` alike, and it is one of the grids PostGIS says cover the point.
* **Chain.** From the finest grid, parent codes are followed up (among base
  grids) until a parent is missing; the chain is reported top-down (level 1
  first). Grids are meant to nest; the index does not check it.
* **Special grids** (专属网格: schools, hospitals, …) overlap base grids by
  design: ``Lookup.special`` lists every special grid covering the point, by
  code. They never enter the chain or ``assign``.
* **Staff.** ``Lookup.staff`` holds the finest grid's staff (store order);
  ``police_liaison`` is the finest grid's police liaison (网格警务员), else the
  nearest one found going up the chain, else None.
* **Snapping (lookup only).** A point no base grid covers is given the nearest
  base grid within ``max_snap_m`` metres, ``match="nearest"``. Grids are ranked by
  distance in a local equirectangular projection about the point (WGS-84
  ellipsoid radii; scale error < 0.002 % within 1 km); grids within 1 mm of the
  nearest tie, and the finest, then smallest code, wins. The ranking is exact
  (as if every base grid were measured) however far the point is. ``distance_m`` is the
  geodesic distance (pyproj ``Geod``, WGS-84) from the point to the nearest
  point of that grid. Beyond the limit: ``Problem(404, "… nearest grid <code> is
  <d> m away (limit <max_snap_m> m)", param="lon")``. ``assign`` never snaps.

Structures, and which serves where
----------------------------------
* **Cell cover** (:mod:`.cover`): a regular lon/lat raster over all grids.
  **Cell side = √(median area of the finest-level base grids) / 8 metres**, at
  least 2 m, and enlarged if the extent would need more than 4 million cells
  (16 MB). So a typical finest grid spans ~8 × 8 cells and roughly a quarter of
  the cells or fewer are crossed by a boundary ("mixed"). Examples: ~0.2 km²
  building grids in a 60 km square → 55 m cells, 1.2 M cells, 28 % mixed; the
  demo city of ten districts (median 0.78 km²) → 110 m, 1.7 M cells, 15 % mixed.
  A cell no boundary comes near answers from a numpy table (one multiply-add and
  one read); points in mixed cells are tested exactly against that cell's short
  candidate list, best grid first. The cover wins for points, single or in bulk:
  an STRtree point query tests every point against its candidates, the cover
  only the points in mixed cells. A lon/lat raster beats H3 cells here: the
  cell of a point is two multiplications, whereas H3 needs a library call per
  point and its hexagons do not nest exactly into coarser ones or tile a box.
* **R-tree** (``rtree``, libspatialindex): grid bounding boxes by slot. It serves
  editing in place (``update_grid``/``remove_grid`` insert and delete entries;
  the cover cells within one cell of the old and new boxes are recomputed from
  the grids the R-tree finds there).
* **Box groups** (:mod:`.nearest`) serve nearest-grid snapping: base grid boxes
  packed by level into groups of ~48, searched best-first with exact box
  distances in the query point's own metric frame, so only the handful of grids
  that could be nearest are measured, however far away the point is.
  The R-tree's nearest (and an STRtree's) ranks boxes in degrees, whose east and
  north lengths differ by a ratio that varies with latitude: to stay exact it
  would have to measure a band of grids ~20 % deeper than the nearest one, which
  for a far point is most of the city.
* **shapely STRtree** serves better where nothing is kept or edited: one-off
  queries with non-point geometries (which grids a road or a drawn polygon
  crosses), because it bulk-loads in milliseconds; but it cannot change without
  a rebuild and it answers points far slower than the cover. The tests and the
  bench use it as the reference.

Freshness and threads
---------------------
``refresh(store)`` compares ``store.layers.data_version("grids")`` and
``("grid_staff")`` with those it was built from; a few changed grids are
applied as edits, many cause a rebuild, a staff change only recomputes the
lookup material. :data:`GRID_INDEX` keeps one index per store in a process's
:class:`mapserver.derived.DerivedData` and refreshes it at most once a second.
Readers never lock: each call takes one immutable snapshot;
writers build a new snapshot (copying the 4-byte-per-cell table) and swap it in.
"""

from __future__ import annotations

from mapserver.gridindex.index import GRID_INDEX, GridIndex
from mapserver.gridindex.meta import GridRef, Lookup

__all__ = ["GRID_INDEX", "GridIndex", "GridRef", "Lookup"]
