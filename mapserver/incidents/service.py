"""Reporting incidents and moving them through the loop: checks, grid assignment, deadlines, H3 cell.

Request bodies are plain JSON mappings; points may come in any of the four
CRS (wgs84, cgcs2000, gcj02, bd09) and are stored in WGS-84. The grid chain
comes from whatever ``locate(lon, lat)`` callable the caller passes (the grid
index in the server), so this module holds no cache and no HTTP.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import h3
from shapely.geometry import Point

from mapserver.errors import Problem
from mapserver.geo import parse_crs, to_wgs84
from mapserver.ids import time_ordered_uuid
from mapserver.incidents.deadlines import deadlines
from mapserver.incidents.lifecycle import (
    SATISFACTION,
    WHISTLE_LEVELS,
    Action,
    plan_transition,
    target_status,
)
from mapserver.incidents.settings import IncidentSettings
from mapserver.incidents.units import check_unit
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.model import INCIDENT_SOURCES, SATISFIED, SEVERITIES, Assessment, Callout, Incident, IncidentEvent
from mapserver.parsing import finite, json_object
from mapserver.roles import INCIDENT_ACTIONS, may_act
from mapserver.store import Store
from mapserver.store.incidents import changed_meanwhile

REPORT_FIELDS = {"category", "severity", "source", "description", "address", "reporter", "point", "accuracy_m"}
TRANSITION_FIELDS = {"action", "unit", "note", "level", "version", "satisfaction", "comment", "departments",
                     "report_by"}
ACTION_FIELDS = {"satisfaction": "follow_up", "comment": "follow_up", "departments": "whistle", "report_by": "whistle"}
"""Body fields that belong to one action only."""
MAX_SHORT_TEXT = 200
MAX_DEPARTMENTS = 20
MAX_ACCURACY_M = 100_000.0
"""The largest accuracy a phone may give for its position (metres): beyond it the position says nothing."""


@dataclass(frozen=True)
class Placement:
    """Where a report lands: WGS-84 point and the grid chain (codes from level 1 to the finest base grid)."""

    lon: float
    lat: float
    chain: Sequence[str]


Locator = Callable[[float, float], Sequence[str]]
"""(lon, lat) in WGS-84 → grid codes from level 1 to the finest; raises a 404 problem when no grid is near."""
Geocoder = Callable[[str], tuple[float, float]]
"""Address text → (lon, lat) in WGS-84 of the best standard address; raises 404 when none matches well."""


def body_hash(body: Any) -> str:
    """SHA-256 of a JSON body in canonical form (key order and spacing do not matter)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _text(body: Mapping[str, Any], name: str, *, limit: int, required: bool = False) -> str:
    value = body.get(name)
    if value is None:
        if required:
            raise Problem(422, f"'{name}' is required", param=name)
        return ""
    if not isinstance(value, str):
        raise Problem(400, f"'{name}' must be a string", param=name)
    if len(value) > limit:
        raise Problem(422, f"'{name}' is longer than {limit} characters", param=name)
    return value.strip()


def _choice(body: Mapping[str, Any], name: str, allowed: Sequence[str], default: str | None) -> str:
    value = body.get(name, default)
    if value not in allowed:
        raise Problem(422, f"'{name}' must be one of {', '.join(allowed)}; got {value!r}", param=name)
    return value


def _point(body: Mapping[str, Any]) -> tuple[float, float] | None:
    point = body.get("point")
    if point is None:
        return None
    if not isinstance(point, Mapping) or set(point) - {"lon", "lat", "crs"}:
        raise Problem(400, "'point' must be an object with lon, lat and optionally crs", param="point")
    lon, lat = finite("point.lon", point.get("lon")), finite("point.lat", point.get("lat"))
    crs = parse_crs(point.get("crs", "wgs84")) if isinstance(point.get("crs", "wgs84"), str) else None
    if crs is None:
        raise Problem(400, "'point.crs' must be a string", param="point.crs")
    lon, lat = to_wgs84(lon, lat, crs)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise Problem(422, f"point ({lon}, {lat}) is outside longitude ±180 / latitude ±90", param="point")
    return float(lon), float(lat)


def _accuracy(body: Mapping[str, Any]) -> dict[str, float]:
    """The point's accuracy in metres as the reporter's phone gave it (``accuracy_m``), kept in the incident's
    ``extra``; none when the point was not measured (typed, moved by hand, or from an address)."""
    value = body.get("accuracy_m")
    if value is None:
        return {}
    accuracy = finite("accuracy_m", value)
    if not 0 <= accuracy <= MAX_ACCURACY_M:
        raise Problem(422, f"'accuracy_m' must be 0–{MAX_ACCURACY_M:.0f} metres, got {accuracy}", param="accuracy_m")
    return {"accuracy_m": round(accuracy, 1)}


def place(body: Mapping[str, Any], address: str, *, locate: Locator, geocode: Geocoder) -> Placement:
    """The report's point (given, or found from its address) and its grid chain."""
    point = _point(body)
    if point is None:
        if not address:
            raise Problem(422, "a report needs a 'point' or an 'address'", param="point")
        point = geocode(address)
    return Placement(point[0], point[1], tuple(locate(*point)))


def new_incident(body: Any, *, settings: IncidentSettings, locate: Locator, geocode: Geocoder,
                 now: datetime) -> Incident:
    """Check a report body and build the incident: grid chain, deadlines and H3 cell filled in."""
    body = json_object(body, REPORT_FIELDS)
    category = _choice(body, "category", tuple(settings.categories), None)
    severity = _choice(body, "severity", SEVERITIES, "general")
    source = _choice(body, "source", INCIDENT_SOURCES, "grid_worker")
    address = _text(body, "address", limit=MAX_SHORT_TEXT)
    placement = place(body, address, locate=locate, geocode=geocode)
    warn_at, due_at = deadlines(settings, category=category, severity=severity, reported_at=now)
    chain = list(placement.chain) + [None] * (4 - len(placement.chain))
    return Incident(
        id=time_ordered_uuid(now), geom=Point(placement.lon, placement.lat), reported_at=now, category=category,
        severity=severity, source=source, status="reported",
        description=_text(body, "description", limit=settings.description_max),
        address=address, reporter=_text(body, "reporter", limit=MAX_SHORT_TEXT),
        grid_code=placement.chain[-1] if placement.chain else None,
        grid_l1=chain[0], grid_l2=chain[1], grid_l3=chain[2], grid_l4=chain[3],
        h3_cell=h3.latlng_to_cell(placement.lat, placement.lon, settings.h3_resolution),
        warn_at=warn_at, due_at=due_at, extra=_accuracy(body),
    )


def chain_of(incident: Incident) -> tuple[str | None, ...]:
    """The incident's grid chain, street (level 1) to building (level 4)."""
    return incident.grid_l1, incident.grid_l2, incident.grid_l3, incident.grid_l4


def outside_problem(incident: Incident, within: Jurisdiction, *, names: Mapping[str, str],
                    within_street: str | None) -> Problem:
    """The 422 for a report of ``incident`` by someone whose jurisdiction ``within`` does not cover it, naming the
    point, the grid it belongs to and the jurisdiction.

    ``names``: grid code → name for the incident's grid chain; ``within_street``: the code of the street
    (level 1) the jurisdiction lies in, to say when the point belongs to another street.
    """
    chain = [code for code in chain_of(incident) if code]
    point = f"({incident.geom.x:.6f}, {incident.geom.y:.6f})"
    yours = f"{within.name} ({within.code})"
    if not chain:
        return Problem(422, f"the point {point} lies in no grid, so not in your jurisdiction {yours}", param="point")

    def named(code: str) -> str:
        return f"{names.get(code, code)} ({code})"

    grid = named(incident.grid_code or chain[-1])
    if chain[0] != within_street:
        return Problem(422, f"the point {point} belongs to grid {grid} of another street, {named(chain[0])}: "
                            f"outside your jurisdiction {yours}; that street or the district reports it",
                       param="point")
    return Problem(422, f"the point {point} belongs to grid {grid}, outside your jurisdiction {yours}",
                   param="point")


def _changes(incident: Incident, action_name: str, unit: str, level: str | None, now: datetime) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if unit and action_name != "report_in":  # a department reporting in does not take the incident over
        changes["unit"] = unit
    if action_name in ("dispatch", "grab", "split") and incident.dispatched_at is None:
        changes["dispatched_at"] = now
    if action_name == "close":
        changes["closed_at"] = now
    if action_name == "whistle":
        # A key (district) whistle outranks a routine (street) one; never downgrade.
        changes["escalation"] = "key" if "key" in (level, incident.escalation) else "routine"
    return changes


def _report_by(body: Mapping[str, Any], now: datetime) -> datetime:
    """The whistle's report-by time: an ISO 8601 date-time with its offset, after ``now``; UTC."""
    text = body.get("report_by")
    if text is None:
        raise Problem(422, "a whistle naming 'departments' needs 'report_by', the time they must report in by",
                      param="report_by", members={"reason": "report_by_required"})
    if not isinstance(text, str):
        raise Problem(400, "'report_by' must be an ISO 8601 date-time", param="report_by")
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(422, f"'report_by' must be an ISO 8601 date-time, got {text[:40]!r}", param="report_by") from None
    if value.tzinfo is None:  # no guessing whose local time it is
        raise Problem(422, "'report_by' needs its offset from UTC (e.g. +08:00)", param="report_by")
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise Problem(422, f"'report_by' is out of range, got {text[:40]!r}", param="report_by") from None
    if value <= now:
        raise Problem(422, f"'report_by' ({value.isoformat()}) must be later than now", param="report_by",
                      members={"reason": "report_by_past", "report_by": value.isoformat()})
    return value


def _departments(body: Mapping[str, Any]) -> list[str]:
    """The departments a whistle calls out: 1 to MAX_DEPARTMENTS distinct non-empty names."""
    names = body.get("departments")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise Problem(400, "'departments' must be a list of department names", param="departments")
    cleaned = [n.strip() for n in names]
    if not 0 < len(cleaned) <= MAX_DEPARTMENTS or not all(0 < len(n) <= MAX_SHORT_TEXT for n in cleaned):
        raise Problem(422, f"'departments' must name 1–{MAX_DEPARTMENTS} departments of 1–{MAX_SHORT_TEXT} "
                           "characters each", param="departments",
                      members={"reason": "departments_count", "most": MAX_DEPARTMENTS})
    if len(set(cleaned)) != len(cleaned):
        raise Problem(422, "'departments' names a department twice", param="departments",
                      members={"reason": "department_twice"})
    return cleaned


def _check_action_fields(body: Mapping[str, Any], action_name: str) -> None:
    for name, owner in ACTION_FIELDS.items():
        if name in body and owner != action_name:
            raise Problem(422, f"'{name}' belongs to '{owner}', not '{action_name}'", param=name)


def _check_loop(incident: Incident, assessment: Assessment, action: Action, unit: str) -> None:
    """409 for a second follow-up of one closing or a report-in with none pending; 422 for a department the
    whistles did not name; 409 for one that has reported in already."""
    if action.name == "follow_up" and assessment.followed_up(incident.closed_at):
        raise Problem(409, f"incident {incident.id} was followed up after this closing already "
                           f"({assessment.satisfaction}); one follow-up per closing", param="action",
                      members={"reason": "followed_up_already", "satisfaction": assessment.satisfaction})
    if action.name == "report_in":
        named = {c.department: c for c in assessment.callouts}
        if not assessment.pending:
            raise Problem(409, f"no department is waiting to report in on incident {incident.id}", param="action",
                          members={"reason": "none_pending"})
        if unit not in named:
            pending = [c.department for c in assessment.pending]
            raise Problem(422, f"'{unit}' was not called out; waiting for: {', '.join(pending)}", param="unit",
                          members={"reason": "not_called_out", "unit": unit, "pending": pending})
        if named[unit].reported_at is not None:
            at = named[unit].reported_at.isoformat()
            raise Problem(409, f"'{unit}' reported in already, at {at}", param="unit",
                          members={"reason": "reported_in_already", "unit": unit, "reported_at": at})


def move_incident(store: Store, incident_id: str, body: Any, *, actor: str, role: str, now: datetime,
                  within: Jurisdiction = WHOLE, units: Mapping[str, Sequence[str]] | None = None) -> Incident:
    """Apply one transition from a request body, taken by ``actor`` in ``role`` whose jurisdiction is ``within``;
    404 unknown id or one outside ``within``, 403 an action the role may not take
    (:data:`mapserver.roles.INCIDENT_ACTIONS`) or a unit that does not serve ``within``, 409 illegal or raced (a
    second follow-up of one closing, a report-in twice or with none pending; a ``version`` that is not the
    incident's current one is refused first, naming who moved it), 422 missing parts, fields of
    another action, a department not called out, or a unit not among the configured ``units``
    (:mod:`mapserver.incidents.units`; none configured: any name).

    A follow-up (``satisfaction``, ``comment``) of a closed incident records the result; unsatisfied reopens it
    (status ``accepted``, same unit, original deadline, ``closed_at`` cleared, one more reopening). A whistle
    may name ``departments`` to report in by ``report_by``; ``report_in`` with ``unit`` records one's arrival."""
    body = json_object(body, TRANSITION_FIELDS)
    incident = store.incidents.get(incident_id, within=within)
    if incident is None:
        raise Problem(404, f"no incident with id '{incident_id}'", param="id")
    action_name = _text(body, "action", limit=40, required=True)
    version = body.get("version", incident.version)
    if isinstance(version, bool) or not isinstance(version, int):
        raise Problem(400, "'version' must be a whole number", param="version")
    if version != incident.version:  # someone moved it since the asker saw it: say who, before anything else
        raise changed_meanwhile(incident, store.incidents.timeline(incident_id), action=action_name)
    action = plan_transition(incident.status, action_name)
    if not may_act(role, action_name):
        roles = sorted(INCIDENT_ACTIONS[action_name])
        raise Problem(403, f"'{action_name}' is for the roles {', '.join(roles)}; you are {role}", param="action",
                      members={"reason": "role_may_not", "action": action_name, "role": role, "roles": roles})
    _check_action_fields(body, action_name)
    unit = _text(body, "unit", limit=MAX_SHORT_TEXT)
    if action.needs_unit and not unit:
        raise Problem(422, f"'{action_name}' needs the 'unit' that takes the incident", param="unit",
                      members={"reason": "unit_required", "action": action_name})
    if unit and action_name != "report_in":  # a report-in names a called-out department, checked below
        check_unit(unit, units or {}, within, store.grids.ancestors)
    level = _choice(body, "level", tuple(WHISTLE_LEVELS), "routine") if action_name == "whistle" else None
    satisfaction = _choice(body, "satisfaction", tuple(SATISFACTION), None) if action_name == "follow_up" else None
    callouts: list[Callout] = []
    if action_name == "whistle" and ("departments" in body or "report_by" in body):
        if "departments" not in body:
            raise Problem(422, "'report_by' needs the 'departments' that must report in", param="departments")
        departments = _departments(body)
        for department in departments:
            check_unit(department, units or {}, within, store.grids.ancestors)
        report_by = _report_by(body, now)
        callouts = [Callout(incident_id, d, now, actor, report_by) for d in departments]
    changes = _changes(incident, action_name, unit, level, now)
    report_in = None
    if action_name in ("follow_up", "report_in"):
        assessment = store.incidents.assessment(incident_id)
        _check_loop(incident, assessment, action, unit)
        if action_name == "report_in":
            report_in = Callout(incident_id, unit, now, actor, now, reported_at=now, reported_by=actor)
        else:
            comment = _text(body, "comment", limit=MAX_SHORT_TEXT * 5)
            changes.update(satisfaction=satisfaction, follow_up_comment=comment, followed_up_at=now)
            if satisfaction not in SATISFIED:
                # Reopened: open again with the unit that had it, against the original deadline.
                changes.update(closed_at=None, reopen_count=assessment.reopen_count + 1)
    to_status = target_status(incident.status, action, satisfaction)
    note = _text(body, "note", limit=MAX_SHORT_TEXT * 5) or _text(body, "comment", limit=MAX_SHORT_TEXT * 5)
    event = IncidentEvent(incident_id=incident_id, at=now, actor=actor, action=action_name,
                          from_status=incident.status, to_status=to_status, note=note, unit=unit or None,
                          satisfaction=satisfaction)
    return store.incidents.transition(incident_id=incident_id, expected_version=version, event=event,
                                      changes=changes, within=within, callouts=callouts, report_in=report_in)
