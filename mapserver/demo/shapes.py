"""Small geometry helpers shared by the demo builders (any CRS; they never measure)."""

from __future__ import annotations

import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry


def polygons_of(geom: BaseGeometry | None) -> list[Polygon]:
    """The non-empty polygons inside any geometry (collections flattened), in GEOS order."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    out: list[Polygon] = []
    if hasattr(geom, "geoms"):
        for part in geom.geoms:
            out += polygons_of(part)
    return out


def polygonal(geom: BaseGeometry | None) -> Polygon | MultiPolygon:
    """Only the area of a geometry: a Polygon, a MultiPolygon, or an empty Polygon."""
    parts = polygons_of(geom)
    if not parts:
        return Polygon()
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def lines_of(geom: BaseGeometry | None) -> list[LineString]:
    """The non-empty LineStrings inside any geometry (collections flattened)."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, LineString):
        return [geom]
    out: list[LineString] = []
    if hasattr(geom, "geoms"):
        for part in geom.geoms:
            out += lines_of(part)
    return out


def shared_line(a: BaseGeometry, b: BaseGeometry) -> list[LineString]:
    """The boundary two adjacent areas share, merged into as few LineStrings as possible."""
    lines = lines_of(a.boundary.intersection(b.boundary))
    if not lines:
        return []
    return lines_of(shapely.line_merge(MultiLineString(lines)))


def part_count(geom: BaseGeometry) -> int:
    """How many polygons make up an area."""
    return len(polygons_of(geom))
