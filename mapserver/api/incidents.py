"""Incidents over HTTP: report (idempotent), list, read with timeline, transitions, and the measures.

Points in bodies may be in wgs84, cgcs2000, gcj02 or bd09 (``point.crs``);
responses are GeoJSON in WGS-84. Times are ISO 8601; a time without an offset
in a query is local time in ``incidents.timezone``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from mapserver import audit
from mapserver.addressing import best_address
from mapserver.api.photos import photo_json
from mapserver.app_state import state, store
from mapserver.auth import request_actor, request_jurisdiction
from mapserver.errors import Problem
from mapserver.geojson import feature, feature_collection
from mapserver.incidents.deadlines import WARNINGS, warning_colour
from mapserver.incidents.lifecycle import STATUSES, allowed_actions
from mapserver.incidents.service import body_hash, chain_of, move_incident, new_incident, outside_problem
from mapserver.jurisdiction import Jurisdiction
from mapserver.model import SEVERITIES, Assessment, Incident
from mapserver.parsing import parse_bbox, parse_choice, parse_int, parse_json, parse_time, reject_unknown
from mapserver.roles import permitted_actions
from mapserver.screen.answers import etag_of
from mapserver.store.incidents import IncidentFilter, grid_or_division

bp = Blueprint("incidents", __name__, url_prefix="/api")

LIST_PARAMS = ("bbox", "since", "until", "status", "category", "severity", "grid", "warning", "limit", "offset")
MAX_KEY_CHARS = 200
ETAG_CLOCK_S = 60  # a case's answer is the same within a minute unless its version moves
AUDITED_FIELDS = ("satisfaction", "departments", "report_by")
"""A follow-up's result and a whistle's call-outs, kept in the transition's audit record (texts: the timeline)."""


def _now() -> datetime:
    return datetime.now(UTC)


def incident_feature(incident: Incident, *, now: datetime, assessment: Assessment | None = None) -> dict[str, Any]:
    """An incident as a Feature, with its warning colour now and the actions it may take next; with its
    ``assessment``, also its follow-up and the whistle's call-outs (a listing leaves them out, and with them the
    report-in from the next actions)."""
    out = feature(incident, key="id")
    props = out["properties"]
    props["warning"] = warning_colour(status=incident.status, escalation=incident.escalation,
                                      warn_at=incident.warn_at, due_at=incident.due_at, now=now)
    if assessment is None:
        props["next_actions"] = allowed_actions(incident.status)
        return out
    props["next_actions"] = allowed_actions(incident.status, followed_up=assessment.followed_up(incident.closed_at),
                                            awaiting_report_in=bool(assessment.pending))
    props["follow_up"] = follow_up_json(incident, assessment)
    props["whistle"] = whistle_json(assessment, now)
    return out


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def follow_up_json(incident: Incident, assessment: Assessment) -> dict[str, Any]:
    """The latest follow-up (回访) and whether the current closing still awaits one; reopenings so far."""
    return {"satisfaction": assessment.satisfaction, "comment": assessment.follow_up_comment,
            "followed_up_at": _iso(assessment.followed_up_at), "reopen_count": assessment.reopen_count,
            "due": incident.status == "closed" and not assessment.followed_up(incident.closed_at)}


def whistle_json(assessment: Assessment, now: datetime) -> dict[str, Any]:
    """The departments the whistles called out to report in (吹哨报到): who has, when and by whom, who has not,
    and whether the report-by time of those not yet in has passed."""
    departments = [{"department": c.department, "report_by": c.report_by.isoformat(), "called_at":
                    c.called_at.isoformat(), "called_by": c.called_by, "reported_at": _iso(c.reported_at),
                    "reported_by": c.reported_by, "overdue": c.overdue(now)} for c in assessment.callouts]
    return {"departments": departments,
            "reported": [c.department for c in assessment.callouts if c.reported_at is not None],
            "pending": [c.department for c in assessment.pending],
            "overdue": any(c.overdue(now) for c in assessment.callouts)}


def _locate(lon: float, lat: float) -> list[str]:
    found = state().grid_index().lookup(lon, lat)
    if found is None:
        raise Problem(404, "no grids are loaded, so no report can be placed; import grids first", param="point")
    return [ref.code for ref in found.chain]


def _geocode(address: str) -> tuple[float, float]:
    best, _ = best_address(state().address_matcher(), address,
                           min_score=state().settings.lookup.min_address_score)
    return best.lon, best.lat


def _refuse_outside(incident: Incident, within: Jurisdiction) -> None:
    """422 when the report's point lies outside the reporter's jurisdiction, naming its grid and street."""
    if within.covers_chain(chain_of(incident)):
        return
    found = state().grid_index().lookup(incident.geom.x, incident.geom.y)
    names = {ref.code: ref.name for ref in found.chain} if found is not None else {}
    above = store().grids.ancestors(str(within.code))  # parent first: the last is the street
    street = above[-1] if above else within.code
    raise outside_problem(incident, within, names=names, within_street=street)


def _filter(now: datetime) -> IncidentFilter:
    """The listing's filter from the query string, inside the asker's jurisdiction: a ``grid`` outside it finds
    nothing."""
    args, settings = request.args, state().settings.incidents
    return IncidentFilter(
        since=parse_time("since", args.get("since"), zone=settings.timezone),
        until=parse_time("until", args.get("until"), zone=settings.timezone),
        status=parse_choice("status", args.get("status"), STATUSES),
        category=parse_choice("category", args.get("category"), settings.categories),
        severity=parse_choice("severity", args.get("severity"), SEVERITIES),
        grid=args.get("grid"),
        warning=parse_choice("warning", args.get("warning"), WARNINGS),
        now=now,
        within=request_jurisdiction(),
    )


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= MAX_KEY_CHARS):
        raise Problem(400, f"Idempotency-Key must be 1–{MAX_KEY_CHARS} characters", param="Idempotency-Key")
    return key


@bp.post("/incidents")
def report() -> tuple[Response, int]:
    key = _idempotency_key()
    body = parse_json(request.get_data())
    now, actor = _now(), request_actor()
    incident = new_incident(body, settings=state().settings.incidents, locate=_locate, geocode=_geocode, now=now)
    _refuse_outside(incident, request_jurisdiction())
    with store().transaction():
        stored, created = store().incidents.report(incident, actor=actor.name, idempotency_key=key,
                                                   body_hash=body_hash(body) if key is not None else "")
        if created:  # a repeat of the same report (same Idempotency-Key) writes nothing
            audit.record(store(), actor=actor, action="incident.report", target=stored.id,
                         detail={"category": stored.category, "severity": stored.severity,
                                 "grid_code": stored.grid_code})
    out = incident_feature(stored, now=now)
    _add_my_actions(out, actor.role)
    response = jsonify(out)
    response.headers["Location"] = f"/api/incidents/{stored.id}"
    return response, 201 if created else 200


@bp.get("/incidents")
def list_incidents() -> dict[str, Any]:
    reject_unknown(request.args, LIST_PARAMS)
    now = _now()
    limit = parse_int("limit", request.args.get("limit"), default=1000, low=0, high=10_000)
    offset = parse_int("offset", request.args.get("offset"), default=0, low=0)
    found, total = store().incidents.query(bbox=parse_bbox(request.args.get("bbox")), where=_filter(now),
                                           limit=limit, offset=offset)
    collection = feature_collection([], key="id", numberMatched=total, numberReturned=len(found))
    role = request_actor().role
    collection["features"] = [incident_feature(i, now=now) for i in found]
    for out in collection["features"]:
        _add_my_actions(out, role)
    return collection


@bp.get("/incidents/<incident_id>")
def get_incident(incident_id: str) -> Response:
    reject_unknown(request.args, ())
    within = request_jurisdiction()
    # Found within the jurisdiction, or 404 as for an id that does not exist; only then is the timeline read.
    incident = store().incidents.get(incident_id, within=within)
    if incident is None:
        raise Problem(404, f"no incident with id '{incident_id}'", param="id")
    role = request_actor().role
    # The incidents' data version moves with every write (a transition, a linked call, a grid reassigned); warning
    # colours and overdue report-ins move with the clock's minute; the actions differ by role.
    minute = int(_now().timestamp()) // ETAG_CLOCK_S
    etag = etag_of(("incident", incident.id, incident.version, store().layers.data_version("incidents"), role or "",
                    within.code or "", minute, store().photos.version(incident.id)))
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304)
    else:
        out = incident_feature(incident, now=_now(), assessment=store().incidents.assessment(incident_id))
        out["properties"]["timeline"] = [
            {"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action, "from": e.from_status,
             "to": e.to_status, "note": e.note, "unit": e.unit, "satisfaction": e.satisfaction}
            for e in store().incidents.timeline(incident_id)]
        out["properties"]["photos"] = [photo_json(p) for p in store().photos.for_incident(incident_id)]
        _add_my_actions(out, role)
        resp = jsonify(out)
    resp.set_etag(etag, weak=True)
    resp.headers["Cache-Control"] = "private, no-cache"
    resp.headers["Vary"] = "Cookie, Authorization"
    return resp


def _add_my_actions(out: dict[str, Any], role: str | None) -> None:
    """The next actions the asker's role may take (``my_actions``): the state machine's ∩ the role table's
    (:data:`mapserver.roles.INCIDENT_ACTIONS`). In a listing, as its ``next_actions``, without the report-in."""
    out["properties"]["my_actions"] = permitted_actions(role, out["properties"]["next_actions"])


@bp.post("/incidents/<incident_id>/transitions")
def transition(incident_id: str) -> dict[str, Any]:
    """One step of the loop. With an ``Idempotency-Key``, a repeat of the same step (a phone resending what it
    sent offline, its answer lost) is answered with the case as it stands, moving nothing."""
    key = _idempotency_key()
    now, actor = _now(), request_actor()
    body = parse_json(request.get_data())
    within = request_jurisdiction()
    with store().transaction():
        if key is not None and not store().incidents.claim_transition_key(
                key, f"{actor.name}:{body_hash(body)}", incident_id, now):
            moved = store().incidents.get(incident_id, within=within)
            if moved is None:
                raise Problem(404, f"no incident with id '{incident_id}'", param="id")
        else:
            moved = move_incident(store(), incident_id, body, actor=actor.name, role=actor.role or "", now=now,
                                  within=within, units=state().settings.incidents.units)
            audit.record(store(), actor=actor, action="incident.transition", target=moved.id,
                         detail={"action": body["action"], "status": moved.status, "version": moved.version,
                                 **{k: body[k] for k in AUDITED_FIELDS if k in body}})
    out = incident_feature(moved, now=now, assessment=store().incidents.assessment(moved.id))
    _add_my_actions(out, actor.role)
    return out


@bp.get("/kpis")
def kpis() -> dict[str, Any]:
    reject_unknown(request.args, ("since", "until", "code", "level", "category", "severity"))
    now = _now()
    settings = state().settings.incidents
    where = IncidentFilter(
        since=parse_time("since", request.args.get("since"), zone=settings.timezone),
        until=parse_time("until", request.args.get("until"), zone=settings.timezone),
        category=parse_choice("category", request.args.get("category"), settings.categories),
        severity=parse_choice("severity", request.args.get("severity"), SEVERITIES),
        # A grid or a division, inside the jurisdiction: a code outside it counts nothing.
        **grid_or_division(store().divisions, request.args.get("code")),
        within=request_jurisdiction(),
    )
    level = parse_int("level", request.args.get("level"), low=1, high=4)
    return {"generated_at": now.isoformat(), **store().measures.kpis(where=where, now=now, group_level=level)}
