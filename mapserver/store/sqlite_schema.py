"""Schema of the embedded SQLite store, and its upgrades.

Geometries are WKB blobs in WGS-84 (EPSG:4326); each spatial table has an
R*Tree twin (``<table>_rtree``) holding its bounding boxes in degrees, keyed
by the table's rowid. R*Tree rows are written by the store beside the row
(SQLite cannot read WKB) and removed by trigger, so a delete from any client
keeps them in step. ``MIGRATIONS`` begins with the baseline (schema version 1),
which creates the whole schema in a new file; each migration after it takes the
schema one version further. The version is ``PRAGMA user_version``, the mark of
this baseline ``PRAGMA application_id`` (:data:`~mapserver.store.migrations.APPLICATION_ID`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from mapserver.store.database import StoreUnavailable
from mapserver.store.migrations import APPLICATION_ID, before_baseline, next_version
from mapserver.store.tile_grid import CELL_ZOOM, column_sql, mercator_sql, row_sql, wkb_point_sql

SPATIAL_TABLES = ("grids", "cameras", "places", "addresses", "roads", "incidents")


def _rtree(table: str) -> str:
    return f"""
CREATE VIRTUAL TABLE {table}_rtree USING rtree(id, minx, maxx, miny, maxy);
CREATE TRIGGER {table}_rtree_delete AFTER DELETE ON {table}
BEGIN DELETE FROM {table}_rtree WHERE id = old.rowid; END;
"""


_TABLES = """
CREATE TABLE grids (
    code TEXT PRIMARY KEY,
    level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 4),
    parent_code TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'base' CHECK (kind IN ('base', 'special')),
    subtype TEXT,
    households INTEGER CHECK (households >= 0),
    population INTEGER CHECK (population >= 0),
    geom BLOB NOT NULL
);
CREATE INDEX grids_parent ON grids (parent_code);
CREATE INDEX grids_level ON grids (level);

CREATE TABLE grid_staff (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    grid_code TEXT NOT NULL,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT,
    unit TEXT
);
CREATE INDEX grid_staff_grid ON grid_staff (grid_code);

CREATE TABLE cameras (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    direction_deg REAL,
    fov_deg REAL,
    range_m REAL,
    status TEXT NOT NULL DEFAULT 'unknown',
    last_seen TEXT,
    geom BLOB NOT NULL
);

CREATE TABLE places (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    geom BLOB NOT NULL
);

CREATE TABLE addresses (
    code TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    geom BLOB NOT NULL
);

CREATE TABLE roads (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    road_class TEXT NOT NULL,
    oneway INTEGER NOT NULL DEFAULT 0,
    geom BLOB NOT NULL
);

-- An incident carries its closed loop: deadlines, the chain of grids it lies in (grid_l1 street … grid_l4
-- building), its H3 cell, escalation, and a version for optimistic updates. Text compares byte by byte in SQLite.
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    reported_at TEXT NOT NULL,
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    grid_code TEXT,
    description TEXT NOT NULL DEFAULT '',
    extra TEXT NOT NULL DEFAULT '{}',
    geom BLOB NOT NULL,
    source TEXT NOT NULL DEFAULT 'grid_worker',
    address TEXT NOT NULL DEFAULT '',
    reporter TEXT NOT NULL DEFAULT '',
    unit TEXT,
    grid_l1 TEXT,
    grid_l2 TEXT,
    grid_l3 TEXT,
    grid_l4 TEXT,
    h3_cell TEXT,
    due_at TEXT,
    warn_at TEXT,
    dispatched_at TEXT,
    closed_at TEXT,
    escalation TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
-- Only the indexes a query reads, as in the PostGIS schema: none on h3_cell (only grouped by, within a time window)
-- nor on grid_l4 (a building's incidents have it as their grid_code).
CREATE INDEX incidents_reported_at ON incidents (reported_at);
CREATE INDEX incidents_grid ON incidents (grid_code);
CREATE INDEX incidents_status ON incidents (status);
CREATE INDEX incidents_l1 ON incidents (grid_l1);
CREATE INDEX incidents_l2 ON incidents (grid_l2);
CREATE INDEX incidents_l3 ON incidents (grid_l3);
-- "Overdue now" reads the open incidents' due times only.
CREATE INDEX incidents_open_due ON incidents (due_at) WHERE status <> 'closed';

-- An incident's timeline.
CREATE TABLE incident_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    unit TEXT
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, seq);

-- A report sent again with its Idempotency-Key finds the incident the first one made.
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    body_hash TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE tokens (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- One row per layer: SQLite has one writer at a time, so nothing is gained by spreading a layer over rows.
CREATE TABLE data_versions (
    layer TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);

-- The audit trail is append-only: triggers refuse UPDATE and DELETE, so no client of the file, the API included,
-- can change what a record says. Read by time, by actor and by target (an incident's or a token's history).
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT NOT NULL DEFAULT '{}',
    remote_addr TEXT,
    request_id TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_target ON audit_log (target, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- Saved patrol plans, the route as GeoJSON inside plan: read by id or listed by time, never searched in space.
CREATE TABLE patrol_plans (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    liaison TEXT,
    mode TEXT NOT NULL,
    time_window TEXT NOT NULL,
    budget_min REAL NOT NULL,
    length_m REAL NOT NULL,
    duration_min REAL NOT NULL,
    plan TEXT NOT NULL
);
CREATE INDEX patrol_plans_created ON patrol_plans (created_at);
""" + "".join(_rtree(t) for t in SPATIAL_TABLES)


# The per-day summary of incidents behind the whole-district measures, as in the PostGIS schema: exact counts per
# UTC day of reported_at × category × severity × status and per day × street, and histograms of the times to
# dispatch and to close in buckets of 1/32 of a doubling, so percentiles read from them are within 2.2%. Row
# triggers keep it in the same transaction as every INSERT, UPDATE and DELETE on incidents; one row per key, as
# SQLite has one writer at a time. Times are ISO 8601 UTC text here, so the day is their first ten characters.
# Each trigger body is written on one line: the migrator splits scripts at a semicolon that ends a line.


def _bucket(end: str, row: str) -> str:
    seconds = f"((julianday({row}.{end}) - julianday({row}.reported_at)) * 86400.0)"
    return f"(CASE WHEN {seconds} < 1 THEN 0 ELSE 1 + CAST(floor(32 * log2({seconds})) AS INTEGER) END)"


def _summary_change(row: str, sign: str) -> str:
    """The upserts adding (sign 1) or taking away (sign -1) incident ``row`` (NEW or OLD) from the summary."""
    counts = (f"INSERT INTO incident_daily (day, category, severity, status, incident_count, closed_on_time) "
              f"VALUES (substr({row}.reported_at, 1, 10), {row}.category, {row}.severity, {row}.status, {sign}, "
              f"{sign} * CASE WHEN {row}.status = 'closed' AND {row}.closed_at <= {row}.due_at THEN 1 ELSE 0 END) "
              "ON CONFLICT (day, category, severity, status) DO UPDATE SET "
              "incident_count = incident_count + excluded.incident_count, "
              "closed_on_time = closed_on_time + excluded.closed_on_time; "
              f"INSERT INTO incident_daily_streets (day, grid_l1, incident_count) "
              f"VALUES (substr({row}.reported_at, 1, 10), coalesce({row}.grid_l1, ''), {sign}) "
              "ON CONFLICT (day, grid_l1) DO UPDATE SET incident_count = incident_count + excluded.incident_count; ")
    durations = "".join(
        f"INSERT INTO incident_daily_durations (day, measure, bucket, incident_count) "
        f"SELECT substr({row}.reported_at, 1, 10), '{measure}', {_bucket(end, row)}, {sign} "
        f"WHERE {row}.{end} IS NOT NULL ON CONFLICT (day, measure, bucket) DO UPDATE SET "
        "incident_count = incident_count + excluded.incident_count; "
        for measure, end in (("dispatch", "dispatched_at"), ("close", "closed_at")))
    return counts + durations


_SUMMARY = f"""
CREATE TABLE incident_daily (
    day TEXT NOT NULL,
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    incident_count INTEGER NOT NULL,
    closed_on_time INTEGER NOT NULL,
    PRIMARY KEY (day, category, severity, status)
) WITHOUT ROWID;
CREATE TABLE incident_daily_streets (
    day TEXT NOT NULL,
    grid_l1 TEXT NOT NULL,
    incident_count INTEGER NOT NULL,
    PRIMARY KEY (day, grid_l1)
) WITHOUT ROWID;
CREATE TABLE incident_daily_durations (
    day TEXT NOT NULL,
    measure TEXT NOT NULL CHECK (measure IN ('dispatch', 'close')),
    bucket INTEGER NOT NULL,
    incident_count INTEGER NOT NULL,
    PRIMARY KEY (day, measure, bucket)
) WITHOUT ROWID;
CREATE TRIGGER incident_summary_insert AFTER INSERT ON incidents BEGIN {_summary_change("NEW", "1")}END;
CREATE TRIGGER incident_summary_delete AFTER DELETE ON incidents BEGIN {_summary_change("OLD", "-1")}END;
CREATE TRIGGER incident_summary_update AFTER UPDATE OF reported_at, category, severity, status, grid_l1, due_at,
dispatched_at, closed_at ON incidents BEGIN {_summary_change("OLD", "-1")}{_summary_change("NEW", "1")}END;
"""

BASELINE = _TABLES + _SUMMARY
"""Schema version 1: the whole schema, created in a new file."""

ACCOUNTS = """
-- Version 2: people who log in, their sessions and failed logins; tokens get every role and a jurisdiction.
-- A role names what the person does (mapserver/roles.py); grid_code their jurisdiction, NULL for the whole store.
CREATE TABLE accounts (
    name TEXT PRIMARY KEY,
    display_name TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'dispatcher', 'liaison', 'field', 'admin')),
    grid_code TEXT,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    disabled_at TEXT
);

-- A browser's session, by the SHA-256 of its cookie; ended by deleting the row (logout, disable, new password).
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts (name),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    remote_addr TEXT
);
CREATE INDEX sessions_account ON sessions (account);

-- Failed logins of the last minutes, counted by name and by client address to slow down guessing.
CREATE TABLE login_failures (
    at TEXT NOT NULL,
    name TEXT NOT NULL,
    remote_addr TEXT NOT NULL
);
CREATE INDEX login_failures_name ON login_failures (name, at);
CREATE INDEX login_failures_addr ON login_failures (remote_addr, at);

CREATE TABLE tokens_v2 (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'dispatcher', 'liaison', 'field', 'admin')),
    grid_code TEXT,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
INSERT INTO tokens_v2 (name, role, token_hash, created_at, revoked_at)
SELECT name, role, token_hash, created_at, revoked_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_v2 RENAME TO tokens;

-- A patrol plan lies in the jurisdiction of its planner (grid_code, NULL for the whole store) and in those of the
-- grids it covers (its area's, and the finest at its start and each stop): listings keep to a jurisdiction by both.
ALTER TABLE patrol_plans ADD COLUMN grid_code TEXT;
CREATE TABLE patrol_plan_grids (
    plan_id TEXT NOT NULL REFERENCES patrol_plans (id),
    grid_code TEXT NOT NULL,
    PRIMARY KEY (plan_id, grid_code)
);
CREATE INDEX patrol_plan_grids_grid ON patrol_plan_grids (grid_code);
"""
"""Schema version 2: accounts, sessions and login failures; tokens with the new roles and a jurisdiction."""

DESK = """
-- Version 3: the work desk counts the cases closed today; without this index that is a scan of every closed one.
CREATE INDEX incidents_closed_at ON incidents (closed_at) WHERE closed_at IS NOT NULL;
"""
"""Schema version 3: an index on when incidents were closed (the work desk's 今日办结)."""

FOLLOW_UPS = """
-- Version 4: the follow-up of a closed incident (回访) and the departments a whistle calls out (吹哨报到).
-- satisfaction and followed_up_at are of the latest closing's follow-up; reopen_count counts unsatisfied reopenings.
ALTER TABLE incidents ADD COLUMN satisfaction TEXT;
ALTER TABLE incidents ADD COLUMN follow_up_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN followed_up_at TEXT;
ALTER TABLE incidents ADD COLUMN reopen_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incident_events ADD COLUMN satisfaction TEXT;
CREATE TABLE whistle_callouts (
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    department TEXT NOT NULL,
    called_at TEXT NOT NULL,
    called_by TEXT NOT NULL,
    report_by TEXT NOT NULL,
    reported_at TEXT,
    reported_by TEXT,
    PRIMARY KEY (incident_id, department)
);
"""
"""Schema version 4: follow-ups on incidents and their timeline, and the whistle's call-outs."""

PHOTOS = """
-- Version 5: photos of cases (现场照片). The files are on disk, named by the SHA-256 of their stored bytes; a row
-- ties one to a case, optionally to one entry of its timeline (event_seq: the report, a handling), with its kind.
-- One photo is on a case once (a repeated upload is the same row); an Idempotency-Key is used once per case.
CREATE TABLE photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    event_seq INTEGER REFERENCES incident_events (seq) ON DELETE SET NULL,
    kind TEXT NOT NULL CHECK (kind IN ('report', 'before', 'after', 'other')),
    format TEXT NOT NULL CHECK (format IN ('JPEG', 'PNG', 'WEBP')),
    width INTEGER NOT NULL CHECK (width > 0),
    height INTEGER NOT NULL CHECK (height > 0),
    bytes INTEGER NOT NULL CHECK (bytes > 0),
    upload_sha256 TEXT NOT NULL,
    idempotency_key TEXT,
    uploaded_at TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    UNIQUE (incident_id, sha256),
    UNIQUE (incident_id, idempotency_key)
);
CREATE INDEX photos_sha256 ON photos (sha256);
CREATE INDEX photos_event ON photos (event_seq);
"""
"""Schema version 5: photos attached to cases and their timeline entries."""

TRACKS = """
-- Version 6: patrol tracks (巡查轨迹). A fix is one position of a person (WGS-84 degrees, UTC time, accuracy in
-- metres); (person, t) is its key, so a batch sent twice stores each fix once.
CREATE TABLE positions (
    person TEXT NOT NULL,
    t TEXT NOT NULL,
    lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    accuracy_m REAL CHECK (accuracy_m >= 0),
    PRIMARY KEY (person, t)
) WITHOUT ROWID;
CREATE INDEX positions_t ON positions (t);

-- A patrol walked by a person, from start to stop, optionally following a saved plan; at most one open per person.
CREATE TABLE patrol_sessions (
    id TEXT PRIMARY KEY,
    person TEXT NOT NULL,
    plan_id TEXT REFERENCES patrol_plans (id),
    started_at TEXT NOT NULL,
    ended_at TEXT,
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE UNIQUE INDEX patrol_sessions_open ON patrol_sessions (person) WHERE ended_at IS NULL;
CREATE INDEX patrol_sessions_person ON patrol_sessions (person, started_at);

-- A check-in at a stop of the patrol's plan (by the stop's order), where and when, and how far from the stop.
CREATE TABLE patrol_checkins (
    session_id TEXT NOT NULL REFERENCES patrol_sessions (id),
    stop_order INTEGER NOT NULL,
    at TEXT NOT NULL,
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    distance_m REAL NOT NULL,
    PRIMARY KEY (session_id, stop_order)
);

-- A batch of positions sent with an Idempotency-Key: a repeat gets the first answer again.
CREATE TABLE position_batches (
    person TEXT NOT NULL,
    key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (person, key)
);
"""
"""Schema version 6: positions of people on patrol, patrol sessions, their check-ins, and batch keys."""

ASSESSMENT = """
-- Version 7: the monthly assessment of grid workers (网格员考核). A person's timeline entries by time (cases they
-- reported or handled in a month), and each person's measures of a finished local day (metres walked, seconds
-- moving and inside their own grid, fixes), kept the first time the day is asked for so that a month is a sum.
CREATE INDEX incident_events_actor ON incident_events (actor, at);
CREATE TABLE track_days (
    person TEXT NOT NULL,
    day TEXT NOT NULL,
    fixes INTEGER NOT NULL CHECK (fixes >= 0),
    distance_m REAL NOT NULL CHECK (distance_m >= 0),
    moving_s REAL NOT NULL CHECK (moving_s >= 0),
    in_grid_s REAL CHECK (in_grid_s >= 0),
    PRIMARY KEY (person, day)
) WITHOUT ROWID;
CREATE INDEX track_days_day ON track_days (day);
"""
"""Schema version 7: an index of the timeline by actor and time, and the per-person per-day track measures."""

VIDEO = """
-- Version 8: video linkage (视频联动). The cameras by range, so that the farthest any camera sees is an index lookup
-- (the cameras that see a case are read within it). Where a camera's live stream (HLS) and snapshot are, apart from
-- the camera's row so that nothing listing cameras carries them; a camera's going takes its addresses with it (this
-- file does not enforce foreign keys: a trigger does).
CREATE INDEX cameras_range ON cameras (range_m);
CREATE TABLE camera_video (
    code TEXT PRIMARY KEY REFERENCES cameras (code) ON DELETE CASCADE,
    stream_url TEXT CHECK (stream_url IS NULL OR stream_url LIKE 'http://%' OR stream_url LIKE 'https://%'),
    snapshot_url TEXT CHECK (snapshot_url IS NULL OR snapshot_url LIKE 'http://%' OR snapshot_url LIKE 'https://%'),
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER camera_video_gone AFTER DELETE ON cameras BEGIN DELETE FROM camera_video WHERE code = OLD.code; END;
"""
"""Schema version 8: an index of cameras by range, and the stream and snapshot addresses of cameras."""

INCIDENTS_BY_MONTH = """
-- Incidents by month: PostGIS partitions incidents by the month of reported_at; an embedded file keeps one table,
-- whose primary key already keeps each id unique, so nothing changes here.
SELECT 1;
"""
"""Schema version 9: nothing changes in an SQLite file (PostGIS partitions its incidents by month)."""

CATEGORY_TIME = """
-- Version 10: incidents of a category over a time window (a filter's, a desk's or a chart's) read by one range of
-- an index, not by every incident of the window checked one by one.
CREATE INDEX incidents_category_time ON incidents (category, reported_at);
"""
"""Schema version 10: an index of incidents by category and report time."""

# Version 11: the closed incidents per UTC day and zoom-13 tile, as in the PostGIS schema (count, sums of EPSG:3857
# x and y in whole millimetres), kept by row triggers in the same transaction as every INSERT, UPDATE and DELETE on
# incidents; one row per key. The point is read from its WKB by SQL alone (tile_grid.wkb_point_sql), so that any
# client of the file keeps the cells, and placed by the same SQL the tiles' queries use (tile_grid.mercator_sql).


def _cells_rows(points: str) -> str:
    """SELECT of (day, tile_x, tile_y, x_mm, y_mm) from ``points``, SQL giving ``day`` and ``lon``, ``lat``."""
    x, y = mercator_sql("lon", "lat")
    return (f"SELECT day, CAST({column_sql('x', CELL_ZOOM)} AS INTEGER) AS tile_x, "
            f"CAST({row_sql('y', CELL_ZOOM)} AS INTEGER) AS tile_y, CAST(round(x * 1000) AS INTEGER) AS x_mm, "
            f"CAST(round(y * 1000) AS INTEGER) AS y_mm FROM (SELECT day, {x} AS x, {y} AS y FROM {points}) p")


def _cells_change(row: str, sign: str) -> str:
    """The upsert adding (sign 1) or taking away (sign -1) incident ``row`` (NEW or OLD) if it is closed."""
    lon, lat = wkb_point_sql(f"{row}.geom")
    point = f"(SELECT substr({row}.reported_at, 1, 10) AS day, {lon} AS lon, {lat} AS lat)"
    return (f"INSERT INTO incident_tile_cells (day, tile_x, tile_y, incident_count, sum_x_mm, sum_y_mm) "
            f"SELECT day, tile_x, tile_y, {sign}, {sign} * x_mm, {sign} * y_mm FROM ({_cells_rows(point)}) c "
            f"WHERE {row}.status = 'closed' ON CONFLICT (day, tile_x, tile_y) DO UPDATE SET "
            "incident_count = incident_count + excluded.incident_count, sum_x_mm = sum_x_mm + excluded.sum_x_mm, "
            "sum_y_mm = sum_y_mm + excluded.sum_y_mm; ")


_STORED_LON, _STORED_LAT = wkb_point_sql("geom")

TILE_CELLS = f"""
-- Version 11: closed incidents per UTC day and zoom-13 tile, for the wall's clusters at low zooms, and the open
-- incidents of a window read by report time from an index of their own.
CREATE TABLE incident_tile_cells (
    day TEXT NOT NULL,
    tile_x INTEGER NOT NULL,
    tile_y INTEGER NOT NULL,
    incident_count INTEGER NOT NULL,
    sum_x_mm INTEGER NOT NULL,
    sum_y_mm INTEGER NOT NULL,
    PRIMARY KEY (day, tile_x, tile_y)
) WITHOUT ROWID;
CREATE TRIGGER incident_cells_insert AFTER INSERT ON incidents WHEN NEW.status = 'closed'
BEGIN {_cells_change("NEW", "1")}END;
CREATE TRIGGER incident_cells_delete AFTER DELETE ON incidents WHEN OLD.status = 'closed'
BEGIN {_cells_change("OLD", "-1")}END;
CREATE TRIGGER incident_cells_update AFTER UPDATE OF reported_at, status, geom ON incidents
WHEN OLD.status = 'closed' OR NEW.status = 'closed' BEGIN {_cells_change("OLD", "-1")}{_cells_change("NEW", "1")}END;
INSERT INTO incident_tile_cells (day, tile_x, tile_y, incident_count, sum_x_mm, sum_y_mm)
SELECT day, tile_x, tile_y, count(*), sum(x_mm), sum(y_mm) FROM ({_cells_rows(
    f"(SELECT substr(reported_at, 1, 10) AS day, {_STORED_LON} AS lon, {_STORED_LAT} AS lat FROM incidents "
    "WHERE status = 'closed')")}) c GROUP BY day, tile_x, tile_y;
CREATE INDEX incidents_open_reported_at ON incidents (reported_at) WHERE status <> 'closed';
"""
"""Schema version 11: the closed incidents per UTC day and zoom-13 tile (count, sums of Web Mercator x and y), kept
by triggers, and an index of the open incidents by report time."""

DIVISIONS = """
-- Version 12: administrative divisions (行政区划, GB/T 2260 codes: province, city, county), each naming its parent,
-- and a street grid's county (or any division) written on the street: a division's jurisdiction is read from these
-- links, never from the digits of a grid code.
CREATE TABLE divisions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('province', 'city', 'county')),
    parent_code TEXT CHECK (parent_code IS NULL OR parent_code <> code)
);
CREATE INDEX divisions_parent ON divisions (parent_code);
ALTER TABLE grids ADD COLUMN division_code TEXT;
CREATE INDEX grids_division ON grids (division_code);
"""
"""Schema version 12: the divisions table and the streets' ``division_code``."""

STREET_TIME = """
-- Version 13: a division's (or a street's) incidents over a time window read by one range of an index per street. It
-- replaces the index on grid_l1 alone, whose lookups it answers as well.
DROP INDEX incidents_l1;
CREATE INDEX incidents_street_time ON incidents (grid_l1, reported_at);
"""
"""Schema version 13: incidents by street and report time."""

MIGRATIONS: tuple[str, ...] = (BASELINE, ACCOUNTS, DESK, FOLLOW_UPS, PHOTOS, TRACKS, ASSESSMENT, VIDEO,
                               INCIDENTS_BY_MONTH, CATEGORY_TIME, TILE_CELLS, DIVISIONS, STREET_TIME)
"""The schema's migrations in order; the n-th takes a file to version n."""


def stored_version(conn: sqlite3.Connection, where: str) -> int:
    """The schema version of the file (0 for a new one); a file whose versions count from elsewhere (a development
    build's from before the baseline, another program's) is refused (:class:`StoreUnavailable`, for the operator)."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    mark = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if mark != APPLICATION_ID and (version or mark):
        raise StoreUnavailable(before_baseline(where))
    return version


def upgrade(transaction: Callable[[], AbstractContextManager[Any]], conn: sqlite3.Connection,
            migrations: Sequence[str], *, target: int | None = None, where: str) -> int:
    """Apply the ``migrations`` the file lacks, up to version ``target`` (default: the last), each in a transaction
    of its own (a ``transaction()`` on ``conn``) that also records the version it reached; return the version the
    file is at. ``where`` names the file in messages."""
    while True:
        with transaction():
            found = stored_version(conn, where)
            step = next_version(found, migrations, target, where)
            if step is None:
                return found
            for statement in migrations[step - 1].split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {step}")
