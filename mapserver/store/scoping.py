"""A jurisdiction (:mod:`mapserver.jurisdiction`) as conditions of the store's own queries, one rule per layer.

What lies in the jurisdiction of grid J:

==============================  =======================================================================
``grids``                       J and its descendants, by ``parent_code`` (a recursive query: codes are
                                never read as prefixes)
``grid_staff``                  staff whose grid is one of those
``incidents``                   incidents whose grid chain column of J's level (``grid_l1`` … ``grid_l3``)
                                is J
``cameras``, ``places``,        rows whose geometry intersects J's polygon (WGS-84): on PostGIS
``addresses``, ``roads``        ``ST_Intersects`` against the grid's geometry read in the same statement; on
                                SQLite the R*Tree boxes prune to candidates and a function the connection
                                registers decides exactly (:meth:`~mapserver.store.database.Database.in_grid_area`)
==============================  =======================================================================

What lies in the jurisdiction of division D (a province, city or county) is what lies in any of its streets: the
street grids whose ``division_code`` is D or a division below D (:mod:`mapserver.store.divisions`):

==============================  =======================================================================
``grids``                       those streets and their descendants
``grid_staff``                  staff whose grid is one of those
``incidents``                   incidents whose ``grid_l1`` is one of those streets (``grid_l1 IN (…)``: the
                                streets are read once and the incidents' ``grid_l1`` index or a hash finds
                                theirs)
``cameras``, ``places``,        rows whose geometry intersects one of those streets' polygons, that is their
``addresses``, ``roads``        union (:meth:`~mapserver.store.database.Database.in_streets_area`)
==============================  =======================================================================

A feature on J's boundary (a camera on the line between two communities, a road crossing it) intersects J and
so lies in it, in each jurisdiction it touches. The whole store (:data:`~mapserver.jurisdiction.WHOLE`) adds no
condition. Conditions are portable SQL with ``?`` placeholders; nothing is filtered after fetching.
"""

from __future__ import annotations

from mapserver.jurisdiction import Jurisdiction
from mapserver.store.common import Condition, check_layer
from mapserver.store.database import Database
from mapserver.store.divisions import DIVISION_STREETS_SQL, DIVISION_SUBTREE_SQL
from mapserver.store.incidents import within_condition

AREA_LAYERS = frozenset({"cameras", "places", "addresses", "roads"})
"""Layers whose rows lie in a jurisdiction by their geometry."""

SUBTREE_SQL = ("WITH RECURSIVE subtree(code) AS (SELECT code FROM grids WHERE code = ? "
               "UNION SELECT g.code FROM grids g JOIN subtree s ON g.parent_code = s.code) SELECT code FROM subtree")
"""The codes of grid ``?`` and of every grid below it, by ``parent_code`` (UNION: a loop in the data ends)."""


def subtree_sql(within: Jurisdiction) -> str:
    """SQL selecting the codes of every grid in ``within`` (a grid or a division; one ``?``, its code)."""
    return DIVISION_SUBTREE_SQL if within.is_division else SUBTREE_SQL


def subtree_condition(column: str, within: Jurisdiction) -> list[Condition]:
    """``column`` (a grid code column written by this package) names a grid in ``within``; none for the whole."""
    if within.whole:
        return []
    return [(f"{column} IN ({subtree_sql(within)})", (within.code,))]


def scope_conditions(database: Database, layer: str, within: Jurisdiction) -> list[Condition]:
    """The conditions that keep a layer's rows to those in ``within`` (none for the whole store)."""
    check_layer(layer)
    if within.whole:
        return []
    if layer == "grids":
        return subtree_condition("code", within)
    if layer == "grid_staff":
        return subtree_condition("grid_code", within)
    if layer == "incidents":
        return within_condition(within)
    if layer in AREA_LAYERS and within.is_division:
        return [database.in_streets_area(layer, DIVISION_STREETS_SQL, (within.code,))]
    if layer in AREA_LAYERS:
        return [database.in_grid_area(layer, str(within.code))]
    raise ValueError(f"no jurisdiction rule for layer {layer}")  # a new layer must say how it is scoped
