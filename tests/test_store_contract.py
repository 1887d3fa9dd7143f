"""The store contract, run against both backends (SQLite and PostGIS) by the ``store`` fixture."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from shapely.geometry import LineString, Point, Polygon, box

from mapserver.errors import Problem
from mapserver.model import Camera, Grid, GridStaff
from mapserver.store.common import LAYERS
from mapserver.store.database import SCHEMA_VERSION
from tests import samples

BOWTIE = Polygon([(114.6, 33.6), (114.7, 33.7), (114.7, 33.6), (114.6, 33.7)])


def test_migrate_is_idempotent_and_reports_the_version(store):
    assert store.schema_version() == SCHEMA_VERSION
    assert store.migrate() == SCHEMA_VERSION
    assert set(store.counts()) == {*LAYERS, "incident_events", "whistle_callouts", "tokens", "audit_log",
                                   "patrol_plans", "patrol_plan_grids", "accounts", "sessions", "login_failures",
                                   "photos", "positions", "patrol_sessions", "patrol_checkins",
                                   "position_batches", "track_days", "camera_video", "divisions"}


def test_an_incident_written_by_another_client_with_the_required_columns_only_reads_with_the_defaults(store):
    insert = ("INSERT INTO incidents (id, reported_at, category, severity, status, geom) VALUES "
              "('by-hand-1', '2026-01-02T03:04:05+00:00', 'disputes', 'general', 'closed', {})")
    with store.transaction():
        if store.kind == "postgis":
            store.database.execute(insert.format("ST_SetSRID(ST_MakePoint(114.6, 33.6), 4326)"))
        else:
            store.database.execute(insert.format("?"), (Point(114.6, 33.6).wkb,))
    kept = store.layers.get("incidents", "by-hand-1")
    assert kept.status == "closed" and kept.source == "grid_worker" and kept.version == 1 and kept.due_at is None
    assert (kept.description, kept.address, kept.reporter, kept.extra) == ("", "", "", {})


@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_round_trips(store, layer):
    records = samples.ALL[layer]
    assert store.layers.add(layer, records) == len(records)
    got = store.layers.query(layer)
    assert len(got) == len(records)
    if layer == "grid_staff":
        assert [replace(r, id=None) for r in got] == records
        assert all(isinstance(r.id, int) for r in got)
        return
    key = "id" if layer == "incidents" else "code"
    by_key = {getattr(r, key): r for r in got}
    for record in records:
        stored = by_key[getattr(record, key)]
        assert stored.geom.equals(record.geom)
        assert {k: v for k, v in vars(stored).items() if k != "geom"} == \
            {k: v for k, v in vars(record).items() if k != "geom"}


def test_grid_polygons_are_stored_as_multipolygons(store):
    store.layers.add("grids", [samples.STREET])
    assert store.layers.get("grids", samples.STREET.code).geom.geom_type == "MultiPolygon"


def test_text_with_tabs_quotes_backslashes_and_chinese_survives(store):
    name = "东门\t\"引号\" 'x' \\N back\\slash\nnew line; DROP TABLE cameras; --"
    store.layers.add("cameras", [replace(samples.CAMERAS[0], name=name)])
    assert store.layers.get("cameras", samples.CAMERAS[0].code).name == name


def test_bbox_means_geometry_intersects_not_just_bounding_boxes(store):
    # The L-shaped road's bounding box covers the query box; the line itself does not touch it.
    bent = replace(samples.ROADS[0], code="R-L", geom=LineString([(114.60, 33.60), (114.70, 33.60), (114.70, 33.70)]))
    store.layers.add("roads", [bent])
    assert store.layers.query("roads", bbox=(114.61, 33.65, 114.62, 33.66)) == []
    assert [r.code for r in store.layers.query("roads", bbox=(114.69, 33.65, 114.71, 33.66))] == ["R-L"]
    assert store.layers.count("roads", bbox=(114.61, 33.65, 114.62, 33.66)) == 0


def test_filters_paging_and_order(store):
    samples.load_all(store)
    assert [g.code for g in store.layers.query("grids", where={"level": 3})] == [samples.COMPOUND.code,
                                                                                  samples.SCHOOL.code]
    assert [g.code for g in store.layers.query("grids", where={"kind": "special"})] == [samples.SCHOOL.code]
    assert [g.code for g in store.layers.query("grids", limit=2, offset=1)] == [g.code for g in sorted(
        samples.GRIDS, key=lambda g: g.code)][1:3]
    assert store.layers.count("grids", where={"parent_code": samples.COMMUNITY.code}) == 2
    in_box = store.layers.query("grids", bbox=(114.605, 33.605, 114.606, 33.606), limit=2, offset=1)
    assert [g.code for g in in_box] == [samples.COMMUNITY.code, samples.COMPOUND.code]


def test_unknown_filter_is_refused_before_any_sql(store):
    with pytest.raises(Problem) as caught:
        store.layers.query("grids", where={"name; DROP TABLE grids": 1})
    assert caught.value.status == 400
    with pytest.raises(Problem) as caught:
        store.layers.query("nosuchlayer")
    assert caught.value.status == 404


@pytest.mark.parametrize("bbox", [(1, 2, 3), (10, 0, 5, 1), (0, 0, math.nan, 1), (0, -91, 1, 1), ("a", 0, 1, 1)])
def test_bad_bbox_is_400(store, bbox):
    with pytest.raises(Problem) as caught:
        store.layers.query("grids", bbox=bbox)
    assert caught.value.status == 400 and caught.value.param == "bbox"


def test_duplicate_key_is_409_and_writes_nothing(store):
    store.layers.add("grids", [samples.STREET])
    before = store.counts()
    with pytest.raises(Problem) as caught:
        store.layers.add("grids", [samples.COMMUNITY, samples.STREET])
    assert caught.value.status == 409
    assert store.counts() == before


def test_bad_records_are_422_listing_every_row_and_write_nothing(store):
    bad = [
        samples.STREET,
        replace(samples.COMMUNITY, geom=BOWTIE),
        replace(samples.COMPOUND, geom=Point(114.6, 33.6)),
        replace(samples.SCHOOL, level=7),
        Grid(code="", level=1, name="x", geom=box(0, 0, math.inf, 1)),
    ]
    with pytest.raises(Problem) as caught:
        store.layers.add("grids", bad)
    problem = caught.value
    assert problem.status == 422
    rows = {(e["row"], e["field"]) for e in problem.errors}
    assert {(2, "geom"), (3, "geom"), (4, "level"), (5, "code"), (5, "geom")} <= rows
    assert 1 not in {e["row"] for e in problem.errors}
    assert any("Self-intersection" in e["reason"] for e in problem.errors)
    assert store.layers.count("grids") == 0


def test_text_holding_a_nul_character_is_422_on_both_backends(store):
    with pytest.raises(Problem) as caught:
        store.layers.add("grids", [replace(samples.STREET, name="陈州\x00街道")])
    assert caught.value.status == 422 and caught.value.errors[0]["field"] == "name"
    assert store.layers.count("grids") == 0


def test_a_whole_number_beyond_32_bits_is_422_on_both_backends(store):
    with pytest.raises(Problem) as caught:
        store.layers.add("grids", [replace(samples.STREET, households=3_000_000_000)])
    assert caught.value.status == 422 and caught.value.errors[0]["field"] == "households"
    assert store.layers.count("grids") == 0


@pytest.mark.parametrize("point, reason", [((200.0, 33.0), "longitude"), ((114.0, -95.0), "latitude"),
                                           ((math.nan, 33.0), "NaN")])
def test_out_of_range_and_nan_coordinates_are_refused(store, point, reason):
    with pytest.raises(Problem) as caught:
        store.layers.add("cameras", [replace(samples.CAMERAS[0], geom=Point(*point))])
    assert caught.value.status == 422 and reason in caught.value.errors[0]["reason"]


def test_a_transaction_spanning_layers_is_all_or_nothing(store):
    with pytest.raises(Problem), store.transaction():
        store.layers.add("grids", [samples.STREET])
        store.layers.add("grid_staff", samples.STAFF)
        store.layers.add("grids", [samples.STREET])  # duplicate: the whole transaction must go
    assert store.layers.count("grids") == 0 and store.layers.count("grid_staff") == 0


def test_delete_and_data_version(store):
    assert store.layers.data_version("grids") == 0
    store.layers.add("grids", samples.GRIDS)
    first = store.layers.data_version("grids")
    assert first > 0
    assert store.layers.delete("grids", keys=[samples.SCHOOL.code, "no-such-code"]) == 1
    assert store.layers.data_version("grids") > first
    assert store.layers.get("grids", samples.SCHOOL.code) is None
    assert store.layers.query("grids", bbox=(114.612, 33.612, 114.613, 33.613), where={"kind": "special"}) == []


def test_staff_ids_are_given_by_the_store(store):
    store.layers.add("grid_staff", samples.STAFF)
    staff = store.layers.query("grid_staff", where={"role": "police_liaison"})
    assert [s.name for s in staff] == ["王强"]
    assert store.layers.get("grid_staff", staff[0].id) == staff[0]
    with pytest.raises(Problem) as caught:
        store.layers.add("grid_staff", [GridStaff(grid_code="x", role="boss", name="x")])
    assert caught.value.status == 422


def test_camera_checks(store):
    with pytest.raises(Problem) as caught:
        store.layers.add("cameras", [Camera(code="c", name="c", geom=Point(114.6, 33.6), direction_deg=400,
                                            status="lost")])
    assert {e["field"] for e in caught.value.errors} == {"direction_deg", "status"}


def test_tokens(store):
    token = store.tokens.add(name="wall-1", role="viewer", token_hash="a" * 64)
    assert store.tokens.by_hash("a" * 64).name == "wall-1"
    assert [t.name for t in store.tokens.live()] == ["wall-1"]
    assert token.created_at.tzinfo is not None
    with pytest.raises(Problem) as caught:
        store.tokens.add(name="wall-1", role="viewer", token_hash="b" * 64)
    assert caught.value.status == 409
    with pytest.raises(Problem) as caught:
        store.tokens.add(name="x", role="root", token_hash="c" * 64)
    assert caught.value.status == 422
    assert store.tokens.revoke(name="wall-1") is True
    assert store.tokens.revoke(name="wall-1") is False
    assert store.tokens.by_hash("a" * 64) is None
