"""Every ``/api`` route described as data: parameters, bodies, answers and the problems each may answer with.

The descriptions follow the views in :mod:`mapserver.api` and the checks they
call; enums come from the same constants (and the configured incident
categories and map layers), so the document cannot drift from the code on them.
``tests/test_openapi.py`` fails when a route has no description here.
"""

from __future__ import annotations

from collections.abc import Sequence

from mapserver.api.audit import DEFAULT_LIMIT as AUDIT_DEFAULT_LIMIT
from mapserver.api.audit import MAX_LIMIT as AUDIT_MAX_LIMIT
from mapserver.api.audit import TEXT_LIMITS as AUDIT_TEXT_LIMITS
from mapserver.api.cameras import MAX_BATCH
from mapserver.api.desk import MAX_PAGE as DESK_MAX_PAGE
from mapserver.api.export import MEDIA_TYPES
from mapserver.api.incidents import MAX_KEY_CHARS
from mapserver.api.layers import GENERIC_LAYERS, INTEGER_COLUMNS, MAX_LIMIT
from mapserver.api.openapi_doc.model import Answer, Operation, Param
from mapserver.api.openapi_doc.schemas import BBOX_PATTERN, enum, integer, number, ref, text
from mapserver.api.tiles import MAX_KEYS, MVT_TYPE
from mapserver.config import Settings
from mapserver.incidents.deadlines import WARNINGS
from mapserver.incidents.lifecycle import ACTIONS, STATUSES, WHISTLE_LEVELS
from mapserver.incidents.queue import TAB_KEYS
from mapserver.incidents.service import MAX_DEPARTMENTS
from mapserver.model import CAMERA_STATUSES, GRID_LEVELS, INCIDENT_SOURCES, RECORD_TYPES, SATISFACTIONS, SEVERITIES
from mapserver.parsing import INT64_MAX
from mapserver.screen.window import WINDOW_DAYS
from mapserver.store.accounts import DISPLAY_NAME_MAX, NAME_MAX
from mapserver.store.common import FILTERABLE, KEYS, LAYERS
from mapserver.store.tile_grid import MAX_ZOOM
from mapserver.store.tokens import ROLES
from mapserver.video.addresses import MAX_URL, VIDEO_FIELDS

JSON = "application/json"
GEOJSON = "application/geo+json"
CRS_PATTERN = r"^(wgs84|cgcs2000|gcj02|bd09|EPSG:[0-9]{4,5})$"
# Keys in paths are codes; a key that spells a sibling route (grids/check, cameras/online-rate) is that route.
CODE = text(64, minLength=1, pattern=r"^[0-9A-Za-z][0-9A-Za-z_.-]*$")

BBOX = Param("bbox", text(200, pattern=BBOX_PATTERN), description="min lon, min lat, max lon, max lat (WGS-84)")
LIMIT = Param("limit", integer(0, MAX_LIMIT), description="at most this many features (default 1000)")
OFFSET = Param("offset", integer(0, INT64_MAX), description="skip this many features first")
SINCE = Param("since", text(format="date-time"), description="ISO 8601; no offset = local time")
UNTIL = Param("until", text(format="date-time"), description="ISO 8601, exclusive; no offset = local time")
LEVEL = Param("level", integer(min(GRID_LEVELS), max(GRID_LEVELS)), description="grid level (1 street … 4 building)")
CRS = Param("crs", text(pattern=CRS_PATTERN), description="CRS of the input coordinates (default wgs84)")
SEVERITY = Param("severity", enum(SEVERITIES))
BINARY = {"type": "string", "format": "binary"}
TILE = (Param("z", integer(0, MAX_ZOOM), where="path"), Param("x", integer(0), where="path"),
        Param("y", integer(0), where="path"))
WINDOW = Param("window", enum(WINDOW_DAYS), description="time window of the wall (unknown → configured default)")

FEATURE = {JSON: ref("Feature")}
COLLECTION = {JSON: ref("FeatureCollection")}


def _object(required: Sequence[str] = (), **properties: dict) -> dict:
    """An open answer object naming the members clients rely on."""
    schema: dict = {"type": "object", "properties": properties}
    if required:  # OpenAPI 3.0 refuses an empty list
        schema["required"] = list(required)
    return {JSON: schema}


def _closed(required: Sequence[str], **properties: dict) -> dict:
    """A request body object that takes only the named fields."""
    return {"type": "object", "required": list(required), "properties": properties, "additionalProperties": False}


def _incident_routes(settings: Settings) -> list[Operation]:
    categories = tuple(settings.incidents.categories)
    point = _closed(("lon", "lat"), lon=number(-180, 180), lat=number(-90, 90), crs=enum(("wgs84", "cgcs2000",
                                                                                           "gcj02", "bd09")))
    report = _closed(("category",), category=enum(categories), severity=enum(SEVERITIES),
                     source=enum(INCIDENT_SOURCES), description=text(settings.incidents.description_max),
                     address=text(200), reporter=text(200), point=point, accuracy_m=number(0, 100_000))
    # satisfaction and comment go with follow_up (回访); departments and report_by with whistle (吹哨报到); the
    # unit of a report_in is the called-out department reporting in.
    move = _closed(("action",), action=enum(ACTIONS), unit=text(200), note=text(1000), level=enum(WHISTLE_LEVELS),
                   version=integer(0), satisfaction=enum(SATISFACTIONS), comment=text(1000),
                   departments={"type": "array", "minItems": 1, "maxItems": MAX_DEPARTMENTS,
                                "items": text(200, minLength=1)},
                   report_by=text(format="date-time"))
    incident_id = Param("incident_id", text(64, minLength=1), where="path")
    return [
        Operation("post", "/api/incidents", "Report an incident; placed in its grid with deadlines", "incidents",
                  (Answer(201, "reported", FEATURE, {"Location": text()}),
                   Answer(200, "the same report again (same Idempotency-Key and body)", FEATURE)),
                  endpoint="incidents.report", body={JSON: report}, problems=(404, 409, 422),
                  params=(Param("Idempotency-Key", text(MAX_KEY_CHARS, minLength=1), where="header"),)),
        Operation("get", "/api/incidents", "Incidents with their warning colour", "incidents",
                  (Answer(200, "incidents (my_actions: of next_actions, those the asker's role may take)",
                          COLLECTION),), endpoint="incidents.list_incidents",
                  params=(BBOX, SINCE, UNTIL, Param("status", enum(STATUSES)), Param("category", enum(categories)),
                          SEVERITY, Param("grid", text(64)), Param("warning", enum(WARNINGS)), LIMIT, OFFSET)),
        Operation("get", "/api/incidents/{incident_id}", "One incident with its timeline and the asker's actions",
                  "incidents", (Answer(200, "the incident (my_actions: what the asker's role may do now)", FEATURE),
                                Answer(304, "304 when If-None-Match holds the current (weak) ETag")),
                  endpoint="incidents.get_incident", params=(incident_id,)),
        Operation("get", "/api/incidents/{incident_id}/cameras",
                  "Cameras whose view covers the incident, online first, then nearest; then online ones near it",
                  "incidents",
                  (Answer(200, "covering and nearby cameras with status, distance (m) and view",
                          _object(("covering", "nearby"))),), endpoint="case.cameras", params=(incident_id,)),
        Operation("post", "/api/incidents/{incident_id}/transitions", "Move an incident along its loop", "incidents",
                  (Answer(200, "the incident after the move (a repeat with the same Idempotency-Key and body: the "
                               "incident as it stands, nothing moved)", FEATURE),),
                  endpoint="incidents.transition", body={JSON: move}, problems=(409, 422),
                  params=(incident_id, Param("Idempotency-Key", text(MAX_KEY_CHARS, minLength=1), where="header"))),
        Operation("get", "/api/kpis", "Counts, closure and on-time rates, times to dispatch and close", "incidents",
                  (Answer(200, "the measures", _object(("generated_at",), generated_at=text())),),
                  endpoint="incidents.kpis",
                  params=(SINCE, UNTIL, Param("code", text(64)), LEVEL, Param("category", enum(categories)),
                          SEVERITY)),
    ]


def _camera_routes() -> list[Operation]:
    code = Param("code", CODE, where="path")
    codes = _closed(("codes",), codes={"type": "array", "minItems": 1, "maxItems": MAX_BATCH,
                                       "items": text(64, minLength=1)})
    address = {"type": "string", "nullable": True, "maxLength": MAX_URL, "description": "an http(s) URL; null: none"}
    flag = {"type": "boolean", "nullable": True}
    video = _object(("code", *VIDEO_FIELDS), code=text(64), stream_url=address, snapshot_url=address,
                    stream_allowed=flag, snapshot_allowed=flag)
    video_change = {**_closed((), stream_url=address, snapshot_url=address), "minProperties": 1}
    del video_change["required"]
    return [
        Operation("get", "/api/cameras", "Cameras with their status now", "cameras", (Answer(200, "cameras",
                                                                                           COLLECTION),),
                  endpoint="cameras.list_cameras",
                  params=(BBOX, Param("status", enum(CAMERA_STATUSES)), LIMIT, OFFSET)),
        Operation("get", "/api/cameras/{code}", "One camera", "cameras", (Answer(200, "the camera", FEATURE),),
                  endpoint="cameras.get_camera", params=(code,)),
        Operation("post", "/api/cameras/{code}/heartbeat", "A camera is alive now", "cameras",
                  (Answer(200, "the camera", FEATURE),), endpoint="cameras.heartbeat", params=(code,)),
        Operation("post", "/api/cameras/heartbeats", "Many cameras are alive now", "cameras",
                  (Answer(200, "heartbeats recorded", _object(("recorded",), recorded=integer(0))),),
                  endpoint="cameras.heartbeats", body={JSON: codes}, problems=(404,)),
        Operation("get", "/api/cameras/online-rate", "Online rate overall and per grid", "cameras",
                  (Answer(200, "rates", _object(("level",), level=integer(1, 4))),),
                  endpoint="cameras.online_rate", params=(LEVEL,)),
        Operation("get", "/api/cameras/{code}/video", "A camera's live stream (HLS) and snapshot addresses",
                  "cameras", (Answer(200, "the addresses (null: none) and whether the pages may load them", video),),
                  endpoint="camera_video.get_video", params=(code,)),
        Operation("put", "/api/cameras/{code}/video", "Set a camera's stream and snapshot addresses", "cameras",
                  (Answer(200, "the addresses now", video),), endpoint="camera_video.set_video",
                  body={JSON: video_change}, params=(code,), problems=(422,)),
    ]


def _lookup_routes() -> list[Operation]:
    points = {"type": "object", "required": ["type", "features"],
              "properties": {"type": enum(("FeatureCollection",)), "features": {"type": "array",
                                                                                 "items": ref("Feature")}}}
    csv_answer = {"text/csv": text(description="id,lon,lat,code per input point")}
    return [
        Operation("get", "/api/lookup", "Grid chain, special grids and staff of a point or an address", "lookup",
                  (Answer(200, "the lookup", {JSON: ref("Lookup")}),), endpoint="lookup.lookup",
                  params=(Param("lon", number(-180, 180)), Param("lat", number(-90, 90)), CRS,
                          Param("address", text(200))), problems=(404,)),
        Operation("post", "/api/lookup/bulk", "Finest grid code of many points (CSV lon,lat[,id] or GeoJSON)",
                  "lookup", (Answer(200, "one CSV row per point", csv_answer,
                                    {"X-Points": text(), "X-Unassigned": text()}),), endpoint="lookup.bulk",
                  params=(CRS,), body={"text/csv": text(description="CSV with lon and lat columns"),
                                       GEOJSON: points, JSON: points}, problems=(415,)),
    ]


def _intake_routes(settings: Settings) -> list[Operation]:
    categories = tuple(settings.incidents.categories)
    resolved = _object(("kind", "certain", "candidates"), kind=enum(("point", "crossing", "address")),
                       certain={"type": "boolean"}, candidates={"type": "array", "items": {"type": "object"}},
                       card=ref("Lookup"))
    link = {"type": "object", "properties": {"note": text(500), "phone": text(24)}, "additionalProperties": False}
    return [
        Operation("get", "/api/intake/resolve", "Hotline desk: 'lon,lat', a road crossing or address candidates",
                  "intake", (Answer(200, "the point and its grid card, or the candidates", resolved),),
                  endpoint="intake.resolve", params=(Param("q", text(200, minLength=1), required=True), CRS),
                  problems=(404, 422)),
        Operation("get", "/api/intake/duplicates", "Open incidents of a category near a point, recent (重复件)",
                  "intake", (Answer(200, "nearest first, with distance_m", COLLECTION),),
                  endpoint="intake.duplicates",
                  params=(Param("lon", number(-180, 180), required=True), Param("lat", number(-90, 90), required=True),
                          Param("category", enum(categories), required=True), CRS,
                          Param("hours", integer(1, 720)), Param("radius_m", integer(1, 5000)))),
        Operation("post", "/api/incidents/{incident_id}/links", "Record a caller's report as a repeat of an incident",
                  "intake", (Answer(201, "linked", _object(("id", "links"), id=text(), status=text(),
                                                           links=integer(1)), {"Location": text()}),),
                  endpoint="intake.link", params=(Param("incident_id", text(64, minLength=1), where="path"),),
                  body={JSON: link}, problems=(404, 409, 413)),
    ]


def _layer_params(layer: str) -> tuple[Param, ...]:
    filters = tuple(Param(name, integer(1, 4) if (layer, name) in INTEGER_COLUMNS else text(64))
                    for name in FILTERABLE[layer])
    spatial = (BBOX,) if RECORD_TYPES[layer].GEOM_TYPES else ()
    return (*spatial, LIMIT, OFFSET, *filters)


def _layer_routes() -> list[Operation]:
    out = [Operation("get", "/api/grids/check", "Topology report of the grids of the asker's jurisdiction", "grids",
                     (Answer(200, "gaps, overlaps, nesting", _object(("clean",), clean={"type": "boolean"})),),
                     endpoint="grids.check")]
    for layer in GENERIC_LAYERS:
        key_schema = integer(1) if (layer, KEYS[layer]) in INTEGER_COLUMNS else CODE
        out += [
            Operation("get", f"/api/{layer}", f"{layer} as GeoJSON", "layers", (Answer(200, layer, COLLECTION),),
                      endpoint="layers.list_features",
                      params=_layer_params(layer)),
            Operation("get", f"/api/{layer}/{{key}}", f"One {layer} record", "layers",
                      (Answer(200, "the record", FEATURE),),
                      endpoint="layers.get_feature", params=(Param("key", key_schema, where="path"),)),
        ]
    return out


def _screen_routes(layer_keys: Sequence[str]) -> list[Operation]:
    cached = "304 when If-None-Match holds the current (weak) ETag"
    return [
        Operation("get", "/api/screen/measures", "The measures on the wall", "screen",
                  (Answer(200, "measures", _object(("window",), window=text())), Answer(304, cached)),
                  endpoint="screen.screen_measures",
                  params=(WINDOW,)),
        Operation("get", "/api/screen/panels", "The wall's panels: newest cases, 30-day trend, breakdowns, times",
                  "screen", (Answer(200, "the panels", _object(
                      ("window", "feed", "trend", "breakdown", "times"), window=text(),
                      feed={"type": "array", "items": {"type": "object"}}, trend={"type": "object"},
                      breakdown={"type": "object"}, times={"type": "object"})), Answer(304, cached)),
                  endpoint="screen.screen_panels", params=(WINDOW,)),
        Operation("get", "/api/screen/tiles/{keys}/{z}/{x}/{y}.mvt",
                  "Configured map layers as one Mapbox Vector Tile, an MVT layer per key (clustered past its "
                  "layer's count)", "screen",
                  (Answer(200, "the tile; X-Tile-Aggregated names the clustered layers, X-Tile-Layer-Tags each "
                               "key's own tag (key=tag,…)", {MVT_TYPE: BINARY}),
                   Answer(304, cached)), endpoint="tiles.layer_tile",
                  params=(Param("keys", text(MAX_KEYS * 41, pattern=r"^[a-z][a-z0-9_]*(,[a-z][a-z0-9_]*)*$"),
                                where="path", description="ids of configured layers served as vector tiles, "
                                f"joined by commas, at most {MAX_KEYS}, each once"),
                          *TILE, WINDOW),
                  problems=(400, 404, 414)),  # its keys are the one path segment that can outgrow the URL limit
        Operation("get", "/api/screen/ground/{z}/{x}/{y}.mvt",
                  "The ground drawn from the store (water, green, boundaries, roads, names) as a vector tile",
                  "screen", (Answer(200, "the tile", {MVT_TYPE: BINARY}), Answer(304, cached)),
                  endpoint="tiles.ground_tile", params=TILE, problems=(404,)),
        Operation("get", "/api/screen/layers/{key}", "One configured map layer's features", "screen",
                  (Answer(200, "features", COLLECTION), Answer(304, cached)), endpoint="screen.screen_layer",
                  params=(Param("key", enum(layer_keys) if layer_keys else text(64), where="path"), WINDOW, BBOX)),
        Operation("get", "/api/screen/grids/{code}", "The card of one grid", "screen",
                  (Answer(200, "the card", _object()),),
                  endpoint="screen.screen_grid", params=(Param("code", CODE, where="path"), WINDOW)),
        Operation("get", "/api/screen/locate", "Where a point is, for the wall's search", "screen",
                  (Answer(200, "the place", _object()),), endpoint="screen.screen_locate",
                  params=(Param("lon", number(), required=True), Param("lat", number(), required=True), CRS)),
    ]


def _trend_params(categories: Sequence[str], res: Param, geometry: Param) -> tuple[Param, ...]:
    from mapserver.analysis import trend

    return (Param("periods", integer(trend.MIN_PERIODS, trend.MAX_PERIODS), description="how many periods (8)"),
            Param("period", enum(tuple(trend.PERIOD_LENGTHS)), description="week (default) or day"),
            Param("until", text(format="date-time"), description="end of the last period, exclusive; default now"),
            Param("category", enum(trend.CATEGORIES), description="only cells of this trend category"),
            Param("incident_category", enum(tuple(categories)), description="count only incidents of this category"),
            Param("confidence", enum(tuple(map(str, trend.CONFIDENCES))), description="per cent (95)"),
            res, geometry)


def _desk_routes(settings: Settings) -> list[Operation]:
    cached = "304 when If-None-Match holds the current (weak) ETag"
    return [
        Operation("get", "/api/desk/queue", "The work desk's queue: every tab's count and one page of a tab", "desk",
                  (Answer(200, "counts and one page", _object(("counts", "items", "page", "pages"))),
                   Answer(304, cached)),
                  endpoint="desk.queue",
                  params=(Param("tab", enum(TAB_KEYS), description="which tab (default dispatch)"),
                          Param("category", enum(tuple(settings.incidents.categories))), SEVERITY,
                          Param("warning", enum(WARNINGS)), Param("grid", text(64)), Param("unit", text(100)),
                          Param("source", enum(INCIDENT_SOURCES)), SINCE, UNTIL,
                          Param("q", text(100), description="id prefix, or text in the description or address"),
                          Param("page", integer(1, DESK_MAX_PAGE), description="page of 50 (default 1)"))),
    ]


def _mobile_routes() -> list[Operation]:
    return [
        Operation("get", "/api/m/tasks", "The grid worker's tasks: open cases to accept or handle in their grid, "
                  "soonest due first, with their warning colour", "desk",
                  (Answer(200, "the tasks", _object(("now", "items", "truncated"))),), endpoint="mobile.tasks"),
        Operation("get", "/api/m/me", "Who is using the phone app: name, role, grid and the session's CSRF token",
                  "desk", (Answer(200, "the person", _object(("name", "role", "grid", "csrf_token"))),),
                  endpoint="mobile.me"),
    ]


def _scorecard_routes() -> list[Operation]:
    from mapserver.api.scorecards import BY, FORMATS, XLSX

    return [
        Operation("get", "/api/scorecards", "Unit scorecards (单位考评, 三色预警): per unit, street or community, "
                  "red / yellow / green with the reasons, worst first", "desk",
                  (Answer(200, "one row per unit or grid", {**_object(("by", "since", "until", "rows")),
                                                            "text/csv": text(), XLSX: text(format="binary")}),),
                  endpoint="scorecards.table",
                  params=(Param("by", enum(BY), description="unit (default), street or community"),
                          Param("since", text(), description="ISO 8601 date or date-time, inclusive; no offset = "
                                                             "local time; default until − scorecards.window_days"),
                          Param("until", text(), description="ISO 8601 date-time (exclusive) or date (that whole "
                                                             "day); default now"),
                          Param("format", enum(FORMATS), description="json (default), csv (UTF-8 with BOM) or xlsx"),
                          Param("lang", enum(("zh", "en")), description="labels and reasons (default zh)"))),
    ]


def _assessment_routes() -> list[Operation]:
    from mapserver.api.assessment import FORMATS, XLSX

    month = Param("month", text(7, pattern=r"^\d{4}-\d{2}$"), description="YYYY-MM, a local month "
                                                                       "(incidents.timezone); default the current one")
    lang = Param("lang", enum(("zh", "en")), description="labels, grades and reasons (default zh)")
    return [
        Operation("get", "/api/assessment", "Monthly assessment of grid workers (网格员考核): per worker, cases "
                  "reported, handled on time, reopened, satisfaction, distance and hours patrolled, time in the own "
                  "grid, planned stops visited; score and grade (优秀/合格/基本合格/不合格) by config, worst first. "
                  "A grid worker gets their own row only", "desk",
                  (Answer(200, "one row per grid worker", {**_object(("month", "since", "until", "rules", "rows")),
                                                           "text/csv": text(), XLSX: text(format="binary")}),),
                  endpoint="assessment.table",
                  params=(month, Param("grid", text(64), description="only the workers of this grid's subtree"),
                          Param("format", enum(FORMATS), description="json (default), csv (UTF-8 with BOM) or xlsx"),
                          lang),
                  problems=(422,)),
        Operation("get", "/api/assessment/people/{person}", "One grid worker's month: their row and their days "
                  "(fixes, km, hours moving and inside the own grid)", "desk",
                  (Answer(200, "the row and the days", _object(("month", "row", "days"))),),
                  endpoint="assessment.person",
                  params=(Param("person", text(64, minLength=1), where="path", description="the worker's account"),
                          month, lang),
                  problems=(404,)),
    ]


def _analysis_routes(settings: Settings) -> list[Operation]:
    from mapserver.analysis.cells import MAX_RES, MIN_RES

    categories = tuple(settings.incidents.categories)
    res = Param("res", integer(MIN_RES, MAX_RES), description="H3 resolution")
    geometry = Param("geometry", enum(("true", "false")), description="hexagons as GeoJSON")
    window = (SINCE, UNTIL, Param("category", enum(categories)))
    return [
        Operation("get", "/api/heat", "Incidents per H3 cell", "analysis", (Answer(200, "heat", _object()),),
                  endpoint="analysis.heat_cells",
                  params=(*window, SEVERITY, Param("status", enum(STATUSES)), Param("grid", text(64)), res, BBOX,
                          geometry)),
        Operation("get", "/api/hotspots", "Getis-Ord Gi* hotspots per cell or per grid", "analysis",
                  (Answer(200, "hotspots", _object()),), endpoint="analysis.hotspots",
                  params=(*window, res, LEVEL, geometry,
                          Param("significant", enum(("true", "false")), description="only hot or cold units")),
                  problems=(422,)),  # a level coarser than the asker's jurisdiction
        Operation("get", "/api/hotspots/trend", "Emerging hotspots: Gi* per period and Mann-Kendall", "analysis",
                  (Answer(200, "trend categories per cell", _object(("categories",), categories={"type": "object"})),),
                  endpoint="analysis.hotspot_trend",
                  params=_trend_params(categories, res, geometry)),
        Operation("get", "/api/grids/risk", "Grid risk colours (red / yellow / green) with reasons", "analysis",
                  (Answer(200, "grids with their colour", COLLECTION),), endpoint="analysis.risk_colours",
                  params=(LEVEL, Param("as_of", text(format="date-time"),
                                       description="ISO 8601, default now; no offset = local time")),
                  problems=(422,)),  # a level coarser than the asker's jurisdiction
        Operation("get", "/api/coverage", "Camera coverage of the hot cells of the asker's jurisdiction", "analysis",
                  (Answer(200, "coverage", _object()),), endpoint="analysis.camera_coverage", params=(*window, res)),
    ]


def _admin_routes() -> list[Operation]:
    grid = {**text(64, minLength=1), "nullable": True,
            "description": "a street, community or compound grid code; null or absent: the whole store"}
    new = _closed(("name", "role"), name=text(100, minLength=1), role=enum(ROLES), grid=grid)
    tokens = _object(("tokens",), tokens={"type": "array", "items": ref("Token")})
    return [
        Operation("get", "/api/tokens", "Live tokens (without secrets), within the caller's jurisdiction", "tokens",
                  (Answer(200, "tokens", tokens),), endpoint="tokens.list_tokens"),
        Operation("post", "/api/tokens", "Create a token; the secret is shown once", "tokens",
                  (Answer(201, "the new token", {JSON: ref("Token")}),), endpoint="tokens.create_token",
                  body={JSON: new}, problems=(409, 422)),
        Operation("delete", "/api/tokens/{name}", "Revoke a token", "tokens", (Answer(204, "revoked"),),
                  endpoint="tokens.revoke_token", params=(Param("name", text(100, minLength=1), where="path"),)),
        Operation("get", "/api/export/{layer}.{fmt}", "A whole layer as GeoJSON, CSV or GeoPackage", "export",
                  (Answer(200, "the layer", {MEDIA_TYPES["geojson"]: ref("FeatureCollection"),
                                             "text/csv": text(), MEDIA_TYPES["gpkg"]: text(format="binary")}),),
                  endpoint="export.download",
                  params=(Param("layer", enum(LAYERS), where="path"), Param("fmt", enum(MEDIA_TYPES), where="path"))),
    ]


def _account_routes(settings: Settings) -> list[Operation]:
    grid = {**text(64, minLength=1), "nullable": True,
            "description": "their jurisdiction: a street, community or compound grid code; null: the whole store"}
    password = text(1024, minLength=settings.accounts.password_min_length,
                    description="not a commonly guessed password, and not containing the account name")
    display_name = text(DISPLAY_NAME_MAX, description="the name shown on screen")
    new = _closed(("name", "role", "password"), name=text(NAME_MAX, minLength=1, description="the login name"),
                  role=enum(ROLES), grid=grid, display_name=display_name, password=password)
    change = {"type": "object", "additionalProperties": False,  # all optional: OpenAPI 3.0 refuses an empty required
              "properties": {"role": enum(ROLES), "grid": grid, "display_name": display_name,
                             "enabled": {"type": "boolean", "description": "false: may not log in; sessions end"}}}
    name = Param("name", text(NAME_MAX, minLength=1), where="path", description="the login name")
    account = {JSON: ref("Account")}
    listing = _object(("accounts",), accounts={"type": "array", "items": ref("Account")})
    return [
        Operation("get", "/api/accounts", "The people who log in, within the caller's jurisdiction", "accounts",
                  (Answer(200, "accounts by name", listing),), endpoint="accounts.list_accounts"),
        Operation("post", "/api/accounts", "Add a person who logs in", "accounts",
                  (Answer(201, "the new account", account, {"Location": text()}),), endpoint="accounts.create_account",
                  body={JSON: new}, problems=(409, 422)),
        Operation("get", "/api/accounts/{name}", "One person", "accounts", (Answer(200, "the account", account),),
                  endpoint="accounts.get_account", params=(name,)),
        Operation("patch", "/api/accounts/{name}", "Change a person's role, jurisdiction, display name, or whether "
                  "they may log in (a new role or grid, or disabling, ends their sessions; 409 for an administrator "
                  "disabling themselves, taking away their own admin role or narrowing their own jurisdiction)",
                  "accounts", (Answer(200, "the account after the change", account),),
                  endpoint="accounts.update_account", params=(name,), body={JSON: change}, problems=(409, 422)),
        Operation("put", "/api/accounts/{name}/password", "Give a person a new password (ends their sessions)",
                  "accounts", (Answer(204, "the password is changed"),), endpoint="accounts.set_password",
                  params=(name,), body={JSON: _closed(("password",), password=password)}, problems=(422,)),
    ]


def _audit_routes() -> list[Operation]:
    nullable = {"type": "string", "nullable": True}
    record = {"type": "object", "required": ["seq", "at", "actor", "action", "detail"],
              "properties": {"seq": integer(1), "at": text(format="date-time"), "actor": text(), "role": nullable,
                             "action": text(), "target": nullable, "detail": {"type": "object"},
                             "remote_addr": nullable, "request_id": nullable}}
    listing = _object(("total", "returned", "records"), total=integer(0), returned=integer(0),
                      records={"type": "array", "items": record})
    texts = tuple(Param(name, text(limit, minLength=1)) for name, limit in AUDIT_TEXT_LIMITS.items())
    return [
        Operation("get", "/api/audit", "The audit trail of writes, newest first (read-only)", "audit",
                  (Answer(200, "audit records", listing),),
                  endpoint="audit.list_audit",
                  params=(Param("since", text(format="date-time"), description="ISO 8601, inclusive; no offset = "
                                                                                 "local time"),
                          UNTIL, *texts,
                          Param("limit", integer(0, AUDIT_MAX_LIMIT),
                                description=f"at most this many records (default {AUDIT_DEFAULT_LIMIT})"),
                          Param("offset", integer(0, INT64_MAX), description="skip this many records first"))),
    ]


def _report_routes() -> list[Operation]:
    from mapserver.bulletin.week import WEEK_PATTERN
    from mapserver.bulletin.weekly import HOT_GRID_LEVELS
    from mapserver.bulletin.words import LANGS

    week = Param("week", text(8, pattern=WEEK_PATTERN), required=True,
                 description="ISO week, e.g. 2026-W47 (local Monday 00:00 to Monday 00:00); not one yet to begin")
    return [
        Operation("get", "/api/reports/weekly", "The weekly bulletin (研判专报) as one self-contained HTML page",
                  "reports", (Answer(200, "the bulletin", {"text/html": text()}),), endpoint="reports.weekly",
                  params=(week, Param("lang", enum(LANGS), description="labels (default map.lang)"),
                          Param("level", integer(min(HOT_GRID_LEVELS), max(HOT_GRID_LEVELS)),
                                description="grid level of the top-grids table (default 2, or the "
                                            "asker's jurisdiction's when finer)")),
                  problems=(422,)),
    ]


def operations(settings: Settings, *, layer_keys: Sequence[str], with_analysis: bool) -> list[Operation]:
    """Every described operation; analysis routes only when the server has them."""
    from mapserver.api.openapi_doc.patrol_routes import patrol_routes
    from mapserver.api.openapi_doc.photo_routes import photo_routes
    from mapserver.api.openapi_doc.track_routes import track_routes

    ops = [*_incident_routes(settings), *_camera_routes(), *_lookup_routes(), *_intake_routes(settings),
           *_layer_routes(),
           *_screen_routes(layer_keys), *_admin_routes(), *_account_routes(settings), *_audit_routes(),
           *_report_routes(), *_desk_routes(settings), *_mobile_routes(),
           *_scorecard_routes(), *_assessment_routes()]
    ops += patrol_routes()
    ops += photo_routes(settings)
    ops += track_routes()
    if with_analysis:
        ops += _analysis_routes(settings)
    return ops
