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



# Version 5: the per-day summary of incidents behind the whole-district measures (/api/kpis over a year or
# more). Kept by statement-level triggers (with transition tables: one aggregated upsert per INSERT, COPY,
# UPDATE or DELETE statement, however many rows), so every write to incidents, by this code or any other
# client, changes the summary in the same transaction; TRUNCATE empties it. Days are UTC dates of
# reported_at. Counts are exact, per day × category × severity × status (with those closed on time), and per
# day × street (grid_l1) in a table of their own, so a whole-district measure sums a few rows per day. Times
# to dispatch and to close are kept as histograms per day in buckets of 1/32 of a doubling (bucket 0: under
# 1 s; bucket b ≥ 1: [2^((b-1)/32), 2^(b/32)) seconds), so a percentile read from them is within 2.2% of the
# exact one. A partial index on the open incidents' due
# times answers "overdue now" without reading closed ones. The upserts go in key order, so two writers
# never take the same summary rows in opposite orders (no deadlock).
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


def _summary_upsert(old: str | None, new: str | None, slot: str | None = None) -> str:
    """The two upserts adding rows ``new`` and taking away rows ``old`` (relation names, or None); with ``slot``
    (an SQL expression), into that slot of each summary key (schema version 8)."""
    def parts(template: str) -> str:
        return " UNION ALL ".join(template.format(sign=sign, rows=rows)
                                  for sign, rows in (("1", new), ("-1", old)) if rows is not None)

    def keyed(columns: str) -> tuple[str, str, str]:  # (insert columns, select list, conflict key)
        if slot is None:
            return columns, columns, columns
        return f"{columns}, slot", f"{columns}, {slot}", f"{columns}, slot"

    counts = keyed("day, category, severity, status")
    streets = keyed("day, grid_l1")
    durations = keyed("day, measure, bucket")
    return f"""
INSERT INTO incident_daily AS d ({counts[0]}, incident_count, closed_on_time)
SELECT {counts[1]}, sum(incident_count), sum(closed_on_time)
FROM ({parts(_SUMMARY_COUNTS)}) c
GROUP BY day, category, severity, status
HAVING sum(incident_count) <> 0 OR sum(closed_on_time) <> 0
ORDER BY day, category, severity, status
ON CONFLICT ({counts[2]}) DO UPDATE
SET incident_count = d.incident_count + excluded.incident_count,
    closed_on_time = d.closed_on_time + excluded.closed_on_time;
INSERT INTO incident_daily_streets AS d ({streets[0]}, incident_count)
SELECT {streets[1]}, sum(incident_count) FROM ({parts(_SUMMARY_STREETS)}) c
GROUP BY day, grid_l1
HAVING sum(incident_count) <> 0
ORDER BY day, grid_l1
ON CONFLICT ({streets[2]}) DO UPDATE SET incident_count = d.incident_count + excluded.incident_count;
INSERT INTO incident_daily_durations AS d ({durations[0]}, incident_count)
SELECT {durations[1]}, sum(incident_count) FROM ({parts(_SUMMARY_DURATIONS)}) c
GROUP BY day, measure, bucket
HAVING sum(incident_count) <> 0
ORDER BY day, measure, bucket
ON CONFLICT ({durations[2]}) DO UPDATE SET incident_count = d.incident_count + excluded.incident_count;
"""  # noqa: S608 - SQL text written here, no values


def _summary_function(name: str, old: str | None, new: str | None, slot: str | None = None,
                      replace: bool = False) -> str:
    return f"""
CREATE {"OR REPLACE " if replace else ""}FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN {_summary_upsert(old, new, slot)} RETURN NULL; END $$;
"""


def _summary_trigger(event: str, old: str | None, new: str | None) -> str:
    name = f"incident_summary_{event.lower()}"
    tables = " ".join(part for part in (f"OLD TABLE AS {old}" if old else "", f"NEW TABLE AS {new}" if new else "")
                      if part)
    return _summary_function(name, old, new) + f"""
CREATE TRIGGER {name} AFTER {event} ON incidents REFERENCING {tables}
FOR EACH STATEMENT EXECUTE FUNCTION {name}();
"""


V5 = """
CREATE FUNCTION incident_duration_bucket(seconds double precision) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (CASE WHEN seconds < 1 THEN 0 ELSE 1 + floor(32 * ln(seconds) / ln(2::double precision)) END)::smallint;

CREATE TABLE incident_daily (
    day date NOT NULL,
    category text NOT NULL,
    severity text NOT NULL,
    status text NOT NULL,
    incident_count bigint NOT NULL,
    closed_on_time bigint NOT NULL,
    PRIMARY KEY (day, category, severity, status)
);
CREATE TABLE incident_daily_streets (
    day date NOT NULL,
    grid_l1 text NOT NULL,  -- '' for an incident without a street
    incident_count bigint NOT NULL,
    PRIMARY KEY (day, grid_l1)
);
CREATE TABLE incident_daily_durations (
    day date NOT NULL,
    measure text NOT NULL CHECK (measure IN ('dispatch', 'close')),
    bucket smallint NOT NULL,
    incident_count bigint NOT NULL,
    PRIMARY KEY (day, measure, bucket)
);
""" + _summary_upsert(None, "incidents") + _summary_trigger("INSERT", None, "new_rows") \
    + _summary_trigger("UPDATE", "old_rows", "new_rows") + _summary_trigger("DELETE", "old_rows", None) + """
CREATE FUNCTION incident_summary_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN DELETE FROM incident_daily; DELETE FROM incident_daily_streets; DELETE FROM incident_daily_durations;
RETURN NULL; END $$;
CREATE TRIGGER incident_summary_truncate AFTER TRUNCATE ON incidents
FOR EACH STATEMENT EXECUTE FUNCTION incident_summary_truncate();
CREATE INDEX incidents_open_due ON incidents (due_at) WHERE status <> 'closed';
-- The audit trail read by target (an incident's or a token's history), newest first.
CREATE INDEX audit_log_target ON audit_log (target, seq);
"""  # noqa: S608 - SQL text written here, no values

# Version 6: the incidents' identifiers and codes compared byte by byte (COLLATE "C"). They are ASCII (UUIDs, grid
# codes, H3 cells, status names), so nothing sorts differently, but a database created in a locale such as C.UTF-8
# otherwise compares them through strcoll: every btree insert and every index build of a large import paid for it
# (an index over 365,000 codes: 1.2 s → 0.6 s on the bench machine).
_BYTEWISE_INCIDENT_COLUMNS = ("id", "status", "category", "severity", "grid_code", "grid_l1", "grid_l2", "grid_l3",
                              "grid_l4", "h3_cell")
V6 = ("ALTER TABLE incidents " + ", ".join(f'ALTER COLUMN {c} TYPE text COLLATE "C"'
                                           for c in _BYTEWISE_INCIDENT_COLUMNS) + ";\n"
      'ALTER TABLE incident_events ALTER COLUMN incident_id TYPE text COLLATE "C";\n')

# Version 7: every change to the tokens table, whoever makes it, notifies the processes that keep tokens they have
# found (mapserver/store/token_cache.py), when the change commits. One notification per statement; PostgreSQL
# folds repeats within a transaction.
V7 = """
CREATE FUNCTION tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('mapserver_tokens', '');
    RETURN NULL;
END $$;
CREATE TRIGGER tokens_changed AFTER UPDATE OR DELETE OR TRUNCATE ON tokens
FOR EACH STATEMENT EXECUTE FUNCTION tokens_changed();
"""

# Version 8, changes for a stream of reports.
#
# * Each summary key, and each layer's data version, is kept in up to WRITER_SLOTS rows, the slot chosen by the
#   writing transaction's id. With one row per key, every report of the day's busiest keys (and every write of a
#   layer) updated the same row and held its lock until its COMMIT had reached the disk: concurrent reports queued
#   behind each other's WAL flush (under wrk, backends spent as many samples waiting on those locks as on the flush
#   itself). Transactions in flight together have consecutive ids, so up to WRITER_SLOTS concurrent writers take
#   different rows. Readers sum the rows of a key (the measures already did; a layer's version is the sum).
# * An INSERT is summed by a row trigger, unless its statement says it is a bulk write (the setting
#   BY_STATEMENT = 'on', which this store sets around each COPY): then by the statement trigger, in one aggregated
#   pass as before. For a single report the statement trigger cost PostgreSQL about 150 µs of CPU (a transition
#   table, and three planned INSERT … SELECT … GROUP BY over it); the row trigger's two upserts cost a fraction of
#   that. Any other client is summed one way or the other, never both and never neither: both triggers read the
#   setting, and a statement cannot change it halfway. Multi-row INSERTs by other clients lock the summary rows in
#   row order, not key order, so two of them at once may meet in a deadlock, which PostgreSQL ends by refusing one.
WRITER_SLOTS = 4
BY_STATEMENT = "mapserver.summary_by_statement"
"""The setting that says how an INSERT into incidents is summed: by statement (a COPY of many rows), or row by row
('off' from version 9 on; before, 'on' meant by statement and anything else row by row)."""
TRANSACTION_SLOT = f"(pg_current_xact_id()::text::bigint % {WRITER_SLOTS})::smallint"
"""SQL for the writing transaction's slot among a key's rows."""
_BULK = f"current_setting('{BY_STATEMENT}', true)"
_ROW_DAY = "(NEW.reported_at AT TIME ZONE 'UTC')::date"


def _row_duration(measure: str, column: str) -> str:
    return f"""
IF NEW.{column} IS NOT NULL THEN
    INSERT INTO incident_daily_durations AS d (day, measure, bucket, slot, incident_count)
    VALUES ({_ROW_DAY}, '{measure}', incident_duration_bucket(date_part('epoch', NEW.{column} - NEW.reported_at)),
            {TRANSACTION_SLOT}, 1)
    ON CONFLICT (day, measure, bucket, slot) DO UPDATE SET incident_count = d.incident_count + 1;
END IF;"""  # noqa: S608 - SQL text written here, no values


V8 = "".join(f"""
ALTER TABLE {table} ADD COLUMN slot smallint NOT NULL DEFAULT 0;
ALTER TABLE {table} DROP CONSTRAINT {table}_pkey, ADD PRIMARY KEY ({key}, slot);
""" for table, key in (("incident_daily", "day, category, severity, status"),
                       ("incident_daily_streets", "day, grid_l1"),
                       ("incident_daily_durations", "day, measure, bucket"),
                       ("data_versions", "layer"))) \
    + _summary_function("incident_summary_insert", None, "new_rows", TRANSACTION_SLOT, replace=True) \
    + _summary_function("incident_summary_update", "old_rows", "new_rows", TRANSACTION_SLOT, replace=True) \
    + _summary_function("incident_summary_delete", "old_rows", None, TRANSACTION_SLOT, replace=True) + f"""
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
DROP TRIGGER incident_summary_insert ON incidents;
CREATE TRIGGER incident_summary_insert AFTER INSERT ON incidents REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT WHEN ({_BULK} = 'on') EXECUTE FUNCTION incident_summary_insert();
CREATE TRIGGER incident_summary_insert_row AFTER INSERT ON incidents
FOR EACH ROW WHEN ({_BULK} IS DISTINCT FROM 'on') EXECUTE FUNCTION incident_summary_insert_row();
"""  # noqa: S608 - SQL text written here, no values

# Version 9 lightens what each incident written costs, in bulk above all.
# * Two indexes no query reads are dropped (IF EXISTS: an administrator may have dropped them already); each cost
#   every report an index insert and a large import its rebuild (about 0.15 s per 320,000 incidents each). h3_cell
#   is only ever grouped by, within a time window the reported_at index selects. A building is the finest level, so
#   an incident whose grid_l4 is a building has that building as its grid_code: the grid filter reads grid_code and
#   grid_l1 … grid_l3 only.
# * An incident's point is checked by its coordinates instead of ST_IsValid, which builds a GEOS geometry for each
#   row (120,000 points: 510 ms against 47 ms). A point is valid exactly when its coordinates are
#   finite; these must also lie in lon/lat range (NaN and infinities fail BETWEEN), and an empty point passes both.
# * Row-by-row summing becomes something a session asks for (BY_STATEMENT = 'off', which this store's connections
#   set when they open), and every other INSERT is summed by statement again, as before version 8. Another client's
#   bulk load (a COPY by hand, an ETL job) had been summed row by row, each row updating its key's summary rows
#   again: a COPY of 1,000,000 incidents over a year took 816 s, each key's rows rewritten some 300 times in one
#   transaction; by statement, 20 s. Its keys are then summed once each, in sorted order, so two such loads at once
#   cannot deadlock on the summary either.
V9 = f"""
DROP INDEX IF EXISTS incidents_h3;
DROP INDEX IF EXISTS incidents_l4;
ALTER TABLE incidents DROP CONSTRAINT incidents_geom_check,
    ADD CONSTRAINT incidents_geom_check CHECK (ST_X(geom) BETWEEN -180 AND 180 AND ST_Y(geom) BETWEEN -90 AND 90);
DROP TRIGGER incident_summary_insert ON incidents;
DROP TRIGGER incident_summary_insert_row ON incidents;
CREATE TRIGGER incident_summary_insert AFTER INSERT ON incidents REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT WHEN ({_BULK} IS DISTINCT FROM 'off') EXECUTE FUNCTION incident_summary_insert();
CREATE TRIGGER incident_summary_insert_row AFTER INSERT ON incidents
FOR EACH ROW WHEN ({_BULK} = 'off') EXECUTE FUNCTION incident_summary_insert_row();
"""

MIGRATIONS: tuple[str, ...] = (V1, V2, V3, V4, V5, V6, V7, V8, V9)
