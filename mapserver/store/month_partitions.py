"""The monthly partitions of PostGIS's time-series tables (positions, incidents): made ahead of the writes that
need them, and old ones detached into an archive.

A table is partitioned by range of one timestamp column in UTC calendar months: the partition of month M is
``<table>_YYYY_MM``, from M's first instant (UTC) up to the next month's. A write names the months it touches; the
missing ones are made in a short transaction of their own before the write, under an advisory lock, so two
writers needing the same new month make it once and neither fails. Each process remembers the months it has seen,
so a write of a known month costs no round trip.

A table may also have a default partition (``<table>_default``, incidents have one): it takes the rows of a month
without a partition of its own, written by another client or before the server made the month. Making that month
later moves its rows out of the default partition into the new one (and the archive step first does so for every
month the default partition holds), so queries with a time window still read only their months.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from mapserver.store.database import Database

ARCHIVE_SCHEMA = "archive"
"""Where detached months go: still in the database, out of every query of the live table."""


@dataclass(frozen=True)
class MonthTable:
    """A table partitioned by UTC month of one timestamp column."""

    name: str
    column: str
    default: bool
    """Whether a default partition takes the rows of months without a partition of their own."""


POSITIONS = MonthTable("positions", "t", default=False)
INCIDENTS = MonthTable("incidents", "reported_at", default=True)


def month_key(t: datetime) -> tuple[int, int]:
    """(year, month) of a UTC instant."""
    t = t.astimezone(UTC)
    return t.year, t.month


def next_month(year: int, month: int, step: int = 1) -> tuple[int, int]:
    """The month ``step`` months after (year, month) (before it when negative)."""
    index = year * 12 + month - 1 + step
    return index // 12, index % 12 + 1


def partition_name(year: int, month: int, table: str = "positions") -> str:
    """The table holding the rows of one UTC month."""
    return f"{table}_{year:04d}_{month:02d}"


def _bounds(year: int, month: int) -> tuple[str, str]:
    following = next_month(year, month)
    return f"{year:04d}-{month:02d}-01 00:00:00+00", f"{following[0]:04d}-{following[1]:02d}-01 00:00:00+00"


class MonthPartitions:
    """The months of one table whose partitions exist, as far as this process knows, and the making of the others.
    Table and column names below are this module's own (:data:`POSITIONS`, :data:`INCIDENTS`), never a request's."""

    def __init__(self, database: Database, table: MonthTable = POSITIONS) -> None:
        self._db = database
        self._table = table
        self._known: set[tuple[int, int]] = set()
        self._lock = threading.Lock()

    @property
    def partitioned(self) -> bool:
        """Whether the backend partitions the table at all (SQLite keeps one table)."""
        return self._db.month_partitions

    def ensure(self, months: Iterable[tuple[int, int]]) -> list[str]:
        """Make the partitions of ``months`` that do not exist yet, moving their rows out of the default partition
        if any; return the names of those made here. Call it outside other transactions: the new partition is
        committed at once, and this process then takes it as made."""
        if not self._db.month_partitions:
            return []
        with self._lock:
            wanted = sorted(set(months) - self._known)
        if not wanted:
            return []
        made = []
        with self._db.transaction():
            # One maker at a time: a second writer waits here, then finds the table and makes nothing.
            self._db.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"mapserver_{self._table.name}_partitions",))
            if not self._db.fetch("SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(?))",
                                  (self._table.name,))[0][0]:
                return []  # a store not upgraded yet (its schema's version comes before the partitions)
            for year, month in wanted:
                name = partition_name(year, month, self._table.name)
                if self._db.fetch("SELECT to_regclass(?) IS NULL", (name,))[0][0]:
                    self._make(name, *_bounds(year, month))
                    made.append(name)
        with self._lock:
            self._known.update(wanted)
        return made

    def _make(self, name: str, start: str, end: str) -> None:
        # Name and bounds are made from two integers: nothing from a request.
        table, column = self._table.name, self._table.column
        if not (self._table.default and self._db.fetch(
                f"SELECT EXISTS (SELECT 1 FROM {table}_default WHERE {column} >= ? AND {column} < ?)",  # noqa: S608
                (start, end))[0][0]):
            self._db.execute(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ('{start}') TO ('{end}')")
            return
        # Rows of the month wait in the default partition: a new partition may not overlap them, so they move to
        # a table of their own, which then becomes the month's partition. Straight from partition to table, the
        # parent's statement triggers (the summary, the keys) do not fire: the rows stay counted once.
        self._db.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        self._db.execute(f"WITH moved AS (DELETE FROM {table}_default WHERE {column} >= ? AND {column} < ? "  # noqa: S608
                         f"RETURNING *) INSERT INTO {name} SELECT * FROM moved", (start, end))
        self._db.execute(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ('{start}') TO ('{end}')")

    def attached(self) -> list[tuple[int, int]]:
        """The months whose partitions are attached now, oldest first."""
        if not self._db.month_partitions:
            return []
        rows = self._db.fetch("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                              "WHERE i.inhparent = to_regclass(?)", (self._table.name,))
        pattern = re.compile(rf"{self._table.name}_(\d{{4}})_(\d{{2}})")
        return sorted((int(m[1]), int(m[2])) for (name,) in rows if (m := pattern.fullmatch(name)))

    def strays(self) -> list[tuple[int, int]]:
        """The months of the rows waiting in the default partition, oldest first."""
        if not (self._db.month_partitions and self._table.default):
            return []
        table, column = self._table.name, self._table.column
        rows = self._db.fetch(f"SELECT DISTINCT date_part('year', {column} AT TIME ZONE 'UTC')::int, "  # noqa: S608
                              f"date_part('month', {column} AT TIME ZONE 'UTC')::int FROM {table}_default")
        return sorted((int(y), int(m)) for y, m in rows)

    def detach_before(self, year: int, month: int) -> list[tuple[int, int]]:
        """Detach the partitions of the months before (year, month) and move them into the ``archive`` schema, in
        the caller's transaction; return their months. Their rows stay there, out of every query of the table."""
        if not self._db.month_partitions:
            return []
        old = [m for m in self.attached() if m < (year, month)]
        if old:
            self._db.execute(f"CREATE SCHEMA IF NOT EXISTS {ARCHIVE_SCHEMA}")
        for y, m in old:
            name = partition_name(y, m, self._table.name)
            self._db.execute(f"ALTER TABLE {self._table.name} DETACH PARTITION {name}")
            self._db.execute(f"ALTER TABLE {name} SET SCHEMA {ARCHIVE_SCHEMA}")
        with self._lock:
            self._known.difference_update(old)
        return old
