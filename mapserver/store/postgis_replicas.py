"""Standbys that serve the reads which tolerate a little staleness (``store.read_url``), each skipped while it lags.

PostgreSQL's streaming replication keeps each standby a copy of the primary, some milliseconds behind. A read that
may be that old (the wall, heat, hotspots, measures, the OGC API, exports) can be answered by a standby and spare
the primary, which takes every write. This module holds, per process, one connection pool per standby and what it
last learnt of each one's lag; :class:`~mapserver.store.postgis.PostGISDatabase` decides which reads come here.

* **Lag**, in seconds, is how long ago the primary was where the standby is now: at most once a second
  (:data:`CHECK_EVERY_S`) the process reads the standby's replayed position (``pg_last_wal_replay_lsn()``) and
  then the primary's (``pg_current_wal_lsn()``), and keeps the primary's positions of the last minutes
  (:class:`PrimaryPositions`). A standby that has replayed what the primary had is 0 behind; else it is as far
  behind as the newest kept position it has not passed, to within a second; one behind every kept position is
  of unknown lag. (The age of the last replayed transaction, ``pg_last_xact_replay_timestamp()``, would measure
  the time since the primary's previous commit whenever a new one is on its way, and a standby cut off from the
  primary would look current.) A standby further behind than ``store.max_replica_lag_s``, or of unknown lag,
  serves nothing until it catches up; one that cannot be reached is left alone for a second; one promoted is a
  primary: 0 behind. While the primary cannot be asked, the last position read stands.
* **A read that fails on a standby** for the standby's sake (the connection lost, a query cancelled by a recovery
  conflict, a statement only a primary can run) raises :class:`ReplicaFailed`, and the caller runs it on the
  primary.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections import deque
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

REPLAYED_SQL = "SELECT pg_is_in_recovery(), (pg_last_wal_replay_lsn() - '0/0')::bigint"
"""Whether the server is a standby, and the WAL position (bytes) it has replayed."""
PRIMARY_SQL = "SELECT (pg_current_wal_lsn() - '0/0')::bigint"
"""The primary's WAL position (bytes) written so far."""

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


class PrimaryPositions:
    """The primary's WAL positions as read by this process, with when (monotonic seconds), for ``keep_s`` seconds
    and one more: the yardstick of every standby's lag."""

    def __init__(self, read_position: Callable[[], int], *, keep_s: float) -> None:
        self._read_position, self.keep_s = read_position, keep_s
        self._samples: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def lag_of(self, replayed: int) -> float | None:
        """Seconds the standby that has replayed up to ``replayed`` is behind: the primary's position is read now
        (unless read within the last half second), after the standby's. None: behind everything kept."""
        self._sample()
        now = monotonic()
        with self._lock:
            if not self._samples:
                return None
            if replayed >= self._samples[-1][1]:
                return 0.0
            for taken, position in reversed(self._samples):
                if position <= replayed:
                    return now - taken
        return None

    def _sample(self) -> None:
        with self._lock:
            if self._samples and monotonic() - self._samples[-1][0] < CHECK_EVERY_S / 2:
                return
        try:
            position = self._read_position()
        except Exception as exc:  # the primary cannot be asked now: the last position read stands
            log.warning("the primary's WAL position cannot be read (%s); standbys are measured against the last "
                        "one read", str(exc).strip())
            return
        now = monotonic()
        with self._lock:
            self._samples.append((now, position))
            while len(self._samples) > 2 and self._samples[1][0] < now - self.keep_s:
                self._samples.popleft()  # the oldest kept is the one just older than keep_s


class Replica:
    """One standby: its pool in this process and what was last measured of its lag."""

    def __init__(self, url: str, positions: PrimaryPositions, *, pool_max: int, connect_timeout_s: int) -> None:
        self.url, self.pool_max, self.connect_timeout_s = url, pool_max, connect_timeout_s
        self.positions = positions
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
            in_recovery, replayed = self.run(lambda cur: (cur.execute(REPLAYED_SQL), cur.fetchone())[1])
        except (ReplicaFailed, psycopg2.Error) as exc:
            log.warning("standby %s serves no reads: %s", self.display_url, str(exc).strip())
            self._unreachable()
            return None
        if not in_recovery:
            return 0.0  # promoted: a primary itself
        return None if replayed is None else self.positions.lag_of(int(replayed))


class ReadReplicas:
    """The standbys of ``store.read_url`` for one store, taken in turn among those usable now."""

    def __init__(self, urls: Sequence[str], primary_position: Callable[[], int], *, max_lag_s: float, pool_max: int,
                 connect_timeout_s: int) -> None:
        self.max_lag_s = max_lag_s
        positions = PrimaryPositions(primary_position, keep_s=max_lag_s + 2 * CHECK_EVERY_S)
        self.replicas = [Replica(url, positions, pool_max=pool_max, connect_timeout_s=connect_timeout_s)
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

