"""Read access to every stored layer as GeoJSON: ``/api/<layer>`` and ``/api/<layer>/<key>``.

Coordinates are WGS-84 longitude/latitude (RFC 7946). Filters are the
layer's filterable columns, given as query parameters. Only records in the
asker's jurisdiction are listed; any other key is a 404, as a missing one.
"""

from __future__ import annotations

from flask import Blueprint, request

from mapserver.app_state import store
from mapserver.auth import request_jurisdiction
from mapserver.errors import Problem
from mapserver.geojson import feature, feature_collection
from mapserver.model import RECORD_TYPES
from mapserver.parsing import parse_bbox, parse_int, reject_unknown
from mapserver.store.common import FILTERABLE, KEYS, LAYERS

bp = Blueprint("layers", __name__, url_prefix="/api")

# Incidents and cameras have routes of their own (filters by time and warning; status from heartbeats).
GENERIC_LAYERS = tuple(name for name in LAYERS if name not in ("incidents", "cameras"))
LAYER_RULE = "<any({}):layer>".format(", ".join(f'"{name}"' for name in GENERIC_LAYERS))
MAX_LIMIT = 10_000
INTEGER_COLUMNS = {("grids", "level"), ("grid_staff", "id")}


def _filters(layer: str) -> dict:
    where = {}
    for name in FILTERABLE[layer]:
        if name in request.args:
            text = request.args[name]
            where[name] = parse_int(name, text) if (layer, name) in INTEGER_COLUMNS else text
    return where


@bp.get(f"/{LAYER_RULE}")
def list_features(layer: str) -> dict:
    # A layer without geometry (grid_staff) has no spatial index to take a bbox.
    reject_unknown(request.args, {*(("bbox",) if RECORD_TYPES[layer].GEOM_TYPES else ()), "limit", "offset",
                                  *FILTERABLE[layer]})
    bbox = parse_bbox(request.args.get("bbox"))
    limit = parse_int("limit", request.args.get("limit"), default=1000, low=0, high=MAX_LIMIT)
    offset = parse_int("offset", request.args.get("offset"), default=0, low=0)
    where, within = _filters(layer), request_jurisdiction()
    current = store()
    records = current.layers.query(layer, bbox=bbox, where=where, limit=limit, offset=offset, within=within)
    matched = current.layers.count(layer, bbox=bbox, where=where, within=within)
    return feature_collection(records, key=KEYS[layer], numberMatched=matched, numberReturned=len(records))


@bp.get(f"/{LAYER_RULE}/<key>")
def get_feature(layer: str, key: str) -> dict:
    reject_unknown(request.args, ())
    value = parse_int("key", key) if (layer, KEYS[layer]) in INTEGER_COLUMNS else key
    record = store().layers.get(layer, value, within=request_jurisdiction())
    if record is None:
        raise Problem(404, f"no {layer} record with {KEYS[layer]} '{key}'", param=KEYS[layer])
    return feature(record, key=KEYS[layer])
