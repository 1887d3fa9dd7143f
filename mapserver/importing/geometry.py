"""Raw source geometries → valid WGS-84 shapely geometries, or the reason per row why not.

Input coordinates are in the source CRS: degrees (lon, lat) for wgs84, cgcs2000, gcj02,
bd09 and geographic EPSG codes; the CRS's own units (usually metres) for projected EPSG
codes such as EPSG:4547. Output geometries are WGS-84 (EPSG:4326) lon/lat degrees, 2-D.

Checks, in order, each giving one reason per row: shape buildable at all (rings closed
and at least 4 points long — shapely refuses unclosed rings, so those are found by
reading the raw WKB or WKT coordinates), present and not empty, of a type the layer
takes, every coordinate finite, valid (GEOS reason and location from
:func:`shapely.validation.explain_validity`, in the file's coordinates), convertible to
WGS-84, and inside ±180° longitude / ±90° latitude.

With ``fix``, invalid polygons are repaired with :func:`shapely.make_valid`, keeping only
the polygonal part (points and lines it produces are dropped); nothing else is repaired.
"""

from __future__ import annotations

import re
import struct
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import shapely
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from mapserver.geo import is_identity_crs, transform_geometry
from mapserver.model import RECORD_TYPES

# What a file may hold per layer; roads also take MultiLineStrings (split later into one road per part).
INPUT_TYPES: dict[str, tuple[str, ...]] = {
    layer: (*cls.GEOM_TYPES, "MultiLineString") if layer == "roads" else cls.GEOM_TYPES
    for layer, cls in RECORD_TYPES.items()
}
WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "shape")
LON_COLUMNS = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_COLUMNS = ("lat", "latitude", "y", "纬度")
POLYGONAL = ("Polygon", "MultiPolygon")

Tick = Callable[[str, int, int], None]


class Raw(NamedTuple):
    """A source geometry as far as it could be built, and why it could not be built as it stands."""

    geom: BaseGeometry | None
    problem: str | None = None


@dataclass
class Checked:
    """Per row (0-based index): the WGS-84 geometry, or the reason it was refused, and any repair made."""

    geoms: list[BaseGeometry | None]
    problems: dict[int, str] = field(default_factory=dict)
    repairs: dict[int, str] = field(default_factory=dict)


# --- reading raw geometries -----------------------------------------------------


def geometry_columns(columns: Sequence[str], mapping: dict[str, str]) -> dict[str, str]:
    """The text columns that carry a geometry: ``{"wkt": col}`` or ``{"lon": col, "lat": col}``, or {}."""
    def find(key: str, names: tuple[str, ...]) -> str | None:
        if mapping.get(key):
            return mapping[key]
        lowered = {c.lower(): c for c in columns}
        return next((lowered[n] for n in names if n in lowered), None)

    wkt = find("geom", WKT_COLUMNS)
    lon, lat = find("lon", LON_COLUMNS), find("lat", LAT_COLUMNS)
    # A WKT column wins over lon/lat columns (which may be a label point), unless lon/lat were mapped.
    if wkt and not (mapping.get("lon") or mapping.get("lat")):
        return {"wkt": wkt}
    return {"lon": lon, "lat": lat} if lon and lat else {}


def from_wkb_column(values: Sequence[bytes | None]) -> list[Raw]:
    """Raw geometries from the WKB GDAL read, one per row."""
    with np.errstate(invalid="ignore"):  # NaN coordinates are reported per row, not warned about
        return [parse_wkb(v) for v in values]


def from_columns(columns: dict[str, np.ndarray], where: dict[str, str], rows: int) -> list[Raw]:
    """Raw geometries from a WKT column or lon/lat columns (text or numbers)."""
    if "wkt" in where:
        return [parse_wkt(v) for v in columns[where["wkt"]]]
    lons, lats = columns[where["lon"]], columns[where["lat"]]
    return [parse_lonlat(lons[i], lats[i], where) for i in range(rows)]


def parse_wkb(data: bytes | None) -> Raw:
    """Build a geometry from WKB; when shapely refuses, say why from the raw rings and build a closed copy."""
    if data is None:
        return Raw(None)
    try:
        return Raw(shapely.from_wkb(data))
    except GEOSException as exc:
        try:
            reason = _ring_reason(_wkb_rings(bytes(data)))
        except (struct.error, ValueError):
            reason = None
        return Raw(_quiet(shapely.from_wkb, data), f"invalid polygon: {reason}" if reason else
                   f"invalid geometry: {str(exc).strip()}")


def parse_wkt(text: Any) -> Raw:
    """Build a geometry from WKT text; an empty cell means no geometry."""
    if text is None or (isinstance(text, float) and text != text) or not str(text).strip():
        return Raw(None)
    text = str(text).strip()
    try:
        return Raw(shapely.from_wkt(text))
    except GEOSException as exc:
        try:
            reason = _ring_reason(_wkt_rings(text)) if text.upper().startswith(("POLYGON", "MULTIPOLYGON")) else None
        except ValueError:  # not numbers where coordinates should be: a syntax error, reported as such
            reason = None
        if reason is None:
            return Raw(None, f"not a WKT geometry ({str(exc).strip()}): {text[:60]!r}")
        return Raw(_quiet(shapely.from_wkt, text), f"invalid polygon: {reason}")


def parse_lonlat(lon: Any, lat: Any, where: dict[str, str]) -> Raw:
    """A point from two cells; both empty means no geometry, one empty or not a number is a problem."""
    blank = [v is None or (isinstance(v, float) and v != v) or not str(v).strip() for v in (lon, lat)]
    if all(blank):
        return Raw(None)
    values = []
    for value, empty, name in zip((lon, lat), blank, ("lon", "lat"), strict=True):
        column = where[name]
        if empty:
            return Raw(None, f"{column} is empty")
        try:
            values.append(float(value))
        except ValueError:
            return Raw(None, f"{column} {str(value)!r} is not a number")
    return Raw(shapely.Point(*values))


def _quiet(build: Callable[..., BaseGeometry], data: Any) -> BaseGeometry | None:
    """``build(data, on_invalid="fix")`` (closes rings), None when even that fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return build(data, on_invalid="fix")
        except GEOSException:
            return None


def _wkb_rings(data: bytes) -> list[np.ndarray]:
    """The polygon rings in WKB (ISO or EWKB, any dimension), as (n, 2) arrays."""
    rings: list[np.ndarray] = []
    _walk_wkb(data, 0, rings)
    return rings


def _walk_wkb(data: bytes, pos: int, rings: list[np.ndarray]) -> int:
    order = "<" if data[pos] == 1 else ">"
    (code,) = struct.unpack_from(order + "I", data, pos + 1)
    pos += 5 + (4 if code & 0x20000000 else 0)  # EWKB may carry an SRID
    dims = 2 + bool(code & 0x80000000) + bool(code & 0x40000000)
    code &= 0x0FFFFFFF
    dims += {1: 1, 2: 1, 3: 2}.get(code // 1000, 0)  # ISO Z / M / ZM
    kind = code % 1000
    if kind == 1:
        return pos + 8 * dims
    (count,) = struct.unpack_from(order + "I", data, pos)
    pos += 4
    if kind == 2:
        return pos + 8 * dims * count
    if kind != 3:  # multi-geometries and collections: walk each member
        for _ in range(count):
            pos = _walk_wkb(data, pos, rings)
        return pos
    for _ in range(count):
        (points,) = struct.unpack_from(order + "I", data, pos)
        pos += 4
        ring = np.frombuffer(data, dtype=np.dtype(order + "f8"), count=points * dims, offset=pos)
        rings.append(ring.reshape(points, dims)[:, :2])
        pos += 8 * dims * points
    return pos


def _wkt_rings(text: str) -> list[np.ndarray]:
    """The innermost parenthesised coordinate lists of polygon WKT, i.e. its rings."""
    rings = []
    for group in re.findall(r"\(([^()]*)\)", text):
        points = [p.split() for p in group.split(",") if p.strip()]
        rings.append(np.array([[float(v) for v in p[:2]] for p in points], dtype=float).reshape(-1, 2))
    return rings


def _ring_reason(rings: list[np.ndarray]) -> str | None:
    for number, ring in enumerate(rings, start=1):
        if len(ring) and not np.array_equal(ring[0], ring[-1], equal_nan=True):
            return (f"ring {number} is not closed: it starts at {_xy(ring[0])} and ends at {_xy(ring[-1])}")
        if len(ring) < 4:
            at = f" at {_xy(ring[0])}" if len(ring) else ""
            return f"ring {number} has {len(ring)} points{at}; a ring needs at least 4, the last repeating the first"
    return None


def _xy(point: np.ndarray) -> str:
    return f"{float(point[0]):.10g} {float(point[1]):.10g}"


# --- checking and converting ------------------------------------------------------


def check_geometries(raws: Sequence[Raw], layer: str, crs: str, *, fix: bool, tick: Tick) -> Checked:
    """Check every row's geometry in the source CRS, convert the good ones to WGS-84, check again."""
    allowed = INPUT_TYPES[layer]
    out = Checked(geoms=[None] * len(raws))
    for index, raw in enumerate(raws):
        geom, problem, repair = _check_source(raw, allowed, layer, fix)
        out.geoms[index] = geom
        if problem:
            out.problems[index] = problem
        if repair:
            out.repairs[index] = repair
        if (index + 1) % 2000 == 0 or index + 1 == len(raws):
            tick("checking geometries", index + 1, len(raws))
    _convert(out, crs, fix)
    return out


def _check_source(raw: Raw, allowed: tuple[str, ...], layer: str, fix: bool) -> tuple[Any, str | None, str | None]:
    geom, repair = raw.geom, None
    if raw.problem:
        if not (fix and geom is not None and geom.geom_type in POLYGONAL):
            return None, raw.problem, None
        repair = raw.problem
    if geom is None:
        return None, "geometry missing", None
    geom = shapely.force_2d(geom)
    if geom.is_empty:
        return None, f"geometry is empty ({geom.geom_type} EMPTY)", None
    geom = _single_part(geom, allowed)
    if geom.geom_type not in allowed:
        return None, f"geometry type {geom.geom_type} not allowed in {layer}; expected {' or '.join(allowed)}", None
    bad = _non_finite(geom)
    if bad:
        return None, bad, None
    return _make_valid(geom, fix, repair)


def _single_part(geom: BaseGeometry, allowed: tuple[str, ...]) -> BaseGeometry:
    # A one-part Multi* (as Shapefile and GeoPackage writers often produce) stands for its part.
    if geom.geom_type not in allowed and geom.geom_type.startswith("Multi") and len(geom.geoms) == 1:
        part = geom.geoms[0]
        return part if part.geom_type in allowed else geom
    return geom


def _non_finite(geom: BaseGeometry) -> str | None:
    coords = shapely.get_coordinates(geom)
    bad = np.flatnonzero(~np.isfinite(coords).all(axis=1))
    if not bad.size:
        return None
    return f"coordinate is NaN or infinite (vertex {int(bad[0]) + 1}: {_xy(coords[bad[0]])})"


def _explain(geom: BaseGeometry) -> str:
    """GEOS's reason, with its location written out: 'Self-intersection at 113.818009 33.88663'."""
    reason = explain_validity(geom)
    match = re.fullmatch(r"(.*?)\s*\[(.+)\]", reason)
    return f"{match.group(1)} at {match.group(2)}" if match else reason


def _make_valid(geom: BaseGeometry, fix: bool, repair: str | None) -> tuple[Any, str | None, str | None]:
    """The geometry if valid; else its polygonal repair (with ``fix``) or the GEOS reason."""
    if shapely.is_valid(geom):
        return geom, None, repair
    reason = _explain(geom)
    noun = "polygon" if geom.geom_type in POLYGONAL else "line" if "Line" in geom.geom_type else "geometry"
    if not (fix and geom.geom_type in POLYGONAL):
        return None, f"invalid {noun}: {reason}", None
    fixed = polygonal_part(geom)
    if fixed is None:
        return None, f"invalid {noun}: {reason}; no polygon is left after repair", None
    return fixed, None, repair or f"invalid {noun}: {reason}"


def polygonal_part(geom: BaseGeometry) -> BaseGeometry | None:
    """:func:`shapely.make_valid` keeping polygons only (a Polygon, or a MultiPolygon if several); None if none."""
    repaired = shapely.make_valid(geom)
    polygons = [p for part in shapely.get_parts(repaired) for p in shapely.get_parts(part)
                if p.geom_type == "Polygon" and not p.is_empty]
    if not polygons:
        return None
    result = polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
    # Polygons from a collection may share edges, which a MultiPolygon does not allow: dissolve them.
    return result if result.is_valid else shapely.union_all(polygons)


def _convert(out: Checked, crs: str, fix: bool) -> None:
    """Convert the rows still standing to WGS-84 in one vectorised call, then check them there."""
    standing = [i for i, g in enumerate(out.geoms) if g is not None]
    if not standing:
        return
    identity = is_identity_crs(crs)
    converted = transform_geometry(np.array([out.geoms[i] for i in standing], dtype=object), crs)
    for index, geom in zip(standing, converted, strict=True):
        problem, repair = _wgs84_problem(geom, crs), None
        if not problem and not identity:
            # Moving vertices by a non-linear offset can, rarely, make a valid shape invalid.
            geom, problem, repair = _make_valid(geom, fix, None)
        out.geoms[index] = None if problem else geom
        if problem:
            out.problems[index] = problem if identity else f"{problem} (after conversion from {crs})"
        if repair and index not in out.repairs:
            out.repairs[index] = f"{repair} (after conversion from {crs})"


def _wgs84_problem(geom: BaseGeometry, crs: str) -> str | None:
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        return f"cannot be converted from {crs} to WGS-84: a coordinate lies outside the area {crs} covers"
    lon, lat = coords[:, 0], coords[:, 1]
    if (np.abs(lon) > 180).any():
        return f"longitude {float(lon[np.abs(lon) > 180][0]):.10g} outside -180..180"
    if (np.abs(lat) > 90).any():
        return f"latitude {float(lat[np.abs(lat) > 90][0]):.10g} outside -90..90"
    return None
