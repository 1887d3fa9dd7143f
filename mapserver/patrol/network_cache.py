"""Road networks kept between plans, per process: reading and building a 50,000-edge network costs seconds, and
liaisons plan the same areas shift after shift.

A network is keyed by the store, the roads' data version (any write to the
roads makes a new one) and the bounding box read (WGS-84 degrees, rounded to
1e-6). The few most recent are kept. A network is never changed once built,
so threads may share one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from mapserver.patrol.network import Frame, RoadNetwork
from mapserver.store.base import Store

MAX_NETWORKS = 4  # a 50,000-edge network holds about 100 MB; a district's few MB

_networks: OrderedDict[tuple[object, ...], RoadNetwork] = OrderedDict()
_lock = threading.Lock()


def road_network(store: Store, bbox: Sequence[float]) -> RoadNetwork:
    """The network of the roads intersecting ``bbox``, in a local frame centred on it (built once per version)."""
    box = tuple(round(float(v), 6) for v in bbox)
    key = (store.url, store.data_version("roads"), box)
    with _lock:
        found = _networks.get(key)
        if found is not None:
            _networks.move_to_end(key)
            return found
    roads = store.query("roads", bbox=box)
    network = RoadNetwork(roads, Frame((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))
    network.pieces()  # computed now, so a shared network is only ever read
    with _lock:
        _networks[key] = network
        while len(_networks) > MAX_NETWORKS:
            _networks.popitem(last=False)
    return network
