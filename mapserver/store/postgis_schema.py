"""Versioned schema of the PostGIS store.

Typed geometry columns in WGS-84 (SRID 4326), GiST indexes, and
``CHECK (ST_IsValid(geom))`` so no client, ours or another, can store an
invalid shape. ``MIGRATIONS[n]`` takes the schema from version n to n + 1; the
version lives in ``mapserver_schema``.
"""

V1 = """
CREATE TABLE grids (
    code text PRIMARY KEY,
    level smallint NOT NULL CHECK (level BETWEEN 1 AND 4),
    parent_code text,
    name text NOT NULL,
    kind text NOT NULL DEFAULT 'base' CHECK (kind IN ('base', 'special')),
    subtype text,
    households integer CHECK (households >= 0),
    population integer CHECK (population >= 0),
    geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom))
);
CREATE INDEX grids_geom ON grids USING gist (geom);
CREATE INDEX grids_parent ON grids (parent_code);
CREATE INDEX grids_level ON grids (level);

CREATE TABLE grid_staff (
    id bigserial PRIMARY KEY,
    grid_code text NOT NULL,
    role text NOT NULL,
    name text NOT NULL,
    phone text,
    unit text
);
CREATE INDEX grid_staff_grid ON grid_staff (grid_code);

CREATE TABLE cameras (
    code text PRIMARY KEY,
    name text NOT NULL,
    direction_deg double precision CHECK (direction_deg BETWEEN 0 AND 360),
    fov_deg double precision CHECK (fov_deg BETWEEN 0 AND 360),
    range_m double precision CHECK (range_m >= 0),
    status text NOT NULL DEFAULT 'unknown',
    last_seen timestamptz,
    geom geometry(Point, 4326) NOT NULL CHECK (ST_IsValid(geom))
);
CREATE INDEX cameras_geom ON cameras USING gist (geom);

CREATE TABLE places (
    code text PRIMARY KEY,
    name text NOT NULL,
    kind text NOT NULL,
    -- points or polygons: a key place may be drawn either way
    geom geometry(Geometry, 4326) NOT NULL
        CHECK (ST_IsValid(geom) AND GeometryType(geom) IN ('POINT', 'POLYGON', 'MULTIPOLYGON'))
);
CREATE INDEX places_geom ON places USING gist (geom);

CREATE TABLE addresses (
    code text PRIMARY KEY,
    text text NOT NULL,
    geom geometry(Point, 4326) NOT NULL CHECK (ST_IsValid(geom))
);
CREATE INDEX addresses_geom ON addresses USING gist (geom);

CREATE TABLE roads (
    code text PRIMARY KEY,
    name text NOT NULL,
    road_class text NOT NULL,
    oneway boolean NOT NULL DEFAULT false,
    geom geometry(LineString, 4326) NOT NULL CHECK (ST_IsValid(geom))
);
CREATE INDEX roads_geom ON roads USING gist (geom);

CREATE TABLE incidents (
    id text PRIMARY KEY,
    reported_at timestamptz NOT NULL,
    category text NOT NULL,
    severity text NOT NULL,
    status text NOT NULL,
    grid_code text,
    description text NOT NULL DEFAULT '',
    extra jsonb NOT NULL DEFAULT '{}',
    geom geometry(Point, 4326) NOT NULL CHECK (ST_IsValid(geom))
);
CREATE INDEX incidents_geom ON incidents USING gist (geom);
CREATE INDEX incidents_reported_at ON incidents (reported_at);
CREATE INDEX incidents_grid ON incidents (grid_code);

CREATE TABLE tokens (
    name text PRIMARY KEY,
    role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

CREATE TABLE data_versions (
    layer text PRIMARY KEY,
    version bigint NOT NULL
);
"""

# Version 2: the incident's closed loop (deadlines, grid chain, H3 cell, escalation, optimistic
# version), its timeline, and idempotency keys for reports.
V2 = """
ALTER TABLE incidents
    ADD COLUMN source text NOT NULL DEFAULT 'grid_worker',
    ADD COLUMN address text NOT NULL DEFAULT '',
    ADD COLUMN reporter text NOT NULL DEFAULT '',
    ADD COLUMN unit text,
    ADD COLUMN grid_l1 text,
    ADD COLUMN grid_l2 text,
    ADD COLUMN grid_l3 text,
    ADD COLUMN grid_l4 text,
    ADD COLUMN h3_cell text,
    ADD COLUMN due_at timestamptz,
    ADD COLUMN warn_at timestamptz,
    ADD COLUMN dispatched_at timestamptz,
    ADD COLUMN closed_at timestamptz,
    ADD COLUMN escalation text CHECK (escalation IN ('routine', 'key')),
    ADD COLUMN version integer NOT NULL DEFAULT 1;
CREATE INDEX incidents_status ON incidents (status);
CREATE INDEX incidents_h3 ON incidents (h3_cell);
CREATE INDEX incidents_l1 ON incidents (grid_l1);
CREATE INDEX incidents_l2 ON incidents (grid_l2);
CREATE INDEX incidents_l3 ON incidents (grid_l3);

CREATE TABLE incident_events (
    seq bigserial PRIMARY KEY,
    incident_id text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    from_status text,
    to_status text NOT NULL,
    note text NOT NULL DEFAULT '',
    unit text
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, seq);

CREATE TABLE idempotency_keys (
    key text PRIMARY KEY,
    body_hash text NOT NULL,
    incident_id text NOT NULL,
    created_at timestamptz NOT NULL
);
"""

# Version 3: grid_l4 indexed like the other levels, so a measure or listing filtered on a grid of any level
# (grid_code = ? OR grid_l1 = ? … OR grid_l4 = ?) combines the five indexes instead of scanning every incident.
V3 = """
CREATE INDEX incidents_l4 ON incidents (grid_l4);
"""

# Version 4: the audit trail (append-only: row triggers refuse UPDATE and DELETE, so no client, the API
# included, can change what a record says) and saved patrol plans (the route as GeoJSON inside ``plan``;
# plans are read by id or listed by time, never searched in space).
V4 = """
CREATE TABLE audit_log (
    seq bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    role text,
    action text NOT NULL,
    target text,
    detail jsonb NOT NULL DEFAULT '{}',
    remote_addr text,
    request_id text
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE patrol_plans (
    id text PRIMARY KEY,
    created_at timestamptz NOT NULL,
    created_by text NOT NULL,
    liaison text,
    mode text NOT NULL,
    time_window text NOT NULL,
    budget_min double precision NOT NULL,
    length_m double precision NOT NULL,
    duration_min double precision NOT NULL,
    plan jsonb NOT NULL
);
CREATE INDEX patrol_plans_created ON patrol_plans (created_at);
"""



MIGRATIONS: tuple[str, ...] = (V1, V2, V3, V4)
