"""The wall's vector tiles (Mapbox Vector Tiles 2.1, ``application/vnd.mapbox-vector-tile``):

``GET /api/screen/tiles/{keys}/{z}/{x}/{y}.mvt[?window=]``  configured layers whose modules declare
                                                           ``tile_layers``, ``keys`` one or several of their ids
                                                           joined by commas (``grids_street,cameras``): every
                                                           feature in the tile, or clusters, of each
``GET /api/screen/ground/{z}/{x}/{y}.mvt``                  the basemap from the store's own data
                                                            (:mod:`mapserver.maplayers.ground`)

A layers tile holds one MVT layer per key, named by the key (two wall layers on one store layer stay apart), and
its clusters as ``<key>_clusters``: the wall asks once per tile address for all its layers in view. Each of the
asker's jurisdiction (a tile outside it is empty), with a weak ETag built from the data versions it depends on, the
window and the minute for layers that change with the clock, so a poll with nothing new costs a 304.
``X-Tile-Aggregated`` names the MVT layers of the answer that hold clusters; ``X-Tile-Layer-Tags`` gives each
key's own tag (``key=tag`` by commas, on a 304 too), so the page redraws only the layers whose part changed. A bad
address is a 400 (not whole numbers) or a 404 (no such tile, no such layer), a key twice or more than
:data:`MAX_KEYS` keys a 400, as problem+json naming the key.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request

from mapserver.app_state import derived, state, store
from mapserver.auth import request_jurisdiction
from mapserver.errors import Problem
from mapserver.maplayers.ground import ground_layers
from mapserver.maplayers.spec import LayerQuery, ScreenLayer
from mapserver.parsing import reject_unknown
from mapserver.screen.answers import Encoded, etag_of
from mapserver.screen.screen_state import screen_state
from mapserver.screen.window import parse_window, window_start
from mapserver.store import Store
from mapserver.store.tile_grid import TileAddress
from mapserver.store.vector_tiles import CLUSTER_SUFFIX, TileLayer, VectorTile

bp = Blueprint("tiles", __name__)

MVT_TYPE = "application/vnd.mapbox-vector-tile"
CLOCK_BUCKET_S = 60  # as the wall's JSON answers: warning colours and stale cameras move once a minute
GROUND_SOURCES = ("places", "grids", "roads")
MAX_KEYS = 16
"""Layers one tile request may ask for (a wall shows a handful)."""


def _address(z: str, x: str, y: str) -> TileAddress:
    try:
        numbers = int(z), int(x), int(y)
    except ValueError:
        raise Problem(400, f"a tile address is three whole numbers z/x/y, got {z[:12]}/{x[:12]}/{y[:12]}",
                      param="z") from None
    return TileAddress.checked(*numbers)


def _tile_answer(key: tuple[Any, ...], make: Any, *, parts: dict[str, str] | None = None) -> Response:
    """The tile for ``key``: 304 when the browser has it, else from the wall's answer cache or ``make()``;
    ``parts`` (key → tag of its part) go out as ``X-Tile-Layer-Tags``."""
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
    if parts is not None:
        resp.headers["X-Tile-Layer-Tags"] = ",".join(f"{name}={tag}" for name, tag in parts.items())
    resp.set_etag(etag, weak=True)
    resp.headers["Cache-Control"] = "private, no-cache"
    resp.headers["Vary"] = "Accept-Encoding, Cookie, Authorization"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def _encode_tile(tile: VectorTile) -> Encoded:
    gzipped = gzip.compress(tile.data, compresslevel=5) if len(tile.data) > 1024 else None
    return Encoded(tile.data, gzipped, meta={"aggregated": _aggregated(tile)})


def _encode_part(tile: VectorTile) -> Encoded:
    # A part is only ever sent inside a layers tile, which is compressed whole.
    return Encoded(tile.data, None, meta={"aggregated": _aggregated(tile)})


def _aggregated(tile: VectorTile) -> str:
    return ",".join(n for n, a in tile.aggregated.items() if a)


def _keys(text: str) -> list[str]:
    """The layer ids of a tile's path, in the order asked: a 400 naming the key asked twice, or for too many."""
    keys = text.split(",")
    if len(keys) > MAX_KEYS:
        raise Problem(400, f"a tile holds at most {MAX_KEYS} layers, {len(keys)} were asked for", param="layer")
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise Problem(400, f"map layer '{key[:40]}' is asked for twice", param="layer")
        if key.endswith(CLUSTER_SUFFIX) and key[:-len(CLUSTER_SUFFIX)] in keys:
            raise Problem(400, f"map layer '{key[:40]}' would be read as the clusters of "
                               f"'{key[:-len(CLUSTER_SUFFIX)]}': ask for them apart", param="layer")
        seen.add(key)
    return keys


def _tiled_layer(key: str, current: Store) -> ScreenLayer:
    layer = screen_state().layer(key)
    if not layer.tiled:
        raise Problem(404, f"map layer '{key}' is not served as vector tiles", param="layer")
    if not layer.available(current):
        raise Problem(404, f"map layer '{key}' has no data source on this server", param="layer")
    return layer


def _named(key: str, tile_layers: list[TileLayer]) -> list[TileLayer]:
    """A wall layer's MVT layers named by its key (``key.<name>`` when its module gives several)."""
    if len(tile_layers) == 1:
        return [replace(tile_layers[0], name=key)]
    return [replace(spec, name=f"{key}.{spec.mvt_name}") for spec in tile_layers]


@dataclass(frozen=True)
class _Part:
    """One wall layer's share of a layers tile: its cache key (so its tag) and how to make it."""

    key: tuple[Any, ...]
    make: Any

    @property
    def tag(self) -> str:
        return etag_of(self.key)

    def encoded(self) -> Encoded:
        return screen_state().cache.get_or_make(self.tag, self.make, encoder=_encode_part)


@bp.get("/api/screen/tiles/<keys>/<z>/<x>/<y>.mvt")
def layer_tile(keys: str, z: str, x: str, y: str) -> Response:
    address = _address(z, x, y)
    current = store()
    layers = [_tiled_layer(key, current) for key in _keys(keys)]
    reject_unknown(request.args, {"window"} if any(layer.uses_window for layer in layers) else set())
    now, within, settings = datetime.now(UTC), request_jurisdiction(), state().settings
    window_from = None
    if any(layer.uses_window for layer in layers):
        window = parse_window(request.args.get("window"), screen_state().settings.window)
        window_from = window_start(window, now=now, timezone=screen_state().settings.timezone)
    offline_after_s = settings.cameras.offline_after_s
    parts: dict[str, _Part] = {}
    for layer in layers:
        since = window_from if layer.uses_window else None
        clock = int(now.timestamp() // CLOCK_BUCKET_S) if layer.uses_clock else 0
        query = LayerQuery(params=layer.params, since=since, now=now, settings=settings, derived=derived(),
                           within=within)
        # The jurisdiction is part of the key: one street never gets another's tile, nor its ETag.
        part_key = ("tile", layer.key, within.code or "", layer.data_versions(current),
                    since.isoformat() if since else "", clock, address.z, address.x, address.y)
        tile_layers = _named(layer.key, layer.tile_layers(query))
        parts[layer.key] = _Part(part_key, lambda tile_layers=tile_layers: current.tiles.tile(
            address, tile_layers, now=now, offline_after_s=offline_after_s))

    def make() -> VectorTile:
        # A tile's MVT layers are fields of one message: the parts' bytes one after another are the tile.
        encoded = [part.encoded() for part in parts.values()]
        aggregated = {name: True for e in encoded for name in e.meta.get("aggregated", "").split(",") if name}
        return VectorTile(b"".join(e.plain for e in encoded), {}, aggregated)

    return _tile_answer(("tiles", *(part.tag for part in parts.values())), make,
                        parts={name: part.tag for name, part in parts.items()})


@bp.get("/api/screen/ground/<z>/<x>/<y>.mvt")
def ground_tile(z: str, x: str, y: str) -> Response:
    address = _address(z, x, y)
    reject_unknown(request.args, set())
    current, within, now = store(), request_jurisdiction(), datetime.now(UTC)
    versions = tuple(current.layers.data_version(source) for source in GROUND_SOURCES)
    cache_key = ("ground", within.code or "", versions, address.z, address.x, address.y)
    return _tile_answer(cache_key, lambda: current.tiles.tile(address, ground_layers(address.z, within), now=now))
