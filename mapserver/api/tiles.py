"""The wall's vector tiles (Mapbox Vector Tiles 2.1, ``application/vnd.mapbox-vector-tile``):

``GET /api/screen/tiles/{layer}/{z}/{x}/{y}.mvt[?window=]``  a configured layer whose module declares
                                                            ``tile_layers``: every feature in the tile, or clusters
``GET /api/screen/ground/{z}/{x}/{y}.mvt``                  the basemap from the store's own data
                                                            (:mod:`mapserver.maplayers.ground`)

Each of the asker's jurisdiction (a tile outside it is empty), with a weak ETag built from the data versions
it depends on, the window and the minute for layers that change with the clock, so a poll with nothing new costs a
304. ``X-Tile-Aggregated`` names the MVT layers of the answer that hold clusters. A bad address is a 400 (not
whole numbers) or a 404 (no such tile, no such layer) as problem+json.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request

from mapserver.app_state import derived, state, store
from mapserver.auth import request_jurisdiction
from mapserver.errors import Problem
from mapserver.maplayers.ground import ground_layers
from mapserver.maplayers.spec import LayerQuery
from mapserver.parsing import reject_unknown
from mapserver.screen.answers import Encoded, etag_of
from mapserver.screen.screen_state import screen_state
from mapserver.screen.window import parse_window, window_start
from mapserver.store.tile_grid import TileAddress
from mapserver.store.vector_tiles import VectorTile

bp = Blueprint("tiles", __name__)

MVT_TYPE = "application/vnd.mapbox-vector-tile"
CLOCK_BUCKET_S = 60  # as the wall's JSON answers: warning colours and stale cameras move once a minute
GROUND_SOURCES = ("places", "grids", "roads")


def _address(z: str, x: str, y: str) -> TileAddress:
    try:
        numbers = int(z), int(x), int(y)
    except ValueError:
        raise Problem(400, f"a tile address is three whole numbers z/x/y, got {z[:12]}/{x[:12]}/{y[:12]}",
                      param="z") from None
    return TileAddress.checked(*numbers)


def _tile_answer(key: tuple[Any, ...], make: Any) -> Response:
    """The tile for ``key``: 304 when the browser has it, else from the wall's answer cache or ``make()``."""
    etag = etag_of(key)
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304)
    else:
        encoded: Encoded = screen_state().cache.get_or_make(etag, make, encoder=_encode_tile)
        gzip_ok = encoded.gzipped is not None and request.accept_encodings.quality("gzip") > 0
        resp = Response(encoded.gzipped if gzip_ok else encoded.plain, mimetype=MVT_TYPE)
        if gzip_ok:
            resp.headers["Content-Encoding"] = "gzip"
        aggregated = encoded.meta.get("aggregated", "") if encoded.meta else ""
        resp.headers["X-Tile-Aggregated"] = aggregated
    resp.set_etag(etag, weak=True)
    resp.headers["Cache-Control"] = "private, no-cache"
    resp.headers["Vary"] = "Accept-Encoding, Cookie, Authorization"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def _encode_tile(tile: VectorTile) -> Encoded:
    gzipped = gzip.compress(tile.data, compresslevel=5) if len(tile.data) > 1024 else None
    return Encoded(tile.data, gzipped, meta={"aggregated": ",".join(n for n, a in tile.aggregated.items() if a)})


@bp.get("/api/screen/tiles/<key>/<z>/<x>/<y>.mvt")
def layer_tile(key: str, z: str, x: str, y: str) -> Response:
    address = _address(z, x, y)
    layer, current = screen_state().layer(key), store()
    if not layer.tiled:
        raise Problem(404, f"map layer '{key}' is not served as vector tiles", param="layer")
    if not layer.available(current):
        raise Problem(404, f"map layer '{key}' has no data source on this server", param="layer")
    reject_unknown(request.args, {"window"} if layer.uses_window else set())
    now, within = datetime.now(UTC), request_jurisdiction()
    since = None
    if layer.uses_window:
        window = parse_window(request.args.get("window"), screen_state().settings.window)
        since = window_start(window, now=now, timezone=screen_state().settings.timezone)
    clock = int(now.timestamp() // CLOCK_BUCKET_S) if layer.uses_clock else 0
    settings = state().settings
    # The jurisdiction is part of the key: one street never gets another's tile, nor its ETag.
    cache_key = ("tile", key, within.code or "", layer.data_versions(current), since.isoformat() if since else "",
                 clock, address.z, address.x, address.y)
    query = LayerQuery(params=layer.params, since=since, now=now, settings=settings, derived=derived(), within=within)
    return _tile_answer(cache_key, lambda: current.tiles.tile(
        address, layer.tile_layers(query), now=now, offline_after_s=settings.cameras.offline_after_s))


@bp.get("/api/screen/ground/<z>/<x>/<y>.mvt")
def ground_tile(z: str, x: str, y: str) -> Response:
    address = _address(z, x, y)
    reject_unknown(request.args, set())
    current, within, now = store(), request_jurisdiction(), datetime.now(UTC)
    versions = tuple(current.layers.data_version(source) for source in GROUND_SOURCES)
    cache_key = ("ground", within.code or "", versions, address.z, address.x, address.y)
    return _tile_answer(cache_key, lambda: current.tiles.tile(address, ground_layers(address.z, within), now=now))
