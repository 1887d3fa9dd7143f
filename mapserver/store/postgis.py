"""The PostGIS store, through psycopg2.

A thread-safe connection pool per process, created on first use after any
fork (workers must not share sockets). A pooled connection is checked before
it is handed out, by reading what the server sent on it (no round trip), so a
database restart costs a fresh connection, not a failed request; a transaction's
BEGIN goes with its first statement (:mod:`mapserver.store.postgis_connection`).
Bulk writes go through ``COPY``. Identifiers are composed with :mod:`psycopg2.sql`, values always passed as parameters.
Geometries travel as WKB in WGS-84 (SRID 4326).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import operator
import os
import struct
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import numpy as np
import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.pool
import shapely
from psycopg2 import sql
from shapely.geometry import Point

from mapserver.errors import Problem
from mapserver.model import RECORD_TYPES, field_names
from mapserver.store.common import KEYS, BBox, Condition, box_around, iter_chunks, order_sql, record_from_row, utc
from mapserver.store.database import Database, StoreUnavailable, TokenMemo
from mapserver.store.incident_batch import IncidentBatch
from mapserver.store.postgis_bulk import CopyText, CountedBatches, binary_kinds, binary_pieces, copy_pieces, copy_value
from mapserver.store.postgis_connection import LazyBeginConnection, server_closed
from mapserver.store.postgis_indexes import create_indexes, drop_secondary_indexes, rebuild_wanted
from mapserver.store.postgis_replicas import PRIMARY_SQL, ReadReplicas, Replica, ReplicaFailed
from mapserver.store.postgis_schema import BY_STATEMENT, MIGRATIONS, TRANSACTION_SLOT, stored_version, upgrade
from mapserver.store.token_cache import TokenCache

# Caches in every worker compare this version (read at most once a second), so no NOTIFY goes with it: one
# would serialise every committing writer on PostgreSQL's notification queue for a message nobody listens to.
# A layer's version is the sum of its rows, one per slot: concurrent writers bump rows of their own, so their
# commits do not queue for one row's lock.
_BUMP = (f"INSERT INTO data_versions (layer, slot, version) VALUES (?, {TRANSACTION_SLOT}, 1) "  # noqa: S608
         "ON CONFLICT (layer, slot) DO UPDATE SET version = data_versions.version + 1")
COPY_BATCH = 5000  # rows turned into COPY text at a time
RETRY_AFTER_S = "1"  # connections are checked before use, so the next request after a restart gets a fresh one
_LOST = (psycopg2.OperationalError, psycopg2.InterfaceError)  # the server went away (restart, network)
RELATIONS = {"intersects": "ST_Intersects", "within": "ST_Within", "contains": "ST_Contains",
             "disjoint": "ST_Disjoint", "equals": "ST_Equals", "touches": "ST_Touches", "crosses": "ST_Crosses",
             "overlaps": "ST_Overlaps"}
log = logging.getLogger(__name__)


class _StaleBlock:
    """A :meth:`PostGISDatabase.stale_reads` block of one thread: the standby chosen at its first read (None: the
    primary)."""

    __slots__ = ("chosen", "replica")

    def __init__(self) -> None:
        self.chosen = False
        self.replica: Replica | None = None


class DatabaseDown(Problem, StoreUnavailable):
    """The database cannot be reached now: a 503 with Retry-After for a client, StoreUnavailable for the CLI."""

    def __init__(self, detail: str) -> None:
        super().__init__(503, detail, headers={"Retry-After": RETRY_AFTER_S})


def _refusal(exc: psycopg2.Error) -> Problem | None:
    """The problem for a write the server refused for its data (a key stored already, a broken rule, a value the
    checks let through that its column cannot hold), whether at the statement or at COMMIT; None for any other
    error."""
    if isinstance(exc, psycopg2.errors.UniqueViolation):
        return Problem(409, f"already exists: {exc.diag.message_detail or exc.diag.message_primary}; "
                            "nothing was written")
    if isinstance(exc, psycopg2.errors.IntegrityError):
        return Problem(422, f"breaks a rule of the store: {exc.diag.message_primary}; nothing was written")
    if isinstance(exc, psycopg2.errors.DataError):
        return Problem(422, f"a value the store cannot hold: {exc.diag.message_primary}; nothing was written")
    return None


@contextmanager
def _closing_cursor(conn: psycopg2.extensions.connection) -> Iterator[psycopg2.extensions.cursor]:
    """A cursor closed after use, unless its connection is gone: closing it then would raise "cursor already closed"
    in place of the error that says why (the server went away)."""
    cur = conn.cursor()
    try:
        yield cur
    finally:
        if not conn.closed:
            cur.close()


def iter_chunks_of(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    """Rows of any iterable in lists of ``size``."""
    chunk: list[Sequence[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _copy_text(value: Any) -> str:
    """One value in COPY's text format (``\\N`` for NULL, backslash escapes)."""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return utc(value).isoformat()
    return copy_value(value)


_COPY_SPECIAL = ("\\", "\t", "\n", "\r")


def _copy_field(value: Any) -> str:
    """:func:`_copy_text` with the common kinds first: a bulk write of many rows spends its time here."""
    kind = type(value)
    if kind is float or kind is int:
        return repr(value)
    if kind is str:
        return copy_value(value) if any(c in value for c in _COPY_SPECIAL) else value
    if kind is datetime and value.tzinfo is not None:
        return value.isoformat()  # the offset goes with it
    return _copy_text(value)


_EWKB_POINT = struct.Struct("<BIIdd")  # little-endian; type Point with the SRID flag; SRID; x; y
_EWKB_POINT_SRID = 0x20000001


def _ewkb_hex(geoms: list[Any]) -> list[str]:
    """Hex EWKB (SRID 4326, 2D), which the typed geometry column insists on. One report's point is packed here
    (a fifth of the time shapely's array call takes for one); batches go through shapely in one call."""
    if len(geoms) == 1 and isinstance(geoms[0], Point) and not geoms[0].is_empty:
        return [_EWKB_POINT.pack(1, _EWKB_POINT_SRID, 4326, geoms[0].x, geoms[0].y).hex()]
    shapes = np.fromiter(geoms, dtype=object, count=len(geoms))
    return shapely.to_wkb(shapely.set_srid(shapes, 4326), hex=True, output_dimension=2, include_srid=True).tolist()


def _row_values(columns: Sequence[str], records: Sequence[Any]) -> list[list[Any]]:
    """Each record's values in ``columns`` order, geometry as hex EWKB (SRID 4326) and ``extra`` as JSON text."""
    values_of = operator.attrgetter(*columns)
    rows = [list(values_of(record)) for record in records]
    if "geom" in columns:
        at = columns.index("geom")
        for row, ewkb in zip(rows, _ewkb_hex([row[at] for row in rows]), strict=True):
            row[at] = ewkb
    if "extra" in columns:
        at = columns.index("extra")
        for row in rows:
            row[at] = json.dumps(row[at], ensure_ascii=False, sort_keys=True)
    return rows


@functools.cache
def _insert_columns(layer: str) -> tuple[str, ...]:
    """The columns a write fills: every field of the layer's record (staff ids are given by the database)."""
    return tuple(c for c in field_names(RECORD_TYPES[layer]) if not (layer == "grid_staff" and c == "id"))


TRANSITION_ROW_BYTES = 1024
"""Memory to allow per row of a COPY into incidents for the summary trigger's transition table (rows are ~500 B)."""
TRANSITION_MAX_BYTES = 256 << 20
"""... up to this much; a larger COPY's transition table spills to a temporary file, as it would anyway."""


@contextmanager
def _summed_by_statement(cur: psycopg2.extensions.cursor, rows: int = 0) -> Iterator[None]:
    """Around a COPY into incidents: its rows are summed into the per-day summary by the statement trigger, in one
    pass sorted by key, not by the row trigger one at a time (postgis_schema.BY_STATEMENT).

    Given the COPY's ``rows``, work_mem is raised for it so that the trigger's transition table stays in memory:
    beyond work_mem (4 MB by default) it spills to a temporary file, which the summary's queries then read back
    three times.
    """
    cur.execute(f"SET LOCAL {BY_STATEMENT} = 'on'")
    wanted_kb, before_kb = min(rows * TRANSITION_ROW_BYTES, TRANSITION_MAX_BYTES) >> 10, 0
    if wanted_kb:
        cur.execute("SELECT setting::bigint FROM pg_settings WHERE name = 'work_mem'")  # kB
        before_kb = int(cur.fetchone()[0])
    if wanted_kb > before_kb:
        cur.execute("SELECT set_config('work_mem', %s, true)", (f"{wanted_kb}kB",))
    yield  # a COPY that fails aborts the transaction (or its savepoint), and the settings with it: no finally
    cur.execute(f"SET LOCAL {BY_STATEMENT} = 'off'")  # later INSERTs of this transaction: row by row again
    if wanted_kb > before_kb:
        cur.execute("SELECT set_config('work_mem', %s, true)", (f"{before_kb}kB",))


@functools.cache
def _insert_at_commit_sql(layer: str) -> str:
    """The INSERT of one record left for the COMMIT (a report's incident) in portable SQL (``?`` placeholders),
    every column the record fills."""
    columns = _insert_columns(layer)
    quoted = ", ".join(f'"{c}"' for c in columns)  # the record's field names
    return f"INSERT INTO {layer} ({quoted}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608


@functools.cache
def _prepared(query: str) -> tuple[str, str, str]:
    """A fixed statement in portable SQL (``?`` placeholders, no ``?`` elsewhere) as a prepared statement: its name,
    its PREPARE (``$n`` placeholders; sent without parameters, so ``%`` is itself) and its EXECUTE (psycopg2
    placeholders). The name comes from the text, so every process and session gives one statement the same."""
    name = f"mapserver_{hashlib.blake2b(query.encode('utf-8'), digest_size=8).hexdigest()}"
    body, count = query, query.count("?")
    for k in range(1, count + 1):
        body = body.replace("?", f"${k}", 1)
    arguments = f' ({", ".join(["%s"] * count)})' if count else ""
    return name, f'PREPARE "{name}" AS {body}', f'EXECUTE "{name}"{arguments}'


def _qmarks(query: str) -> str:
    """Portable SQL uses ``?`` placeholders; psycopg2 wants ``%s`` (and ``%%`` for a literal percent)."""
    return query.replace("%", "%%").replace("?", "%s")


def _column_sql(layer: str) -> sql.Composed:
    parts = [
        sql.SQL("ST_AsBinary(geom) AS geom") if name == "geom" else sql.SQL("{}::text AS {}").format(
            sql.Identifier(name), sql.Identifier(name)) if name == "extra" else sql.Identifier(name)
        for name in field_names(RECORD_TYPES[layer])
    ]
    return sql.SQL(", ").join(parts)


class PostGISDatabase(Database):
    """PostgreSQL with PostGIS 3 (``postgresql://user:pw@host:port/db``)."""

    kind = "postgis"
    grouping_sets = True
    percentile_aggregate = True
    array_parameters = True
    month_partitions = True
    lateral_json = True
    mvt_sql = True

    def __init__(self, url: str, *, pool_max: int = 8, connect_timeout_s: int = 5, read_urls: Sequence[str] = (),
                 max_replica_lag_s: float = 5.0) -> None:
        self.url = url
        self.pool_max = pool_max
        self.connect_timeout_s = connect_timeout_s
        self._pool: psycopg2.pool.ThreadedConnectionPool | None = None
        self._pool_pid = 0
        self._pool_lock = threading.Lock()
        # Threads beyond pool_max wait here for a free connection instead of failing at once.
        self._slots = threading.BoundedSemaphore(pool_max)
        self._local = threading.local()
        self._statements: dict[tuple[str, str], str] = {}
        self._tokens = TokenCache(url, connect_timeout_s=connect_timeout_s)  # connects on first use
        self._replicas = ReadReplicas(read_urls, self._wal_position, max_lag_s=max_replica_lag_s, pool_max=pool_max,
                                      connect_timeout_s=connect_timeout_s) if read_urls else None
        with self._cursor() as cur:  # fail now, with the URL, rather than on the first request
            cur.execute("SELECT 1")

    # -- connections ------------------------------------------------------------

    def _get_pool(self) -> psycopg2.pool.ThreadedConnectionPool:
        with self._pool_lock:
            if self._pool is None or self._pool_pid != os.getpid():
                # After a fork the parent's sockets are not ours: start a fresh pool, leave theirs alone.
                try:
                    self._pool = psycopg2.pool.ThreadedConnectionPool(
                        0, self.pool_max, self.url, connect_timeout=self.connect_timeout_s,
                        application_name="mapserver", connection_factory=LazyBeginConnection,
                    )
                except psycopg2.Error as exc:
                    raise DatabaseDown(f"cannot connect to {self.display_url}: {str(exc).strip()}") from None
                # psycopg2 keeps at most ``minconn`` idle connections and closes every other one given back;
                # created with 0 (so none is opened before it is needed), it must still keep them all, or
                # every checkout pays a new connection and a new backend (PostGIS loaded afresh).
                self._pool.minconn = self.pool_max
                self._pool_pid = os.getpid()
                self._slots = threading.BoundedSemaphore(self.pool_max)
            return self._pool

    def _checkout(self, *, begin: bool = True) -> psycopg2.extensions.connection:
        """A pooled connection in autocommit mode (we send BEGIN and COMMIT ourselves), holding a slot.

        With ``begin`` it is checked first (:func:`server_closed`, no round trip) and its transaction starts with
        its first statement (:mod:`mapserver.store.postgis_connection`).
        """
        pool = self._get_pool()
        if not self._slots.acquire(timeout=self.connect_timeout_s):
            raise Problem(503, "all database connections are busy; try again", headers={"Retry-After": "1"})
        try:
            return self._working_connection(pool) if begin else self._pooled_connection(pool)
        except BaseException:
            self._slots.release()
            raise

    def _pooled_connection(self, pool: psycopg2.pool.ThreadedConnectionPool) -> psycopg2.extensions.connection:
        try:
            conn = pool.getconn()
        except psycopg2.Error as exc:
            raise DatabaseDown(f"cannot connect to {self.display_url}: {str(exc).strip()}") from None
        if not conn.autocommit:  # a new connection, in no transaction yet
            conn.autocommit = True
            try:
                with conn.cursor() as cur:  # this store's INSERTs are single reports: summed row by row
                    cur.execute(f"SET {BY_STATEMENT} = 'off'")
            except psycopg2.Error as exc:
                pool.putconn(conn, close=True)
                raise DatabaseDown(f"cannot connect to {self.display_url}: {str(exc).strip()}") from None
        return conn

    def _release(self, conn: psycopg2.extensions.connection) -> None:
        conn.begin_pending = False
        self._get_pool().putconn(conn, close=bool(conn.closed))
        self._slots.release()

    def _working_connection(self, pool: psycopg2.pool.ThreadedConnectionPool) -> psycopg2.extensions.connection:
        for _ in range(self.pool_max + 1):
            conn = self._pooled_connection(pool)
            if not server_closed(conn):  # else the server dropped it (a restart): try another
                conn.begin_pending = True
                return conn
            pool.putconn(conn, close=True)
        raise DatabaseDown(f"no working connection to {self.display_url}")

    def read(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        replica = self._replica_for_read()
        if replica is not None:
            answered, rows = self._on_replica(replica, lambda cur: (cur.execute(_qmarks(query), list(params)),
                                                                     cur.fetchall())[1])
            if answered:
                return rows
        # Alone, the statement is its own liveness check: on a connection the server dropped it fails before
        # doing anything, so it is run once more on a fresh connection (safe for a read, never done for writes).
        if getattr(self._local, "conn", None) is not None:
            with self._local.conn.cursor() as cur:
                cur.execute(_qmarks(query), list(params))
                return cur.fetchall()
        for attempt in (1, 2):
            conn = self._checkout(begin=False)
            try:
                with conn.cursor() as cur:
                    cur.execute(_qmarks(query), list(params))
                    return cur.fetchall()
            except _LOST as exc:
                conn.close()
                if attempt == 2:
                    raise DatabaseDown(f"the database is unavailable: {str(exc).strip()}") from None
            except psycopg2.Error as exc:
                raise self._problem_of(exc) from None
            finally:
                self._release(conn)
        raise AssertionError("unreachable")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if getattr(self._local, "conn", None) is not None:
            yield  # nested: the outer transaction commits
            return
        conn = self._checkout()
        self._local.conn, self._local.bumps, self._local.at_commit = conn, set(), []
        try:
            yield
        except BaseException as exc:
            if isinstance(exc, psycopg2.errors.ReadOnlySqlTransaction):
                conn.close()  # a standby where the primary was: the pool connects afresh, finding the primary
            self._roll_back(conn)
            raise
        else:
            self._commit(conn, sorted(self._local.bumps), self._local.at_commit)
        finally:
            self._local.conn, self._local.bumps, self._local.at_commit = None, set(), []
            self._release(conn)

    @staticmethod
    def _roll_back(conn: psycopg2.extensions.connection) -> None:
        """ROLLBACK after an error; the error that got us here is the one to report, so a dead connection is
        only closed (and never handed out again)."""
        if conn.closed:
            return
        if conn.begin_pending:  # nothing was sent: nothing to roll back
            conn.begin_pending = False
            return
        try:
            with conn.cursor() as cur:
                cur.execute("ROLLBACK")
        except psycopg2.Error:
            conn.close()

    def _commit(self, conn: psycopg2.extensions.connection, bumps: Sequence[str] = (),
                at_commit: Sequence[tuple[str, Sequence[Any]]] = ()) -> None:
        """COMMIT, with the writes left for it (:meth:`execute_at_commit`) and then the version bumps of the
        transaction sent in the same round trip just before it.

        A bump updates one row per layer that every writer of the layer updates: held from the bump to the end
        of the transaction, its lock would queue concurrent reports behind each other's remaining statements
        (and behind their Python, waiting for the GIL). Sent with COMMIT, it is held for the commit alone. The
        layers come sorted, so two transactions never wait on each other's rows in opposite orders. A write
        left for the COMMIT saves a round trip of its own (a report's incident, event and audit record).
        """
        bump = _prepared(_BUMP)[2]
        statement = "".join(f"{query}; " for query, _ in at_commit) + "".join(f"{bump}; " for _ in bumps) + "COMMIT"
        params = [value for _, values in at_commit for value in values] + list(bumps)
        if conn.begin_pending and statement == "COMMIT":  # the transaction ran nothing: no round trip at all
            conn.begin_pending = False
            return
        try:
            with conn.cursor() as cur:
                try:
                    cur.execute(statement, params or None)
                except psycopg2.errors.InFailedSqlTransaction:  # an error inside was caught: nothing committed
                    cur.execute("ROLLBACK")
                    ended = "ROLLBACK"
                else:
                    ended = cur.statusmessage
        except psycopg2.Error as exc:
            # Ended by the server (a shutdown, a crash: SQLSTATE 57P…, 08…) or lost on the way: in an unknown state.
            if conn.closed or exc.pgcode is None or exc.pgcode.startswith(("57P", "08")):
                conn.close()  # in an unknown state now: never hand it out again
                # A commit that fails this way may or may not have landed: the client must not take it as stored.
                raise DatabaseDown(f"the write failed at commit and may not have been stored; retry it (with the "
                                   f"same Idempotency-Key): {str(exc).strip()}") from None
            # The server refused a bump or the COMMIT and is still there (a lock or statement timeout, a deferred
            # rule, a full disk): nothing was committed. End the transaction, so the pooled connection is not
            # handed out again inside an aborted one.
            self._roll_back(conn)
            refused = _refusal(exc)
            if refused is not None:
                raise refused from None
            raise Problem(503, f"the write could not be committed ({str(exc).strip()}); nothing was written; try "
                               "again", headers={"Retry-After": RETRY_AFTER_S}) from None
        if ended != "COMMIT":  # a statement failed inside and its error was caught: the server rolled back
            raise Problem(409, "the write was rolled back by the database after an error inside it; nothing was "
                               "written")

    @contextmanager
    def _cursor(self) -> Iterator[psycopg2.extensions.cursor]:
        """A cursor in the current transaction, or in a short one of its own; DB errors become problems."""
        try:
            if getattr(self._local, "conn", None) is not None:
                with _closing_cursor(self._local.conn) as cur:
                    yield cur
                return
            with self.transaction(), _closing_cursor(self._local.conn) as cur:
                yield cur
        except psycopg2.Error as exc:
            raise self._problem_of(exc) from None

    @staticmethod
    def _problem_of(exc: psycopg2.Error) -> Exception:
        """What a database error means for the client: a refusal for its data (409/422), the database unavailable
        (503), a standby where the primary was (503: the pool finds the primary on the next connection), else
        the error itself."""
        refused = _refusal(exc)
        if refused is not None:
            return refused
        if isinstance(exc, _LOST) and not isinstance(exc, psycopg2.errors.QueryCanceled):  # a time-out is no loss
            return DatabaseDown(f"the database is unavailable: {str(exc).strip()}")
        if isinstance(exc, psycopg2.errors.ReadOnlySqlTransaction):
            return DatabaseDown(f"the database answering is read-only (a standby, not the primary): "
                                f"{str(exc).strip()}; try again")
        return exc

    # -- where reads go ---------------------------------------------------------

    @contextmanager
    def stale_reads(self) -> Iterator[None]:
        if self._replicas is None or getattr(self._local, "stale", None) is not None:
            yield  # no standbys, or nested: the outer block chose
            return
        self._local.stale = _StaleBlock()
        try:
            yield
        finally:
            self._local.stale = None

    @contextmanager
    def primary_reads(self) -> Iterator[None]:
        self._local.primary = getattr(self._local, "primary", 0) + 1
        try:
            yield
        finally:
            self._local.primary -= 1

    def _wal_position(self) -> int:
        """The primary's WAL position written so far (bytes), the yardstick of the standbys' lag."""
        with self._cursor() as cur:  # never a standby: _cursor is the primary's
            cur.execute(PRIMARY_SQL)
            return int(cur.fetchone()[0])

    def replica_lags(self) -> dict[str, float | None]:
        return {} if self._replicas is None else self._replicas.lags()

    def _replica_for_read(self) -> Replica | None:
        """The standby to answer a read now, or None (the primary): one only within :meth:`stale_reads`, outside a
        transaction and :meth:`primary_reads`; chosen at the block's first read and kept for the block."""
        block = getattr(self._local, "stale", None)
        if (block is None or getattr(self._local, "conn", None) is not None
                or getattr(self._local, "primary", 0)):
            return None
        if not block.chosen:
            block.replica, block.chosen = self._replicas.choose(), True  # type: ignore[union-attr]
        return block.replica

    def _on_replica(self, replica: Replica, work: Callable[[psycopg2.extensions.cursor], Any]) -> tuple[bool, Any]:
        """``(True, work(cursor))`` on the standby; ``(False, None)`` when the standby failed, after which the rest
        of the block reads from the primary (its data is at least as new as anything the standby gave)."""
        try:
            return True, replica.run(work)
        except ReplicaFailed as exc:
            log.warning("a read moves to the primary: %s", exc)
            self._local.stale.replica = None
            return False, None
        except psycopg2.Error as exc:
            raise self._problem_of(exc) from None

    def _reading(self, work: Callable[[psycopg2.extensions.cursor], Any]) -> Any:
        """``work(cursor)`` for a read: on the standby :meth:`_replica_for_read` gives, else (or should it fail)
        in the current transaction or one of its own on the primary."""
        replica = self._replica_for_read()
        if replica is not None:
            answered, result = self._on_replica(replica, work)
            if answered:
                return result
        with self._cursor() as cur:
            return work(cur)

    def close(self) -> None:
        self._tokens.close()
        if self._replicas is not None:
            self._replicas.close()
        with self._pool_lock:
            if self._pool is not None and self._pool_pid == os.getpid():
                self._pool.closeall()
            self._pool = None

    # -- schema -----------------------------------------------------------------

    def ping(self) -> tuple[int, int | None]:
        with self.transaction(), self._cursor() as cur:  # one connection answers both
            cur.execute("SELECT pg_backend_pid()")
            backend = int(cur.fetchone()[0])
            return self.schema_version(), backend

    def schema_version(self) -> int:
        with self._cursor() as cur:
            return stored_version(cur, self.display_url)

    def migrate(self, *, target: int | None = None) -> int:
        return upgrade(self._cursor, MIGRATIONS, target=target, where=self.display_url)

    # -- layers -----------------------------------------------------------------

    def insert(self, layer: str, records: Sequence[Any]) -> int:
        columns = _insert_columns(layer)
        with self._cursor() as cur:
            if len(records) == 1:  # one report: a plain INSERT costs the server less than a COPY
                cur.execute(self._statement(cur, "insert", layer), _row_values(columns, records)[0])
            else:
                # One COPY however many rows: one statement, so the summary triggers lock their rows in one
                # sorted pass (no deadlock with concurrent writers), and the text is made a batch at a time.
                batches = ("".join("\t".join(map(_copy_text, values)) + "\n" for values in _row_values(columns, batch))
                           for batch in iter_chunks(records, COPY_BATCH))
                with _summed_by_statement(cur):
                    cur.copy_expert(self._statement(cur, "copy", layer), CopyText(batches), size=1 << 16)
        return len(records)

    def copy_incident_columns(self, batches: Iterator[IncidentBatch], rows: int) -> int:
        # One COPY, as for records (the summary triggers then lock their rows in one sorted pass); a batch large
        # next to the table rebuilds the secondary indexes instead of updating them row by row (postgis_indexes).
        columns = _insert_columns("incidents")
        with self._cursor() as cur:
            # A savepoint, so that after a refused COPY (a stored id, a batch that raised) the transaction can
            # still be read in (the importer then words the refusal), with its indexes and without the lock.
            cur.execute("SAVEPOINT mapserver_copy")
            dropped = drop_secondary_indexes(cur) if rebuild_wanted(cur, rows) else []
            # Binary COPY carries text as UTF-8 bytes, which the server reads in the client's encoding.
            kinds = binary_kinds(cur, columns) if cur.connection.encoding == "UTF8" else None
            counted = CountedBatches(batches)
            if kinds is None:
                stream = CopyText(copy_pieces(counted, columns))
                statement = self._statement(cur, "copy", "incidents")
            else:
                stream = CopyText(binary_pieces(counted, columns, kinds))
                statement = self._statement(cur, "copy binary", "incidents")
            try:
                with _summed_by_statement(cur, rows):
                    cur.copy_expert(statement, stream, size=1 << 16)
            except psycopg2.Error:
                if cur.closed or cur.connection.closed:  # the server went away: that error says why
                    raise
                cur.execute("ROLLBACK TO SAVEPOINT mapserver_copy")
                if stream.error is not None:  # the batches raised: that, not psycopg2's QueryCanceled
                    raise stream.error from None
                raise
            cur.execute("RELEASE SAVEPOINT mapserver_copy")
            create_indexes(cur, dropped)
        return counted.rows

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                  key: Sequence[str] = ()) -> int:
        def pieces() -> Iterator[str]:
            for chunk in iter_chunks_of(rows, COPY_BATCH):
                yield "".join("\t".join(map(_copy_field, values)) + "\n" for values in chunk)

        names = sql.SQL(", ").join(map(sql.Identifier, columns))
        # COPY cannot skip a stored key: with one, the rows land in a temporary table of the session (emptied at
        # each commit) and go on by INSERT … ON CONFLICT DO NOTHING.
        stage = sql.Identifier(f"{table}_stage") if key else sql.Identifier(table)
        with self._cursor() as cur:
            if key:
                cur.execute(sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DELETE ROWS AS "
                                    "SELECT {} FROM {} WITH NO DATA").format(stage, names, sql.Identifier(table)))
            stream = CopyText(pieces())
            try:
                cur.copy_expert(sql.SQL("COPY {} ({}) FROM STDIN").format(stage, names), stream, size=1 << 16)
            except psycopg2.errors.QueryCanceled:
                if stream.error is not None:  # the rows raised: that, not psycopg2's QueryCanceled
                    raise stream.error from None
                raise
            if not key:
                return cur.rowcount
            cur.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) DO NOTHING").format(
                sql.Identifier(table), names, names, stage, sql.SQL(", ").join(map(sql.Identifier, key))))
            written = cur.rowcount
            cur.execute(sql.SQL("DELETE FROM {}").format(stage))  # a second write of the transaction starts empty
            return written

    def _statement(self, cur: psycopg2.extensions.cursor, kind: str, layer: str) -> str:
        """The INSERT (with placeholders) or COPY statement for a layer, composed once per process."""
        cached = self._statements.get((kind, layer))
        if cached is None:
            columns = sql.SQL(", ").join(map(sql.Identifier, _insert_columns(layer)))
            if kind.startswith("copy"):
                binary = sql.SQL(" (FORMAT binary)" if kind == "copy binary" else "")
                statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(sql.Identifier(layer), columns, binary)
            else:
                marks = sql.SQL(", ").join(sql.Placeholder() for _ in _insert_columns(layer))
                statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(sql.Identifier(layer), columns, marks)
            cached = self._statements[(kind, layer)] = statement.as_string(cur)
        return cached

    def _where_sql(self, bbox: BBox | None, where: dict[str, Any],
                   conditions: Sequence[Condition]) -> tuple[sql.Composable, list[Any]]:
        clauses: list[sql.Composable] = []
        params: list[Any] = []
        for column, value in where.items():
            clauses.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
        for text, values in conditions:
            clauses.append(sql.SQL("({})").format(sql.SQL(_qmarks(text))))
            params += list(values)
        if bbox is not None:
            clauses.append(sql.SQL("ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"))
            params += list(bbox)
        if not clauses:
            return sql.SQL(""), params
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses), params

    def select(self, layer: str, *, bbox: BBox | None, where: dict[str, Any], limit: int | None,
               offset: int, conditions: Sequence[Condition] = (), order_by: str | None = None) -> list[Any]:
        tail, params = self._where_sql(bbox, where, conditions)
        statement = sql.SQL("SELECT {} FROM {} t{} ORDER BY {} LIMIT %s OFFSET %s").format(
            _column_sql(layer), sql.Identifier(layer), tail, sql.SQL(order_sql(layer, order_by)))

        def work(cur: psycopg2.extensions.cursor) -> list[Any]:
            cur.execute(statement, [*params, limit, offset])
            names = [d.name for d in cur.description]
            return [record_from_row(layer, dict(zip(names, row, strict=True))) for row in cur.fetchall()]

        return self._reading(work)

    def count(self, layer: str, *, bbox: BBox | None, where: dict[str, Any],
              conditions: Sequence[Condition] = ()) -> int:
        tail, params = self._where_sql(bbox, where, conditions)
        statement = sql.SQL("SELECT count(*) FROM {} t{}").format(sql.Identifier(layer), tail)
        return self._reading(lambda cur: (cur.execute(statement, params), int(cur.fetchone()[0]))[1])

    def delete(self, layer: str, keys: Sequence[Any]) -> int:
        with self._cursor() as cur:
            cur.execute(sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(
                sql.Identifier(layer), sql.Identifier(KEYS[layer])), (keys,))
            return cur.rowcount

    def count_table(self, table: str) -> int:
        statement = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        return self._reading(lambda cur: (cur.execute(statement), int(cur.fetchone()[0]))[1])

    def extent(self, layer: str, where: dict[str, Any], conditions: Sequence[Condition] = ()) -> BBox | None:
        tail, params = self._where_sql(None, where, conditions)
        statement = sql.SQL("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                            "(SELECT ST_Extent(geom) AS e FROM {} t{}) s").format(sql.Identifier(layer), tail)
        row = self._reading(lambda cur: (cur.execute(statement, params), cur.fetchone())[1])
        return None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))

    def data_version(self, layer: str) -> int:
        # Within stale_reads, from the block's standby like the rows read after it: an answer kept or tagged by
        # this version then never holds rows older than the version says.
        row = self._reading(lambda cur: (cur.execute("SELECT sum(version) FROM data_versions WHERE layer = %s",
                                                     (layer,)), cur.fetchone())[1])
        pending = layer in (getattr(self._local, "bumps", None) or ())  # this transaction's bump, sent at COMMIT
        return (int(row[0]) if row[0] is not None else 0) + pending

    def bump_version(self, layer: str) -> None:
        # In a transaction the bump goes with its COMMIT (see _commit); alone, in a transaction of its own.
        conn = getattr(self._local, "conn", None)
        if conn is None:
            with self.transaction():
                self.bump_version(layer)
            return
        self._prepare_once(conn, _BUMP)
        self._local.bumps.add(layer)

    def insert_at_commit(self, layer: str, record: Any) -> None:
        # Sent with the COMMIT, as a prepared statement (_prepare_once): with the report's event and version bump,
        # a report without an Idempotency-Key is one round trip.
        self.execute_at_commit(_insert_at_commit_sql(layer), _row_values(_insert_columns(layer), [record])[0])

    # -- portable SQL -----------------------------------------------------------

    def fetch(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        # A write with RETURNING may come here too: on a standby it is refused as read-only, and runs on the primary.
        return self._reading(lambda cur: (cur.execute(_qmarks(query), list(params)), cur.fetchall())[1])

    def execute(self, query: str, params: Sequence[Any] = ()) -> int:
        with self._cursor() as cur:
            cur.execute(_qmarks(query), list(params))
            return cur.rowcount

    def execute_at_commit(self, query: str, params: Sequence[Any] = ()) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            self.execute(query, params)
            return
        self._local.at_commit.append((self._prepare_once(conn, query), list(params)))

    @staticmethod
    def _prepare_once(conn: psycopg2.extensions.connection, query: str) -> str:
        """PREPARE a statement the COMMIT carries (portable SQL, ``?`` placeholders) once per session; the
        EXECUTE that runs it. Parsed and planned once, a report's INSERTs, its audit record and the version bump
        cost the server less at every write than the same statements sent as text.
        PREPARE outlives a rolled-back transaction, so it is never sent twice on one session."""
        name, prepare, execute = _prepared(query)
        if name not in conn.prepared:
            with conn.cursor() as cur:
                cur.execute(prepare)
            conn.prepared.add(name)
        return execute

    def in_grid_area(self, layer: str, code: str) -> Condition:
        # The grid's polygon is read once for the statement (an InitPlan), and the layer's GiST index finds the
        # rows whose boxes meet it before the exact test.
        return "ST_Intersects(geom, (SELECT a.geom FROM grids a WHERE a.code = ?))", (code,)

    def box_condition(self, layer: str, bbox: BBox) -> Condition:
        # As select() tests a bbox: exactly, the GiST index finding the candidates.
        return "ST_Intersects(t.geom, ST_MakeEnvelope(?, ?, ?, ?, 4326))", tuple(bbox)

    def near_condition(self, layer: str, lon: float, lat: float, radius_m: float) -> Condition:
        # The box finds candidates by the GiST index; the sphere distance is exact (both as SQLite measures).
        return ("geom && ST_MakeEnvelope(?, ?, ?, ?, 4326) "
                "AND ST_DistanceSphere(geom, ST_SetSRID(ST_MakePoint(?, ?), 4326)) <= ?",
                (*box_around(lon, lat, radius_m), lon, lat, radius_m))

    def like_condition(self, column: str, pattern: str) -> Condition:
        return f"{column} LIKE ?", (pattern,)  # PostgreSQL's LIKE: case-sensitive, backslash escapes, as CQL2's

    def relate_condition(self, layer: str, relation: str, wkb: bytes) -> Condition:
        function = RELATIONS[relation]  # ST_Intersects and its kin use the GiST index where they can
        return f"{function}(t.geom, ST_GeomFromWKB(?, 4326))", (psycopg2.Binary(wkb),)

    @contextmanager
    def time_limit(self, seconds: float) -> Iterator[None]:
        try:
            with self.transaction():
                with self._cursor() as cur:  # for this transaction only
                    cur.execute("SELECT set_config('statement_timeout', %s, true)", (f"{int(seconds * 1000)}ms",))
                yield
        except psycopg2.errors.QueryCanceled:
            raise Problem(400, f"the query took longer than the {seconds:g} s a read may run and was stopped; "
                               "narrow it (a bbox, a time window, fewer conditions)", param="filter") from None

    def wkb_sql(self, column: str) -> str:
        return f"ST_AsBinary({column})"

    def point_sql(self, column: str) -> tuple[str, str]:
        return f"ST_X({column})", f"ST_Y({column})"

    def seconds_between(self, start: str, end: str) -> str:
        return f"EXTRACT(EPOCH FROM ({end} - {start}))"

    def duration_bucket_sql(self, end: str) -> str:
        return f"incident_duration_bucket(date_part('epoch', {end} - reported_at))"  # the schema's own function

    def token_memo(self) -> TokenMemo:
        return self._tokens
