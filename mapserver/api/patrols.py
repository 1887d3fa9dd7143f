"""Patrol routes over HTTP: plan and save one (operator), list and read saved plans, export GPX or GeoJSON (viewer).

Points in the body may be in wgs84, cgcs2000, gcj02, bd09 or EPSG:n; answers
are WGS-84 (routes as GeoJSON LineStrings), lengths metres, times minutes and
ISO 8601. A plan is saved with its audit record in one transaction.

Jurisdictions: a planner's area, liaison and start place are looked up in their
jurisdiction (one outside it is unknown, 404); a plan is saved with the
planner's jurisdiction and the grids it covers, and reads keep to the asker's
jurisdiction by them (the rule: :mod:`mapserver.store.patrols`); a plan outside
it is a 404 as a missing one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from mapserver import audit
from mapserver.app_state import derived, state, store
from mapserver.auth import request_actor, request_jurisdiction
from mapserver.errors import Problem
from mapserver.parsing import parse_choice, parse_int, parse_json, parse_time, reject_unknown
from mapserver.patrol.gpx import GPX_MEDIA_TYPE, plan_geojson, plan_gpx
from mapserver.patrol.placement import plan_grids
from mapserver.patrol.planner import PlanContext, plan_patrol
from mapserver.patrol.request import parse_plan_request
from mapserver.store.patrols import MAX_LIST, PatrolPlanRow

bp = Blueprint("patrols", __name__, url_prefix="/api/patrols")

FORMATS = ("json", "gpx", "geojson")
GEOJSON_MEDIA_TYPE = "application/geo+json"


@bp.post("/plan")
def plan() -> tuple[Response, int]:
    """Plan a closed patrol route for an area and save it; 201 with the plan."""
    reject_unknown(request.args, ())
    settings, now = state().settings, datetime.now(UTC)
    body = parse_json(request.get_data())
    wanted = parse_plan_request(body, zone=settings.incidents.timezone, now=now,
                                hotspot_days=settings.patrol.hotspot_days)
    within = request_jurisdiction()
    context = PlanContext(settings=settings.patrol, timezone=settings.incidents.timezone,
                          offline_after_s=settings.cameras.offline_after_s, now=now, within=within)
    planned = plan_patrol(derived(), wanted, context)
    grids = plan_grids(planned, state().grid_index())
    with store().transaction():
        actor = request_actor()
        row = store().patrols.save(planned, created_by=actor.name, created_at=now, planner_grid=within.code,
                                   grids=grids)
        audit.record(store(), actor=actor, action="patrol.plan", target=row.id,
                     detail={"liaison": row.liaison, "grids": planned["grids"][:50], "mode": row.mode,
                             "window": row.time_window, "budget_min": row.budget_min, "stops": len(planned["stops"]),
                             "length_m": row.length_m})
    response = jsonify(row.plan)
    response.headers["Location"] = f"/api/patrols/{row.id}"
    return response, 201


@bp.get("")
def list_plans() -> dict[str, Any]:
    """Saved plans, newest first, without their routes; ``since`` (an ISO 8601 date or date-time, local to the
    incidents' zone without an offset) keeps those made from then on: ``since=<today>`` gives the day's plans."""
    reject_unknown(request.args, ("liaison", "since", "limit", "offset"))
    liaison = request.args.get("liaison")
    if liaison is not None and not 0 < len(liaison) <= 100:
        raise Problem(400, "liaison must be 1–100 characters", param="liaison")
    limit = int(parse_int("limit", request.args.get("limit"), default=100, low=0, high=MAX_LIST))
    offset = int(parse_int("offset", request.args.get("offset"), default=0, low=0))
    since = parse_time("since", request.args.get("since"), zone=state().settings.incidents.timezone)
    rows, total = store().patrols.list(liaison=liaison, since=since, limit=limit, offset=offset,
                                       within=request_jurisdiction())
    return {"numberMatched": total, "numberReturned": len(rows), "plans": [r.summary() for r in rows]}


def _saved(plan_id: str) -> PatrolPlanRow:
    row = store().patrols.get(plan_id, within=request_jurisdiction()) if len(plan_id) <= 64 else None
    if row is None or row.plan is None:
        raise Problem(404, f"no saved patrol plan with id '{plan_id[:64]}'", param="plan_id")
    return row


def _as(row: PatrolPlanRow, fmt: str) -> Response:
    if fmt == "gpx":
        response = Response(plan_gpx(row.plan), mimetype=GPX_MEDIA_TYPE)
    elif fmt == "geojson":
        response = jsonify(plan_geojson(row.plan))
        response.mimetype = GEOJSON_MEDIA_TYPE
    else:
        return jsonify(row.plan)
    response.headers["Content-Disposition"] = f'attachment; filename="patrol-{row.id}.{fmt}"'
    return response


@bp.get("/<plan_id>")
def get_plan(plan_id: str) -> Response:
    """One saved plan as JSON, or as a file with ``?format=gpx|geojson``."""
    reject_unknown(request.args, ("format",))
    fmt = parse_choice("format", request.args.get("format"), FORMATS) or "json"
    return _as(_saved(plan_id), fmt)


@bp.get("/<plan_id>.gpx")
def get_plan_gpx(plan_id: str) -> Response:
    """One saved plan as GPX 1.1 (stops as waypoints, the route as a track)."""
    reject_unknown(request.args, ())
    return _as(_saved(plan_id), "gpx")


@bp.get("/<plan_id>.geojson")
def get_plan_geojson(plan_id: str) -> Response:
    """One saved plan as a GeoJSON FeatureCollection (route, start, stops)."""
    reject_unknown(request.args, ())
    return _as(_saved(plan_id), "geojson")
