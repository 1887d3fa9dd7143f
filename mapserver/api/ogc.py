"""OGC API – Features Part 1 (Core, GeoJSON) under ``/ogc``, for QGIS, GDAL (OAPIF) and other GIS clients.

Routes: ``/ogc`` (landing page), ``/ogc/conformance``, ``/ogc/collections``,
``/ogc/collections/{id}``, ``/ogc/collections/{id}/items`` and
``/ogc/collections/{id}/items/{featureId}``. Coordinates are CRS84 (WGS-84
longitude, latitude, degrees); ``bbox`` is 4 numbers in CRS84; ``datetime``
(incidents only) is RFC 3339. Feature ids are the layer's key. Like every route,
these need a viewer token; an unknown query parameter is a 400 problem.

Every collection is the asker's jurisdiction's part of it: items, numberMatched,
a feature by id (404 outside, as a missing one) and the collection's extents
(spatial and temporal) are those of the records in the jurisdiction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, json, request, url_for

from mapserver.app_state import store
from mapserver.auth import request_jurisdiction
from mapserver.errors import Problem
from mapserver.geojson import feature
from mapserver.ogc import documents
from mapserver.ogc.collections import COLLECTIONS, Collection, collection, spatial_extent, temporal_extent
from mapserver.ogc.temporal import parse_datetime
from mapserver.parsing import parse_bbox, parse_int, reject_unknown
from mapserver.store.common import KEYS, BBox
from mapserver.store.incidents import IncidentFilter

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 10
OPENAPI_PATH = "/openapi.json"
ITEMS_PARAMS = ("f", "bbox", "limit", "offset", "datetime")


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


def _describe(item: Collection) -> dict[str, Any]:
    current, within = store(), request_jurisdiction()
    return documents.collection_doc(_url, item, spatial_extent(current, item, within=within),
                                    temporal_extent(current, item, within=within))


@bp.get("/collections")
def collections() -> Response:
    _check_args()
    return _json({"links": [documents.link(_url("ogc.collections"), "self", documents.JSON, "the collections")],
                  "collections": [_describe(item) for item in COLLECTIONS.values()]})


@bp.get("/collections/<collection_id>", endpoint="collection")
def collection_view(collection_id: str) -> Response:
    _check_args()
    return _json(_describe(collection(collection_id)))


def _page(item: Collection, bbox: BBox | None, window: tuple[datetime | None, datetime | None],
          limit: int, offset: int) -> tuple[list[Any], int]:
    """One page of the collection's records (ordered so pages neither overlap nor skip) and the total."""
    current, within = store(), request_jurisdiction()
    if item.temporal:
        return current.incidents.query(bbox=bbox, where=IncidentFilter(since=window[0], until=window[1],
                                                                       within=within), limit=limit, offset=offset)
    records = current.layers.query(item.layer, bbox=bbox, where=item.where, limit=limit, offset=offset,
                                   within=within)
    return records, current.layers.count(item.layer, bbox=bbox, where=item.where, within=within)


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
    bbox = parse_bbox(request.args.get("bbox"))
    limit = parse_int("limit", request.args.get("limit"), default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    offset = parse_int("offset", request.args.get("offset"), default=0, low=0)
    window: tuple[datetime | None, datetime | None] = (None, None)
    if "datetime" in request.args:
        if not item.temporal:
            raise Problem(400, f"collection '{item.id}' has no time to filter on; datetime is for incidents",
                          param="datetime")
        window = parse_datetime(request.args["datetime"])
    records, matched = _page(item, bbox, window, limit, offset)
    key = KEYS[item.layer]
    body = {"type": "FeatureCollection",
            "timeStamp": documents.now_stamp(datetime.now(UTC)),
            "numberMatched": matched, "numberReturned": len(records),
            "links": _paging_links(item, limit, offset, len(records), matched),
            "features": [feature(r, key=key) for r in records]}
    return _json(body, documents.GEOJSON)


@bp.get("/collections/<collection_id>/items/<feature_id>", endpoint="item")
def item_view(collection_id: str, feature_id: str) -> Response:
    item = collection(collection_id)
    _check_args()
    record = store().layers.get(item.layer, feature_id, within=request_jurisdiction())
    if record is None or not item.holds(record):
        raise Problem(404, f"no feature '{feature_id}' in collection '{item.id}'", param="featureId")
    body = feature(record, key=KEYS[item.layer])
    body["links"] = [
        documents.link(_url("ogc.item", collection_id=item.id, feature_id=feature_id), "self",
                       documents.GEOJSON),
        documents.link(_url("ogc.collection", collection_id=item.id), "collection", documents.JSON)]
    return _json(body, documents.GEOJSON)
