"""Cameras and their liveness, in portable SQL: listings by the status a camera has now, heartbeats, all cameras,
the farthest range.

A camera that reported ``online`` but has sent no heartbeat for ``offline_after_s`` seconds counts as offline
(:func:`mapserver.cameras.effective_status` says the same of one camera in Python). Each method takes ``within``,
a jurisdiction: only its cameras (:mod:`mapserver.store.scoping`) are listed or take heartbeats. Times are UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from mapserver.errors import Problem
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.model import Camera
from mapserver.store.common import Condition, check_bbox, iter_chunks, utc, where_sql
from mapserver.store.database import Database
from mapserver.store.scoping import scope_conditions

CHUNK = 500  # codes per statement: well under SQLite's limit on bound parameters
STALE_ONLINE_SQL = "status = 'online' AND last_seen IS NOT NULL AND last_seen < ?"
"""SQL: an online camera whose last heartbeat is older than the cut-off (``now - offline_after_s``)."""


def status_condition(status: str, *, now: datetime, offline_after_s: int) -> Condition:
    """SQL condition (``?`` placeholders) selecting cameras whose effective status is ``status``."""
    cutoff = now - timedelta(seconds=offline_after_s)
    if status == "online":
        return f"status = 'online' AND NOT ({STALE_ONLINE_SQL})", (cutoff,)
    if status == "offline":
        return f"status = 'offline' OR ({STALE_ONLINE_SQL})", (cutoff,)
    return "status = ?", (status,)


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class Cameras:
    """Cameras by the status they have now, and their heartbeats."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def query(self, *, bbox: Sequence[float] | None = None, status: str | None = None, now: datetime,
              offline_after_s: int, limit: int | None = None, offset: int = 0,
              within: Jurisdiction = WHOLE) -> tuple[list[Camera], int]:
        """Cameras in ``within`` and ``bbox`` whose status at ``now`` is ``status`` (stale heartbeats count as
        offline), by code; and how many match in all."""
        box = check_bbox(bbox)
        conditions = scope_conditions(self._db, "cameras", within)
        if status:
            conditions.append(status_condition(status, now=now, offline_after_s=offline_after_s))
        found = self._db.select("cameras", bbox=box, where={}, limit=limit, offset=offset, conditions=conditions)
        return found, self._db.count("cameras", bbox=box, where={}, conditions=conditions)

    def heartbeats(self, codes: Sequence[str], *, at: datetime, within: Jurisdiction = WHOLE) -> int:
        """Record a heartbeat at ``at`` for each camera: last seen then, online unless marked faulty.

        All or nothing: any unknown code, or the code of a camera outside ``within``, is a 404 listing those codes
        (both as "no such camera": a jurisdiction does not learn what lies beyond it).
        """
        unique = sorted(set(codes))
        scope = scope_conditions(self._db, "cameras", within)
        with self._db.transaction():  # checked and written in one transaction: what was checked is what is written
            known: set[str] = set()
            for chunk in iter_chunks(unique, CHUNK):
                clause, params = where_sql([(f"t.code IN ({_marks(len(chunk))})", tuple(chunk)), *scope])
                known |= {row[0] for row in self._db.fetch(f"SELECT t.code FROM cameras t{clause}", params)}
            missing = [code for code in unique if code not in known]
            if missing:
                raise Problem(404, f"{len(missing)} unknown camera code(s); nothing was recorded", param="code",
                              errors=[{"code": code, "reason": "no such camera"} for code in missing[:100]])
            if not unique:
                return 0
            for chunk in iter_chunks(unique, CHUNK):
                self._db.execute("UPDATE cameras SET last_seen = ?, "
                                 "status = CASE WHEN status = 'fault' THEN status ELSE 'online' END "
                                 f"WHERE code IN ({_marks(len(chunk))})", (utc(at), *chunk))
            self._db.bump_version("cameras")
        return len(unique)

    def all(self, *, within: Jurisdiction = WHOLE) -> list[Camera]:
        """Every camera in ``within``, by code (status as imported; the caller decides what counts as online
        now)."""
        return self._db.select("cameras", bbox=None, where={}, limit=None, offset=0,
                               conditions=scope_conditions(self._db, "cameras", within))

    def max_range_m(self) -> float | None:
        """The farthest any stored camera sees, in metres (None when no camera has a range): an index lookup."""
        found = self._db.read("SELECT MAX(range_m) FROM cameras")
        return None if not found or found[0][0] is None else float(found[0][0])
