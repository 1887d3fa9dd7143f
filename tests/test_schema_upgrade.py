"""Schema versions on both backends: a store upgraded in place to a next version keeps every row,
one migration per transaction; a store whose schema is newer than the program's, or from before its baseline, is
refused with what the operator must do.

The next versions here are the tests' own: they reach the upgrade through the same ``upgrade`` function the store's
``migrate`` calls, given a longer list of migrations."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg2
import psycopg2.errors
import pytest
from shapely.geometry import Point

from mapserver import StartupError, create_app
from mapserver.config import Settings, StoreSettings
from mapserver.incidents.service import move_incident
from mapserver.model import Division, Incident
from mapserver.store import Store, StoreUnavailable, open_store, postgis_schema, sqlite_schema
from mapserver.store.audit import AuditRecord
from mapserver.store.database import SCHEMA_VERSION
from tests import samples
from tests.conftest import BACKENDS

NEXT = {  # the version after the program's: a column and its index on incidents, and a table
    "sqlite": """
ALTER TABLE incidents ADD COLUMN verified_by TEXT;
CREATE INDEX incidents_verified_by ON incidents (verified_by);
CREATE TABLE shift_handovers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    note TEXT NOT NULL
);
""",
    "postgis": """
ALTER TABLE incidents ADD COLUMN verified_by text;
CREATE INDEX incidents_verified_by ON incidents (verified_by);
CREATE TABLE shift_handovers (
    seq bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    note text NOT NULL
);
""",
}
BROKEN = """
CREATE TABLE half_done (x integer);
SELECT no_such_column FROM incidents;
"""
"""A migration that fails after changing something: none of it may stay."""
FAILED = (sqlite3.OperationalError, psycopg2.errors.UndefinedColumn)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
FILLED = ("grids", "grid_staff", "cameras", "places", "addresses", "roads", "incidents", "incident_events",
          "idempotency_keys", "tokens", "audit_log", "patrol_plans", "data_versions", "incident_daily",
          "incident_daily_streets", "incident_daily_durations")
"""Tables the test fills before the upgrade, so that "every row kept" is never said of an empty table."""


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A new store of each backend: an SQLite file not yet created, an empty PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'upgrade.db'}"
    return request.getfixturevalue("fresh_database")


@pytest.fixture
def baseline(url: str) -> Iterator[Store]:
    """A store at the program's schema version."""
    store = open_store(url)
    assert store.migrate() == SCHEMA_VERSION
    yield store
    store.close()


AFTER = SCHEMA_VERSION + 1
"""The tests' own next version."""


def upgrade(store: Store, migrations: tuple[str, ...]) -> int:
    """Upgrade ``store`` in place with ``migrations``, as its ``migrate`` does with the program's own."""
    if store.kind == "sqlite":
        return sqlite_schema.upgrade(store.transaction, store.database._connection(), migrations,
                                     where=store.display_url)
    return postgis_schema.upgrade(store.database._cursor, migrations, where=store.display_url)


def program_migrations(store: Store) -> tuple[str, ...]:
    return sqlite_schema.MIGRATIONS if store.kind == "sqlite" else postgis_schema.MIGRATIONS


def connect(url: str) -> Any:
    """A plain DB-API connection of the test's own, to read what is stored whatever the store's code says."""
    if url.startswith("sqlite:///"):
        return sqlite3.connect(url.removeprefix("sqlite:///"))
    return psycopg2.connect(url)


def query(url: str, sql: str) -> list[tuple]:
    conn = connect(url)
    try:
        cur = conn.cursor()
        cur.execute(sql)
        return cur.fetchall()
    finally:
        conn.close()


def tables(url: str) -> list[str]:
    """The store's tables, but its version record (and PostGIS's table of reference systems)."""
    if url.startswith("sqlite:///"):
        rows = query(url, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    else:
        # A partition's rows are its table's: the partitioned table stands for them all.
        rows = query(url, "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                          "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
                          "AND c.relname NOT IN ('mapserver_schema', 'spatial_ref_sys')")
    return sorted(name for (name,) in rows)


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in the columns each table has now, sorted."""
    conn = connect(url)
    try:
        out = {}
        for table in tables(url):
            cur = conn.cursor()
            cur.execute(f"SELECT * FROM {table} LIMIT 0")
            columns = ", ".join(d[0] for d in cur.description)
            cur.execute(f"SELECT {columns} FROM {table}")
            out[table] = sorted(cur.fetchall(), key=repr)
        return out
    finally:
        conn.close()


def add_token(url: str, *, name: str, role: str, token_hash: str) -> None:
    """A token row written with the columns every schema version has (the store's own code writes the newest)."""
    conn = connect(url)
    try:
        mark = "?" if url.startswith("sqlite:///") else "%s"
        conn.cursor().execute(f"INSERT INTO tokens (name, role, token_hash, created_at) VALUES ({mark}, {mark}, "
                              f"{mark}, {mark})", (name, role, token_hash, T0.isoformat()))
        conn.commit()
    finally:
        conn.close()


def add_plan(url: str) -> None:
    """A patrol plan row written with the columns every schema version has (the store's own code writes the
    newest: version 2 adds the planner's grid and the grids a plan covers)."""
    conn = connect(url)
    try:
        mark = "?" if url.startswith("sqlite:///") else "%s"
        conn.cursor().execute(
            "INSERT INTO patrol_plans (id, created_at, created_by, liaison, mode, time_window, budget_min, length_m, "
            f"duration_min, plan) VALUES ({', '.join([mark] * 10)})",
            ("0" * 32, T0.isoformat(), "op-1", None, "walk", "day", 60.0, 1200.0, 50.0, '{"mode": "walk"}'))
        conn.commit()
    finally:
        conn.close()


def execute(url: str, sql: str) -> None:
    conn = connect(url)
    try:
        conn.cursor().execute(sql)
        conn.commit()
    finally:
        conn.close()


def fill(store: Store) -> None:
    """Rows in every table: the sample layers, incidents reported and imported (so the summary is fed), a token,
    an audit record, a patrol plan. A store before version 12 gets its grids as that version's program wrote them,
    without a division (the column the program's records carry is there only while they are written)."""
    older = store.schema_version() < 12
    if older:
        execute(store.url, "ALTER TABLE grids ADD COLUMN division_code text")
    samples.load_all(store)
    if older:
        execute(store.url, "ALTER TABLE grids DROP COLUMN division_code")
    closed = Incident(id="00000000-0000-4000-8000-000000000002", geom=Point(114.62, 33.62), reported_at=T0,
                      category="fire_hazard", severity="urgent", status="closed", grid_code=samples.STREET.code,
                      grid_l1=samples.STREET.code, dispatched_at=T0 + timedelta(minutes=9),
                      closed_at=T0 + timedelta(hours=5), due_at=T0 + timedelta(hours=24))
    store.layers.add("incidents", [closed])
    store.incidents.report(Incident(id="00000000-0000-4000-8000-000000000003", geom=Point(114.63, 33.63),
                                   reported_at=T0 + timedelta(hours=1), category="disputes", severity="general",
                                   grid_code=samples.STREET.code, grid_l1=samples.STREET.code),
                          actor="worker-7", idempotency_key="key-3", body_hash="h3")
    add_token(store.url, name="wall-1", role="viewer", token_hash="a" * 64)
    store.audit.append(AuditRecord(at=T0, actor="cli:admin", action="token.create", target="wall-1",
                                   detail={"role": "viewer"}))
    add_plan(store.url)


def test_a_store_at_the_baseline_upgrades_in_place_and_keeps_every_row(baseline):
    url = baseline.url
    fill(baseline)
    before = snapshot(url)
    assert all(before[table] for table in FILLED), [t for t in FILLED if not before[t]]
    kpis_before = baseline.measures.kpis(where=_everything(), now=T0 + timedelta(days=1))

    assert upgrade(baseline, (*program_migrations(baseline), NEXT[baseline.kind])) == AFTER
    assert baseline.schema_version() == AFTER
    after = snapshot(url)
    assert set(after) == set(before) | {"shift_handovers"}
    for table, rows in before.items():
        if table == "incidents":  # one column more, empty in every row
            assert [row[:-1] for row in after[table]] == rows and {row[-1] for row in after[table]} == {None}
        else:
            assert after[table] == rows, table
    assert after["shift_handovers"] == []
    assert _indexes(url, "incidents") >= {"incidents_verified_by", "incidents_reported_at", "incidents_open_due"}
    assert baseline.measures.kpis(where=_everything(), now=T0 + timedelta(days=1)) == kpis_before
    assert baseline.tokens.by_hash("a" * 64).name == "wall-1"

    # The upgraded schema still works: a report after the upgrade is summed like the ones before.
    baseline.incidents.report(Incident(id="00000000-0000-4000-8000-000000000004", geom=Point(114.64, 33.64),
                                      reported_at=T0 + timedelta(hours=2), category="disputes", severity="general"),
                             actor="worker-7")
    assert baseline.measures.kpis(where=_everything(), now=T0 + timedelta(days=1))["total"] == \
        kpis_before["total"] + 1
    assert upgrade(baseline, (*program_migrations(baseline), NEXT[baseline.kind])) == AFTER  # nothing left to do


def test_each_migration_commits_on_its_own_and_a_failing_one_changes_nothing(baseline):
    fill(baseline)
    before = snapshot(baseline.url)
    with pytest.raises(FAILED):
        upgrade(baseline, (*program_migrations(baseline), NEXT[baseline.kind], BROKEN))
    assert baseline.schema_version() == AFTER  # the next version was reached and kept; the broken one left no trace
    assert "half_done" not in tables(baseline.url) and "shift_handovers" in tables(baseline.url)
    after = snapshot(baseline.url)
    assert {t: rows for t, rows in after.items() if t not in ("incidents", "shift_handovers")} == \
           {t: rows for t, rows in before.items() if t != "incidents"}
    assert len(after["incidents"]) == len(before["incidents"])


def test_a_store_newer_than_the_program_is_refused_with_what_to_do(baseline):
    assert upgrade(baseline, (*program_migrations(baseline), NEXT[baseline.kind])) == AFTER
    with pytest.raises(StoreUnavailable,
                       match=rf"schema version {AFTER}, newer than this program.s {SCHEMA_VERSION}: .* newer version"):
        baseline.migrate()
    with pytest.raises(StartupError, match=f"schema version {AFTER}, newer than this program's {SCHEMA_VERSION}"):
        create_app(Settings(store=StoreSettings(url=baseline.url)), store=baseline)
    assert baseline.schema_version() == AFTER  # untouched


def _record_as_before_the_baseline(url: str) -> None:
    """The version record a development build made before the baseline (its versions 1 to 9), beside a table."""
    conn = connect(url)
    try:
        cur = conn.cursor()
        cur.execute("CREATE TABLE grids (code text PRIMARY KEY)")
        if url.startswith("sqlite:///"):
            cur.execute("PRAGMA user_version = 9")
        else:
            cur.execute("CREATE TABLE mapserver_schema (version integer NOT NULL)")
            cur.execute("INSERT INTO mapserver_schema (version) VALUES (9)")
        conn.commit()
    finally:
        conn.close()


def test_a_store_from_before_the_baseline_is_refused_with_what_to_do(url):
    _record_as_before_the_baseline(url)
    store = open_store(url)
    try:
        for attempt in (store.schema_version, store.migrate):
            with pytest.raises(StoreUnavailable, match=r"development build.*cannot be upgraded in place: create a "
                                                       "new store"):
                attempt()
        with pytest.raises(StoreUnavailable, match="development build"):
            create_app(Settings(store=StoreSettings(url=url)), store=store)
    finally:
        store.close()
    assert tables(url) == ["grids"]  # nothing was created beside it


def test_an_sqlite_file_of_another_program_is_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 42")
    conn.close()
    store = open_store(f"sqlite:///{path}")
    try:
        with pytest.raises(StoreUnavailable, match="another program"):
            store.migrate()
    finally:
        store.close()


def test_both_backends_have_one_migration_per_version():
    assert len(sqlite_schema.MIGRATIONS) == len(postgis_schema.MIGRATIONS) == SCHEMA_VERSION


def test_a_target_beyond_the_known_versions_is_a_mistake(baseline):
    with pytest.raises(ValueError, match=f"no schema version {AFTER}"):
        baseline.migrate(target=AFTER)
    assert baseline.migrate(target=SCHEMA_VERSION) == SCHEMA_VERSION


def _everything():
    from mapserver.store.incidents import IncidentFilter

    return IncidentFilter(since=T0 - timedelta(days=400), until=T0 + timedelta(days=400))


def _indexes(url: str, table: str) -> set[str]:
    if url.startswith("sqlite:///"):
        rows = query(url, f"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}'")
    else:
        rows = query(url, f"SELECT indexname FROM pg_indexes WHERE tablename = '{table}'")
    return {name for (name,) in rows}


def test_readyz_says_503_when_the_store_under_a_running_server_becomes_unreadable(tmp_path):
    path = tmp_path / "swapped.db"
    store = open_store(f"sqlite:///{path}")
    store.migrate()
    client = create_app(Settings(store=StoreSettings(url=store.url)), store=store).test_client()
    assert client.get("/readyz").status_code == 200
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 42")  # another program's file now stands at the store's path
    conn.commit()
    conn.close()
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.mimetype == "application/problem+json"
    assert "another program" in answer.get_json()["detail"]
    store.close()


def test_a_store_of_version_2_gains_the_index_of_closing_times_and_keeps_its_rows(url):
    store = open_store(url)
    try:
        assert store.migrate(target=2) == 2
        fill(store)
        before = snapshot(url)
        assert "incidents_closed_at" not in _indexes(url, "incidents")
        assert store.migrate(target=3) == 3
        assert "incidents_closed_at" in _indexes(url, "incidents")
        assert snapshot(url) == before
    finally:
        store.close()


def test_a_store_of_version_1_gains_accounts_and_keeps_its_tokens(url):
    store = open_store(url)
    try:
        assert store.migrate(target=1) == 1
        fill(store)
        before = snapshot(url)
        assert store.migrate(target=2) == 2
        after = snapshot(url)
        assert set(after) == set(before) | {"accounts", "sessions", "login_failures", "patrol_plan_grids"}
        assert after["accounts"] == after["sessions"] == after["login_failures"] == after["patrol_plan_grids"] == []
        for table, rows in before.items():
            if table == "patrol_plans":  # a plan saved before version 2 has no planner's grid: NULL
                assert [row[:-1] for row in after[table]] == rows and [row[-1] for row in after[table]] == [None]
            elif table != "tokens":
                assert after[table] == rows, table
        found = store.tokens.by_hash("a" * 64)
        assert (found.name, found.role, found.grid_code) == ("wall-1", "viewer", None)
        store.tokens.add(name="street-desk", role="dispatcher", token_hash="b" * 64, grid_code=samples.STREET.code)
        assert store.tokens.by_hash("b" * 64).grid_code == samples.STREET.code
    finally:
        store.close()


def test_a_store_of_version_3_gains_follow_ups_and_call_outs_and_keeps_every_row(url):
    store = open_store(url)
    try:
        assert store.migrate(target=3) == 3
        fill(store)
        before = snapshot(url)
        assert store.migrate(target=4) == 4
        after = snapshot(url)
        assert set(after) == set(before) | {"whistle_callouts"} and after["whistle_callouts"] == []
        for table, rows in before.items():
            if table == "incidents":  # no follow-up yet, no reopening: satisfaction, comment, time, count
                assert [row[:-4] for row in after[table]] == rows
                assert {tuple(row[-4:]) for row in after[table]} == {(None, "", None, 0)}
            elif table == "incident_events":  # no satisfaction in any entry so far
                assert [row[:-1] for row in after[table]] == rows and {row[-1] for row in after[table]} == {None}
            else:
                assert after[table] == rows, table

        # The upgraded store takes the new steps: the closed incident is followed up, the open one whistled.
        now = T0 + timedelta(days=1)
        closed = move_incident(store, "00000000-0000-4000-8000-000000000002",
                               {"action": "follow_up", "satisfaction": "unsatisfied", "comment": "仍有隐患"},
                               actor="hotline-1", role="operator", now=now)
        assert (closed.status, closed.closed_at) == ("accepted", None)
        report_by = (now + timedelta(hours=2)).isoformat()
        move_incident(store, "00000000-0000-4000-8000-000000000003",
                      {"action": "whistle", "departments": ["住建局"], "report_by": report_by},
                      actor="dispatcher-1", role="dispatcher", now=now)
        assert [c.department for c in store.incidents.assessment("00000000-0000-4000-8000-000000000003").pending] \
            == ["住建局"]
        kpis = store.measures.kpis(where=_everything(), now=now)
        assert (kpis["followed_up"], kpis["satisfaction_rate"], kpis["reopened"]) == (1, 0.0, 1)
    finally:
        store.close()


def test_a_store_of_version_4_gains_photos_and_keeps_every_row(url):
    from mapserver.store.photos import Photo

    store = open_store(url)
    try:
        assert store.migrate(target=4) == 4
        fill(store)
        before = snapshot(url)
        assert store.migrate(target=5) == 5
        after = snapshot(url)
        assert set(after) == set(before) | {"photos"} and after["photos"] == []
        assert all(after[table] == rows for table, rows in before.items())
        incident_id = "00000000-0000-4000-8000-000000000003"
        seq = store.incidents.timeline(incident_id)[0].seq if store.incidents.timeline(incident_id) else None
        photo = Photo(incident_id=incident_id, sha256="a" * 64, kind="report", format="JPEG", width=4, height=3,
                      bytes=100, upload_sha256="b" * 64, uploaded_at=T0, uploaded_by="field-1", event_seq=seq)
        assert store.photos.add(photo, per_entry=9) == (photo, True)
        assert store.photos.for_incident(incident_id) == [photo]
    finally:
        store.close()


def test_a_store_of_version_5_gains_tracks_and_keeps_every_row(url):
    store = open_store(url)
    try:
        assert store.migrate(target=5) == 5
        fill(store)
        before = snapshot(url)
        assert store.migrate(target=6) == 6
        after = snapshot(url)
        new = {"positions", "patrol_sessions", "patrol_checkins", "position_batches"}
        assert set(after) == set(before) | new and all(after[table] == [] for table in new)
        assert all(after[table] == rows for table, rows in before.items())
        # The upgraded store, brought up to date (the code writes the current schema), keeps a person's fixes.
        store.migrate()
        stored = store.tracks.add_fixes("walker", [T0, T0 + timedelta(seconds=10)], [114.6, 114.6001],
                                        [33.6, 33.6], [5.0, None])
        assert stored == 2 and len(store.tracks.fixes("walker", T0, T0 + timedelta(minutes=1))) == 2
    finally:
        store.close()


def test_a_store_of_version_6_gains_the_assessment_index_and_day_table_and_keeps_every_row(url):
    store = open_store(url)
    try:
        assert store.migrate(target=6) == 6
        fill(store)
        before = snapshot(url)
        assert store.migrate(target=7) == 7
        after = snapshot(url)
        assert set(after) == set(before) | {"track_days"} and after["track_days"] == []
        assert all(after[table] == rows for table, rows in before.items())
        # The upgraded store keeps a person's day once, and reads it back.
        from mapserver.store.assessment import DaySummary

        day = DaySummary("walker", T0.date(), fixes=3, distance_m=120.5, moving_s=60.0, in_grid_s=None)
        assert store.assessment.keep_days([day, day]) == 1
        assert store.assessment.days(["walker"], T0.date(), T0.date()) == {("walker", T0.date()): day}
    finally:
        store.close()


def test_a_store_of_version_7_gains_the_cameras_video_addresses_and_keeps_every_row(url):
    from mapserver.model import CameraVideo

    store = open_store(url)
    try:
        assert store.migrate(target=7) == 7
        fill(store)
        before = snapshot(url)
        assert store.migrate(target=8) == 8
        after = snapshot(url)
        assert set(after) == set(before) | {"camera_video"} and after["camera_video"] == []
        assert all(after[table] == rows for table, rows in before.items())
        # The upgraded store keeps a camera's addresses, and lets them go with the camera.
        code = samples.CAMERAS[0].code
        video = CameraVideo(code, "http://10.20.1.5:8080/live/1.m3u8", "https://10.20.1.5/snap/1.jpg")
        assert store.camera_video.set(video, at=T0)
        assert store.camera_video.get(code) == video
        assert store.camera_video.set(CameraVideo("no-such-camera", "http://x/y.m3u8"), at=T0) is False
        store.layers.delete("cameras", keys=[code])
        assert query(url, "SELECT count(*) FROM camera_video") == [(0,)]
    finally:
        store.close()


def _partitions(url: str) -> dict[str, int]:
    """The incidents' partitions and the rows each holds."""
    names = query(url, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                       "WHERE i.inhparent = 'incidents'::regclass ORDER BY 1")
    return {name: query(url, f"SELECT count(*) FROM {name}")[0][0] for (name,) in names}


def test_a_store_of_version_8_moves_its_incidents_into_monthly_partitions_in_place(url):
    store = open_store(url)
    try:
        assert store.migrate(target=8) == 8
        fill(store)
        # A timeline entry, a call-out and a photo refer to the incidents, and must still after the move.
        now = T0 + timedelta(days=1)
        report_by = (now + timedelta(hours=2)).isoformat()
        move_incident(store, "00000000-0000-4000-8000-000000000003",
                      {"action": "whistle", "departments": ["住建局"], "report_by": report_by},
                      actor="dispatcher-1", role="dispatcher", now=now)
        store.layers.add("incidents", [Incident(id="00000000-0000-4000-8000-000000000009", geom=Point(114.6, 33.6),
                                                reported_at=T0 - timedelta(days=40), category="disputes",
                                                severity="general")])
        before = snapshot(url)
        kpis_before = store.measures.kpis(where=_everything(), now=now)
        assert store.migrate(target=9) == 9
        after = snapshot(url)
        new = {"incident_keys"} if store.kind == "postgis" else set()
        assert set(after) == set(before) | new
        assert all(after[table] == rows for table, rows in before.items()), \
            [t for t, rows in before.items() if after[t] != rows]
        assert store.measures.kpis(where=_everything(), now=now) == kpis_before
        if store.kind == "postgis":
            # Every row is in the partition of its month, none waits in the default one; each id has its key.
            held = _partitions(url)
            assert held.pop("incidents_default") == 0 and sum(held.values()) == len(after["incidents"])
            assert (held["incidents_2026_01"], held["incidents_2026_03"]) == (1, 2) and all(held.values())
            assert sorted(after["incident_keys"]) == sorted((row[0], row[1]) for row in after["incidents"])
            assert query(url, "SELECT count(*) FROM pg_constraint WHERE confrelid = 'incident_keys'::regclass") == \
                [(3,)]  # the timeline, the call-outs and the photos refer to the keys now
            assert _indexes(url, "incidents") >= {"incidents_reported_at", "incidents_open_due", "incidents_geom",
                                                  "incidents_closed_at"}
        # The upgraded store keeps working: a report of a new month is summed and its timeline kept.
        store.incidents.report(Incident(id="00000000-0000-4000-8000-000000000010", geom=Point(114.64, 33.64),
                                        reported_at=T0 + timedelta(days=45), category="disputes",
                                        severity="general"), actor="worker-7")
        assert store.measures.kpis(where=_everything(), now=now)["total"] == kpis_before["total"] + 1
        assert [e.action for e in store.incidents.timeline("00000000-0000-4000-8000-000000000003")] == \
            ["report", "whistle"]
        if store.kind == "postgis":
            assert _partitions(url)["incidents_2026_04"] == 1
    finally:
        store.close()


def test_a_store_of_version_9_gains_the_index_of_categories_by_time_and_keeps_every_row(url):
    store = open_store(url)
    try:
        assert store.migrate(target=9) == 9
        fill(store)
        before = snapshot(url)
        assert "incidents_category_time" not in _indexes(url, "incidents")
        assert store.migrate(target=10) == 10
        assert snapshot(url) == before
        assert "incidents_category_time" in _indexes(url, "incidents")
    finally:
        store.close()


def test_a_store_of_version_12_reads_its_streets_by_time_and_keeps_every_row(url):
    store = open_store(url)
    try:
        assert store.migrate(target=12) == 12
        fill(store)
        before = snapshot(url)
        assert "incidents_l1" in _indexes(url, "incidents")
        assert store.migrate(target=13) == 13
        assert snapshot(url) == before
        indexes = _indexes(url, "incidents")
        assert "incidents_street_time" in indexes and "incidents_l1" not in indexes
    finally:
        store.close()


def _cells_of_closed(store: Store) -> dict[tuple[str, int, int], tuple[int, int, int]]:
    """(UTC day, zoom-13 column, row) → (closed incidents, sums of their EPSG:3857 x and y in mm), from the stored
    incidents by this test's own arithmetic."""
    size = 2 * math.pi * 6378137.0 / 2**13
    out: dict[tuple[str, int, int], tuple[int, int, int]] = {}
    for i in store.layers.query("incidents", where={"status": "closed"}):
        x = math.radians(i.geom.x) * 6378137.0
        y = math.log(math.tan(math.pi / 4 + math.radians(i.geom.y) / 2)) * 6378137.0
        key = (i.reported_at.astimezone(UTC).date().isoformat(), math.floor((x + math.pi * 6378137.0) / size),
               math.floor((math.pi * 6378137.0 - y) / size))
        n, sx, sy = out.get(key, (0, 0, 0))
        out[key] = (n + 1, sx + round(x * 1000), sy + round(y * 1000))
    return out


def _stored_cells(url: str) -> dict[tuple[str, int, int], tuple[int, int, int]]:
    rows = query(url, "SELECT day, tile_x, tile_y, sum(incident_count), sum(sum_x_mm), sum(sum_y_mm) "
                      "FROM incident_tile_cells GROUP BY day, tile_x, tile_y")
    return {(str(day), int(tx), int(ty)): (int(n), int(sx), int(sy)) for day, tx, ty, n, sx, sy in rows if n}


def _same_cells(got: dict, expected: dict) -> bool:
    """The same cells and counts, the sums within a millimetre per incident (rounding of the last bit)."""
    return got.keys() == expected.keys() and all(
        got[k][0] == expected[k][0] and abs(got[k][1] - expected[k][1]) <= got[k][0]
        and abs(got[k][2] - expected[k][2]) <= got[k][0] for k in got)


def test_a_store_of_version_10_gains_the_cells_of_its_closed_incidents_and_keeps_every_row(url):
    store = open_store(url)
    try:
        assert store.migrate(target=10) == 10
        fill(store)
        store.layers.add("incidents", [
            Incident(id=f"00000000-0000-4000-8000-00000000010{k}", reported_at=T0 - timedelta(days=k),
                     geom=Point(114.6 + 0.03 * k, 33.6 - 0.02 * k), category="disputes", severity="general",
                     status="closed") for k in range(4)])
        before = snapshot(url)
        assert "incidents_open_reported_at" not in _indexes(url, "incidents")
        assert store.migrate(target=11) == 11
        after = snapshot(url)
        assert set(after) == set(before) | {"incident_tile_cells"}
        assert all(after[table] == rows for table, rows in before.items())
        expected = _cells_of_closed(store)
        assert sum(n for n, _, _ in expected.values()) >= 5 and len(expected) >= 4
        assert _same_cells(_stored_cells(url), expected)
        assert "incidents_open_reported_at" in _indexes(url, "incidents")
        # The upgraded store keeps them: a closed incident reported now is counted in its cell.
        store.layers.add("incidents", [Incident(id="00000000-0000-4000-8000-000000000200", reported_at=T0,
                                                geom=Point(114.62, 33.62), category="disputes", severity="general",
                                                status="closed")])
        assert _same_cells(_stored_cells(url), _cells_of_closed(store))
    finally:
        store.close()


def test_a_store_of_version_11_gains_divisions_and_its_streets_belong_to_none(url):
    store = open_store(url)
    try:
        assert store.migrate(target=11) == 11
        fill(store)
        viewer = store.grids.jurisdiction(samples.STREET.code)
        seen_before = {i.id for i in store.layers.query("incidents", within=viewer)}
        before = snapshot(url)
        kpis_before = store.measures.kpis(where=_everything(), now=T0 + timedelta(days=1))
        assert store.migrate(target=12) == 12
        after = snapshot(url)
        assert set(after) == set(before) | {"divisions"} and after["divisions"] == []
        for table, rows in before.items():
            if table == "grids":  # one column more, empty in every row: no street names a division yet
                assert [row[:-1] for row in after[table]] == rows and {row[-1] for row in after[table]} == {None}
            else:
                assert after[table] == rows, table
        assert {"grids_division"} <= _indexes(url, "grids")
        # The store works as before for the whole store and a street; a division holds no street until named.
        assert store.measures.kpis(where=_everything(), now=T0 + timedelta(days=1)) == kpis_before
        assert {i.id for i in store.layers.query("incidents", within=viewer)} == seen_before
        store.divisions.put_many([Division("411602", "川汇区", "county")])
        county = store.grids.jurisdiction("411602")
        assert county.streets == frozenset() and store.layers.count("incidents", within=county) == 0
        assert store.grids.area(county) is None
    finally:
        store.close()
