"""Road networks as derived data (:mod:`mapserver.derived`): one of the store's whole road layer, built again when
the roads change, and the parts of it that plans route on (the roads near an area), the few most recent kept.

Reading 50,000 roads and building their network takes a few tenths of a second. ``mapserver serve`` builds the
layer's network in the master before forking (:func:`mapserver.serving.prepare_for_workers`), so every worker
starts with it, shared copy-on-write, and no first plan pays for the build. Both kinds compare the roads' data
version (any write to the roads makes a new one; one small query) on every use: a changed layer is read again by
the next plan that needs it. A part is kept per bounding box (WGS-84 degrees, rounded to 1e-6). Networks are
complete when kept (their strongly connected pieces computed) and never changed after, so threads share them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from mapserver.derived import DerivedData, Kind
from mapserver.patrol.network import RoadNetwork
from mapserver.store import Store

MAX_PARTS = 8  # parts share the layer's geometries; each holds its own arrays and STRtree


def read_network(store: Store) -> RoadNetwork:
    """The network of every road in ``store``, read as columns, in a frame centred on the layer."""
    codes, wkb, oneway = store.layers.road_columns()
    geoms = shapely.from_wkb(wkb) if wkb else np.zeros(0, dtype=object)
    return RoadNetwork.from_columns(codes, geoms, oneway)


def _build_layer(derived: DerivedData) -> RoadNetwork:
    network = read_network(derived.store)
    network.pieces()  # computed now, so a shared network is only ever read
    return network


def _build_part(derived: DerivedData, box: tuple[float, float, float, float]) -> RoadNetwork:
    part = derived.get(LAYER_NETWORK).within(box)
    part.pieces()
    return part


LAYER_NETWORK: Kind[RoadNetwork] = Kind("road network", layers=("roads",), build=_build_layer, check_every_s=0.0)
"""The network of the store's whole road layer, read again when the roads have changed."""

NETWORK_PART: Kind[RoadNetwork] = Kind("road network part", layers=("roads",), build=_build_part,
                                       check_every_s=0.0, keep=MAX_PARTS)
"""The network of the roads intersecting a box; ask through :func:`road_network`, which rounds the box."""


def road_network(derived: DerivedData, bbox: Sequence[float]) -> RoadNetwork:
    """The network of the roads intersecting ``bbox`` (WGS-84), its strongly connected pieces computed."""
    return derived.get(NETWORK_PART, tuple(round(float(v), 6) for v in bbox))
