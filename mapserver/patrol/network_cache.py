"""Road networks kept per process: one of the store's whole road layer, rebuilt when the roads change, and the
parts of it that plans route on (the roads near an area), the few most recent kept.

Reading 50,000 roads and building their network takes a few tenths of a second. ``mapserver serve`` builds
the layer's network in the master before forking (:func:`mapserver.serving.prepare_for_workers` calls
:func:`warm`), so every worker starts with it, shared copy-on-write, and no first plan pays for the build.
The layer's network is keyed by store URL and compared with the roads' data version (any write to the roads
makes a new one; one small query) on every use: a changed layer is read again by the next plan that needs it.
A part is keyed by the store, that version and the bounding box (WGS-84 degrees, rounded to 1e-6). Networks
are never changed once built, so threads share them.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import shapely

from mapserver.patrol.network import RoadNetwork
from mapserver.store import Store

MAX_PARTS = 8  # parts share the layer's geometries; each holds its own arrays and STRtree

_layers: dict[str, tuple[int, RoadNetwork]] = {}
_parts: OrderedDict[tuple[object, ...], RoadNetwork] = OrderedDict()
_lock = threading.Lock()  # guards the two dicts
_build_lock = threading.Lock()  # one layer build at a time: threads wanting it wait for it rather than repeat it


def _renew_locks_after_fork() -> None:
    # The networks built before the fork are what a worker inherits; only the locks must be its own.
    global _lock, _build_lock
    _lock, _build_lock = threading.Lock(), threading.Lock()


os.register_at_fork(after_in_child=_renew_locks_after_fork)


def read_network(store: Store) -> RoadNetwork:
    """The network of every road in ``store``, read as columns, in a frame centred on the layer."""
    codes, wkb, oneway = store.layers.road_columns()
    geoms = shapely.from_wkb(wkb) if wkb else np.zeros(0, dtype=object)
    return RoadNetwork.from_columns(codes, geoms, oneway)


def _layer(store: Store, version: int) -> RoadNetwork:
    found = _layers.get(store.url)
    if found is not None and found[0] == version:
        return found[1]
    with _build_lock:
        found = _layers.get(store.url)
        if found is not None and found[0] == version:
            return found[1]
        network = read_network(store)
        with _lock:
            _layers[store.url] = (version, network)
            for key in [k for k in _parts if k[0] == store.url and k[1] != version]:
                del _parts[key]
        return network


def layer_network(store: Store) -> RoadNetwork:
    """The network of the store's whole road layer, read again when the roads have changed."""
    return _layer(store, store.layers.data_version("roads"))


def road_network(store: Store, bbox: Sequence[float]) -> RoadNetwork:
    """The network of the roads intersecting ``bbox`` (WGS-84), its strongly connected pieces computed."""
    box = tuple(round(float(v), 6) for v in bbox)
    version = store.layers.data_version("roads")
    key = (store.url, version, box)
    with _lock:
        found = _parts.get(key)
        if found is not None:
            _parts.move_to_end(key)
            return found
    part = _layer(store, version).within(box)
    part.pieces()  # computed now, so a shared network is only ever read
    with _lock:
        _parts[key] = part
        while len(_parts) > MAX_PARTS:
            _parts.popitem(last=False)
    return part


def warm(store: Store) -> RoadNetwork:
    """Build the layer's network now (before forking workers), with its pieces."""
    network = layer_network(store)
    network.pieces()
    return network


def forget_networks() -> None:
    """Drop every network kept by this process (the next plan reads the roads again)."""
    with _lock:
        _layers.clear()
        _parts.clear()
