"""Versioned schema of the embedded SQLite store.

Geometries are WKB blobs in WGS-84 (EPSG:4326); each spatial table has an
R*Tree twin (``<table>_rtree``) holding its bounding boxes in degrees, keyed
by the table's rowid. R*Tree rows are written by the store beside the row
(SQLite cannot read WKB) and removed by trigger, so a delete from any client
keeps them in step. ``MIGRATIONS[n]`` takes the schema from version n to n + 1.
"""

SPATIAL_TABLES = ("grids", "cameras", "places", "addresses", "roads", "incidents")


def _rtree(table: str) -> str:
    return f"""
CREATE VIRTUAL TABLE {table}_rtree USING rtree(id, minx, maxx, miny, maxy);
CREATE TRIGGER {table}_rtree_delete AFTER DELETE ON {table}
BEGIN DELETE FROM {table}_rtree WHERE id = old.rowid; END;
"""


V1 = """
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

CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    reported_at TEXT NOT NULL,
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    grid_code TEXT,
    description TEXT NOT NULL DEFAULT '',
    extra TEXT NOT NULL DEFAULT '{}',
    geom BLOB NOT NULL
);
CREATE INDEX incidents_reported_at ON incidents (reported_at);
CREATE INDEX incidents_grid ON incidents (grid_code);

CREATE TABLE tokens (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE data_versions (
    layer TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
""" + "".join(_rtree(t) for t in SPATIAL_TABLES)

# Version 2: the incident's closed loop (deadlines, grid chain, H3 cell, escalation, optimistic
# version), its timeline, and idempotency keys for reports.
V2 = """
ALTER TABLE incidents ADD COLUMN source TEXT NOT NULL DEFAULT 'grid_worker';
ALTER TABLE incidents ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN reporter TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN unit TEXT;
ALTER TABLE incidents ADD COLUMN grid_l1 TEXT;
ALTER TABLE incidents ADD COLUMN grid_l2 TEXT;
ALTER TABLE incidents ADD COLUMN grid_l3 TEXT;
ALTER TABLE incidents ADD COLUMN grid_l4 TEXT;
ALTER TABLE incidents ADD COLUMN h3_cell TEXT;
ALTER TABLE incidents ADD COLUMN due_at TEXT;
ALTER TABLE incidents ADD COLUMN warn_at TEXT;
ALTER TABLE incidents ADD COLUMN dispatched_at TEXT;
ALTER TABLE incidents ADD COLUMN closed_at TEXT;
ALTER TABLE incidents ADD COLUMN escalation TEXT;
ALTER TABLE incidents ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE INDEX incidents_status ON incidents (status);
CREATE INDEX incidents_h3 ON incidents (h3_cell);
CREATE INDEX incidents_l1 ON incidents (grid_l1);
CREATE INDEX incidents_l2 ON incidents (grid_l2);
CREATE INDEX incidents_l3 ON incidents (grid_l3);

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

CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    body_hash TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    created_at TEXT NOT NULL
)
"""

# Version 3: grid_l4 indexed like the other levels, so a measure or listing filtered on a grid of any level
# (grid_code = ? OR grid_l1 = ? … OR grid_l4 = ?) combines the five indexes instead of scanning every incident.
V3 = """
CREATE INDEX incidents_l4 ON incidents (grid_l4);
"""

# Version 4: the audit trail (append-only: triggers refuse UPDATE and DELETE, so no client of the
# file, the API included, can change what a record says) and saved patrol plans (the route as GeoJSON
# inside ``plan``; plans are read by id or listed by time, never searched in space).
V4 = """
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
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

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
"""


# Version 5: the per-day summary of incidents behind the whole-district measures (as in the PostGIS schema:
# exact counts per UTC day of reported_at × category × severity × status and per day × street, and
# histograms of the times to dispatch and to close in buckets of 1/32 of a doubling, so percentiles read from
# them are within 2.2%). Row triggers keep it in the same transaction as every INSERT, UPDATE and DELETE on incidents.
# Times are ISO 8601 UTC text here, so the day is its first ten characters. Each trigger body is written on
# one line: the migrator splits scripts at a semicolon that ends a line.


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


def _summary_durations_of_all() -> str:
    parts = " UNION ALL ".join(
        f"SELECT substr(reported_at, 1, 10) AS day, '{measure}' AS measure, "
        f"{_bucket(end, 'incidents')} AS bucket FROM incidents WHERE {end} IS NOT NULL"
        for measure, end in (("dispatch", "dispatched_at"), ("close", "closed_at")))
    return (f"INSERT INTO incident_daily_durations (day, measure, bucket, incident_count) "
            f"SELECT day, measure, bucket, count(*) FROM ({parts}) GROUP BY day, measure, bucket")


V5 = f"""
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
INSERT INTO incident_daily (day, category, severity, status, incident_count, closed_on_time)
SELECT substr(reported_at, 1, 10), category, severity, status, count(*),
       sum(CASE WHEN status = 'closed' AND closed_at <= due_at THEN 1 ELSE 0 END)
FROM incidents GROUP BY 1, 2, 3, 4;
INSERT INTO incident_daily_streets (day, grid_l1, incident_count)
SELECT substr(reported_at, 1, 10), coalesce(grid_l1, ''), count(*) FROM incidents GROUP BY 1, 2;
{_summary_durations_of_all()};
CREATE TRIGGER incident_summary_insert AFTER INSERT ON incidents BEGIN {_summary_change("NEW", "1")}END;
CREATE TRIGGER incident_summary_delete AFTER DELETE ON incidents BEGIN {_summary_change("OLD", "-1")}END;
CREATE TRIGGER incident_summary_update AFTER UPDATE OF reported_at, category, severity, status, grid_l1, due_at,
dispatched_at, closed_at ON incidents BEGIN {_summary_change("OLD", "-1")}{_summary_change("NEW", "1")}END;
CREATE INDEX incidents_open_due ON incidents (due_at) WHERE status <> 'closed';
-- The audit trail read by target (an incident's or a token's history), newest first.
CREATE INDEX audit_log_target ON audit_log (target, seq);
"""

# Version 6 changes PostgreSQL's collation of incident codes; SQLite compares text byte by byte already.
V6 = ""

# Version 7 makes PostgreSQL notify token caches of changes to tokens; SQLite keeps no token cache (a read is ~8 µs).
V7 = ""

# Version 8 spreads PostgreSQL's summary keys and layer versions over rows per writing transaction and sums a report
# by a row trigger; SQLite has one writer at a time and row triggers already.
V8 = ""

# Version 9 drops the indexes on h3_cell and grid_l4, which no query reads (see the PostGIS schema's version 9; IF
# EXISTS: an administrator may have dropped them already).
V9 = """
DROP INDEX IF EXISTS incidents_h3;
DROP INDEX IF EXISTS incidents_l4;
"""

MIGRATIONS: tuple[str, ...] = (V1, V2, V3, V4, V5, V6, V7, V8, V9)
