"""The map layers of the demo city at ``--scale city`` (seed 1: ten Zhoukou districts, 22,503 grids, 12,268
cameras, 49,383 road edges, 781 key places), for the tests of the wall at a city's counts.

Built once (about 20 s on a quiet machine: the grid trees, the road networks, places and cameras of the ten
districts; incidents, addresses and people are left out) and kept in the temporary folder under the digest of
``mapserver/demo``'s sources, so later runs load it in a second or two; a change to the demo builds it again.
"""

from __future__ import annotations

import hashlib
import pickle
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

import mapserver.demo
from mapserver.demo import build
from mapserver.demo.specs import specs_for

SEED = 1
LAYERS = ("grids", "cameras", "roads", "places")


def _digest() -> str:
    folder = Path(mapserver.demo.__file__).parent
    sha = hashlib.sha256()
    for path in sorted([*folder.glob("*.py"), *folder.glob("data/*")]):
        sha.update(path.name.encode() + path.read_bytes())
    return sha.hexdigest()[:16]


def _build() -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {layer: [] for layer in LAYERS}
    for spec in specs_for("city", SEED):
        def rng(stream: int, spec=spec) -> np.random.Generator:
            return np.random.default_rng([SEED, spec.adcode, stream])

        tree = build.build_grid_tree(spec, SEED)
        network = build.build_network(tree, rng(2))
        places = build.build_places(tree, rng(3))
        hotspots = build.choose_hotspots(places, rng(5))
        out["grids"] += build.grid_records(tree) + sorted((p.grid for p in places if p.grid is not None),
                                                          key=lambda g: g.code)
        out["roads"] += network.records
        out["places"] += [p.place for p in places]
        out["cameras"] += build.build_cameras(tree, network, places, hotspots, rng(6), build.AS_OF)
    return out


def city_layers() -> dict[str, list[Any]]:
    """The city's grids, cameras, roads and key places (records, WGS-84), built or read from the cache."""
    cache = Path(tempfile.gettempdir()) / f"mapserver-city-layers-{_digest()}.pickle"
    if cache.exists():
        with cache.open("rb") as fh:
            return pickle.load(fh)  # our own file, written below
    layers = _build()
    partial = cache.with_suffix(".partial")
    with partial.open("wb") as fh:
        pickle.dump(layers, fh, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(cache)
    return layers


def load_layers(store: Any, layers: dict[str, list[Any]], only: tuple[str, ...] = LAYERS) -> None:
    """Write the layers named in ``only`` into an empty store."""
    for layer in only:
        store.layers.add(layer, layers[layer])
