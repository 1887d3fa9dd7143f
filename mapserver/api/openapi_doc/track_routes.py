"""The patrol track routes of the API described as data (see :mod:`mapserver.api.openapi_doc.routes`): positions and
GPX uploads, patrols and check-ins, a person's day, plan against actual, and the live positions.

Bounds come from the modules that check them, so the description follows the code.
"""

from __future__ import annotations

from mapserver.api.openapi_doc.model import Answer, Operation, Param, Schema
from mapserver.api.openapi_doc.schemas import integer, number, ref, text
from mapserver.api.tracks import MAX_KEY_CHARS
from mapserver.tracks.fixes import MAX_FIXES
from mapserver.tracks.gpx import GPX_11

JSON = "application/json"
GEOJSON = "application/geo+json"
PERSON = Param("person", text(64, minLength=1), where="path", description="an account's name")
DAY = Param("day", text(10, format="date"), where="path", description="a local date, YYYY-MM-DD")
PLAN_ID = Param("plan_id", text(64, pattern=r"^[0-9A-Za-z_-]{1,64}$"), where="path",
                description="a saved plan's id")
PATROL_ID = Param("patrol_id", text(64, pattern=r"^[0-9a-f]{1,64}$"), where="path", description="a patrol's id")
KEY = Param("Idempotency-Key", text(MAX_KEY_CHARS, minLength=1), where="header",
            description="a batch sent again with the same key and body gets the first answer again")


def _object(required: tuple[str, ...], **properties: Schema) -> Schema:
    return {"type": "object", "required": list(required), "properties": properties}


def _counts() -> Schema:
    by_index = {"type": "array", "items": _object(("index", "reason"), index=integer(0), reason=text())}
    return _object(("received", "accepted", "duplicates", "dropped_inaccurate", "dropped_speed", "repeated",
                    "refused", "refusals", "dropped"),
                   received=integer(0), accepted=integer(0), duplicates=integer(0), dropped_inaccurate=integer(0),
                   dropped_speed=integer(0), repeated=integer(0), refused=integer(0), refusals=by_index,
                   dropped=by_index)


def _patrol() -> Schema:
    return _object(("id", "person", "started_at"), id=text(), person=text(),
                   plan_id={"type": "string", "nullable": True}, started_at=text(),
                   ended_at={"type": "string", "nullable": True})


def _check_in() -> Schema:
    return _object(("patrol_id", "stop", "at", "lon", "lat", "distance_m"), patrol_id=text(), stop=integer(),
                   at=text(), lon=number(), lat=number(), distance_m=number(0))


def track_routes() -> list[Operation]:
    """Every patrol track operation."""
    fix = {"type": "object", "required": ["lon", "lat", "t"],
           "properties": {"lon": number(), "lat": number(), "t": {"oneOf": [text(), number()]},
                          "accuracy": {"type": "number", "nullable": True}}}
    batch = {"type": "object", "required": ["fixes"], "additionalProperties": False,
             "properties": {"fixes": {"type": "array", "minItems": 1, "maxItems": MAX_FIXES, "items": fix},
                            "crs": text(20)}}
    gpx = text(description=f"GPX 1.1 (namespace {GPX_11}): its track points, each with a time")
    upload = {"type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}
    counts = {JSON: _counts()}
    check_in_body = {"type": "object", "required": ["stop", "lon", "lat"], "additionalProperties": False,
                     "properties": {"stop": integer(), "lon": number(-180, 180), "lat": number(-90, 90),
                                    "accuracy": number(0), "t": text(), "crs": text(20)}}
    plan_actual = _object(("plan_id", "person", "day", "stops", "stops_planned", "stops_passed", "route_length_m",
                           "route_walked_m", "route_share", "check_ins"),
                          plan_id=text(), person=text(), day=text(), near_m=number(0), fixes=integer(0),
                          stops={"type": "array", "items": _object(("order", "passed"), order=integer(),
                                                                   passed={"type": "boolean"})},
                          stops_planned=integer(0), stops_passed=integer(0), route_length_m=number(0),
                          route_walked_m=number(0), route_share={"type": "number", "nullable": True},
                          check_ins={"type": "array", "items": _check_in()})
    return [
        Operation("post", "/api/tracks/positions", "Send a batch of your positions (WGS-84, or a named crs): each "
                  "fix is stored, dropped (accuracy worse than 50 m, a speed above 150 km/h) or refused by index",
                  "tracks", (Answer(200, "what the batch came to", counts),), endpoint="tracks.post_positions",
                  params=(KEY,), body={JSON: batch}, problems=(422,)),
        Operation("post", "/api/tracks/gpx", "Upload a walked track as GPX 1.1: stored as your positions", "tracks",
                  (Answer(200, "what the track came to", counts),), endpoint="tracks.post_gpx", params=(KEY,),
                  body={"application/gpx+xml": gpx, "multipart/form-data": upload}, problems=(415, 422)),
        Operation("post", "/api/tracks/patrols", "Start a patrol, optionally after a saved plan", "tracks",
                  (Answer(201, "the patrol", {JSON: _patrol()}),), endpoint="tracks.start_patrol",
                  body={JSON: {"type": "object", "additionalProperties": False,
                               "properties": {"plan_id": text(64, minLength=1)}}}, problems=(404, 409)),
        Operation("get", "/api/tracks/patrols/current", "Your patrol going on now, with its check-ins", "tracks",
                  (Answer(200, "the patrol (null when none) and its check-ins",
                          {JSON: _object(("patrol", "check_ins"), patrol={**_patrol(), "nullable": True},
                                         check_ins={"type": "array", "items": _check_in()})}),),
                  endpoint="tracks.current_patrol"),
        Operation("post", "/api/tracks/patrols/{patrol_id}/stop", "Stop your patrol", "tracks",
                  (Answer(200, "the patrol, ended", {JSON: _patrol()}),), endpoint="tracks.stop_patrol",
                  params=(PATROL_ID,), problems=(409,)),
        Operation("post", "/api/tracks/patrols/{patrol_id}/checkins", "Check in at a stop of your patrol's plan, "
                  "within 50 m of it", "tracks",
                  (Answer(201, "the check-in", {JSON: _check_in()}),
                   Answer(200, "the first check-in at that stop", {JSON: _check_in()})),
                  endpoint="tracks.check_in", params=(PATROL_ID,), body={JSON: check_in_body},
                  problems=(409, 422)),
        Operation("get", "/api/tracks/people/{person}/days/{day}", "A person's track on a local day (a line cut "
                  "at gaps) with its distance, time moving and time inside their grid", "tracks",
                  (Answer(200, "the day as a GeoJSON Feature", {GEOJSON: ref("Feature")}),),
                  endpoint="tracks.person_day", params=(PERSON, DAY)),
        Operation("get", "/api/tracks/people/{person}/days/{day}/plans/{plan_id}", "A saved plan against a "
                  "person's track of a day: stops passed within 50 m and when, the share of the route walked",
                  "tracks", (Answer(200, "plan against actual", {JSON: plan_actual}),),
                  endpoint="tracks.plan_actual", params=(PERSON, DAY, PLAN_ID)),
        Operation("get", "/api/positions/live", "People of your jurisdiction with a fix in the last five minutes: "
                  "where they are, their role, their patrol and a short trail", "tracks",
                  (Answer(200, "people on patrol as GeoJSON points", {GEOJSON: ref("FeatureCollection")}),),
                  endpoint="tracks.live_positions"),
    ]
