"""Patrol tracks over HTTP: a person's positions in batches or as a GPX track, their patrols and check-ins, a day's
track and measures, a plan against what was walked, and the live positions of people on patrol.

Positions are the logged-in person's own (a token is no person: 400, as for a password change). Coordinates are
WGS-84 (a batch may say ``"crs": "gcj02"`` and is converted), times UTC ISO 8601 in answers (a fix's ``t`` may be
ISO 8601 or epoch milliseconds), distances metres, durations seconds; a day is a local date in the configured time
zone.

Who reads whose track: everyone their own; a dispatcher, liaison or admin also those of the people in their
jurisdiction (the rule: :mod:`mapserver.store.tracks`); anyone else's is a 404, as a person with no track. The
live layer shows the people of the asker's jurisdiction with a fix in the last :data:`LIVE_MINUTES`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request
from shapely.geometry.base import BaseGeometry

from mapserver import audit
from mapserver.app_state import state, store
from mapserver.auth import acting_person, current_principal, request_actor, request_jurisdiction
from mapserver.errors import Problem
from mapserver.parsing import json_object, parse_json, reject_unknown
from mapserver.screen.answers import etag_of
from mapserver.store.tracks import CheckIn, TrackColumns
from mapserver.tracks.fixes import MAX_ACCURACY_M, answer, batch_items, check_fix, decode_batch, sort_batch
from mapserver.tracks.geodesy import segment_lengths_m
from mapserver.tracks.gpx import MAX_GPX_BYTES, track_points
from mapserver.tracks.measures import day_measures, day_window, track_geometry
from mapserver.tracks.plan_actual import NEAR_M, plan_against_track

bp = Blueprint("tracks", __name__)

GPX_TYPES = ("application/gpx+xml", "application/xml", "text/xml")
GEOJSON_MEDIA_TYPE = "application/geo+json"
MAX_KEY_CHARS = 200
LIVE_MINUTES = 5
"""A person is on the live layer while their last fix is at most this old."""
LIVE_TRAIL = 10
"""Fixes in a person's trail on the live layer (the last one is where they are)."""
SUPERVISORS = frozenset({"dispatcher", "liaison", "admin"})
"""Roles that read the tracks of the people in their jurisdiction."""
CHECK_IN_FIELDS = ("stop", "lon", "lat", "t", "accuracy", "crs")


def _person() -> str:
    person = acting_person()
    if person is None:
        raise Problem(400, "positions and patrols are a person's own: a token is no person; log in as the person "
                           "on patrol")
    return person


def _zone() -> str:
    return state().settings.incidents.timezone


def _ingest(items: list[Any], crs: str, person: str) -> dict[str, Any]:
    """Check, filter and store a batch of the person's fixes; what it came to."""
    tracks = store().tracks

    def previous(t: datetime) -> tuple[datetime, float, float] | None:
        fix = tracks.fix_before(person, t)
        return None if fix is None else (fix.t, fix.lon, fix.lat)

    batch = sort_batch(items, now=datetime.now(UTC), zone=_zone(), previous=previous, crs=crs)
    kept = batch.kept
    stored = tracks.add_fixes(person, [f.t for f in kept], [f.lon for f in kept], [f.lat for f in kept],
                              [f.accuracy_m for f in kept])
    return answer(len(items), batch, stored)


def _with_key(person: str, raw: bytes, ingest: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``ingest`` once per Idempotency-Key: a repeat of the same body gets the first answer again."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return ingest()
    if not 1 <= len(key) <= MAX_KEY_CHARS:
        raise Problem(400, f"Idempotency-Key must be 1–{MAX_KEY_CHARS} characters", param="Idempotency-Key")
    body_hash = hashlib.sha256(raw).hexdigest()
    earlier = store().tracks.batch_answer(person, key, body_hash)
    if earlier is not None:
        return earlier
    result = ingest()
    store().tracks.keep_batch_answer(person, key, body_hash, result, datetime.now(UTC))
    return result


@bp.post("/api/tracks/positions")
def post_positions() -> dict[str, Any]:
    """A batch of the person's fixes ``{"fixes": [{lon, lat, t, accuracy}, …]}``: counts of those stored, repeated,
    dropped (accuracy, speed) and refused, each fix not stored by its index."""
    reject_unknown(request.args, ())
    person, raw = _person(), request.get_data()
    items, crs = batch_items(decode_batch(raw))
    return _with_key(person, raw, lambda: _ingest(items, crs, person))


def _gpx_bytes() -> bytes:
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        upload = request.files.get("file") or request.files.get("gpx")
        if upload is None:
            raise Problem(400, "send the GPX document as the form field 'file'", param="file")
        data = upload.stream.read(MAX_GPX_BYTES + 1)
    elif mimetype in GPX_TYPES:
        data = request.get_data()
    else:
        raise Problem(415, f"send GPX 1.1 as application/gpx+xml or multipart/form-data, not {mimetype or 'nothing'}")
    return data


@bp.post("/api/tracks/gpx")
def post_gpx() -> dict[str, Any]:
    """A walked track as GPX 1.1 (its track points, each with a time): stored as the person's fixes, with the
    counts a batch of positions gets."""
    reject_unknown(request.args, ())
    person = _person()
    data = _gpx_bytes()
    items = track_points(data)
    return _with_key(person, data, lambda: _ingest(items, "wgs84", person))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Problem(400, f"the day must be a date YYYY-MM-DD, got {text[:20]!r}", param="day") from None


def _readable(person: str) -> None:
    """404 unless the asker may read ``person``'s track: their own, or one of their jurisdiction's people for a
    supervisor."""
    if person == acting_person():
        return
    principal = current_principal()
    if principal is not None and principal.role in SUPERVISORS and len(person) <= 64 \
            and store().tracks.person_within(person, request_jurisdiction()):
        return
    raise Problem(404, f"no track of '{person[:64]}' that you may read", param="person")


def _day_track(person: str, day: date) -> TrackColumns:
    since, until = day_window(day, _zone())
    return store().tracks.track(person, since, until)


def _grid_area(grid_code: str | None) -> BaseGeometry | None:
    """The polygon of a person's own grid (WGS-84); None without one, or when the grid is gone."""
    if grid_code is None:
        return None
    try:
        return store().grids.area(store().grids.jurisdiction(grid_code))
    except Problem:
        return None


@bp.get("/api/tracks/people/<person>/days/<day>")
def person_day(person: str, day: str) -> Response:
    """The person's track on a local day as a GeoJSON Feature (a line, cut at gaps) with its measures."""
    reject_unknown(request.args, ())
    when = _day(day)
    _readable(person)
    track = _day_track(person, when)
    account = store().accounts.get(person)
    grid_code = account.grid_code if account is not None else None
    measures = day_measures(track.seconds, track.lon, track.lat, _grid_area(grid_code))
    since, until = day_window(when, _zone())
    feature = {"type": "Feature", "id": f"{person}/{when.isoformat()}",
               "geometry": track_geometry(track.seconds, track.lon, track.lat),
               "properties": {"person": person, "day": when.isoformat(), "timezone": _zone(),
                              "day_starts_at": since.isoformat(), "grid_code": grid_code,
                              **measures.as_json(),
                              "check_ins": [c.as_json() for c in store().tracks.check_ins(person, since, until)]}}
    response = jsonify(feature)
    response.mimetype = GEOJSON_MEDIA_TYPE
    return response


@bp.get("/api/tracks/people/<person>/days/<day>/plans/<plan_id>")
def plan_actual(person: str, day: str, plan_id: str) -> dict[str, Any]:
    """A saved plan against the person's track of a local day: stops passed within 50 m and when, and the share of
    the planned route walked."""
    reject_unknown(request.args, ())
    when = _day(day)
    _readable(person)
    row = store().patrols.get(plan_id, within=request_jurisdiction()) if len(plan_id) <= 64 else None
    if row is None or row.plan is None:
        raise Problem(404, f"no saved patrol plan with id '{plan_id[:64]}'", param="plan_id")
    track = _day_track(person, when)
    result = plan_against_track(row.plan, track.seconds, track.lon, track.lat)
    since, until = day_window(when, _zone())
    check_ins = store().tracks.check_ins(person, since, until, plan_id=plan_id)
    return {"plan_id": plan_id, "person": person, "day": when.isoformat(), **result,
            "check_ins": [c.as_json() for c in check_ins]}


@bp.get("/api/positions/live")
def live_positions() -> Response:
    """People of the asker's jurisdiction with a fix in the last five minutes, as GeoJSON points (where they are)
    with their role (for the colour), their open patrol and a short trail of their latest fixes.

    The weak ETag names the jurisdiction and the layer's version (the newest fix, who has one in the window, their
    open patrols): a poll with nothing new is a 304. The ages in an answer are as of ``generated_at``; a reader
    keeping an answer counts them on from the fixes' times ``t``."""
    reject_unknown(request.args, ())
    now = datetime.now(UTC)
    within = request_jurisdiction()
    # One statement gives the layer and its version: a poll with nothing new is a 304 without the body's bytes.
    features, version = store().tracks.live_features(now=now, minutes=LIVE_MINUTES, trail=LIVE_TRAIL,
                                                     within=within)
    etag = etag_of(("positions/live", within.code, LIVE_MINUTES, LIVE_TRAIL, *version))
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        # The features come as GeoJSON text, made by the store: passed on as they are.
        head = json.dumps({"type": "FeatureCollection", "generated_at": now.isoformat(),
                           "live_minutes": LIVE_MINUTES})
        response = Response(f'{head[:-1]}, "features": {features}}}', mimetype=GEOJSON_MEDIA_TYPE)
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Cookie, Authorization"
    return response


def _body(fields: tuple[str, ...]) -> dict[str, Any]:
    raw = request.get_data()
    return dict(json_object(parse_json(raw) if raw.strip() else {}, fields))


@bp.post("/api/tracks/patrols")
def start_patrol() -> tuple[dict[str, Any], int]:
    """Start a patrol of the person, optionally after a saved plan ``{"plan_id": …}``; 201 with it."""
    reject_unknown(request.args, ())
    person = _person()
    plan_id = _body(("plan_id",)).get("plan_id")
    if plan_id is not None:
        if not isinstance(plan_id, str) or not 1 <= len(plan_id) <= 64:
            raise Problem(400, "plan_id must be a saved plan's id", param="plan_id")
        if store().patrols.get(plan_id, within=request_jurisdiction()) is None:
            raise Problem(404, f"no saved patrol plan with id '{plan_id}'", param="plan_id")
    with store().transaction():
        session = store().tracks.start_patrol(person, plan_id=plan_id, now=datetime.now(UTC))
        audit.record(store(), actor=request_actor(), action="patrol.start", target=session.id,
                     detail={"plan_id": plan_id})
    return session.as_json(), 201


@bp.get("/api/tracks/patrols/current")
def current_patrol() -> dict[str, Any]:
    """The person's patrol going on now (``patrol`` null when none), with its check-ins: what a phone reads when it
    starts again."""
    reject_unknown(request.args, ())
    session = store().tracks.open_patrol(_person())
    if session is None:
        return {"patrol": None, "check_ins": []}
    return {"patrol": session.as_json(),
            "check_ins": [c.as_json() for c in store().tracks.patrol_check_ins(session.id)]}


@bp.post("/api/tracks/patrols/<patrol_id>/stop")
def stop_patrol(patrol_id: str) -> dict[str, Any]:
    """End the person's patrol."""
    reject_unknown(request.args, ())
    person = _person()
    with store().transaction():
        session = store().tracks.stop_patrol(patrol_id[:64], person=person, now=datetime.now(UTC))
        audit.record(store(), actor=request_actor(), action="patrol.stop", target=session.id,
                     detail={"plan_id": session.plan_id})
    return session.as_json()


def _stop_of(plan: dict[str, Any], order: Any) -> dict[str, Any]:
    if isinstance(order, bool) or not isinstance(order, int):
        raise Problem(400, "stop must be the order number of a stop of the plan", param="stop")
    for stop in plan["stops"]:
        if stop["order"] == order:
            return stop
    orders = ", ".join(str(s["order"]) for s in plan["stops"]) or "none"
    raise Problem(422, f"the plan has no stop {order}; its stops are {orders}", param="stop")


@bp.post("/api/tracks/patrols/<patrol_id>/checkins")
def check_in(patrol_id: str) -> tuple[dict[str, Any], int]:
    """Check in at a stop of the patrol's plan ``{"stop": order, "lon", "lat", "accuracy", "t"}``: recorded with its
    distance from the stop when within 50 m (422 farther, or when the fix is worse than 50 m); 201, or 200 with
    the first check-in at that stop."""
    reject_unknown(request.args, ())
    person = _person()
    body = _body(CHECK_IN_FIELDS)
    session = store().tracks.patrol(patrol_id[:64], person=person)
    if session.ended_at is not None:
        raise Problem(409, f"patrol {session.id} has ended", param="patrol")
    row = store().patrols.get(session.plan_id) if session.plan_id is not None else None
    if row is None or row.plan is None:
        raise Problem(422, f"patrol {session.id} follows no saved plan: there is no stop to check in at",
                      param="patrol")
    stop = _stop_of(row.plan, body.get("stop"))
    now = datetime.now(UTC)
    crs = body.get("crs", "wgs84")
    fix_fields = {k: body[k] for k in ("lon", "lat", "t", "accuracy") if k in body}
    try:
        fix = check_fix(0, {"t": now.isoformat(), **fix_fields}, now=now, zone=_zone(),
                        crs=crs if isinstance(crs, str) else "?")
    except ValueError as exc:
        raise Problem(422, f"the check-in's position: {exc}", param="lon") from None
    if fix.accuracy_m is not None and fix.accuracy_m > MAX_ACCURACY_M:
        raise Problem(422, f"the position is accurate to {fix.accuracy_m:.0f} m; a check-in needs "
                           f"{MAX_ACCURACY_M:g} m or better", param="accuracy")
    distance = float(segment_lengths_m([fix.lon, stop["lon"]], [fix.lat, stop["lat"]])[0])
    if distance > NEAR_M:
        raise Problem(422, f"you are {distance:.0f} m from stop {stop['order']} ({stop.get('name', '')}); check in "
                           f"within {NEAR_M:g} m", param="stop")
    with store().transaction():
        stored, created = store().tracks.check_in(CheckIn(session_id=session.id, stop_order=stop["order"], at=fix.t,
                                                          lon=fix.lon, lat=fix.lat, distance_m=distance))
        if created:
            audit.record(store(), actor=request_actor(), action="patrol.check_in", target=session.id,
                         detail={"stop": stop["order"], "distance_m": round(distance, 1)})
    return stored.as_json(), 201 if created else 200
