"""The OGC collections: which store layer and which rows of it each one serves, and their extents.

Extents are (min lon, min lat, max lon, max lat) in degrees, CRS84, and the
first and last ``reported_at`` (UTC) for incidents, of the records in the
asker's jurisdiction. The store computes them
(:meth:`~mapserver.store.layers.Layers.extent`) with one aggregate query per
collection, so a listing never loads a layer's records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mapserver.errors import Problem
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.store import Store
from mapserver.store.common import BBox


@dataclass(frozen=True)
class Collection:
    """One OGC collection: a store layer, narrowed by equality filters on its columns."""

    id: str
    title: str
    description: str
    layer: str
    where: dict[str, Any] = field(default_factory=dict)
    temporal: bool = False  # only incidents have a time (reported_at) to filter on

    def holds(self, record: Any) -> bool:
        """Whether a record of the layer belongs to this collection (a level-2 grid is not in grids_level3)."""
        return all(getattr(record, column) == value for column, value in self.where.items())


_LEVELS = {1: "street (街道)", 2: "community (社区)", 3: "compound (小区)", 4: "building (楼栋)"}

COLLECTIONS: dict[str, Collection] = {
    c.id: c for c in (
        *(Collection(f"grids_level{level}", f"Level-{level} grids", f"Base grids of level {level}: {name}",
                     "grids", {"level": level, "kind": "base"}) for level, name in _LEVELS.items()),
        Collection("special_grids", "Special grids", "Special grids (专属网格): schools, hospitals, markets …",
                   "grids", {"kind": "special"}),
        Collection("cameras", "Cameras", "Video cameras with their status", "cameras"),
        Collection("places", "Key places", "Key places (重点场所)", "places"),
        Collection("addresses", "Standard addresses", "Standard addresses (标准地址)", "addresses"),
        Collection("roads", "Roads", "Road edges", "roads"),
        Collection("incidents", "Incidents", "Reported incidents; datetime filters on reported_at", "incidents",
                   temporal=True),
    )
}


def collection(collection_id: str) -> Collection:
    """The collection with this id, or a 404 problem naming the ones there are."""
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise Problem(404, f"no collection '{collection_id}'; collections: {', '.join(COLLECTIONS)}",
                      param="collectionId")
    return found


def spatial_extent(store: Store, item: Collection, *, within: Jurisdiction = WHOLE) -> BBox | None:
    """The bounding box of the collection's geometries in ``within``, in degrees, or None when it has none."""
    return store.layers.extent(item.layer, where=item.where, within=within)


def temporal_extent(store: Store, item: Collection, *,
                    within: Jurisdiction = WHOLE) -> tuple[datetime, datetime] | None:
    """The first and last ``reported_at`` (UTC) of a temporal collection's records in ``within``, or None when it
    has none."""
    if not item.temporal:
        return None
    return store.layers.time_extent(item.layer, column="reported_at", within=within)
