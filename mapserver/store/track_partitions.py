"""The monthly partitions of PostGIS's positions table, made when a write first needs a month.

``positions`` is partitioned by range of ``t`` (UTC calendar months): the partition of month M is
``positions_YYYY_MM``, from M's first instant (UTC) up to the next month's. A batch names the months it
touches; the missing ones are made in a short transaction of their own before the batch is written, under an
advisory lock, so two writers needing the same new month make it once and neither fails. Each process remembers
the months it has seen, so a batch of a known month costs no round trip.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime

from mapserver.store.database import Database

PARTITION_LOCK = "hashtext('mapserver_positions_partitions')"


def month_key(t: datetime) -> tuple[int, int]:
    """(year, month) of a UTC instant."""
    t = t.astimezone(UTC)
    return t.year, t.month


def partition_name(year: int, month: int) -> str:
    """The table holding the fixes of one UTC month."""
    return f"positions_{year:04d}_{month:02d}"


def _bounds(year: int, month: int) -> tuple[str, str]:
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}-01 00:00:00+00", f"{following[0]:04d}-{following[1]:02d}-01 00:00:00+00"


class MonthPartitions:
    """The months whose partitions exist, as far as this process knows, and the making of the others."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._known: set[tuple[int, int]] = set()
        self._lock = threading.Lock()

    def ensure(self, months: Iterable[tuple[int, int]]) -> list[str]:
        """Make the partitions of ``months`` that do not exist yet; return the names of those made here."""
        if not self._db.month_partitions:
            return []
        with self._lock:
            wanted = sorted(set(months) - self._known)
        if not wanted:
            return []
        made = []
        with self._db.transaction():
            # One maker at a time: a second writer waits here, then finds the table and makes nothing.
            self._db.execute(f"SELECT pg_advisory_xact_lock({PARTITION_LOCK})")
            for year, month in wanted:
                name = partition_name(year, month)
                if self._db.fetch("SELECT to_regclass(?) IS NULL", (name,))[0][0]:
                    start, end = _bounds(year, month)
                    # Name and bounds are made above from two integers: nothing from a request.
                    self._db.execute(f"CREATE TABLE {name} PARTITION OF positions "
                                     f"FOR VALUES FROM ('{start}') TO ('{end}')")
                    made.append(name)
        with self._lock:
            self._known.update(wanted)
        return made
