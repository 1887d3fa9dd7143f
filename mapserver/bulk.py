"""Many points at once, from CSV (``lon,lat`` columns, optional ``id``) or a GeoJSON FeatureCollection.

Every row is checked before any is used: a bad row makes the whole batch a
400 problem listing the bad rows (numbered from 1, after the CSV header).
Coordinates are converted from the given CRS to WGS-84 degrees.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mapserver.errors import Problem
from mapserver.geo import to_wgs84

MAX_POINTS = 1_000_000
MAX_LISTED = 100  # bad rows named in one problem


@dataclass(frozen=True)
class BulkPoints:
    """Points in WGS-84 degrees with the caller's ids ("" where none was given)."""

    lons: np.ndarray
    lats: np.ndarray
    ids: list[str]


def _finish(rows: list[tuple[str, float, float]], errors: list[dict[str, Any]], crs: str) -> BulkPoints:
    if errors:
        raise Problem(400, f"{len(errors)} bad row(s); nothing was looked up", param="body",
                      errors=errors[:MAX_LISTED])
    if len(rows) > MAX_POINTS:
        raise Problem(413, f"{len(rows):,} points; at most {MAX_POINTS:,} per request", param="body")
    ids = [r[0] for r in rows]
    lons, lats = to_wgs84(np.array([r[1] for r in rows], dtype=float), np.array([r[2] for r in rows], dtype=float),
                          crs)
    return BulkPoints(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float), ids)


def _coordinate(text: Any, row: int, field: str, low: float, high: float, errors: list[dict[str, Any]]) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        errors.append({"row": row, "field": field, "reason": f"not a number: {str(text)[:40]!r}"})
        return math.nan
    if not math.isfinite(value) or not (low <= value <= high):
        errors.append({"row": row, "field": field, "reason": f"{value} outside {low}..{high}"})
    return value


def read_csv_points(raw: bytes, *, crs: str) -> BulkPoints:
    """Points from CSV bytes (UTF-8, with a header naming ``lon`` and ``lat``; ``id`` optional)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Problem(400, f"the CSV is not UTF-8 (byte {exc.start})", param="body") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not {"lon", "lat"} <= set(header):
        raise Problem(400, "the CSV header must name 'lon' and 'lat' columns", param="body")
    reader.fieldnames = header
    rows, errors = [], []
    for number, record in enumerate(reader, start=1):
        lon = _coordinate(record.get("lon"), number, "lon", -180, 180, errors)
        lat = _coordinate(record.get("lat"), number, "lat", -90, 90, errors)
        rows.append((str(record.get("id") or ""), lon, lat))
        if number > MAX_POINTS:
            break
    return _finish(rows, errors, crs)


def _geojson_row(number: int, item: Any, errors: list[dict[str, Any]]) -> tuple[str, float, float]:
    geometry = item.get("geometry") if isinstance(item, Mapping) else None
    coords = geometry.get("coordinates") if isinstance(geometry, Mapping) else None
    if not isinstance(geometry, Mapping) or geometry.get("type") != "Point" or not isinstance(coords, list) \
            or len(coords) not in (2, 3):
        errors.append({"row": number, "field": "geometry", "reason": "not a Point feature"})
        return "", math.nan, math.nan
    # JSON coordinates are numbers: a quoted "114.6" is refused here, unlike a CSV cell.
    lon, lat = (c if isinstance(c, (int, float)) and not isinstance(c, bool) else None for c in coords[:2])
    lon = _coordinate(lon, number, "lon", -180, 180, errors)
    lat = _coordinate(lat, number, "lat", -90, 90, errors)
    ident = item.get("id", "")
    return (str(ident) if isinstance(ident, (str, int)) else ""), lon, lat


def read_geojson_points(body: Any, *, crs: str) -> BulkPoints:
    """Points from a parsed GeoJSON FeatureCollection of Point features."""
    if not isinstance(body, Mapping) or body.get("type") != "FeatureCollection" or \
            not isinstance(body.get("features"), list):
        raise Problem(400, "the body must be a GeoJSON FeatureCollection of Point features", param="body")
    if "crs" in body:
        raise Problem(400, "a 'crs' member is not GeoJSON (RFC 7946); use the crs query parameter", param="crs")
    features: Iterable[Any] = body["features"]
    errors: list[dict[str, Any]] = []
    rows = [_geojson_row(number, item, errors) for number, item in enumerate(features, start=1)]
    return _finish(rows, errors, crs)


def assignment_csv(points: BulkPoints, codes: np.ndarray, *, chunk: int = 10_000) -> Iterator[str]:
    """CSV text (row, id, lon, lat, grid_code), in pieces of ``chunk`` rows, for streaming."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")  # quotes ids that hold commas, quotes or newlines
    writer.writerow(["row", "id", "lon", "lat", "grid_code"])
    for start in range(0, len(codes), chunk):
        for i in range(start, min(start + chunk, len(codes))):
            writer.writerow([i + 1, points.ids[i], f"{points.lons[i]:.7f}", f"{points.lats[i]:.7f}", codes[i]])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
