"""What only the PostGIS backend promises: typed columns, GiST, ST_IsValid checks, pools after fork."""

from __future__ import annotations

import contextlib
import os

import psycopg2
import pytest

from mapserver.errors import Problem
from mapserver.store import open_store
from mapserver.store.database import SCHEMA_VERSION
from mapserver.store.postgis_schema import WRITER_SLOTS
from tests import samples
from tests.conftest import empty_store


@pytest.fixture
def pg(postgis_url):
    store = open_store(postgis_url)
    empty_store(store)
    yield store
    store.close()


def catalog(url: str, query: str, params=()):
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute(query, params or None)
        rows = cur.fetchall()
    conn.close()
    return rows


def test_geometry_columns_are_typed_in_wgs84(postgis_url):
    rows = dict(((t, (ty, srid)) for t, ty, srid in catalog(
        postgis_url, "SELECT f_table_name, type, srid FROM geometry_columns")))
    assert rows["grids"] == ("MULTIPOLYGON", 4326)
    assert rows["cameras"] == ("POINT", 4326)
    assert rows["roads"] == ("LINESTRING", 4326)
    assert rows["incidents"] == ("POINT", 4326)


def test_every_geometry_column_has_a_gist_index(postgis_url):
    indexed = {t for (t,) in catalog(postgis_url, "SELECT tablename FROM pg_indexes WHERE indexdef LIKE '%gist%'")}
    assert {"grids", "cameras", "places", "addresses", "roads", "incidents"} <= indexed


def test_incident_codes_compare_byte_by_byte_whatever_the_database_locale(postgis_url):
    """Incident ids and codes are COLLATE "C" (memcmp, abbreviated keys) in any locale."""
    rows = dict(catalog(postgis_url, "SELECT table_name || '.' || column_name, collation_name "
                                     "FROM information_schema.columns WHERE table_name IN ('incidents', "
                                     "'incident_events') AND data_type = 'text'"))
    for column in ("id", "status", "category", "severity", "grid_code", "grid_l1", "grid_l2", "grid_l3", "grid_l4",
                   "h3_cell"):
        assert rows[f"incidents.{column}"] == "C", column
    assert rows["incident_events.incident_id"] == "C"
    assert rows["incidents.description"] is None  # free text keeps the database's collation


def test_the_database_itself_refuses_invalid_polygons(postgis_url):
    conn = psycopg2.connect(postgis_url)
    with pytest.raises(psycopg2.errors.CheckViolation), conn.cursor() as cur:
        cur.execute("INSERT INTO grids (code, level, name, geom) VALUES ('bad', 1, 'bowtie', "
                    "ST_GeomFromText('MULTIPOLYGON(((0 0, 1 1, 1 0, 0 1, 0 0)))', 4326))")
    conn.close()


@pytest.mark.parametrize("x, y", [("'NaN'", "33"), ("'Infinity'", "33"), ("114.6", "'-Infinity'"), ("200", "33"),
                                  ("114.6", "91")])
def test_the_database_itself_refuses_an_incident_point_not_finite_or_out_of_range(postgis_url, x, y):
    conn = psycopg2.connect(postgis_url)
    with pytest.raises(psycopg2.errors.CheckViolation, match="incidents_geom_check"), conn.cursor() as cur:
        cur.execute("INSERT INTO incidents (id, reported_at, category, severity, status, geom) VALUES "
                    f"('bad', now(), 'other', 'general', 'reported', ST_SetSRID(ST_MakePoint({x}, {y}), 4326))")
    conn.close()


def test_upgrading_in_place_from_an_empty_database(fresh_database):
    store = open_store(fresh_database)
    assert store.schema_version() == 0
    assert store.migrate() == SCHEMA_VERSION
    assert store.migrate() == SCHEMA_VERSION
    store.close()


def test_incidents_have_no_index_that_no_query_reads(postgis_url):
    """None on h3_cell (only grouped by, within a time window) nor on grid_l4 (a building is its incidents'
    grid_code): each would cost every report an index insert and every large import a rebuild."""
    indexes = {name for (name,) in catalog(postgis_url, "SELECT indexname FROM pg_indexes "
                                                        "WHERE tablename = 'incidents'")}
    assert {"incidents_grid", "incidents_street_time", "incidents_l3", "incidents_open_due"} <= indexes
    assert not indexes & {"incidents_h3", "incidents_l4"}
    keys = [d.split(" INCLUDE ")[0] for (d,) in catalog(  # a covering index may carry a column it is not keyed on
        postgis_url, "SELECT indexdef FROM pg_indexes WHERE tablename = 'incidents'")]
    assert not any("h3_cell" in d or "grid_l4" in d for d in keys)


def test_a_forked_child_opens_its_own_pool(pg):
    pg.layers.add("grids", [samples.STREET])
    assert pg.layers.count("grids") == 1  # the parent's pool now holds a connection
    pid = os.fork()
    if pid == 0:  # child: must not reuse the parent's socket
        try:
            ok = pg.layers.count("grids") == 1 and pg.database._pool_pid == os.getpid()
            pg.close()
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert pg.layers.count("grids") == 1  # and the parent's connections still work


def test_a_dead_connection_is_replaced_before_use(pg, postgis_url):
    before = pg.layers.count("grids")
    conn = psycopg2.connect(postgis_url)
    conn.autocommit = True
    with conn.cursor() as cur:  # kill our other sessions of this database (not another run's) and wait, as in a restart
        cur.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                    "WHERE application_name = 'mapserver' AND datname = current_database() AND pid <> pg_backend_pid()")
    conn.close()
    assert pg.layers.count("grids") == before


def _kill_our_sessions(url: str) -> int:
    """Terminate every pooled session of the store, as a database restart would; how many there were."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                    "WHERE application_name = 'mapserver' AND datname = current_database() AND pid <> pg_backend_pid()")
        killed = cur.fetchone()[0]
    conn.close()
    return killed


def test_a_token_is_checked_on_a_fresh_connection_when_the_pooled_one_died(pg, postgis_url):
    from mapserver.auth import hash_token, new_token

    secret = new_token()
    pg.tokens.add(name="wall", role="viewer", token_hash=hash_token(secret))
    assert pg.tokens.by_hash(hash_token(secret)).name == "wall"  # the pool now holds a connection
    assert _kill_our_sessions(postgis_url) >= 1
    assert pg.tokens.by_hash(hash_token(secret)).name == "wall"  # the read is retried once, never refused
    assert pg.tokens.by_hash(hash_token(new_token())) is None


def test_a_transaction_whose_failed_statement_was_caught_is_not_taken_as_committed(pg):
    with pytest.raises(Exception) as refused, pg.transaction():
        pg.layers.add("grids", [samples.STREET])
        with contextlib.suppress(psycopg2.Error):  # the database rolls the whole transaction back meanwhile
            pg.database.execute("SELECT no_such_column FROM grids")
    assert getattr(refused.value, "status", None) == 409 and "rolled back" in str(refused.value)
    assert pg.layers.count("grids") == 0


def test_an_open_write_does_not_hold_the_version_row_until_its_commit(pg, postgis_url):
    """Concurrent writers of one layer all bump its version row: a transaction must not lock it before COMMIT,
    else every report queues behind the others' remaining statements."""
    pg.database.bump_version("grids")  # alone: committed at once, so the row exists
    before = pg.layers.data_version("grids")
    assert before >= 1
    with pg.transaction():
        pg.layers.add("grids", [samples.STREET])
        assert pg.layers.data_version("grids") == before + 1  # this transaction's own bump is seen inside it
        other = psycopg2.connect(postgis_url)
        try:
            with other, other.cursor() as cur:
                cur.execute("SET LOCAL lock_timeout = '1s'")  # a held row lock would fail this update
                cur.execute("UPDATE data_versions SET version = version + 1 WHERE layer = 'grids'")
        finally:
            other.close()
    assert pg.layers.data_version("grids") == before + 2  # the other writer's bump and this one's, made at COMMIT


def test_a_commit_the_database_refuses_writes_nothing_and_leaves_no_aborted_connection(pg, postgis_url):
    """A bump that cannot take its row in time (another writer holds it) refuses the write with a 503; the pooled
    connection is handed out again in no transaction, so the next read works."""
    pg.database.bump_version("grids")  # alone: committed at once, so the row exists
    holder = psycopg2.connect(postgis_url)
    try:
        with holder.cursor() as cur:  # every slot's row of the layer made, then held
            cur.execute(f"INSERT INTO data_versions (layer, slot, version) SELECT 'grids', s, 0 "
                        f"FROM generate_series(0, {WRITER_SLOTS - 1}) AS s ON CONFLICT DO NOTHING")
            cur.execute("UPDATE data_versions SET version = version WHERE layer = 'grids'")
        with pytest.raises(Problem) as refused, pg.transaction():
            pg.database.execute("SET LOCAL lock_timeout = '200ms'")
            pg.layers.add("grids", [samples.STREET])
    finally:
        holder.rollback()
        holder.close()
    assert refused.value.status == 503 and refused.value.headers.get("Retry-After")
    assert "nothing was written" in refused.value.detail
    assert pg.tokens.by_hash("no such token") is None  # the same pooled connection, usable
    assert pg.layers.count("grids") == 0


# -- tokens kept per process (mapserver/store/token_cache.py) ------------------------------------------------------


def _new_token(store, name: str) -> str:
    from mapserver.auth import hash_token, new_token

    secret = new_token()
    store.tokens.add(name=name, role="operator", token_hash=hash_token(secret))
    return hash_token(secret)


def _kept(store, token_hash: str):
    """The token the store's cache holds for this hash (None: it would read the table)."""
    return store.database.token_memo().find(token_hash)[0]


def _refused_within(store, token_hash: str, seconds: float) -> float | None:
    """Seconds until the store refuses the token, polling; None if it still accepts it after ``seconds``."""
    import time

    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if store.tokens.by_hash(token_hash) is None:
            return time.monotonic() - started
    return None


def test_a_token_revoked_in_another_process_is_refused_as_the_notification_arrives(pg, postgis_url):
    """Another store is another worker: its revocation reaches this one's kept tokens through NOTIFY."""
    token_hash = _new_token(pg, "wall-kept")
    assert pg.tokens.by_hash(token_hash).name == "wall-kept"
    assert _kept(pg, token_hash).name == "wall-kept"  # kept: the next check makes no round trip
    other = open_store(postgis_url)
    try:
        assert other.tokens.revoke(name="wall-kept")
    finally:
        other.close()
    took = _refused_within(pg, token_hash, 2.0)
    assert took is not None and took < 0.5, took
    assert _kept(pg, token_hash) is None


@pytest.mark.parametrize("change", [
    "UPDATE tokens SET revoked_at = now() WHERE name = 'wall-sql'",
    "DELETE FROM tokens WHERE name = 'wall-sql'",
    "TRUNCATE tokens",
])
def test_a_token_changed_by_plain_sql_is_refused_too(pg, postgis_url, change):
    """The trigger notifies whoever changes the table, a DBA's SQL included."""
    token_hash = _new_token(pg, "wall-sql")
    assert pg.tokens.by_hash(token_hash) is not None and _kept(pg, token_hash) is not None
    conn = psycopg2.connect(postgis_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(change)
    finally:
        conn.close()
    took = _refused_within(pg, token_hash, 2.0)
    assert took is not None and took < 0.5, took


def test_without_its_listening_connection_the_store_keeps_nothing_and_reads_every_time(pg, postgis_url):
    """A dropped listener (a restart, a DBA's kill) must not leave revoked tokens accepted from what was kept."""
    token_hash = _new_token(pg, "wall-deaf")
    assert pg.tokens.by_hash(token_hash) is not None
    listener_pid = pg.database._tokens._listener.info.backend_pid
    conn = psycopg2.connect(postgis_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s, 2000)", (listener_pid,))  # waits until it has ended
            # The revocation's notification goes nowhere: no one listens now.
            cur.execute("UPDATE tokens SET revoked_at = now() WHERE name = 'wall-deaf'")
    finally:
        conn.close()
    assert pg.tokens.by_hash(token_hash) is None  # the very next check: read from the table, not from what was kept
    token_hash = _new_token(pg, "wall-heard")
    assert _eventually_kept(pg, token_hash)  # listening again within a second: tokens are kept again


def _eventually_kept(store, token_hash: str, seconds: float = 3.0) -> bool:
    import time

    started = time.monotonic()
    while time.monotonic() - started < seconds:
        assert store.tokens.by_hash(token_hash) is not None
        if _kept(store, token_hash) is not None:
            return True
        time.sleep(0.05)
    return False


def test_a_first_statement_the_server_cannot_parse_leaves_the_transaction_still_to_begin(pg):
    """BEGIN goes with a transaction's first statement; one that fails to parse runs nothing, BEGIN included, so
    what follows must still be inside the transaction (and rolled back with it), not committed on its own."""
    with pytest.raises(Problem), pg.transaction():
        with contextlib.suppress(psycopg2.Error):
            pg.database.execute("SELEC 1")  # a syntax error: refused before anything runs
        pg.layers.add("grids", [samples.STREET])
        raise Problem(400, "the caller gives up")
    assert pg.layers.count("grids") == 0


def test_a_transaction_that_ran_nothing_leaves_the_connection_ready(pg):
    with pg.transaction():
        pass
    with pg.transaction():
        pg.layers.add("grids", [samples.STREET])
    assert pg.layers.count("grids") == 1
