"""The analysis layers of the big screen (layers/heat.py, hotspots.py, blindspots.py) on both backends."""

from __future__ import annotations

from datetime import timedelta

import layers
from mapserver.config import Settings
from mapserver.derived import DerivedData
from mapserver.maplayers.spec import LayerQuery
from tests.analysis_data import CLUSTER, STREET, T0, incidents


def fetch(store, name: str, **params):
    module = layers.load(name)
    query = LayerQuery(params={**module.PARAMS, **params}, since=T0, until=T0 + timedelta(days=30), now=T0,
                       settings=Settings(), derived=DerivedData(store))
    return module.fetch(store, query)


def test_the_layers_draw_the_planted_cluster(store):
    store.layers.add("grids", [STREET])
    store.layers.add("incidents", incidents())
    heat, top = fetch(store, "heat"), fetch(store, "heat", quantile=0.9)
    assert 0 < top["numberMatched"] < heat["numberMatched"]
    assert heat["features"][0]["geometry"]["type"] == "Polygon"
    # Shades follow the counts, the busiest cell is full strength, and they come from the district, not the view.
    graded = sorted((f["properties"]["count"], f["properties"]["shade"]) for f in heat["features"])
    assert [s for _, s in graded] == sorted(s for _, s in graded) and graded[-1][1] == 1.0
    assert all(0.0 <= s <= 1.0 for _, s in graded)
    hot = fetch(store, "hotspots")
    assert hot["features"] and all(f["properties"]["class"].startswith("hot") for f in hot["features"])
    strict = fetch(store, "hotspots", confidence=99)
    assert strict["numberMatched"] <= hot["numberMatched"]
    blind = fetch(store, "blindspots")
    assert blind["numberMatched"] == hot["numberMatched"]  # no cameras: every hot cell is blind
    lon, lat = CLUSTER
    assert any(abs(f["geometry"]["coordinates"][0][0][0] - lon) < 0.01 and
               abs(f["geometry"]["coordinates"][0][0][1] - lat) < 0.01 for f in hot["features"])


def test_an_empty_store_gives_empty_layers(store):
    for name in ("heat", "hotspots", "blindspots"):
        assert fetch(store, name)["features"] == []


def test_the_screen_serves_the_layers(client, tokens, store):
    store.layers.add("grids", [STREET])
    store.layers.add("incidents", incidents())
    for key in ("heat", "hotspots", "blindspots"):
        resp = client.get(f"/api/screen/layers/{key}", headers=tokens["viewer"])
        assert resp.status_code == 200, (key, resp.get_json())
        assert resp.get_json()["type"] == "FeatureCollection"


def test_bad_layer_params_are_refused():
    for name, params in (("heat", {"res": 4}), ("heat", {"quantile": 1.0}), ("hotspots", {"confidence": 80}),
                         ("blindspots", {"res": 13})):
        module = layers.load(name)
        assert module.check_params({**module.PARAMS, **params}), (name, params)
