"""The columnar import of incidents gives what the per-row path gives: the same findings, word for word, for
bad rows, and the same stored incidents (ids, grid chain, H3 cell, deadlines) for good ones.

The per-row path is the importer's own (every other layer takes it), run here on the whole file as the
reference. Runs on both backends (the ``store`` fixture); the index rebuild and the COPY formats are
PostGIS's. Points near Chuanhui (WGS-84), in the sample grids of tests/samples.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2
import pytest
from shapely.geometry import Point

from mapserver import importer
from mapserver.errors import Problem
from mapserver.importer import import_layer
from mapserver.importing import incident_stream
from mapserver.importing.fields import plan_fields
from mapserver.importing.incident_columns import read_incidents
from mapserver.importing.naming import content_ids, incident_id
from mapserver.importing.source import read_source
from mapserver.incidents.enrich import prepare_incidents
from mapserver.incidents.settings import IncidentSettings
from mapserver.model import Incident, field_names
from mapserver.store import open_store, postgis_bulk, postgis_indexes
from mapserver.store.common import normalise
from mapserver.store.incident_batch import IncidentBatch
from tests import samples
from tests.test_incident_summary import assert_summary_is_exact

SETTINGS = IncidentSettings()
IN_COMPOUND = (114.6005, 33.6005)
IN_STREET_ONLY = (114.68, 33.68)
FAR_AWAY = (114.80, 33.80)
STORED = Incident(id="in-store-1", geom=Point(*IN_COMPOUND), reported_at=datetime(2026, 11, 1, tzinfo=UTC),
                  category="disputes")


@pytest.fixture
def grids(store):
    store.layers.add("grids", samples.GRIDS)
    return store


def row(point: tuple[object, object] = IN_COMPOUND, **fields: object) -> dict:
    return {"lon": point[0], "lat": point[1], "category": "disputes", "severity": "important",
            "reported_at": "2026-11-20T09:30:00+08:00", "description": "邻里纠纷", **fields}


def write_csv(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def per_row(store, path: Path, *, crs: str = "wgs84", timezone: str = "UTC") -> tuple[list[dict], list[Incident]]:
    """What the importer's per-row path makes of the whole file: (findings, records of the good rows)."""
    source = read_source(path, None, "incidents")
    plan = plan_fields("incidents", source.path.name, list(source.columns), {}, {}, timezone)
    where = importer._geometry_where("incidents", source, {})
    raws = importer._raw_geometries("incidents", source, where)
    rows = importer._check_rows("incidents", source, plan, raws, crs, False, lambda *_: None)
    return importer._findings(store, "incidents", rows), [r for row in rows for r in row.records]


def vouched_rows(path: Path, *, crs: str = "wgs84", timezone: str = "UTC") -> set[int]:
    """The rows the vectorised checks vouch for (so the test knows the columnar path was taken)."""
    source = read_source(path, None, "incidents")
    plan = plan_fields("incidents", source.path.name, list(source.columns), {}, {}, timezone)
    read = read_incidents(source, plan, importer._geometry_where("incidents", source, {}), crs)
    return set((np.flatnonzero(read.vouched) + 1).tolist())


def stored(store) -> dict[str, Incident]:
    return {i.id: i for i in store.layers.query("incidents")}


BAD_ROWS = [
    row(),                                                    # 1 fine
    row(("abc", 33.6)),                                       # 2 lon not a number
    row(("", 33.6)),                                          # 3 lon empty
    row(("", "")),                                            # 4 no point at all
    row(("nan", 33.6)),                                       # 5 NaN
    row((200, 33.6)),                                         # 6 longitude out of range
    row((114.6, 95)),                                         # 7 latitude out of range
    row(reported_at="yesterday"),                             # 8 not a time
    row(reported_at=""),                                      # 9 required, empty
    row(category=" "),                                        # 10 required, blank
    row(severity="huge"),                                     # 11 check_record: severity
    row(source="radio"),                                      # 12 … source
    row(status="lost"),                                       # 13 … status
    row(escalation="maybe"),                                  # 14 … escalation
    row(description="长" * 2001),                             # 15 longer than MAX_TEXT
    row(version="x"),                                         # 16 not a whole number
    row(extra="[1, 2]"),                                      # 17 not a JSON object
    row(due_at="soon", warn_at="later"),                      # 18 two bad times
    row(id="dup-1"),                                          # 19 fine, named
    row(IN_STREET_ONLY, id="dup-1"),                          # 20 its id again
    row(id=STORED.id),                                        # 21 already in the store
    row(("inf", "-inf")),                                     # 22 infinite
    row(severity="重要紧急", reported_at="2026/11/20 09:30:00"),  # 23 fine: an alias, slashes, no offset
    row((" 114.6005 ", "33.6005 "), version="3", extra='{"来源": "热线"}'),  # 24 fine
    row(version="3000000000"),                                # 25 beyond the stores' 32-bit version
    row(version="0"),                                         # 26 versions start at 1
    row(version="99999999999999999999"),                      # 27 beyond int64 too
]


def test_bad_rows_are_reported_word_for_word_as_the_per_row_path_reports_them(store, tmp_path):
    store.layers.add("incidents", [STORED])
    path = write_csv(tmp_path / "history.csv", BAD_ROWS)
    expected, _ = per_row(store, path)
    assert {f["row"] for f in expected} == set(range(2, 23)) - {19} | {25, 26, 27}
    assert {f["field"] for f in expected if f["row"] >= 25} == {"version"}
    with pytest.raises(Problem) as caught:
        import_layer(store, "incidents", path)
    assert caught.value.status == 422
    assert caught.value.errors == expected
    assert caught.value.detail == f"{len(expected)} problems in history.csv; nothing was written"
    assert store.layers.count("incidents") == 1
    assert vouched_rows(path) == {1, 19, 20, 21, 23, 24}  # the good rows went the vectorised way


GOOD_ROWS = [
    row(category="fire_hazard", severity="urgent"),
    row(IN_STREET_ONLY, reported_at="2026-11-21T10:00:00.123456+08:00", severity="一般"),
    row(reported_at="2026/11/20 10:00:00", status="closed", closed_at="2026-11-24 10:00",
        dispatched_at="2026-11-20T11:00:00Z"),
    row(description='多行\n"引号"\t制表\\反斜杠', address="川汇区七一路", reporter="网格员", unit="城管"),
    row(id=" given-1 ", extra='{"b": [1, 2], "a": "川"}', version=4, escalation="重点哨"),
    row(grid_code=samples.COMMUNITY.code, grid_l3="stale-code", source="热线"),
    row(due_at="2026-11-20T10:00:00+08:00"),
    row(warn_at="2026-11-22T10:00:00+08:00", due_at="2026-11-23T10:00:00+08:00"),
    row(("114.6005", "33.6005"), reported_at="2026-11-20T09:30:00"),
]


@pytest.mark.parametrize("timezone", ["UTC", "Asia/Shanghai"])
def test_good_rows_are_stored_as_the_per_row_path_and_the_record_hook_store_them(grids, tmp_path, timezone):
    path = write_csv(tmp_path / "history.csv", GOOD_ROWS)
    findings, records = per_row(grids, path, timezone=timezone)
    assert findings == [] and len(records) == len(GOOD_ROWS)
    expected = {r.id: normalise(r) for r in prepare_incidents(grids, SETTINGS)(records)}
    report = import_layer(grids, "incidents", path, prepare=prepare_incidents(grids, SETTINGS), timezone=timezone)
    assert report.written == len(GOOD_ROWS)
    assert stored(grids) == expected
    assert vouched_rows(path, timezone=timezone) == set(range(1, len(GOOD_ROWS) + 1))
    assert_summary_is_exact(grids)


def test_rows_the_vectorised_checks_are_unsure_of_are_checked_one_by_one_and_kept(store, tmp_path):
    """A one-point MultiPoint stands for its point, a 3-D point loses its Z, a year before 1000 is a year."""
    frame = pd.DataFrame({"wkt": ["POINT (114.6005 33.6005)", "MULTIPOINT ((114.601 33.601))",
                                  "POINT Z (114.602 33.602 7)", "LINESTRING (114.6 33.6, 114.7 33.7)", " "],
                          "category": "disputes", "reported_at": ["2026-11-20T01:30:00Z"] * 4 + ["0999-06-01 12:00"]})
    frame.to_csv(tmp_path / "wkt.csv", index=False)
    findings, _ = per_row(store, tmp_path / "wkt.csv")
    assert [(f["row"], f["field"]) for f in findings] == [(4, "geom"), (5, "geom")]
    with pytest.raises(Problem) as caught:
        import_layer(store, "incidents", tmp_path / "wkt.csv")
    assert caught.value.errors == findings
    frame.loc[3:4, "wkt"] = ["POINT (114.603 33.603)", "POINT (114.604 33.604)"]
    frame.to_csv(tmp_path / "wkt.csv", index=False)
    assert vouched_rows(tmp_path / "wkt.csv") == {1, 3, 4, 5}  # the MultiPoint went the per-row way
    _, records = per_row(store, tmp_path / "wkt.csv")
    assert import_layer(store, "incidents", tmp_path / "wkt.csv").written == 5
    assert stored(store) == {r.id: normalise(r) for r in records}
    assert stored(store)[records[1].id].geom.equals(Point(114.601, 33.601))


def test_geojson_in_gcj02_with_typed_properties(grids, tmp_path):
    from mapserver.geo import from_wgs84

    def feature(geometry: dict | None, **properties: object) -> dict:
        return {"type": "Feature", "geometry": geometry,
                "properties": {"category": "environment", "reported_at": "2026-11-20T01:30:00Z", "version": 2,
                               **properties}}

    lon, lat = (float(v) for v in from_wgs84(*IN_COMPOUND, "gcj02"))
    features = [feature({"type": "Point", "coordinates": [lon, lat]}, severity="一般"),
                feature({"type": "Point", "coordinates": [lon + 1e-4, lat, 12.0]}),
                feature({"type": "MultiPoint", "coordinates": [[lon, lat + 1e-4]]}),
                feature({"type": "LineString", "coordinates": [[lon, lat], [lon + 1e-3, lat]]}),
                feature(None)]
    path = tmp_path / "history.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    findings, _ = per_row(grids, path, crs="gcj02")
    assert [(f["row"], f["field"]) for f in findings] == [(4, "geom"), (5, "geom")]
    with pytest.raises(Problem) as caught:
        import_layer(grids, "incidents", path, crs="gcj02", prepare=prepare_incidents(grids, SETTINGS))
    assert caught.value.errors == findings
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features[:3]}), encoding="utf-8")
    _, records = per_row(grids, path, crs="gcj02")
    expected = {r.id: normalise(r) for r in prepare_incidents(grids, SETTINGS)(records)}
    assert import_layer(grids, "incidents", path, crs="gcj02", prepare=prepare_incidents(grids, SETTINGS)).written == 3
    assert stored(grids) == expected


def test_the_hook_on_parts_reports_every_part_as_the_hook_on_all_records_does(grids, tmp_path, monkeypatch):
    """The hook runs on parts while the store writes; a refusal in any part lists the findings of all parts."""
    monkeypatch.setattr(incident_stream, "PART_ROWS", 2)
    rows = [row(), row(category="aliens"), row(description="a"), row(description="b"), row(FAR_AWAY),
            row(category="ufo", severity="urgent"), row(grid_code="411602999000000")]
    path = write_csv(tmp_path / "history.csv", rows)
    hook = prepare_incidents(grids, SETTINGS)
    with pytest.raises(Problem) as by_records:  # a hook without a columns form: the records path
        import_layer(grids, "incidents", path, prepare=lambda records: hook(records))
    with pytest.raises(Problem) as by_parts:
        import_layer(grids, "incidents", path, prepare=prepare_incidents(grids, SETTINGS))
    assert [(f["row"], f["field"]) for f in by_parts.value.errors] == [
        (2, "category"), (5, "geom"), (6, "category"), (7, "grid_code")]
    assert by_parts.value.errors == by_records.value.errors
    assert by_parts.value.detail == by_records.value.detail == "4 problems in history.csv; nothing was written"
    assert grids.layers.count("incidents") == 0


def test_a_duplicate_id_in_a_later_part_or_in_the_store_is_refused_as_a_whole_file_pass(grids, tmp_path,
                                                                                          monkeypatch):
    """Parts are named and written one after the other; a duplicate id anywhere still refuses the file with the
    findings of the whole file, duplicates first (the hook's findings, here row 1's, only when there are none)."""
    monkeypatch.setattr(incident_stream, "PART_ROWS", 2)
    monkeypatch.setattr(postgis_indexes, "REBUILD_MIN_ROWS", 1)  # PostGIS: with its indexes dropped meanwhile
    grids.layers.add("incidents", [STORED])
    rows = [row(category="aliens"), row(description="a"), row(description="b"), row(description="c", id=STORED.id),
            row(description="d", id="x-1"), row(description="e", id="x-1")]
    path = write_csv(tmp_path / "history.csv", rows)
    expected, _ = per_row(grids, path)
    assert [(f["row"], f["field"]) for f in expected] == [(4, "id"), (6, "id")]
    with pytest.raises(Problem) as caught:
        import_layer(grids, "incidents", path, prepare=prepare_incidents(grids, SETTINGS))
    assert caught.value.errors == expected
    path = write_csv(tmp_path / "history.csv", [rows[1], rows[2], rows[3]])  # the store's id alone, in part 2
    with pytest.raises(Problem) as caught:
        import_layer(grids, "incidents", path, prepare=prepare_incidents(grids, SETTINGS))
    assert [(f["row"], f["id"], f["reason"]) for f in caught.value.errors] == [
        (3, STORED.id, f"id {STORED.id!r} is already in the store")]
    assert grids.layers.count("incidents") == 1


def test_content_ids_of_a_column_are_each_incident_id():
    moments = [datetime(2026, 11, 20, 1, 30, tzinfo=UTC), datetime(2026, 11, 20, 1, 30, 0, 5, tzinfo=UTC),
               datetime(999, 1, 1, tzinfo=UTC)]
    records = [Incident(id="", geom=Point(114.6 + k * 1.23e-7, 33.6 - k * 1e-8), reported_at=moments[k % 3],
                        category="disputes", description=['邻"里\\纠\n纷', "{}", "x", ""][k % 4],
                        extra=[{}, {"b": 1, "a": ["川", None]}][k % 2], grid_l1=["stale", None][k % 2],
                        closed_at=moments[(k + 1) % 3] if k % 3 else None, version=k + 1) for k in range(12)]
    batch = IncidentBatch.from_records(records)
    assert content_ids(batch).tolist() == [incident_id(r) for r in records]
    assert content_ids(batch.take(np.array([4]))).tolist() == [incident_id(records[4])]
    assert batch.records() == records
    # Descriptions and units all different: those columns are written row by row, not value by value.
    distinct = [replace(r, description=f'纠纷"{k}\\\n', unit=None if k == 3 else f"单位{k}")
                for k, r in enumerate(records)]
    assert content_ids(IncidentBatch.from_records(distinct)).tolist() == [incident_id(r) for r in distinct]


def test_a_content_id_stays_what_earlier_versions_gave():
    """Importing a file again is refused as a duplicate only if its incidents get the ids they got the first time:
    this one's was written down from an earlier version (the WKT comes from GEOS, which a shapely upgrade brings)."""
    record = Incident(id="", geom=Point(114.6512345678, 33.6198765432), reported_at=datetime(2026, 11, 20, 1, 30,
                      tzinfo=UTC), category="disputes", severity="important", description="邻里纠纷", address="川汇区",
                      reporter="网格员")
    assert incident_id(record) == "91860b2c-b565-5f1e-817f-7329a6fa9ba4"
    assert content_ids(IncidentBatch.from_records([record])).tolist() == [incident_id(record)]


# --- PostGIS: the index rebuild and the COPY formats ----------------------------------------------------


def index_state(store) -> tuple[list[tuple[str, str]], set[int]]:
    """(name, definition) of every index of incidents, and their OIDs (new ones after a rebuild)."""
    rows = store.database.fetch("SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indexrelid::bigint FROM pg_index i "
                                "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'incidents'::regclass "
                                "ORDER BY 1")
    return [(r[0], r[1]) for r in rows], {int(r[2]) for r in rows}


@pytest.fixture
def pg_grids(grids):
    """The sample grids in a PostGIS store (the tests using it take the ``store`` fixture's postgis half only)."""
    assert grids.kind == "postgis"
    return grids


@pytest.mark.parametrize("store", ["postgis"], indirect=True)
def test_a_large_batch_rebuilds_the_indexes_and_leaves_the_same_ones(pg_grids, tmp_path, monkeypatch):
    monkeypatch.setattr(postgis_indexes, "REBUILD_MIN_ROWS", 5)
    monkeypatch.setattr(incident_stream, "PART_ROWS", 2)  # so a refusal can come after the indexes were dropped
    pg_grids.layers.add("incidents", [STORED])
    definitions, oids = index_state(pg_grids)
    assert len(definitions) == 12  # the primary key and eleven others
    rows = [row((IN_COMPOUND[0] + k * 1e-5, IN_COMPOUND[1]), description=f"事件{k}") for k in range(8)]
    path = write_csv(tmp_path / "history.csv", rows)
    refused_rows = [*rows[:6], row(FAR_AWAY), row()]
    with pytest.raises(Problem):  # refused after the indexes were dropped: they are back as they were
        import_layer(pg_grids, "incidents", write_csv(tmp_path / "bad.csv", refused_rows),
                     prepare=prepare_incidents(pg_grids, SETTINGS))
    assert index_state(pg_grids) == (definitions, oids) and pg_grids.layers.count("incidents") == 1
    assert import_layer(pg_grids, "incidents", path, prepare=prepare_incidents(pg_grids, SETTINGS)).written == 8
    after, new_oids = index_state(pg_grids)
    assert after == definitions and not new_oids & (oids - {_primary_key(pg_grids)})  # built anew, the same
    assert pg_grids.layers.count("incidents", bbox=(114.60, 33.60, 114.61, 33.61)) == 9  # the GiST index answers
    assert_summary_is_exact(pg_grids)


def _primary_key(store) -> int:
    return int(store.database.fetch("SELECT conindid::bigint FROM pg_constraint WHERE conrelid = 'incidents'::regclass "
                                    "AND contype = 'p'")[0][0])


@pytest.mark.parametrize("store", ["postgis"], indirect=True)
def test_a_refused_large_batch_leaves_the_callers_transaction_its_indexes_and_no_lock(pg_grids, monkeypatch):
    """The caller may go on in its transaction after a refused write (to word the refusal, to audit it)."""
    monkeypatch.setattr(postgis_indexes, "REBUILD_MIN_ROWS", 1)
    pg_grids.layers.add("incidents", [STORED])
    before = index_state(pg_grids)
    again = IncidentBatch.from_records([normalise(STORED)])  # its id is stored already: the COPY is refused
    with pg_grids.transaction():
        with pytest.raises(Problem) as refused:
            pg_grids.incidents.add_columns([again], rows=1)
        assert refused.value.status == 409
        assert index_state(pg_grids) == before  # inside the same transaction
        other = psycopg2.connect(pg_grids.url)
        try:
            with other.cursor() as cur:  # the ACCESS EXCLUSIVE lock of the rebuild went with the refusal
                cur.execute("SET lock_timeout = '1s'")
                cur.execute("SELECT count(*) FROM incidents")
                assert cur.fetchone()[0] == 1
        finally:
            other.close()
    assert index_state(pg_grids) == before and pg_grids.layers.count("incidents") == 1


@pytest.mark.parametrize("store", ["postgis"], indirect=True)
def test_a_batch_gives_the_summary_trigger_memory_for_its_rows_and_takes_it_back(pg_grids):
    """The statement trigger's transition table of the batch's rows fits in work_mem, which is the caller's again
    after the COPY (the rest of its transaction, and later ones)."""
    pg_grids.layers.add("incidents", [STORED])
    seen = "CREATE TEMP TABLE seen_work_mem (setting text)"
    note = ("CREATE FUNCTION pg_temp.note_work_mem() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN INSERT INTO seen_work_mem VALUES (current_setting('work_mem')); RETURN NULL; END $$")
    trigger = ("CREATE TRIGGER note_work_mem AFTER INSERT ON incidents FOR EACH STATEMENT "
               "EXECUTE FUNCTION pg_temp.note_work_mem()")
    batch = IncidentBatch.from_records([replace(normalise(STORED), id=f"batch-{k}") for k in range(3)])
    with pg_grids.transaction():
        for statement in (seen, note, trigger, "SET LOCAL work_mem = '1MB'"):
            pg_grids.database.execute(statement)
        assert pg_grids.incidents.add_columns([batch], rows=3000) == 3
        assert pg_grids.database.fetch("SELECT setting FROM seen_work_mem") == [("3000kB",)]  # 1 kB a row
        assert pg_grids.database.fetch("SHOW work_mem") == [("1MB",)]
        pg_grids.database.execute("DROP TRIGGER note_work_mem ON incidents")
    assert pg_grids.layers.count("incidents") == 4


@pytest.mark.parametrize("store", ["postgis"], indirect=True)
def test_a_busy_table_keeps_its_indexes(pg_grids, tmp_path, monkeypatch):
    """A reader holding incidents: the import does not wait for it long, it writes through the indexes."""
    monkeypatch.setattr(postgis_indexes, "REBUILD_MIN_ROWS", 1)
    monkeypatch.setattr(postgis_indexes, "LOCK_TIMEOUT", "200ms")
    state = index_state(pg_grids)
    reader = psycopg2.connect(pg_grids.url)
    try:
        with reader.cursor() as cur:
            cur.execute("SELECT count(*) FROM incidents")  # holds ACCESS SHARE until its transaction ends
        path = write_csv(tmp_path / "history.csv", [row(), row(IN_STREET_ONLY)])
        assert import_layer(pg_grids, "incidents", path, prepare=prepare_incidents(pg_grids, SETTINGS)).written == 2
    finally:
        reader.rollback()
        reader.close()
    assert index_state(pg_grids) == state


@pytest.mark.parametrize("store", ["postgis"], indirect=True)
def test_a_connection_in_another_client_encoding_stores_the_same_text(pg_grids, tmp_path):
    """Binary COPY carries UTF-8 bytes, which a GBK connection would misread: such a connection writes text."""
    gbk = open_store(pg_grids.url + ("&" if "?" in pg_grids.url else "?") + "client_encoding=GBK")
    try:
        import_layer(gbk, "incidents", write_csv(tmp_path / "history.csv", GOOD_ROWS),
                     prepare=prepare_incidents(gbk, SETTINGS))
    finally:
        gbk.close()
    found = pg_grids.layers.query("incidents")
    assert sorted(i.description for i in found) == sorted(r["description"] for r in GOOD_ROWS)
    assert {i.address for i in found} == {"", "川汇区七一路"} and {"a": "川", "b": [1, 2]} in [i.extra for i in found]


@pytest.mark.parametrize("store", ["postgis"], indirect=True)
def test_the_text_and_binary_copy_formats_store_the_same_rows(pg_grids, tmp_path):
    path = write_csv(tmp_path / "history.csv", GOOD_ROWS)
    import_layer(pg_grids, "incidents", path, prepare=prepare_incidents(pg_grids, SETTINGS))  # binary
    binary = sorted(pg_grids.layers.query("incidents"), key=lambda i: i.id)
    batch = IncidentBatch.from_records([Incident(**{**i.__dict__, "id": "t-" + i.id}) for i in binary])
    columns = tuple(field_names(Incident))
    with pg_grids.transaction(), pg_grids.database._cursor() as cur:  # the backend's COPY in the text format
        stream = postgis_bulk.CopyText(postgis_bulk.copy_pieces([batch], columns))
        cur.copy_expert(pg_grids.database._statement(cur, "copy", "incidents"), stream)
    text = sorted((i for i in pg_grids.layers.query("incidents") if i.id.startswith("t-")), key=lambda i: i.id)
    assert [Incident(**{**i.__dict__, "id": i.id[2:]}) for i in text] == binary
