"""For a batch of incidents large next to the table: the secondary indexes of ``incidents`` dropped before its
COPY and built again after it, inside the same transaction.

PostgreSQL spends most of a large COPY into ``incidents`` keeping its secondary
indexes: building them afresh over the whole table costs less per row than
keeping them up to date row by row, the GiST index most (BENCHMARKS.md).
So when a batch holds at least :data:`REBUILD_SHARE` times the rows the table holds
(and at least :data:`REBUILD_MIN_ROWS`), the indexes that back no constraint are
dropped before the COPY and created again from their own definitions
(``pg_get_indexdef``) after it. DDL is transactional: a refused import leaves them
as they were. Below that share the rebuild saves too little to be worth the lock
below.

The lock: dropping an index takes an ACCESS EXCLUSIVE lock on ``incidents`` until the
import commits, so readers of incidents (the wall, the measures, reports) wait for the
whole import meanwhile. The lock is therefore asked for
with a timeout (:data:`LOCK_TIMEOUT`): when readers hold the table that long, the
import keeps the indexes and writes through them instead. The primary key always
stays (it refuses a duplicate id, and incident_events refers to it).
"""

from __future__ import annotations

import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

REBUILD_SHARE = 1.0
"""Rebuild the secondary indexes when a batch holds at least this many times the rows of the table."""
REBUILD_MIN_ROWS = 20_000
"""... and at least this many rows: below, keeping the indexes costs about a second at most."""
LOCK_TIMEOUT = "5s"
"""How long a rebuilding import waits for readers to leave incidents before it keeps the indexes instead."""


def rebuild_wanted(cur: psycopg2.extensions.cursor, rows: int) -> bool:
    """Whether a batch of ``rows`` is large enough next to incidents to rebuild the secondary indexes."""
    if rows < REBUILD_MIN_ROWS:
        return False
    # Counted, not estimated (pg_class.reltuples lags, and counts rows a rolled-back write left), but only as far
    # as the answer needs: at most rows / REBUILD_SHARE + 1 rows are read.
    most = int(rows / REBUILD_SHARE)
    cur.execute("SELECT count(*) FROM (SELECT 1 FROM incidents LIMIT %s) AS held", (most + 1,))
    return int(cur.fetchone()[0]) <= most


def drop_secondary_indexes(cur: psycopg2.extensions.cursor) -> list[tuple[str, str]]:
    """Drop the indexes of incidents that back no constraint, in the current transaction; their (name,
    definition) pairs, to create them again. Nothing is dropped (and [] returned) when incidents cannot be
    locked within :data:`LOCK_TIMEOUT`."""
    cur.execute("SHOW lock_timeout")
    before = cur.fetchone()[0]
    cur.execute("SAVEPOINT mapserver_rebuild")
    try:
        cur.execute("SET LOCAL lock_timeout = %s", (LOCK_TIMEOUT,))
        cur.execute("LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE")
    except (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected):  # e.g. another large import
        cur.execute("ROLLBACK TO SAVEPOINT mapserver_rebuild")
        return []
    cur.execute("SET LOCAL lock_timeout = %s", (before,))
    cur.execute("RELEASE SAVEPOINT mapserver_rebuild")
    cur.execute("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = 'incidents'::regclass "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                "ORDER BY 1")
    indexes = [(str(name), str(definition)) for name, definition in cur.fetchall()]
    for name, _ in indexes:
        cur.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))  # a name read from the catalog, quoted there
    return indexes


def create_indexes(cur: psycopg2.extensions.cursor, indexes: list[tuple[str, str]]) -> None:
    """Create again the indexes :func:`drop_secondary_indexes` dropped, each from its own definition."""
    for _, definition in indexes:
        # A partitioned table's index reads "ON ONLY incidents" (itself, not its partitions): built whole again.
        cur.execute(definition.replace(" ON ONLY ", " ON ", 1))
