"""The store contract for extents, on both backends: ``extent`` (bounding box in degrees, WGS-84) and
``time_extent`` (first and last time, UTC), and ``ping`` (schema version and database server process)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from shapely.geometry import Point

from mapserver.errors import Problem
from mapserver.model import Camera
from mapserver.store.database import SCHEMA_VERSION
from tests import samples

# SQLite reads boxes from its R*Tree (32-bit floats rounded outward): a little larger, never smaller.
SLACK = 3e-5


def assert_covers(found, exact):
    assert found is not None
    (x0, y0, x1, y1), (ex0, ey0, ex1, ey1) = found, exact
    assert ex0 - SLACK <= x0 <= ex0 and ey0 - SLACK <= y0 <= ey0
    assert ex1 <= x1 <= ex1 + SLACK and ey1 <= y1 <= ey1 + SLACK


def test_extent_of_a_layer_and_of_filtered_rows(store):
    samples.load_all(store)
    assert_covers(store.layers.extent("grids"), (114.60, 33.60, 114.70, 33.70))
    assert_covers(store.layers.extent("grids", where={"level": 2}), samples.COMMUNITY.geom.bounds)
    assert_covers(store.layers.extent("grids", where={"level": 3, "kind": "base"}), samples.COMPOUND.geom.bounds)
    assert_covers(store.layers.extent("grids", where={"kind": "special"}), samples.SCHOOL.geom.bounds)
    assert_covers(store.layers.extent("cameras"), (114.61, 33.605, 114.63, 33.61))
    assert_covers(store.layers.extent("cameras", where={"status": "offline"}), (114.63, 33.605, 114.63, 33.605))
    assert_covers(store.layers.extent("roads"), (114.60, 33.60, 114.70, 33.65))
    assert_covers(store.layers.extent("places"), (114.61, 33.61, 114.66, 33.66))


def test_extent_follows_writes(store):
    assert store.layers.extent("cameras") is None
    store.layers.add("cameras", [Camera(code="C1", name="东门", geom=Point(114.5, 33.5))])
    assert_covers(store.layers.extent("cameras"), (114.5, 33.5, 114.5, 33.5))
    store.layers.add("cameras", [Camera(code="C2", name="西门", geom=Point(114.8, 33.9))])
    assert_covers(store.layers.extent("cameras"), (114.5, 33.5, 114.8, 33.9))
    store.layers.delete("cameras", keys=["C1"])
    assert_covers(store.layers.extent("cameras"), (114.8, 33.9, 114.8, 33.9))


def test_extent_of_no_matching_rows_is_none(store):
    samples.load_all(store)
    assert store.layers.extent("grids", where={"level": 4}) is None
    assert store.layers.extent("incidents", where={"status": "closed"}) is None


@pytest.mark.parametrize(("layer", "where", "status", "param"), [
    ("grid_staff", None, 400, "layer"),  # no geometry
    ("nowhere", None, 404, "layer"),
    ("grids", {"name": "x"}, 400, "name"),  # not a filterable column: never reaches SQL
    ("grids", {"level; DROP TABLE grids": 1}, 400, "level; DROP TABLE grids"),
])
def test_extent_refuses_what_it_cannot_answer(store, layer, where, status, param):
    with pytest.raises(Problem) as caught:
        store.layers.extent(layer, where=where)
    assert (caught.value.status, caught.value.param) == (status, param)


def test_time_extent(store):
    assert store.layers.time_extent("incidents", column="reported_at") is None
    samples.load_all(store)
    at = samples.INCIDENTS[0].reported_at
    assert store.layers.time_extent("incidents", column="reported_at") == (at, at)
    later = datetime(2026, 11, 21, 1, 2, 3, 456789, tzinfo=UTC)
    store.layers.add("incidents", [replace(samples.INCIDENTS[0], id="later", reported_at=later)])
    assert store.layers.time_extent("incidents", column="reported_at") == (at, later)
    assert store.layers.time_extent("cameras", column="last_seen") == (samples.CAMERAS[0].last_seen,) * 2
    for layer, column, status in (("incidents", "category", 400), ("incidents", "nope", 400), ("x", "at", 404)):
        with pytest.raises(Problem) as caught:
            store.layers.time_extent(layer, column=column)
        assert caught.value.status == status


def test_ping_names_the_schema_and_the_database_process(store):
    version, backend = store.ping()
    assert version == SCHEMA_VERSION
    if store.kind == "sqlite":
        assert backend is None  # embedded: no server process
    else:
        assert store.database.fetch("SELECT count(*) FROM pg_stat_activity WHERE pid = ? "
                                    "AND application_name = 'mapserver'", (backend,)) == [(1,)]  # a live server
        # process of this store's connections
