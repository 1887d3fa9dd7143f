"""What the database backends and the repositories both use: the layers' keys, filters and orders, the checks
of a layer, box, filter and page, records as rows and back, and the SQL pieces built from them.

Coordinates are WGS-84 (EPSG:4326) longitude/latitude degrees throughout; times are UTC.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from mapserver.errors import Problem
from mapserver.model import RECORD_TYPES, field_names, time_fields

BBox = tuple[float, float, float, float]
"""(min lon, min lat, max lon, max lat) in degrees, WGS-84."""

# The column each layer is keyed by; grid_staff ids are given by the store.
KEYS: dict[str, str] = {
    "grids": "code",
    "grid_staff": "id",
    "cameras": "code",
    "places": "code",
    "addresses": "code",
    "roads": "code",
    "incidents": "id",
}

# Columns a query may filter on by equality; anything else is refused (and never reaches SQL).
FILTERABLE: dict[str, tuple[str, ...]] = {
    "grids": ("code", "level", "parent_code", "kind", "subtype", "division_code"),
    "grid_staff": ("grid_code", "role", "name"),
    "cameras": ("code", "status"),
    "places": ("code", "kind"),
    "addresses": ("code",),
    "roads": ("code", "road_class"),
    "incidents": ("id", "category", "severity", "status", "grid_code"),
}

LAYERS: tuple[str, ...] = tuple(KEYS)
POINT_LAYERS = frozenset({"cameras", "addresses", "incidents"})
SPHERE_RADIUS_M = 6370986.0  # PostGIS ST_DistanceSphere's radius, so both backends measure alike

# Orders a query may ask for besides the key ("-" for descending); the key always breaks ties.
ORDERABLE: dict[str, tuple[str, ...]] = {"incidents": ("reported_at", "due_at", "closed_at"), "cameras": ("last_seen",)}

Condition = tuple[str, tuple[Any, ...]]
"""A SQL condition written by this package (never from a request) with ``?`` placeholders, and its values."""
TABLES: tuple[str, ...] = (*LAYERS, "incident_events", "whistle_callouts", "tokens", "audit_log", "patrol_plans",
                           "patrol_plan_grids", "accounts", "sessions", "login_failures", "photos", "positions",
                           "patrol_sessions", "patrol_checkins", "position_batches", "track_days", "camera_video",
                           "divisions")


def utc(value: datetime | str | None) -> datetime | None:
    """A timezone-aware UTC datetime from a datetime or ISO 8601 text (naive means UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def check_layer(layer: str) -> str:
    """The layer name itself, or a 404 problem naming the layers there are."""
    if layer not in KEYS:
        raise Problem(404, f"unknown layer '{layer}'; layers: {', '.join(LAYERS)}", param="layer")
    return layer


def check_bbox(bbox: Sequence[float] | None) -> BBox | None:
    """A validated (minx, miny, maxx, maxy) in degrees, or a 400 problem saying what is wrong."""
    if bbox is None:
        return None
    if len(bbox) != 4:
        raise Problem(400, f"bbox needs 4 numbers (min lon, min lat, max lon, max lat), got {len(bbox)}", param="bbox")
    try:
        minx, miny, maxx, maxy = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise Problem(400, "bbox values must be numbers", param="bbox") from None
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise Problem(400, "bbox values must be finite numbers", param="bbox")
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise Problem(400, "bbox must satisfy -180 ≤ min lon ≤ max lon ≤ 180 and -90 ≤ min lat ≤ max lat ≤ 90",
                      param="bbox")
    return (minx, miny, maxx, maxy)


def check_where(layer: str, where: Mapping[str, Any] | None) -> dict[str, Any]:
    """The equality filters as a dict, or a 400 problem naming a column the layer cannot be filtered on."""
    where = dict(where or {})
    unknown = sorted(set(where) - set(FILTERABLE[layer]))
    if unknown:
        raise Problem(400, f"cannot filter {layer} on {', '.join(unknown)}; filters: {', '.join(FILTERABLE[layer])}",
                      param=unknown[0])
    return where


def check_page(limit: int | None, offset: int) -> None:
    """A 400 problem unless ``limit`` (None: no limit) and ``offset`` are whole numbers ≥ 0."""
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise Problem(400, f"limit must be a whole number ≥ 0, got {limit!r}", param="limit")
    if not isinstance(offset, int) or offset < 0:
        raise Problem(400, f"offset must be a whole number ≥ 0, got {offset!r}", param="offset")


def order_sql(layer: str, order_by: str | None, *, prefix: str = "") -> str:
    """ORDER BY text for a checked order (column names come from ORDERABLE and KEYS only)."""
    key = f"{prefix}{KEYS[layer]}"
    if order_by is None:
        return key
    column = order_by.removeprefix("-")
    if column not in ORDERABLE.get(layer, ()):
        raise Problem(400, f"cannot order {layer} by {column}", param="order")
    return f"{prefix}{column} {'DESC' if order_by.startswith('-') else 'ASC'}, {key}"


def where_sql(conditions: Sequence[Condition]) -> tuple[str, list[Any]]:
    """`` WHERE (a) AND (b) …`` for conditions written by this package, and their values in order."""
    if not conditions:
        return "", []
    params: list[Any] = []
    for _, values in conditions:
        params += list(values)
    return " WHERE " + " AND ".join(f"({text})" for text, _ in conditions), params


def normalise(record: Any) -> Any:
    """The record as stored: grid polygons become MultiPolygons, times UTC, so both backends return the same."""
    if isinstance(getattr(record, "geom", None), Polygon) and record.LAYER == "grids":
        record = replace(record, geom=MultiPolygon([record.geom]))
    # Only times not yet in UTC are rewritten: replace() is the dearest step of a batch import's write.
    times = {name: utc(value) for name in time_fields(type(record))
             if (value := getattr(record, name)) is not None
             and not (isinstance(value, datetime) and value.tzinfo is UTC)}
    return replace(record, **times) if times else record


def record_from_row(layer: str, row: Mapping[str, Any]) -> Any:
    """Build a layer's record from a column→value mapping (geometry as WKB bytes)."""
    cls = RECORD_TYPES[layer]
    values = {name: row[name] for name in field_names(cls) if name in row}
    if "geom" in values and values["geom"] is not None:
        values["geom"] = shapely.from_wkb(bytes(values["geom"]))
    for name in time_fields(cls):
        if name in values:
            values[name] = utc(values[name])
    if "extra" in values and isinstance(values["extra"], str):
        values["extra"] = json.loads(values["extra"])
    if "oneway" in values:
        values["oneway"] = bool(values["oneway"])
    return cls(**values)


def record_to_row(record: Any) -> dict[str, Any]:
    """Column→value for writing: geometry as WKB bytes, extra as JSON text, times as UTC datetimes."""
    row = {name: getattr(record, name) for name in field_names(type(record))}
    if isinstance(row.get("geom"), BaseGeometry):
        row["geom"] = shapely.to_wkb(row["geom"], output_dimension=2)
    if "extra" in row:
        row["extra"] = json.dumps(row["extra"], ensure_ascii=False, sort_keys=True)
    return row


def iter_chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def sphere_distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points (degrees), on PostGIS's sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * SPHERE_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def box_around(lon: float, lat: float, radius_m: float) -> BBox:
    """(west, south, east, north) degrees holding every point within ``radius_m`` of (lon, lat); a little wide."""
    dlat = math.degrees(radius_m / SPHERE_RADIUS_M) * 1.01
    dlon = dlat / max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat
