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

MIGRATIONS: tuple[str, ...] = (V1,)
