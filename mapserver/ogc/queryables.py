"""The queryables of a collection (OGC API – Features Part 3): the properties a filter may name, as JSON Schema.

They are the layer's columns the store can filter on (:func:`~mapserver.store.cql2_sql.queryable_columns`), with
their types: text, whole numbers, numbers, booleans, UTC date-times (RFC 3339) and the geometry, in CRS84.
"""

from __future__ import annotations

from typing import Any

from mapserver.model import RECORD_TYPES
from mapserver.ogc.collections import Collection
from mapserver.store.cql2_sql import GEOMETRY, queryable_columns

SCHEMA = "https://json-schema.org/draft/2020-12/schema"
MEDIA_TYPE = "application/schema+json"
_TYPES: dict[str, dict[str, str]] = {"string": {"type": "string"}, "integer": {"type": "integer"},
                                     "number": {"type": "number"}, "boolean": {"type": "boolean"},
                                     "date-time": {"type": "string", "format": "date-time"}}
_GEOMETRY_FORMATS = {("Point",): "geometry-point", ("LineString",): "geometry-linestring",
                     ("Polygon", "MultiPolygon"): "geometry-polygon-or-multipolygon"}


def geometry_format(item: Collection) -> str:
    """Part 3's ``format`` of the collection's geometry (``geometry-point`` …; ``geometry-any`` when mixed)."""
    return _GEOMETRY_FORMATS.get(RECORD_TYPES[item.layer].GEOM_TYPES, "geometry-any")


def queryables(item: Collection, self_url: str) -> dict[str, Any]:
    """The collection's queryables document: a JSON Schema of an object with one member per queryable."""
    properties: dict[str, Any] = {}
    for name, kind in queryable_columns(item.layer).items():
        if name == GEOMETRY:
            properties[name] = {"title": "geometry (CRS84)", "format": geometry_format(item),
                                "x-ogc-role": "primary-geometry"}
        else:
            properties[name] = {"title": name, **_TYPES[kind]}
    return {"$schema": SCHEMA, "$id": self_url, "type": "object", "title": item.title,
            "properties": properties, "additionalProperties": False}
