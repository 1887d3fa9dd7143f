"""Records → GeoJSON (RFC 7946: WGS-84 longitude/latitude, no ``crs`` member)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from shapely.geometry import Point, mapping

from mapserver.model import field_names


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def geometry(geom: Any) -> dict[str, Any] | None:
    """A shapely geometry as a GeoJSON geometry object (None stays None)."""
    if geom is None:
        return None
    if isinstance(geom, Point) and not geom.is_empty and not geom.has_z:
        return {"type": "Point", "coordinates": (geom.x, geom.y)}  # as mapping() gives it, without the detour
    return mapping(geom)


def feature(record: Any, *, key: str) -> dict[str, Any]:
    """One record as a Feature whose ``id`` is its key and whose properties are its other fields."""
    props = {name: _plain(getattr(record, name)) for name in field_names(type(record)) if name != "geom"}
    geom = getattr(record, "geom", None)
    return {
        "type": "Feature",
        "id": props.get(key),
        "geometry": geometry(geom),
        "properties": props,
    }


def feature_collection(records: Iterable[Any], *, key: str, **members: Any) -> dict[str, Any]:
    """A FeatureCollection of records, with extra top-level members (e.g. ``numberMatched``)."""
    return {"type": "FeatureCollection", **members, "features": [feature(r, key=key) for r in records]}
