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


MIGRATIONS: tuple[str, ...] = (V1, V2, V3, V4)
