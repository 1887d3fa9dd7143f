"""The patrol routes of the API described as data (see :mod:`mapserver.api.openapi_doc.routes`): plan and save a route,
list and read saved plans, GPX and GeoJSON downloads.

Enums and bounds come from the modules that check them, so the description
follows the code.
"""

from __future__ import annotations

from mapserver.api.openapi_doc.model import Answer, Operation, Param, Schema
from mapserver.api.openapi_doc.schemas import enum, integer, number, ref, text
from mapserver.parsing import INT64_MAX
from mapserver.patrol.area import MAX_GRIDS
from mapserver.patrol.gpx import GPX_MEDIA_TYPE
from mapserver.patrol.request import MAX_BUDGET_MIN, MAX_MUST_VISIT
from mapserver.patrol.settings import MODES, WINDOWS
from mapserver.store.patrols import MAX_LIST

JSON = "application/json"
GEOJSON = "application/geo+json"
PLAN_ID = Param("plan_id", text(64, pattern=r"^[0-9A-Za-z_-]{1,64}$"), where="path",
                description="a saved plan's id")
CRS = enum(("wgs84", "cgcs2000", "gcj02", "bd09"))


def _closed(required: tuple[str, ...], **properties: Schema) -> Schema:
    return {"type": "object", "required": list(required), "properties": properties, "additionalProperties": False}


def _plan_body() -> Schema:
    point = _closed(("lon", "lat"), lon=number(-180, 180), lat=number(-90, 90), crs=CRS, name=text(200, minLength=1))
    area = {"oneOf": [_closed(("grids",), grids={"type": "array", "minItems": 1, "maxItems": MAX_GRIDS,
                                                 "items": text(64, minLength=1)}),
                      _closed(("liaison",), liaison=text(100, minLength=1))]}
    start = {"oneOf": [_closed(("lon", "lat"), lon=number(-180, 180), lat=number(-90, 90), crs=CRS),
                       _closed(("place",), place=text(64, minLength=1))]}
    return _closed(("area", "start", "budget_min"), area=area, start=start,
                   budget_min={"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": MAX_BUDGET_MIN},
                   mode=enum(MODES), window=enum(WINDOWS),
                   must_visit={"type": "array", "maxItems": MAX_MUST_VISIT, "items": point},
                   since=text(format="date-time"), until=text(format="date-time"), start_at=text(format="date-time"))


def _plan_answer() -> Schema:
    line = {"type": "object", "required": ["type", "geometry"],
            "properties": {"type": enum(("Feature",)), "geometry": {"type": "object"}}}
    stop = {"type": "object", "required": ["order", "ref", "lon", "lat", "arrival_min", "reasons"],
            "properties": {"order": integer(1), "ref": text(), "lon": number(), "lat": number(),
                           "arrival_min": number(0), "arrival_at": text(), "weight": number(),
                           "reasons": {"type": "array", "items": {"type": "object"}}}}
    return {"type": "object",
            "required": ["id", "mode", "window", "budget_min", "length_m", "duration_min", "stops", "route",
                         "hotspot"],
            "properties": {"id": text(), "mode": enum(MODES), "window": enum(WINDOWS), "budget_min": number(),
                           "length_m": number(0), "duration_min": number(0),
                           "stops": {"type": "array", "items": stop}, "route": line,
                           "hotspot": {"type": "object"}, "dropped": {"type": "array"}}}


def patrol_routes() -> list[Operation]:
    """Every patrol operation."""
    summary = {"type": "object", "required": ["id", "created_at", "mode", "window", "budget_min"],
               "properties": {"id": text(), "created_at": text(), "created_by": text(),
                              "liaison": {"type": "string", "nullable": True}, "mode": enum(MODES),
                              "window": enum(WINDOWS), "budget_min": number(), "length_m": number(),
                              "duration_min": number()}}
    listing = {"type": "object", "required": ["numberMatched", "numberReturned", "plans"],
               "properties": {"numberMatched": integer(0), "numberReturned": integer(0),
                              "plans": {"type": "array", "items": summary}}}
    plan = _plan_answer()
    gpx = {GPX_MEDIA_TYPE: text(description="GPX 1.1: stops as waypoints, the route as a track")}
    geojson = {GEOJSON: ref("FeatureCollection")}
    return [
        Operation("post", "/api/patrols/plan", "Plan and save a closed patrol route through hot cells, blind "
                  "spots, key places and overdue incidents, within a budget of minutes", "patrols",
                  (Answer(201, "the saved plan", {JSON: plan}, {"Location": text()}),),
                  endpoint="patrols.plan", body={JSON: _plan_body()}, problems=(404, 422)),
        Operation("get", "/api/patrols", "Saved patrol plans, newest first", "patrols",
                  (Answer(200, "plans", {JSON: listing}),), endpoint="patrols.list_plans",
                  params=(Param("liaison", text(100, minLength=1)),
                          Param("limit", integer(0, MAX_LIST), description="at most this many (default 100)"),
                          Param("offset", integer(0, INT64_MAX)))),
        Operation("get", "/api/patrols/{plan_id}", "One saved plan (JSON, or a file with format)", "patrols",
                  (Answer(200, "the plan", {JSON: plan, **gpx, **geojson}),), endpoint="patrols.get_plan",
                  params=(PLAN_ID, Param("format", enum(("json", "gpx", "geojson"))))),
        Operation("get", "/api/patrols/{plan_id}.gpx", "One saved plan as GPX 1.1", "patrols",
                  (Answer(200, "the plan as GPX", gpx),), endpoint="patrols.get_plan_gpx", params=(PLAN_ID,)),
        Operation("get", "/api/patrols/{plan_id}.geojson", "One saved plan as GeoJSON (route, start, stops)",
                  "patrols", (Answer(200, "the plan as GeoJSON", geojson),),
                  endpoint="patrols.get_plan_geojson", params=(PLAN_ID,)),
    ]
