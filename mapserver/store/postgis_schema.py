"""Schema of the PostGIS store, and its upgrades.

Typed geometry columns in WGS-84 (SRID 4326), GiST indexes, and ``CHECK (ST_IsValid(geom))`` so no client, ours
or another, can store an invalid shape. ``MIGRATIONS`` begins with the baseline (schema version 1), which creates
the whole schema in an empty database; each migration after it takes the schema one version further. The version,
and the mark of this baseline (:data:`~mapserver.store.migrations.APPLICATION_ID`), live in ``mapserver_schema``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

import psycopg2.errors
import psycopg2.extensions

from mapserver.store.database import StoreUnavailable
from mapserver.store.migrations import APPLICATION_ID, before_baseline, next_version
from mapserver.store.tile_grid import CELL_ZOOM, column_sql, mercator_sql, row_sql

WRITER_SLOTS = 4
"""Rows per summary key and per layer's data version, the writing transaction choosing one by its id."""
BY_STATEMENT = "mapserver.summary_by_statement"
"""The setting that says how an INSERT into incidents is summed: row by row ('off', as this store's connections set
it) or by statement (anything else: a COPY of many rows, another client's bulk load)."""
TRANSACTION_SLOT = f"(pg_current_xact_id()::text::bigint % {WRITER_SLOTS})::smallint"
"""SQL for the writing transaction's slot among a key's rows."""
_BULK = f"current_setting('{BY_STATEMENT}', true)"
_ROW_DAY = "(NEW.reported_at AT TIME ZONE 'UTC')::date"

_TABLES = """
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

-- An incident carries its closed loop: deadlines, the chain of grids it lies in (grid_l1 street … grid_l4
-- building), its H3 cell, escalation, and a version for optimistic updates.
-- Identifiers and codes compare byte by byte (COLLATE "C"): they are ASCII, so nothing sorts differently, and a
-- database in a locale such as C.UTF-8 would otherwise pay strcoll on every btree insert and index build.
-- The point is checked by its coordinates rather than ST_IsValid, which builds a GEOS geometry per row: a point is
-- valid exactly when its coordinates are finite, and these must also lie in lon/lat range (NaN and infinities fail
-- BETWEEN; an empty point passes).
CREATE TABLE incidents (
    id text COLLATE "C" PRIMARY KEY,
    reported_at timestamptz NOT NULL,
    category text COLLATE "C" NOT NULL,
    severity text COLLATE "C" NOT NULL,
    status text COLLATE "C" NOT NULL,
    grid_code text COLLATE "C",
    description text NOT NULL DEFAULT '',
    extra jsonb NOT NULL DEFAULT '{}',
    geom geometry(Point, 4326) NOT NULL CHECK (ST_X(geom) BETWEEN -180 AND 180 AND ST_Y(geom) BETWEEN -90 AND 90),
    source text NOT NULL DEFAULT 'grid_worker',
    address text NOT NULL DEFAULT '',
    reporter text NOT NULL DEFAULT '',
    unit text,
    grid_l1 text COLLATE "C",
    grid_l2 text COLLATE "C",
    grid_l3 text COLLATE "C",
    grid_l4 text COLLATE "C",
    h3_cell text COLLATE "C",
    due_at timestamptz,
    warn_at timestamptz,
    dispatched_at timestamptz,
    closed_at timestamptz,
    escalation text CHECK (escalation IN ('routine', 'key')),
    version integer NOT NULL DEFAULT 1
);
-- Every secondary index costs each report an index insert and each large import a rebuild, so only those a query
-- reads exist. None on h3_cell: it is only grouped by, within a time window the reported_at index selects. None on
-- grid_l4: a building is the finest level, so its incidents have it as their grid_code, and the grid filter reads
-- grid_code and grid_l1 … grid_l3.
CREATE INDEX incidents_geom ON incidents USING gist (geom);
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
    seq bigserial PRIMARY KEY,
    incident_id text COLLATE "C" NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    from_status text,
    to_status text NOT NULL,
    note text NOT NULL DEFAULT '',
    unit text
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, seq);

-- A report sent again with its Idempotency-Key finds the incident the first one made.
CREATE TABLE idempotency_keys (
    key text PRIMARY KEY,
    body_hash text NOT NULL,
    incident_id text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE tokens (
    name text PRIMARY KEY,
    role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

-- A layer's data version is the sum of its rows, one per writer slot (see the summary below).
CREATE TABLE data_versions (
    layer text NOT NULL,
    version bigint NOT NULL,
    slot smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (layer, slot)
);

-- The audit trail is append-only: a row trigger refuses UPDATE and DELETE, so no client, the API included, can
-- change what a record says. Read by time, by actor and by target (an incident's or a token's history).
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
CREATE INDEX audit_log_target ON audit_log (target, seq);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Saved patrol plans, the route as GeoJSON inside plan: read by id or listed by time, never searched in space.
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

-- Every change to tokens, whoever makes it, notifies the processes that keep tokens they have found
-- (mapserver/store/token_cache.py) when it commits; one notification per statement, folded within a transaction.
CREATE FUNCTION tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('mapserver_tokens', '');
    RETURN NULL;
END $$;
CREATE TRIGGER tokens_changed AFTER UPDATE OR DELETE OR TRUNCATE ON tokens
FOR EACH STATEMENT EXECUTE FUNCTION tokens_changed();
"""

# The per-day summary of incidents behind the whole-district measures, kept by triggers in the same transaction as
# every write to incidents, by this code or any other client; TRUNCATE empties it. Days are UTC dates of
# reported_at. Counts are exact, per day × category × severity × status (with those closed on time), and per day ×
# street (grid_l1) in a table of their own, so a whole-district measure sums a few rows per day. Times to dispatch
# and to close are histograms per day in buckets of 1/32 of a doubling (bucket 0: under 1 s; bucket b ≥ 1:
# [2^((b-1)/32), 2^(b/32)) seconds), so a percentile read from them is within 2.2% of the exact one.
#
# * Each key is kept in up to WRITER_SLOTS rows, the slot chosen by the writing transaction's id, and readers sum a
#   key's rows: concurrent writers (consecutive ids) update rows of their own instead of queueing for one row's lock
#   until each other's COMMIT has reached the disk. The same goes for each layer's data version.
# * A report (this store's sessions set BY_STATEMENT = 'off') is summed by a row trigger, cheaper for one row than
#   a transition table and three aggregating statements. Every other INSERT, a COPY or another client's bulk load, is
#   summed by the statement trigger, each key once. Both triggers read the setting, which a statement cannot change
#   halfway, so every INSERT is summed exactly once.
# * The statement triggers upsert in key order, so two writers never take the same summary rows in opposite orders
#   (no deadlock). Multi-row INSERTs summed row by row lock them in row order instead, and may meet in a deadlock,
#   which PostgreSQL ends by refusing one.
_SUMMARY_COUNTS = """
SELECT (reported_at AT TIME ZONE 'UTC')::date AS day, category, severity, status, {sign} AS incident_count,
       {sign} * CASE WHEN status = 'closed' AND closed_at <= due_at THEN 1 ELSE 0 END AS closed_on_time
FROM {rows}"""

_SUMMARY_STREETS = """
SELECT (reported_at AT TIME ZONE 'UTC')::date AS day, coalesce(grid_l1, '') AS grid_l1, {sign} AS incident_count
FROM {rows}"""

_SUMMARY_DURATIONS = """
SELECT (reported_at AT TIME ZONE 'UTC')::date AS day, 'dispatch' AS measure,
       incident_duration_bucket(date_part('epoch', dispatched_at - reported_at)) AS bucket, {sign} AS incident_count
FROM {rows} WHERE dispatched_at IS NOT NULL
UNION ALL
SELECT (reported_at AT TIME ZONE 'UTC')::date, 'close',
       incident_duration_bucket(date_part('epoch', closed_at - reported_at)), {sign}
FROM {rows} WHERE closed_at IS NOT NULL"""


def _summary_upsert(old: str | None, new: str | None) -> str:
    """The three upserts adding rows ``new`` and taking away rows ``old`` (transition tables, or None), into the
    writing transaction's slot of each summary key, in key order."""
    def parts(template: str) -> str:
        return " UNION ALL ".join(template.format(sign=sign, rows=rows)
                                  for sign, rows in (("1", new), ("-1", old)) if rows is not None)

    return f"""
INSERT INTO incident_daily AS d (day, category, severity, status, slot, incident_count, closed_on_time)
SELECT day, category, severity, status, {TRANSACTION_SLOT}, sum(incident_count), sum(closed_on_time)
FROM ({parts(_SUMMARY_COUNTS)}) c
GROUP BY day, category, severity, status
HAVING sum(incident_count) <> 0 OR sum(closed_on_time) <> 0
ORDER BY day, category, severity, status
ON CONFLICT (day, category, severity, status, slot) DO UPDATE
SET incident_count = d.incident_count + excluded.incident_count,
    closed_on_time = d.closed_on_time + excluded.closed_on_time;
INSERT INTO incident_daily_streets AS d (day, grid_l1, slot, incident_count)
SELECT day, grid_l1, {TRANSACTION_SLOT}, sum(incident_count) FROM ({parts(_SUMMARY_STREETS)}) c
GROUP BY day, grid_l1
HAVING sum(incident_count) <> 0
ORDER BY day, grid_l1
ON CONFLICT (day, grid_l1, slot) DO UPDATE SET incident_count = d.incident_count + excluded.incident_count;
INSERT INTO incident_daily_durations AS d (day, measure, bucket, slot, incident_count)
SELECT day, measure, bucket, {TRANSACTION_SLOT}, sum(incident_count) FROM ({parts(_SUMMARY_DURATIONS)}) c
GROUP BY day, measure, bucket
HAVING sum(incident_count) <> 0
ORDER BY day, measure, bucket
ON CONFLICT (day, measure, bucket, slot) DO UPDATE SET incident_count = d.incident_count + excluded.incident_count;
"""  # noqa: S608 - SQL text written here, no values


def _summary_trigger(event: str, old: str | None, new: str | None, when: str = "") -> str:
    """The statement trigger summing ``event`` on incidents through its transition tables, and its function."""
    name = f"incident_summary_{event.lower()}"
    tables = " ".join(part for part in (f"OLD TABLE AS {old}" if old else "", f"NEW TABLE AS {new}" if new else "")
                      if part)
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN {_summary_upsert(old, new)} RETURN NULL; END $$;
CREATE TRIGGER {name} AFTER {event} ON incidents REFERENCING {tables}
FOR EACH STATEMENT {when}EXECUTE FUNCTION {name}();
"""


def _row_duration(measure: str, column: str) -> str:
    return f"""
IF NEW.{column} IS NOT NULL THEN
    INSERT INTO incident_daily_durations AS d (day, measure, bucket, slot, incident_count)
    VALUES ({_ROW_DAY}, '{measure}', incident_duration_bucket(date_part('epoch', NEW.{column} - NEW.reported_at)),
            {TRANSACTION_SLOT}, 1)
    ON CONFLICT (day, measure, bucket, slot) DO UPDATE SET incident_count = d.incident_count + 1;
END IF;"""  # noqa: S608 - SQL text written here, no values


_SUMMARY = """
CREATE FUNCTION incident_duration_bucket(seconds double precision) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (CASE WHEN seconds < 1 THEN 0 ELSE 1 + floor(32 * ln(seconds) / ln(2::double precision)) END)::smallint;

-- slot defaults to 0, so a row written by hand without one still counts.
CREATE TABLE incident_daily (
    day date NOT NULL,
    category text NOT NULL,
    severity text NOT NULL,
    status text NOT NULL,
    incident_count bigint NOT NULL,
    closed_on_time bigint NOT NULL,
    slot smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, category, severity, status, slot)
);
CREATE TABLE incident_daily_streets (
    day date NOT NULL,
    grid_l1 text NOT NULL,  -- '' for an incident without a street
    incident_count bigint NOT NULL,
    slot smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, grid_l1, slot)
);
CREATE TABLE incident_daily_durations (
    day date NOT NULL,
    measure text NOT NULL CHECK (measure IN ('dispatch', 'close')),
    bucket smallint NOT NULL,
    incident_count bigint NOT NULL,
    slot smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, measure, bucket, slot)
);
""" + _summary_trigger("INSERT", None, "new_rows", f"WHEN ({_BULK} IS DISTINCT FROM 'off') ") \
    + _summary_trigger("UPDATE", "old_rows", "new_rows") + _summary_trigger("DELETE", "old_rows", None) + f"""
CREATE FUNCTION incident_summary_insert_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
INSERT INTO incident_daily AS d (day, category, severity, status, slot, incident_count, closed_on_time)
VALUES ({_ROW_DAY}, NEW.category, NEW.severity, NEW.status, {TRANSACTION_SLOT}, 1,
        CASE WHEN NEW.status = 'closed' AND NEW.closed_at <= NEW.due_at THEN 1 ELSE 0 END)
ON CONFLICT (day, category, severity, status, slot) DO UPDATE
SET incident_count = d.incident_count + 1, closed_on_time = d.closed_on_time + excluded.closed_on_time;
INSERT INTO incident_daily_streets AS d (day, grid_l1, slot, incident_count)
VALUES ({_ROW_DAY}, coalesce(NEW.grid_l1, ''), {TRANSACTION_SLOT}, 1)
ON CONFLICT (day, grid_l1, slot) DO UPDATE SET incident_count = d.incident_count + 1;
{_row_duration("dispatch", "dispatched_at")}
{_row_duration("close", "closed_at")}
RETURN NULL;
END $$;
CREATE TRIGGER incident_summary_insert_row AFTER INSERT ON incidents
FOR EACH ROW WHEN ({_BULK} = 'off') EXECUTE FUNCTION incident_summary_insert_row();

CREATE FUNCTION incident_summary_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN DELETE FROM incident_daily; DELETE FROM incident_daily_streets; DELETE FROM incident_daily_durations;
RETURN NULL; END $$;
CREATE TRIGGER incident_summary_truncate AFTER TRUNCATE ON incidents
FOR EACH STATEMENT EXECUTE FUNCTION incident_summary_truncate();
"""  # noqa: S608 - SQL text written here, no values

BASELINE = _TABLES + _SUMMARY
"""Schema version 1: the whole schema, created in an empty database."""

ACCOUNTS = """
-- Version 2: people who log in, their sessions and failed logins; tokens get every role and a jurisdiction.
-- A role names what the person does (mapserver/roles.py); grid_code their jurisdiction, NULL for the whole store.
CREATE TABLE accounts (
    name text PRIMARY KEY,
    display_name text NOT NULL DEFAULT '',
    role text NOT NULL CHECK (role IN ('viewer', 'operator', 'dispatcher', 'liaison', 'field', 'admin')),
    grid_code text,
    password_hash text NOT NULL,
    created_at timestamptz NOT NULL,
    password_changed_at timestamptz NOT NULL,
    disabled_at timestamptz
);

-- A browser's session, by the SHA-256 of its cookie; ended by deleting the row (logout, disable, new password).
CREATE TABLE sessions (
    id_hash text PRIMARY KEY,
    account text NOT NULL REFERENCES accounts (name),
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    seen_at timestamptz NOT NULL,
    remote_addr text
);
CREATE INDEX sessions_account ON sessions (account);

-- Failed logins of the last minutes, counted by name and by client address to slow down guessing.
CREATE TABLE login_failures (
    at timestamptz NOT NULL,
    name text NOT NULL,
    remote_addr text NOT NULL
);
CREATE INDEX login_failures_name ON login_failures (name, at);
CREATE INDEX login_failures_addr ON login_failures (remote_addr, at);

ALTER TABLE tokens DROP CONSTRAINT tokens_role_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_role_check
    CHECK (role IN ('viewer', 'operator', 'dispatcher', 'liaison', 'field', 'admin'));
ALTER TABLE tokens ADD COLUMN grid_code text;

-- A patrol plan lies in the jurisdiction of its planner (grid_code, NULL for the whole store) and in those of the
-- grids it covers (its area's, and the finest at its start and each stop): listings keep to a jurisdiction by both.
ALTER TABLE patrol_plans ADD COLUMN grid_code text;
CREATE TABLE patrol_plan_grids (
    plan_id text NOT NULL REFERENCES patrol_plans (id),
    grid_code text NOT NULL,
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
ALTER TABLE incidents ADD COLUMN satisfaction text
    CHECK (satisfaction IN ('satisfied', 'basically_satisfied', 'unsatisfied'));
ALTER TABLE incidents ADD COLUMN follow_up_comment text NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN followed_up_at timestamptz;
ALTER TABLE incidents ADD COLUMN reopen_count integer NOT NULL DEFAULT 0 CHECK (reopen_count >= 0);
ALTER TABLE incident_events ADD COLUMN satisfaction text;
CREATE TABLE whistle_callouts (
    incident_id text COLLATE "C" NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    department text NOT NULL,
    called_at timestamptz NOT NULL,
    called_by text NOT NULL,
    report_by timestamptz NOT NULL,
    reported_at timestamptz,
    reported_by text,
    PRIMARY KEY (incident_id, department)
);
"""
"""Schema version 4: follow-ups on incidents and their timeline, and the whistle's call-outs."""

PHOTOS = """
-- Version 5: photos of cases (现场照片). The files are on disk, named by the SHA-256 of their stored bytes; a row
-- ties one to a case, optionally to one entry of its timeline (event_seq: the report, a handling), with its kind.
-- One photo is on a case once (a repeated upload is the same row); an Idempotency-Key is used once per case.
CREATE TABLE photos (
    id bigserial PRIMARY KEY,
    incident_id text COLLATE "C" NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    sha256 text NOT NULL,
    event_seq bigint REFERENCES incident_events (seq) ON DELETE SET NULL,
    kind text NOT NULL CHECK (kind IN ('report', 'before', 'after', 'other')),
    format text NOT NULL CHECK (format IN ('JPEG', 'PNG', 'WEBP')),
    width integer NOT NULL CHECK (width > 0),
    height integer NOT NULL CHECK (height > 0),
    bytes integer NOT NULL CHECK (bytes > 0),
    upload_sha256 text NOT NULL,
    idempotency_key text,
    uploaded_at timestamptz NOT NULL,
    uploaded_by text NOT NULL,
    UNIQUE (incident_id, sha256),
    UNIQUE (incident_id, idempotency_key)
);
CREATE INDEX photos_sha256 ON photos (sha256);
CREATE INDEX photos_event ON photos (event_seq);
"""
"""Schema version 5: photos attached to cases and their timeline entries."""

TRACKS = """
-- Version 6: patrol tracks (巡查轨迹). A fix is one position of a person (WGS-84 degrees, UTC time, accuracy in
-- metres); (person, t) is its key, so a batch sent twice stores each fix once. An append-heavy time series:
-- partitioned by calendar month (UTC), each month's partition made by the store when a batch first needs it
-- (mapserver.store.month_partitions.py); BRIN on time for scans of recent minutes, the key's btree for one
-- person's day.
CREATE TABLE positions (
    person text COLLATE "C" NOT NULL,
    t timestamptz NOT NULL,
    lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    accuracy_m real CHECK (accuracy_m >= 0),
    geom geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED,
    PRIMARY KEY (person, t)
) PARTITION BY RANGE (t);
CREATE INDEX positions_t ON positions USING brin (t);

-- A patrol walked by a person, from start to stop, optionally following a saved plan; at most one open per person.
CREATE TABLE patrol_sessions (
    id text PRIMARY KEY,
    person text NOT NULL,
    plan_id text REFERENCES patrol_plans (id),
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE UNIQUE INDEX patrol_sessions_open ON patrol_sessions (person) WHERE ended_at IS NULL;
CREATE INDEX patrol_sessions_person ON patrol_sessions (person, started_at);

-- A check-in at a stop of the patrol's plan (by the stop's order), where and when, and how far from the stop.
CREATE TABLE patrol_checkins (
    session_id text NOT NULL REFERENCES patrol_sessions (id),
    stop_order integer NOT NULL,
    at timestamptz NOT NULL,
    lon double precision NOT NULL,
    lat double precision NOT NULL,
    distance_m double precision NOT NULL,
    PRIMARY KEY (session_id, stop_order)
);

-- A batch of positions sent with an Idempotency-Key: a repeat gets the first answer again.
CREATE TABLE position_batches (
    person text NOT NULL,
    key text NOT NULL,
    body_hash text NOT NULL,
    answer text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (person, key)
);
"""
"""Schema version 6: positions of people on patrol (partitioned by month), patrol sessions, their check-ins, and
batch keys."""

ASSESSMENT = """
-- Version 7: the monthly assessment of grid workers (网格员考核). A person's timeline entries by time (cases they
-- reported or handled in a month), and each person's measures of a finished local day (metres walked, seconds
-- moving and inside their own grid, fixes), kept the first time the day is asked for so that a month is a sum.
CREATE INDEX incident_events_actor ON incident_events (actor, at);
CREATE TABLE track_days (
    person text COLLATE "C" NOT NULL,
    day date NOT NULL,
    fixes integer NOT NULL CHECK (fixes >= 0),
    distance_m double precision NOT NULL CHECK (distance_m >= 0),
    moving_s double precision NOT NULL CHECK (moving_s >= 0),
    in_grid_s double precision CHECK (in_grid_s >= 0),
    PRIMARY KEY (person, day)
);
CREATE INDEX track_days_day ON track_days (day);
"""
"""Schema version 7: an index of the timeline by actor and time, and the per-person per-day track measures."""

VIDEO = """
-- Version 8: video linkage (视频联动). The cameras by range, so that the farthest any camera sees is an index lookup
-- (the cameras that see a case are read within it). Where a camera's live stream (HLS) and snapshot are, apart from
-- the camera's row so that nothing listing cameras carries them; a camera's going takes its addresses with it.
CREATE INDEX cameras_range ON cameras (range_m);
CREATE TABLE camera_video (
    code text PRIMARY KEY REFERENCES cameras (code) ON DELETE CASCADE,
    stream_url text CHECK (stream_url IS NULL OR stream_url ~ '^https?://'),
    snapshot_url text CHECK (snapshot_url IS NULL OR snapshot_url ~ '^https?://'),
    updated_at timestamptz NOT NULL
);
"""
"""Schema version 8: an index of cameras by range, and the stream and snapshot addresses of cameras."""

INCIDENTS_BY_MONTH = rf"""
-- Incidents partitioned by calendar month (UTC) of reported_at, the rows of an existing store moved in place.
-- A key of a partitioned table must hold the partition key, so (id, reported_at) is the primary key and the id's
-- own uniqueness, and what the timeline, photos and call-outs refer to, move to incident_keys (one row per
-- incident, kept by triggers whoever writes incidents): a foreign key cannot reference a partitioned table's id
-- alone, and carrying reported_at into every referring table would change every writer of those tables.
CREATE TABLE incident_keys (
    id text COLLATE "C" PRIMARY KEY,
    reported_at timestamptz NOT NULL
);
CREATE TEMP TABLE incident_rebuild (kind text, name text, definition text) ON COMMIT DROP;
-- What refers to incidents, and the indexes and triggers on it, are read from the catalog, so whatever earlier
-- versions added comes along.
INSERT INTO incident_rebuild
SELECT 'reference', conrelid::regclass::text || ' ' || quote_ident(conname),
       regexp_replace(pg_get_constraintdef(oid), 'REFERENCES \S+\(id\)', 'REFERENCES incident_keys(id)')
FROM pg_constraint WHERE confrelid = 'incidents'::regclass AND contype = 'f';
DO $$ DECLARE r record; BEGIN
FOR r IN SELECT name FROM incident_rebuild WHERE kind = 'reference' LOOP
    EXECUTE 'ALTER TABLE ' || split_part(r.name, ' ', 1) || ' DROP CONSTRAINT ' || split_part(r.name, ' ', 2);
END LOOP; END $$;
ALTER TABLE incidents RENAME TO incidents_unpartitioned;
INSERT INTO incident_rebuild
SELECT 'index', quote_ident(c.relname), regexp_replace(pg_get_indexdef(i.indexrelid),
       ' ON (ONLY )?\S*incidents_unpartitioned ', ' ON incidents ')
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = 'incidents_unpartitioned'::regclass AND NOT i.indisprimary;
INSERT INTO incident_rebuild
SELECT 'trigger', quote_ident(tgname), regexp_replace(pg_get_triggerdef(oid),
       ' ON \S*incidents_unpartitioned ', ' ON incidents ')
FROM pg_trigger WHERE tgrelid = 'incidents_unpartitioned'::regclass AND NOT tgisinternal;
DO $$ DECLARE r record; BEGIN
FOR r IN SELECT name FROM incident_rebuild WHERE kind = 'index' LOOP EXECUTE 'DROP INDEX ' || r.name; END LOOP;
END $$;
ALTER TABLE incidents_unpartitioned DROP CONSTRAINT incidents_pkey;

CREATE TABLE incidents (LIKE incidents_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
                        PRIMARY KEY (id, reported_at)) PARTITION BY RANGE (reported_at);
-- A month's partition is incidents_YYYY_MM; rows of a month without one (another client's INSERT, before the
-- server made it) land in incidents_default until the server moves them (mapserver/store/month_partitions.py).
DO $$ DECLARE m date; BEGIN
FOR m IN SELECT DISTINCT date_trunc('month', reported_at AT TIME ZONE 'UTC')::date FROM incidents_unpartitioned
LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF incidents FOR VALUES FROM (%L) TO (%L)',
                   'incidents_' || to_char(m, 'YYYY_MM'), to_char(m, 'YYYY-MM-DD') || ' 00:00:00+00',
                   to_char(m + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00');
END LOOP; END $$;
CREATE TABLE incidents_default PARTITION OF incidents DEFAULT;
-- No trigger on incidents yet: the rows move without touching the per-day summary, which counts them already.
INSERT INTO incidents SELECT * FROM incidents_unpartitioned;
INSERT INTO incident_keys (id, reported_at) SELECT id, reported_at FROM incidents_unpartitioned;
DROP TABLE incidents_unpartitioned;
DO $$ DECLARE r record; BEGIN
FOR r IN SELECT definition FROM incident_rebuild WHERE kind = 'index' ORDER BY name LOOP
    EXECUTE r.definition;
END LOOP;
FOR r IN SELECT definition FROM incident_rebuild WHERE kind = 'trigger' ORDER BY name LOOP
    EXECUTE r.definition;
END LOOP;
FOR r IN SELECT name, definition FROM incident_rebuild WHERE kind = 'reference' ORDER BY name LOOP
    EXECUTE 'ALTER TABLE ' || split_part(r.name, ' ', 1) || ' ADD CONSTRAINT ' || split_part(r.name, ' ', 2) || ' '
            || r.definition;
END LOOP; END $$;

-- incident_keys follows incidents: a report's row by a row trigger, any other INSERT (COPY, another client's
-- bulk load) by a statement trigger, as the summary is summed; a deleted incident takes its key, and with it its
-- timeline, photos and call-outs (ON DELETE CASCADE). An id or report time never changes: a changed report time
-- would move the row to another partition as a DELETE and an INSERT, which the summary would count twice.
CREATE FUNCTION incident_keys_insert_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO incident_keys (id, reported_at) VALUES (NEW.id, NEW.reported_at); RETURN NULL; END $$;
CREATE TRIGGER incident_keys_insert_row AFTER INSERT ON incidents
FOR EACH ROW WHEN ({_BULK} = 'off') EXECUTE FUNCTION incident_keys_insert_row();
CREATE FUNCTION incident_keys_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO incident_keys (id, reported_at) SELECT id, reported_at FROM new_rows; RETURN NULL; END $$;
CREATE TRIGGER incident_keys_insert AFTER INSERT ON incidents REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT WHEN ({_BULK} IS DISTINCT FROM 'off') EXECUTE FUNCTION incident_keys_insert();
CREATE FUNCTION incident_keys_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN DELETE FROM incident_keys k USING old_rows o WHERE k.id = o.id; RETURN NULL; END $$;
CREATE TRIGGER incident_keys_delete AFTER DELETE ON incidents REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION incident_keys_delete();
-- DELETE, not TRUNCATE: a TRUNCATE naming incidents and its referring tables together is still running.
CREATE FUNCTION incident_keys_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN DELETE FROM incident_keys; RETURN NULL; END $$;
CREATE TRIGGER incident_keys_truncate AFTER TRUNCATE ON incidents
FOR EACH STATEMENT EXECUTE FUNCTION incident_keys_truncate();
CREATE FUNCTION incident_key_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'an incident''s id and reported_at do not change (incident %)', OLD.id
    USING ERRCODE = 'check_violation'; END $$;
CREATE TRIGGER incident_key_unchanged BEFORE UPDATE OF id, reported_at ON incidents
FOR EACH ROW WHEN (NEW.id IS DISTINCT FROM OLD.id OR NEW.reported_at IS DISTINCT FROM OLD.reported_at)
EXECUTE FUNCTION incident_key_unchanged();
CREATE SCHEMA IF NOT EXISTS archive;
"""  # noqa: S608 - SQL text written here, no values
"""Schema version 9: incidents partitioned by month, their ids kept unique in incident_keys, which the timeline,
photos and call-outs now refer to; old months are detached into the ``archive`` schema
(:mod:`~mapserver.store.month_partitions`)."""

CATEGORY_TIME = """
-- Version 10: incidents of a category over a time window (a filter's, a desk's or a chart's) read by one range of
-- an index, not by every incident of the window checked one by one.
CREATE INDEX incidents_category_time ON incidents (category, reported_at);
"""
"""Schema version 10: an index of incidents by category and report time."""

# Version 11: the closed incidents per UTC day of reported_at and per zoom-13 tile of their point (tile_x, tile_y: the
# column and row of spherical Web Mercator's XYZ grid), with their count and the sums of their EPSG:3857 x and y in
# whole millimetres (integers, so that adding a row and taking it away again leaves nothing behind). A wall's tile at
# zoom z ≤ 11 cuts itself into 4 × 4 zoom-(z + 2) tiles, each a block of these: its clusters of a window's closed
# incidents sum a few rows per day instead of grouping every incident (mapserver/store/vector_tiles.py). Kept as the
# per-day summary is, by the same kinds of trigger in the same transaction as every write to incidents: a report by
# a row trigger (when it is closed already), any other INSERT by a statement trigger, UPDATE and DELETE by statement
# triggers through their transition tables, each key in the writing transaction's slot, upserted in key order;
# TRUNCATE empties it. The position is computed by the same SQL the tiles' queries use (tile_grid.mercator_sql).
_CELL_X, _CELL_Y = mercator_sql("ST_X(geom)", "ST_Y(geom)")
_CELL_COLUMNS = f"""(reported_at AT TIME ZONE 'UTC')::date AS day, {column_sql('x', CELL_ZOOM)}::integer AS tile_x,
       {row_sql('y', CELL_ZOOM)}::integer AS tile_y, round(x * 1000)::bigint AS x_mm, round(y * 1000)::bigint AS y_mm"""
_CELL_ROWS = f"""
SELECT {_CELL_COLUMNS}
FROM (SELECT reported_at, {_CELL_X} AS x, {_CELL_Y} AS y FROM {{rows}} WHERE status = 'closed') p"""  # noqa: S608


def _cells_upsert(old: str | None, new: str | None) -> str:
    """The upsert adding the closed ones of rows ``new`` and taking away those of rows ``old`` (transition tables,
    or None) into the writing transaction's slot of each cell, in key order."""
    parts = " UNION ALL ".join(
        f"SELECT day, tile_x, tile_y, {sign} AS n, {sign} * x_mm AS x_mm, {sign} * y_mm AS y_mm "  # noqa: S608
        f"FROM ({_CELL_ROWS.format(rows=rows)}) {alias}"
        for sign, rows, alias in (("1", new, "added"), ("-1", old, "taken")) if rows is not None)
    return f"""
INSERT INTO incident_tile_cells AS d (day, tile_x, tile_y, slot, incident_count, sum_x_mm, sum_y_mm)
SELECT day, tile_x, tile_y, {TRANSACTION_SLOT}, sum(n), sum(x_mm), sum(y_mm) FROM ({parts}) c
GROUP BY day, tile_x, tile_y
HAVING sum(n) <> 0 OR sum(x_mm) <> 0 OR sum(y_mm) <> 0
ORDER BY day, tile_x, tile_y
ON CONFLICT (day, tile_x, tile_y, slot) DO UPDATE
SET incident_count = d.incident_count + excluded.incident_count, sum_x_mm = d.sum_x_mm + excluded.sum_x_mm,
    sum_y_mm = d.sum_y_mm + excluded.sum_y_mm;
"""  # noqa: S608 - SQL text written here, no values


def _cells_trigger(event: str, old: str | None, new: str | None, when: str = "") -> str:
    """The statement trigger keeping the cells through ``event``'s transition tables, and its function."""
    name = f"incident_cells_{event.lower()}"
    tables = " ".join(part for part in (f"OLD TABLE AS {old}" if old else "", f"NEW TABLE AS {new}" if new else "")
                      if part)
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN {_cells_upsert(old, new)} RETURN NULL; END $$;
CREATE TRIGGER {name} AFTER {event} ON incidents REFERENCING {tables}
FOR EACH STATEMENT {when}EXECUTE FUNCTION {name}();
"""


TILE_CELLS = f"""
-- Version 11: closed incidents per UTC day and zoom-13 tile, for the wall's clusters at low zooms (see above), and
-- the open incidents of a window read by report time from an index of their own.
CREATE TABLE incident_tile_cells (
    day date NOT NULL,
    tile_x integer NOT NULL,
    tile_y integer NOT NULL,
    incident_count bigint NOT NULL,
    sum_x_mm bigint NOT NULL,
    sum_y_mm bigint NOT NULL,
    slot smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, tile_x, tile_y, slot)
);
INSERT INTO incident_tile_cells (day, tile_x, tile_y, incident_count, sum_x_mm, sum_y_mm)
SELECT day, tile_x, tile_y, count(*), sum(x_mm), sum(y_mm) FROM ({_CELL_ROWS.format(rows="incidents")}) c
GROUP BY day, tile_x, tile_y;
""" + _cells_trigger("INSERT", None, "new_rows", f"WHEN ({_BULK} IS DISTINCT FROM 'off') ") \
    + _cells_trigger("UPDATE", "old_rows", "new_rows") + _cells_trigger("DELETE", "old_rows", None) + f"""
CREATE FUNCTION incident_cells_insert_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
INSERT INTO incident_tile_cells AS d (day, tile_x, tile_y, slot, incident_count, sum_x_mm, sum_y_mm)
SELECT day, tile_x, tile_y, {TRANSACTION_SLOT}, 1, x_mm, y_mm
FROM ({_CELL_ROWS.format(rows="(SELECT NEW.reported_at AS reported_at, NEW.geom AS geom, NEW.status AS status) n")}) c
ON CONFLICT (day, tile_x, tile_y, slot) DO UPDATE
SET incident_count = d.incident_count + 1, sum_x_mm = d.sum_x_mm + excluded.sum_x_mm,
    sum_y_mm = d.sum_y_mm + excluded.sum_y_mm;
RETURN NULL;
END $$;
CREATE TRIGGER incident_cells_insert_row AFTER INSERT ON incidents
FOR EACH ROW WHEN ({_BULK} = 'off' AND NEW.status = 'closed') EXECUTE FUNCTION incident_cells_insert_row();
CREATE FUNCTION incident_cells_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN DELETE FROM incident_tile_cells; RETURN NULL; END $$;
CREATE TRIGGER incident_cells_truncate AFTER TRUNCATE ON incidents
FOR EACH STATEMENT EXECUTE FUNCTION incident_cells_truncate();
CREATE INDEX incidents_open_reported_at ON incidents (reported_at) WHERE status <> 'closed';
-- The planner's statistics of the new table now, not at autovacuum's next pass.
ANALYZE incident_tile_cells;
"""  # noqa: S608 - SQL text written here, no values
"""Schema version 11: the closed incidents per UTC day and zoom-13 tile (count, sums of Web Mercator x and y), kept
by triggers, and an index of the open incidents by report time."""

DIVISIONS = """
-- Version 12: administrative divisions (行政区划, GB/T 2260 codes: province, city, county), each naming its parent,
-- and a street grid's county (or any division) written on the street: a division's jurisdiction is read from these
-- links, never from the digits of a grid code.
CREATE TABLE divisions (
    code text PRIMARY KEY,
    name text NOT NULL,
    level text NOT NULL CHECK (level IN ('province', 'city', 'county')),
    parent_code text CHECK (parent_code IS NULL OR parent_code <> code)
);
CREATE INDEX divisions_parent ON divisions (parent_code);
ALTER TABLE grids ADD COLUMN division_code text;
CREATE INDEX grids_division ON grids (division_code);
"""
"""Schema version 12: the divisions table and the streets' ``division_code``."""

STREET_TIME = """
-- Version 13: a division's (or a street's) incidents over a time window read from one index, with the columns its
-- measures count (status, deadlines, durations, follow-ups) and its heat's cell: an index-only scan of a few pages
-- per street, not a heap page per incident, since a street's incidents lie scattered through their month. It
-- replaces the index on grid_l1 alone, whose lookups it answers as well.
DROP INDEX incidents_l1;
CREATE INDEX incidents_street_time ON incidents (grid_l1, reported_at)
    INCLUDE (category, severity, status, dispatched_at, closed_at, due_at, satisfaction, reopen_count, h3_cell);
"""
"""Schema version 13: incidents by street and report time, covering what the measures count."""

MIGRATIONS: tuple[str, ...] = (BASELINE, ACCOUNTS, DESK, FOLLOW_UPS, PHOTOS, TRACKS, ASSESSMENT, VIDEO,
                               INCIDENTS_BY_MONTH, CATEGORY_TIME, TILE_CELLS, DIVISIONS, STREET_TIME)
"""The schema's migrations in order; the n-th takes a database to version n."""


def stored_version(cur: psycopg2.extensions.cursor, where: str) -> int:
    """The schema version recorded in the database (0 when it has none yet); a schema recorded otherwise, as
    development builds before the baseline did, is refused (:class:`StoreUnavailable`, for the operator)."""
    cur.execute("SELECT to_regclass('mapserver_schema') IS NOT NULL, EXISTS (SELECT 1 FROM pg_attribute "
                "WHERE attrelid = to_regclass('mapserver_schema') AND attname = 'application_id')")
    recorded, marked = cur.fetchone()
    if not recorded:
        return 0
    row = None
    if marked:
        cur.execute("SELECT application_id, version FROM mapserver_schema")
        row = cur.fetchone()
    if row is None or row[0] != APPLICATION_ID:
        raise StoreUnavailable(before_baseline(where))
    return int(row[1])


def upgrade(cursor: Callable[[], AbstractContextManager[psycopg2.extensions.cursor]], migrations: Sequence[str], *,
            target: int | None = None, where: str) -> int:
    """Apply the ``migrations`` the database lacks, up to version ``target`` (default: the last), each in a
    transaction of its own (a ``cursor()``) that also records the version it reached; return the version the
    database is at. ``where`` names the database in messages."""
    while True:
        with cursor() as cur:
            # One migrator at a time, even with several workers starting together.
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('mapserver_schema'))")
            found = stored_version(cur, where)
            step = next_version(found, migrations, target, where)
            if step is None:
                return found
            if found == 0:
                _enable_postgis(cur, where)
                cur.execute("CREATE TABLE mapserver_schema (application_id integer NOT NULL, version integer NOT NULL)")
                cur.execute("INSERT INTO mapserver_schema (application_id, version) VALUES (%s, 0)", (APPLICATION_ID,))
            cur.execute(migrations[step - 1])
            cur.execute("UPDATE mapserver_schema SET version = %s", (step,))


def _enable_postgis(cur: psycopg2.extensions.cursor, where: str) -> None:
    try:
        cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg2.errors.InsufficientPrivilege:
        raise StoreUnavailable(f"PostGIS is not enabled in {where} and this user may not enable it; ask an "
                               "administrator to run CREATE EXTENSION postgis") from None
