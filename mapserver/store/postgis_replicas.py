"""Standbys that serve the reads which tolerate a little staleness (``store.read_url``), each skipped while it lags.

PostgreSQL's streaming replication keeps each standby a copy of the primary, some milliseconds behind. A read that
may be that old (the wall, heat, hotspots, measures, the OGC API, exports) can be answered by a standby and spare
the primary, which takes every write. This module holds, per process, one connection pool per standby and what it
last learnt of each one's lag; :class:`~mapserver.store.postgis.PostGISDatabase` decides which reads come here.

* **Lag**, in seconds, is measured on the standby at most once a second (:data:`CHECK_EVERY_S`): 0 while it has
  replayed all the WAL it received and its WAL receiver is streaming; else the age of the last transaction it
  replayed (``now() - pg_last_xact_replay_timestamp()``). A standby whose receiver has stopped is not known to
  be current, so it counts as that age too. A standby further behind than ``store.max_replica_lag_s`` serves
  nothing until it catches up; one that cannot be reached is left alone for a second. A standby that was
  promoted is a primary: lag 0.
* **A read that fails on a standby** for the standby's sake (the connection lost, a query cancelled by a recovery
  conflict, a statement only a primary can run) raises :class:`ReplicaFailed`, and the caller runs it on the
  primary.

Reading ``pg_stat_wal_receiver`` needs a superuser or a member of ``pg_read_all_stats``; for another user a
standby counts as lagging by the age of its last replayed transaction (idle primary: reads go to the primary).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Callable, Sequence
from time import monotonic
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.pool

from mapserver.store.database import mask_url
from mapserver.store.postgis_connection import server_closed

CHECK_EVERY_S = 1.0
"""Seconds between two measurements of one standby's lag by one process."""
DOWN_FOR_S = 1.0
"""Seconds a standby that could not be reached is left alone before it is tried again."""

LAG_SQL = """
SELECT CASE
  WHEN NOT pg_is_in_recovery() THEN 0.0
  WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
       AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 0.0
  ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
END"""
"""The standby's lag in seconds (NULL: it has replayed nothing since it started and is not caught up)."""

# Failures that are the standby's, not the query's: the read is run on the primary instead. OperationalError covers
# a lost connection and the cancellations of a recovery conflict (SQLSTATE 40001, 57014); a statement only a
# primary can run (a write that came here) is refused as read-only.
_STANDBY_FAILURES = (psycopg2.OperationalError, psycopg2.InterfaceError, psycopg2.errors.ReadOnlySqlTransaction,
                     psycopg2.pool.PoolError)

T = TypeVar("T")
log = logging.getLogger(__name__)


class ReplicaFailed(Exception):
    """The standby could not answer this read; run it on the primary."""


def split_hosts(url: str) -> list[str]:
    """One URL per host of a libpq multi-host URL (``postgresql://u@h1:5432,h2:5432/db?…``), in order, each with
    the user, database and parameters: every standby is measured and chosen on its own."""
    parts = urlsplit(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if "," not in hosts:
        return [url]
    return [urlunsplit(parts._replace(netloc=f"{userinfo}{at}{host}")) for host in hosts.split(",") if host]


class Replica:
    """One standby: its pool in this process and what was last measured of its lag."""

    def __init__(self, url: str, *, pool_max: int, connect_timeout_s: int) -> None:
        self.url, self.pool_max, self.connect_timeout_s = url, pool_max, connect_timeout_s
        self.display_url = mask_url(url)
        self.lag_s: float | None = None  # None: unknown or unreachable
        self.checked_at = float("-inf")
        self.down_until = float("-inf")
        self._pool: psycopg2.pool.ThreadedConnectionPool | None = None
        self._pool_pid = 0
        self._lock = threading.Lock()
        self._checking = threading.Lock()

    def usable(self, max_lag_s: float) -> bool:
        """Whether this standby may serve a read now: reachable and at most ``max_lag_s`` behind, measured within
        the last :data:`CHECK_EVERY_S` (one thread measures; the others take the last measurement)."""
        now = monotonic()
        if now < self.down_until:
            return False
        if now - self.checked_at >= CHECK_EVERY_S and self._checking.acquire(blocking=False):
            try:
                self.lag_s = self._measure()
            finally:
                self.checked_at = monotonic()
                self._checking.release()
        return self.lag_s is not None and self.lag_s <= max_lag_s

    def run(self, work: Callable[[psycopg2.extensions.cursor], T]) -> T:
        """``work(cursor)`` on a connection of this standby, alone (autocommit); :class:`ReplicaFailed` when the
        standby, not the query, failed. Errors of the query itself are raised as they are."""
        conn = self._checkout()
        try:
            with conn.cursor() as cur:
                return work(cur)
        except _STANDBY_FAILURES as exc:
            if conn.closed or isinstance(exc, psycopg2.InterfaceError):
                self._unreachable()
            raise ReplicaFailed(f"{self.display_url}: {str(exc).strip()}") from exc
        finally:
            self._release(conn)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None and self._pool_pid == os.getpid():
                self._pool.closeall()
            self._pool = None

    # -- connections ----------------------------------------------------------------

    def _get_pool(self) -> psycopg2.pool.ThreadedConnectionPool:
        with self._lock:
            if self._pool is None or self._pool_pid != os.getpid():  # after a fork: a pool of this process's own
                self._pool = psycopg2.pool.ThreadedConnectionPool(
                    0, self.pool_max, self.url, connect_timeout=self.connect_timeout_s,
                    application_name="mapserver replica reads")
                self._pool.minconn = self.pool_max  # keep every connection given back (see PostGISDatabase)
                self._pool_pid = os.getpid()
            return self._pool

    def _checkout(self) -> psycopg2.extensions.connection:
        try:
            pool = self._get_pool()
            for _ in range(self.pool_max + 1):
                conn = pool.getconn()
                if not server_closed(conn):
                    conn.autocommit = True
                    return conn
                pool.putconn(conn, close=True)
        except psycopg2.pool.PoolError as exc:  # every connection of this standby is busy: the primary answers
            raise ReplicaFailed(f"{self.display_url}: {exc}") from None
        except psycopg2.Error as exc:
            self._unreachable()
            raise ReplicaFailed(f"{self.display_url}: {str(exc).strip()}") from None
        self._unreachable()
        raise ReplicaFailed(f"{self.display_url}: no working connection")

    def _release(self, conn: psycopg2.extensions.connection) -> None:
        pool = self._pool
        if pool is not None and self._pool_pid == os.getpid():
            pool.putconn(conn, close=bool(conn.closed))

    def _unreachable(self) -> None:
        self.lag_s, self.down_until = None, monotonic() + DOWN_FOR_S

    def _measure(self) -> float | None:
        try:
            row = self.run(lambda cur: (cur.execute(LAG_SQL), cur.fetchone())[1])
        except (ReplicaFailed, psycopg2.Error) as exc:
            log.warning("standby %s serves no reads: %s", self.display_url, str(exc).strip())
            self._unreachable()
            return None
        return None if row[0] is None else max(0.0, float(row[0]))


class ReadReplicas:
    """The standbys of ``store.read_url`` for one store, taken in turn among those usable now."""

    def __init__(self, urls: Sequence[str], *, max_lag_s: float, pool_max: int, connect_timeout_s: int) -> None:
        self.max_lag_s = max_lag_s
        self.replicas = [Replica(url, pool_max=pool_max, connect_timeout_s=connect_timeout_s)
                         for given in urls for url in split_hosts(given)]
        self._turn = itertools.count()

    def choose(self) -> Replica | None:
        """A standby that may serve reads now (each in turn), or None: the primary answers."""
        usable = [replica for replica in self.replicas if replica.usable(self.max_lag_s)]
        if not usable:
            return None
        return usable[next(self._turn) % len(usable)]

    def lags(self) -> dict[str, float | None]:
        """Each standby's last measured lag in seconds (None: unknown or unreachable), by its masked URL."""
        return {replica.display_url: replica.lag_s for replica in self.replicas}

    def close(self) -> None:
        for replica in self.replicas:
            replica.close()

