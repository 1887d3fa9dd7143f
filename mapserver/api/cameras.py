"""Cameras over HTTP: listing with their status now, heartbeats, and online rates (在线率) by grid.

Positions are GeoJSON in WGS-84. A heartbeat takes the server's clock, not the
sender's, so a camera with a wrong clock cannot keep itself online. Every route
keeps to the asker's jurisdiction: a camera outside it is a 404 as an unknown
one, for reads and heartbeats alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, request

from mapserver import audit
from mapserver.app_state import state, store
from mapserver.auth import request_actor, request_jurisdiction
from mapserver.cameras import effective_status, online_rates
from mapserver.errors import Problem
from mapserver.geojson import feature
from mapserver.gridindex import GridIndex
from mapserver.model import CAMERA_STATUSES, Camera
from mapserver.parsing import parse_bbox, parse_choice, parse_int, parse_json, reject_unknown

bp = Blueprint("cameras", __name__, url_prefix="/api/cameras")

MAX_BATCH = 10_000


def _offline_after_s() -> int:
    return state().settings.cameras.offline_after_s


def camera_feature(camera: Camera, *, now: datetime) -> dict[str, Any]:
    """A camera as a Feature whose ``status`` is its status now (stale heartbeats → offline)."""
    out = feature(camera, key="code")
    out["properties"]["status"] = effective_status(camera, now=now, offline_after_s=_offline_after_s())
    return out


@bp.get("")
def list_cameras() -> dict[str, Any]:
    reject_unknown(request.args, ("bbox", "status", "limit", "offset"))
    now = datetime.now(UTC)
    bbox = parse_bbox(request.args.get("bbox"))
    status = parse_choice("status", request.args.get("status"), CAMERA_STATUSES)
    limit = parse_int("limit", request.args.get("limit"), default=1000, low=0, high=10_000)
    offset = parse_int("offset", request.args.get("offset"), default=0, low=0)
    found, total = store().cameras.query(bbox=bbox, status=status, now=now, offline_after_s=_offline_after_s(),
                                         limit=limit, offset=offset, within=request_jurisdiction())
    return {"type": "FeatureCollection", "numberMatched": total, "numberReturned": len(found),
            "features": [camera_feature(c, now=now) for c in found]}


@bp.get("/<code>")
def get_camera(code: str) -> dict[str, Any]:
    reject_unknown(request.args, ())
    camera = store().layers.get("cameras", code, within=request_jurisdiction())
    if camera is None:
        raise Problem(404, f"no camera with code '{code}'", param="code")
    return camera_feature(camera, now=datetime.now(UTC))


@bp.post("/<code>/heartbeat")
def heartbeat(code: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    within = request_jurisdiction()
    with store().transaction():
        store().cameras.heartbeats([code], at=now, within=within)
        audit.record(store(), actor=request_actor(), action="camera.heartbeats", target=code, detail={"count": 1})
    return camera_feature(store().layers.get("cameras", code, within=within), now=now)


@bp.post("/heartbeats")
def heartbeats() -> dict[str, Any]:
    body = parse_json(request.get_data())
    if not isinstance(body, dict) or set(body) != {"codes"} or not isinstance(body["codes"], list):
        raise Problem(400, "the body must be {\"codes\": [camera code, …]}", param="codes")
    codes = body["codes"]
    if not 0 < len(codes) <= MAX_BATCH or not all(isinstance(c, str) and 0 < len(c) <= 64 for c in codes):
        raise Problem(400, f"'codes' must hold 1–{MAX_BATCH} camera codes as strings", param="codes")
    with store().transaction():  # one audit record per batch, standing or falling with it
        recorded = store().cameras.heartbeats(codes, at=datetime.now(UTC), within=request_jurisdiction())
        audit.record(store(), actor=request_actor(), action="camera.heartbeats", target=None,
                     detail={"count": recorded})
    return {"recorded": recorded}


def _grid_at_level(index: GridIndex, code: str, level: int, memo: dict[str, str]) -> str:
    if code not in memo:
        grid = index.grid(code) if code else None
        while grid is not None and grid.level > level:
            grid = index.grid(grid.parent_code) if grid.parent_code else None
        memo[code] = grid.code if grid is not None and grid.level == level else ""
    return memo[code]


@bp.get("/online-rate")
def online_rate() -> dict[str, Any]:
    reject_unknown(request.args, ("level",))
    level = parse_int("level", request.args.get("level"), default=1, low=1, high=4)
    cameras = store().layers.query("cameras", within=request_jurisdiction())
    index = state().grid_index()
    finest = index.assign([c.geom.x for c in cameras], [c.geom.y for c in cameras]) if cameras else []
    memo: dict[str, str] = {}
    codes = [_grid_at_level(index, str(code), level, memo) for code in finest]
    return {"level": level, **online_rates(cameras, codes, now=datetime.now(UTC),
                                           offline_after_s=_offline_after_s())}
