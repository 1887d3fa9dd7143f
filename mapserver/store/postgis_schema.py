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

MIGRATIONS: tuple[str, ...] = (V1,)
