"""OGC API – Features under ``/ogc`` (Part 1 Core and GeoJSON, Part 2 CRS, Part 3 filters with CQL2), for QGIS,
GDAL (OAPIF) and other GIS clients.

Routes: ``/ogc`` (landing page), ``/ogc/conformance``, ``/ogc/collections``,
``/ogc/collections/{id}``, ``/ogc/collections/{id}/queryables``, ``/ogc/collections/{id}/items`` and
``/ogc/collections/{id}/items/{featureId}``. Coordinates are CRS84 (WGS-84 longitude, latitude, degrees) unless
``crs`` asks for another offered CRS (:mod:`mapserver.ogc.crs`; the answer says which in ``Content-Crs``);
``bbox`` is 4 numbers in CRS84 or in ``bbox-crs``; ``datetime`` (incidents only) is RFC 3339; ``filter`` is CQL2
text or JSON (``filter-lang``) over the collection's queryables, its geometries in ``filter-crs``. A ``limit`` above
the most served is taken as that most (Part 1, /req/core/fc-limit-response-1). Feature ids are the layer's key.
Like every route, these need a viewer token; an unknown query parameter is a 400 problem.

Every collection is the asker's jurisdiction's part of it: items, numberMatched,
a feature by id (404 outside, as a missing one) and the collection's extents
(spatial and temporal) are those of the records in the jurisdiction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, json, request, url_for
from shapely.geometry import mapping as shapely_mapping

from mapserver.app_state import state, store
from mapserver.auth import request_jurisdiction
from mapserver.errors import Problem
from mapserver.geojson import feature, geometry
from mapserver.ogc import crs as frames
from mapserver.ogc import documents
from mapserver.ogc.collections import COLLECTIONS, Collection, collection, spatial_extent, temporal_extent
from mapserver.ogc.filters import map_geometries, parse_filter
from mapserver.ogc.queryables import MEDIA_TYPE as QUERYABLES_TYPE
from mapserver.ogc.queryables import queryables as queryables_doc
from mapserver.ogc.temporal import parse_datetime
from mapserver.parsing import parse_bbox, parse_box_numbers, parse_int, reject_unknown
from mapserver.store.common import KEYS, BBox
from mapserver.store.incidents import IncidentFilter

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 10
OPENAPI_PATH = "/openapi.json"
ITEMS_PARAMS = ("f", "bbox", "bbox-crs", "limit", "offset", "datetime", "filter", "filter-lang", "filter-crs", "crs")
ITEM_PARAMS = ("f", "crs")


def _url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def _openapi_href() -> str | None:
    # Another module may serve the OpenAPI document; only link to it when it exists.
    if any(rule.rule == OPENAPI_PATH for rule in current_app.url_map.iter_rules()):
        return request.host_url.rstrip("/") + OPENAPI_PATH
    return None


def _check_args(allowed: tuple[str, ...] = ("f",)) -> None:
    reject_unknown(request.args, allowed)
    fmt = request.args.get("f")
    if fmt is not None and fmt != "json":
        raise Problem(400, f"f must be json (the only encoding served), got {fmt[:40]!r}", param="f")


def _json(body: dict[str, Any], media_type: str = documents.JSON) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), mimetype=media_type)


@bp.get("")
@bp.get("/")
def landing() -> Response:
    _check_args()
    return _json(documents.landing(_url, _openapi_href()))


@bp.get("/conformance")
def conformance() -> Response:
    _check_args()
    return _json(documents.conformance(_openapi_href() is not None))


def _extra_crs() -> list[int]:
    return state().settings.ogc.crs


def _frame(param: str) -> frames.Frame:
    return frames.frame(request.args.get(param), _extra_crs(), param=param)


def _describe(item: Collection) -> dict[str, Any]:
    current, within = store(), request_jurisdiction()
    return documents.collection_doc(_url, item, spatial_extent(current, item, within=within),
                                    temporal_extent(current, item, within=within), frames.offered(_extra_crs()))


@bp.get("/collections")
def collections() -> Response:
    _check_args()
    return _json({"links": [documents.link(_url("ogc.collections"), "self", documents.JSON, "the collections")],
                  "collections": [_describe(item) for item in COLLECTIONS.values()]})


@bp.get("/collections/<collection_id>", endpoint="collection")
def collection_view(collection_id: str) -> Response:
    _check_args()
    return _json(_describe(collection(collection_id)))


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str) -> Response:
    item = collection(collection_id)
    _check_args()
    return _json(queryables_doc(item, _url("ogc.queryables", collection_id=item.id)), QUERYABLES_TYPE)


def _page(item: Collection, bbox: BBox | None, window: tuple[datetime | None, datetime | None],
          matching: dict[str, Any] | None, limit: int, offset: int) -> tuple[list[Any], int]:
    """One page of the collection's records (ordered so pages neither overlap nor skip) and the total, read within
    the time a filtered read may take."""
    current, within = store(), request_jurisdiction()
    with current.layers.time_limit(state().settings.ogc.query_timeout_s):
        if item.temporal:
            return current.incidents.query(bbox=bbox, where=IncidentFilter(since=window[0], until=window[1],
                                                                           within=within),
                                           limit=limit, offset=offset, matching=matching)
        records = current.layers.query(item.layer, bbox=bbox, where=item.where, limit=limit, offset=offset,
                                       within=within, matching=matching)
        return records, current.layers.count(item.layer, bbox=bbox, where=item.where, within=within,
                                             matching=matching)


def _matching() -> dict[str, Any] | None:
    """The items' conditions beyond the plain ones, as one CQL2 expression (JSON form): ``filter`` (its geometries
    from ``filter-crs`` into CRS84) and a ``bbox`` given in another CRS than CRS84; None when there are none."""
    parts: list[Any] = []
    if "filter" in request.args:
        source = _frame("filter-crs")
        expression = parse_filter(request.args["filter"], request.args.get("filter-lang"))
        if not source.is_crs84:
            expression = map_geometries(expression, lambda g: _to_crs84(g, source))
        parts.append(expression)
    else:
        for param in ("filter-lang", "filter-crs"):
            if param in request.args:
                raise Problem(400, f"{param} goes with a filter, and there is none", param=param)
    bbox_frame = _frame("bbox-crs")
    if "bbox" in request.args and not bbox_frame.is_crs84:
        values = parse_box_numbers(request.args["bbox"])
        area = frames.bbox_area(values, bbox_frame)
        parts.append({"op": "s_intersects", "args": [{"property": "geometry"}, shapely_mapping(area)]})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"op": "and", "args": parts}


def _to_crs84(literal: dict[str, Any], source: frames.Frame) -> dict[str, Any]:
    from mapserver.store.cql2_sql import geometry_literal

    # Checked in its own CRS (finite, closed, valid), then moved: the store checks the result again.
    return shapely_mapping(source.to_crs84(geometry_literal(literal)))


def _paging_links(item: Collection, limit: int, offset: int, returned: int, matched: int) -> list[dict[str, str]]:
    # next/prev keep every other parameter the client sent, so a filtered walk stays filtered.
    kept = {k: v for k, v in request.args.items() if k not in ("limit", "offset")}

    def at(where: int) -> str:
        return _url("ogc.items", collection_id=item.id, **kept, limit=limit, offset=where)

    links = [documents.link(at(offset), "self", documents.GEOJSON, "this page"),
             documents.link(_url("ogc.collection", collection_id=item.id), "collection", documents.JSON)]
    if offset + returned < matched:
        links.append(documents.link(at(offset + returned), "next", documents.GEOJSON, "next page"))
    if offset > 0:
        links.append(documents.link(at(max(0, offset - limit)), "prev", documents.GEOJSON, "previous page"))
    return links


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str) -> Response:
    item = collection(collection_id)
    _check_args(ITEMS_PARAMS)
    output = _frame("crs")
    bbox = parse_bbox(request.args.get("bbox")) if _frame("bbox-crs").is_crs84 else None
    # Above the most served, the most served (Part 1, /req/core/fc-limit-response-1); the links say which.
    limit = min(parse_int("limit", request.args.get("limit"), default=DEFAULT_LIMIT, low=1), MAX_LIMIT)
    offset = parse_int("offset", request.args.get("offset"), default=0, low=0)
    window: tuple[datetime | None, datetime | None] = (None, None)
    if "datetime" in request.args:
        if not item.temporal:
            raise Problem(400, f"collection '{item.id}' has no time to filter on; datetime is for incidents",
                          param="datetime")
        window = parse_datetime(request.args["datetime"])
    records, matched = _page(item, bbox, window, _matching(), limit, offset)
    key = KEYS[item.layer]
    body = {"type": "FeatureCollection",
            "timeStamp": documents.now_stamp(datetime.now(UTC)),
            "numberMatched": matched, "numberReturned": len(records),
            "links": _paging_links(item, limit, offset, len(records), matched),
            "features": [_feature(r, key, output) for r in records]}
    return _in_crs(_json(body, documents.GEOJSON), output)


def _feature(record: Any, key: str, output: frames.Frame) -> dict[str, Any]:
    out = feature(record, key=key)
    if not output.is_crs84 and record.geom is not None:
        out["geometry"] = geometry(output.from_crs84(record.geom))
    return out


def _in_crs(response: Response, output: frames.Frame) -> Response:
    response.headers["Content-Crs"] = frames.content_crs(output)
    return response


@bp.get("/collections/<collection_id>/items/<feature_id>", endpoint="item")
def item_view(collection_id: str, feature_id: str) -> Response:
    item = collection(collection_id)
    _check_args(ITEM_PARAMS)
    output = _frame("crs")
    record = store().layers.get(item.layer, feature_id, within=request_jurisdiction())
    if record is None or not item.holds(record):
        raise Problem(404, f"no feature '{feature_id}' in collection '{item.id}'", param="featureId")
    body = _feature(record, KEYS[item.layer], output)
    body["links"] = [
        documents.link(_url("ogc.item", collection_id=item.id, feature_id=feature_id), "self",
                       documents.GEOJSON),
        documents.link(_url("ogc.collection", collection_id=item.id), "collection", documents.JSON)]
    return _in_crs(_json(body, documents.GEOJSON), output)
