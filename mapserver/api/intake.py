"""The hotline intake desk's API (12345 热线受理): resolve what a caller said, find possible repeats, link a repeat.

``GET /api/intake/resolve?q=[&crs=]``: "lon,lat" → the grid card; a road crossing ("A与B交叉口") → the crossing
point and its card; otherwise the standard-address candidates (up to 5, scores 0–100, each with its point and
grid code), ``certain`` only when the best clears the configured rule (then its card too).
``GET /api/intake/duplicates?lon=&lat=&category=[&hours=24&radius_m=200&crs=]``: open incidents of the category
near the point, recent, inside the asker's jurisdiction, nearest first (重复件).
``POST /api/incidents/<id>/links``: record a caller's report as a repeat of that incident instead of a new case.
Points are WGS-84 degrees in answers; distances metres.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request

from mapserver import audit
from mapserver.api.incidents import incident_feature
from mapserver.api.lookup import lookup_json
from mapserver.app_state import derived, state, store
from mapserver.auth import request_actor, request_jurisdiction
from mapserver.errors import Problem
from mapserver.geo import parse_crs, to_wgs84
from mapserver.intake.crossing import ROAD_NAMES, parse_crossing
from mapserver.intake.resolve import MAX_QUERY_CHARS, Certainty, parse_coordinates
from mapserver.parsing import json_object, parse_choice, parse_int, parse_json, reject_unknown

bp = Blueprint("intake", __name__)

CANDIDATES = 5
NOTE_MAX = 500
_PHONE = re.compile(r"^[0-9+\-() ]{3,24}$")


def _point_card(lon: float, lat: float) -> dict[str, Any]:
    found = state().grid_index().lookup(lon, lat)
    if found is None:
        raise Problem(404, "no grids are loaded; import grids first", param="q")
    return lookup_json(found, lon, lat)


def _grid_code(lon: float, lat: float) -> str | None:
    """The finest grid of a candidate's point; None when it lies too far from every grid."""
    try:
        found = state().grid_index().lookup(lon, lat)
    except Problem:
        return None
    return found.finest.code if found is not None else None


def _to_wgs84(x: float, y: float, crs: str) -> tuple[float, float]:
    if crs != "wgs84":
        x, y = to_wgs84(x, y, crs)
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        raise Problem(400, f"({x}, {y}) is outside longitude ±180 / latitude ±90", param="q")
    return float(x), float(y)


def _addresses(text: str) -> dict[str, Any]:
    settings = state().settings.lookup
    matcher = state().address_matcher()
    candidates = matcher.match(text, limit=CANDIDATES) if len(matcher) else []
    certain = Certainty(settings.certain_score, settings.certain_margin).holds(candidates)
    out: dict[str, Any] = {
        "kind": "address", "certain": certain,
        "candidates": [{"code": c.code, "text": c.text, "score": c.score, "lon": round(c.lon, 7),
                        "lat": round(c.lat, 7), "grid_code": _grid_code(c.lon, c.lat)} for c in candidates],
    }
    if certain:
        best = candidates[0]
        out["card"] = _point_card(best.lon, best.lat)
        out["point"] = out["card"]["point"]
        out["address"] = best.text
    return out


@bp.get("/api/intake/resolve")
def resolve() -> dict[str, Any]:
    args = request.args
    reject_unknown(args, ("q", "crs"))
    text = (args.get("q") or "").strip()
    if not text:
        raise Problem(400, "'q' is required: an address, a road crossing or 'lon,lat'", param="q")
    if len(text) > MAX_QUERY_CHARS:
        raise Problem(400, f"'q' is longer than {MAX_QUERY_CHARS} characters", param="q")
    crs = parse_crs(args["crs"]) if "crs" in args else "wgs84"
    numbers = parse_coordinates(text)
    if numbers is not None:
        lon, lat = _to_wgs84(*numbers, crs)
        card = _point_card(lon, lat)
        return {"kind": "point", "certain": True, "point": card["point"], "card": card, "candidates": []}
    roads = parse_crossing(text)
    if roads is not None:
        crossing = derived().get(ROAD_NAMES).crossing(*roads, max_gap_m=state().settings.lookup.crossing_max_gap_m)
        card = _point_card(crossing.lon, crossing.lat)
        return {"kind": "crossing", "certain": True, "point": card["point"], "card": card, "candidates": [],
                "crossing": {"roads": list(crossing.roads), "gap_m": crossing.gap_m},
                "address": f"{crossing.roads[0]}与{crossing.roads[1]}交叉口"}
    return _addresses(text)


def _number(name: str) -> float:
    text = request.args.get(name)
    if text is None:
        raise Problem(400, f"'{name}' is required", param=name)
    try:
        value = float(text)
    except ValueError:
        raise Problem(400, f"'{name}' must be a number, got {text[:40]!r}", param=name) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise Problem(400, f"'{name}' must be a finite number", param=name)
    return value


@bp.get("/api/intake/duplicates")
def duplicates() -> dict[str, Any]:
    args = request.args
    reject_unknown(args, ("lon", "lat", "crs", "category", "hours", "radius_m"))
    crs = parse_crs(args["crs"]) if "crs" in args else "wgs84"
    lon, lat = _number("lon"), _number("lat")
    if crs != "wgs84":
        lon, lat = (float(v) for v in to_wgs84(lon, lat, crs))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise Problem(400, f"({lon}, {lat}) is outside longitude ±180 / latitude ±90", param="lon")
    category = parse_choice("category", args.get("category"), state().settings.incidents.categories)
    if category is None:
        raise Problem(400, "'category' is required", param="category")
    hours = parse_int("hours", args.get("hours"), default=24, low=1, high=24 * 30)
    radius = parse_int("radius_m", args.get("radius_m"), default=200, low=1, high=5000)
    now = datetime.now(UTC)
    found = store().incidents.near(lon, lat, radius_m=radius, category=category, since=now - timedelta(hours=hours),
                                   within=request_jurisdiction())
    features = []
    for incident, distance in found:
        item = incident_feature(incident, now=now)
        item["properties"]["distance_m"] = round(distance, 1)
        features.append(item)
    return {"type": "FeatureCollection", "features": features, "numberReturned": len(features),
            "query": {"lon": lon, "lat": lat, "category": category, "hours": hours, "radius_m": radius}}


def _text(body: Any, name: str, limit: int) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise Problem(400, f"'{name}' must be a string", param=name)
    if len(value) > limit:
        raise Problem(413, f"'{name}' is longer than {limit} characters", param=name)
    return value.strip()


@bp.post("/api/incidents/<incident_id>/links")
def link(incident_id: str) -> tuple[Response, int]:
    body = json_object(parse_json(request.get_data()), ("note", "phone"))
    note, phone = _text(body, "note", NOTE_MAX), _text(body, "phone", 24)
    if phone and not _PHONE.fullmatch(phone):
        raise Problem(400, "'phone' may hold digits, spaces, +, - and brackets only", param="phone")
    actor, now = request_actor(), datetime.now(UTC)
    entry = " · ".join(part for part in (f"来电 {phone}" if phone else "", note) if part)
    with store().transaction():
        incident, count = store().incidents.link(incident_id, actor=actor.name, at=now, note=entry,
                                                 within=request_jurisdiction())
        audit.record(store(), actor=actor, action="incident.link", target=incident.id,
                     detail={"links": count, "status": incident.status})
    response = jsonify({"id": incident.id, "status": incident.status, "links": count})
    response.headers["Location"] = f"/api/incidents/{incident.id}"
    return response, 201
