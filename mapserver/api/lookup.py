""""Whose grid is this, and whom do I call?": point or address → grid chain and people, one or in bulk.

``GET /api/lookup?lon=&lat=[&crs=]`` and ``GET /api/lookup?address=``;
``POST /api/lookup/bulk`` takes a GeoJSON FeatureCollection of points or a CSV
with ``lon,lat`` columns and streams back each point's finest base grid code.
Input coordinates may be wgs84, cgcs2000, gcj02, bd09 or EPSG:n; answers are
WGS-84 degrees and metres.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, request, stream_with_context

from mapserver.addressing import best_address
from mapserver.app_state import state
from mapserver.bulk import BulkPoints, assignment_csv, read_csv_points, read_geojson_points
from mapserver.errors import Problem
from mapserver.geo import parse_crs, to_wgs84
from mapserver.gridindex import Lookup
from mapserver.model import GridStaff
from mapserver.parsing import parse_json, reject_unknown

bp = Blueprint("lookup", __name__, url_prefix="/api/lookup")

BULK_MAX_BYTES = 128 * 1024 * 1024  # 1,000,000 points as CSV or GeoJSON fit well within this


def _staff(person: GridStaff | None) -> dict[str, Any] | None:
    if person is None:
        return None
    return {"grid_code": person.grid_code, "role": person.role, "name": person.name, "phone": person.phone,
            "unit": person.unit}


def lookup_json(found: Lookup, lon: float, lat: float) -> dict[str, Any]:
    """A lookup as JSON: the point (WGS-84), how it matched, the grid chain, special grids and people."""
    def ref(g: Any) -> dict[str, Any]:
        return {"code": g.code, "name": g.name, "level": g.level, "kind": g.kind, "subtype": g.subtype}

    return {
        "point": {"lon": round(lon, 7), "lat": round(lat, 7)},
        "match": found.match,
        "distance_m": round(found.distance_m, 2),
        "grid": ref(found.finest),
        "chain": [ref(g) for g in found.chain],
        "special": [ref(g) for g in found.special],
        "staff": [_staff(p) for p in found.staff],
        "police_liaison": _staff(found.police_liaison),
    }


def _lookup_point(lon: float, lat: float) -> dict[str, Any]:
    found = state().grid_index().lookup(lon, lat)
    if found is None:
        raise Problem(404, "no grids are loaded; import grids first", param="lon")
    return lookup_json(found, lon, lat)


def _number(args: Mapping[str, str], name: str) -> float:
    text = args.get(name)
    if text is None:
        raise Problem(400, f"'{name}' is required (or give 'address')", param=name)
    try:
        return float(text)
    except ValueError:
        raise Problem(400, f"'{name}' must be a number, got {text[:40]!r}", param=name) from None


@bp.get("")
def lookup() -> dict[str, Any]:
    args = request.args  # read through the request proxy once
    reject_unknown(args, ("lon", "lat", "crs", "address"))
    if "address" in args:
        if {"lon", "lat"} & set(args):
            raise Problem(400, "give either lon/lat or address, not both", param="address")
        best, candidates = best_address(state().address_matcher(), args["address"],
                                        min_score=state().settings.lookup.min_address_score)
        out = _lookup_point(best.lon, best.lat)
        out["address"] = {"code": best.code, "text": best.text, "score": best.score}
        out["candidates"] = [{"code": c.code, "text": c.text, "score": c.score, "lon": c.lon, "lat": c.lat}
                             for c in candidates]
        return out
    crs = parse_crs(args["crs"]) if "crs" in args else "wgs84"
    lon, lat = _number(args, "lon"), _number(args, "lat")
    if crs != "wgs84":  # the usual case needs no conversion (the index checks the range itself)
        lon, lat = to_wgs84(lon, lat, crs)
    return _lookup_point(float(lon), float(lat))


def _bulk_points() -> BulkPoints:
    crs = parse_crs(request.args.get("crs", "wgs84"))
    request.max_content_length = BULK_MAX_BYTES
    kind = (request.mimetype or "").lower()
    if kind in ("text/csv", "application/csv"):
        return read_csv_points(request.get_data(), crs=crs)
    if kind in ("application/json", "application/geo+json"):
        return read_geojson_points(parse_json(request.get_data()), crs=crs)
    raise Problem(415, f"send text/csv (lon,lat columns) or application/geo+json, not {kind or 'nothing'}",
                  param="Content-Type")


@bp.post("/bulk")
def bulk() -> Response:
    reject_unknown(request.args, ("crs",))
    points = _bulk_points()
    codes = state().grid_index().assign(points.lons, points.lats)
    response = Response(stream_with_context(assignment_csv(points, codes)), mimetype="text/csv")
    response.headers["X-Points"] = str(len(codes))
    response.headers["X-Unassigned"] = str(int((codes == "").sum()))
    return response
