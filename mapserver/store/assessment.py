"""The figures of the monthly assessment of grid workers (网格员考核) in portable SQL: who is assessed, their cases
of a window from the incidents' timeline, their patrols' planned and visited stops, and the kept measures of their
finished days on patrol.

The people assessed are the enabled accounts of role ``field`` (grid workers) whose own grid lies in the asker's
jurisdiction (and in ``grid`` when one is asked for): every query below keeps to them by a subquery on
``accounts``, so a district of thousands of workers is never sent back as a list of names. Times are UTC; the
window is [since, until). A timeline entry's ``actor`` is the account's name for what a person did logged in
(:func:`mapserver.auth.request_actor`); the index on (actor, at) of schema version 7 finds a person's month.

``track_days`` keeps one row per person and local day (a date, in ``incidents.timezone``): fixes, metres walked,
seconds moving and seconds inside the person's own grid (None: no grid), computed from the fixes by
:func:`mapserver.tracks.measures.day_measures` when a finished day is first asked for
(:mod:`mapserver.assessment.days`). Column names in the SQL below are written here, never taken from a request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.model import SATISFIED
from mapserver.store.common import utc
from mapserver.store.database import Database
from mapserver.store.scoping import SUBTREE_SQL, subtree_sql

WORKER_ROLE = "field"
PLAN_CHUNK = 500  # plan ids per IN list
DAY_COLUMNS = ("person", "day", "fixes", "distance_m", "moving_s", "in_grid_s")


@dataclass(frozen=True)
class Worker:
    """A grid worker assessed: account name, name shown and own grid (its code)."""

    name: str
    display_name: str
    grid_code: str | None


@dataclass(frozen=True)
class CaseFigures:
    """A person's cases of the window: reports made, handlings made (and those by the case's ``due_at``), cases
    they handled that an unsatisfied follow-up (回访) reopened, and those cases' latest follow-ups (followed up,
    satisfied or basically satisfied)."""

    reported: int = 0
    handled: int = 0
    handled_on_time: int = 0
    reopened: int = 0
    followed_up: int = 0
    satisfied: int = 0


@dataclass(frozen=True)
class DaySummary:
    """A person's measures of one local day: fixes, metres walked, seconds moving, seconds inside their own grid
    (None: they have none)."""

    person: str
    day: date
    fixes: int
    distance_m: float
    moving_s: float
    in_grid_s: float | None


@dataclass(frozen=True)
class StopFigures:
    """A person's patrols after a saved plan, begun in the window: the plans' stops, and the stops checked in at."""

    patrols: int = 0
    planned: int = 0
    visited: int = 0


@dataclass(frozen=True)
class WorkerScope:
    """Whom an assessment covers: the grid workers of ``within``, narrowed to ``grid``'s subtree and to
    ``person`` when given."""

    within: Jurisdiction = WHOLE
    grid: str | None = None
    person: str | None = None

    def sql(self, column: str) -> tuple[str, tuple[Any, ...]]:
        """A condition (starting with AND): the account named by ``column`` is one of these workers."""
        # Fixed SQL texts; codes and names go in as parameters.
        text = (f" AND {column} IN (SELECT a.name FROM accounts a WHERE a.role = '{WORKER_ROLE}' "
                "AND a.disabled_at IS NULL")
        params: list[Any] = []
        if not self.within.whole:
            text += f" AND a.grid_code IN ({subtree_sql(self.within)})"
            params.append(self.within.code)
        if self.grid is not None:
            text += f" AND a.grid_code IN ({SUBTREE_SQL})"
            params.append(self.grid)
        if self.person is not None:
            text += " AND a.name = ?"
            params.append(self.person)
        return text + ")", tuple(params)


class AssessmentFigures:
    """Counts per grid worker for the monthly assessment, and the kept day measures."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def workers(self, scope: WorkerScope) -> list[Worker]:
        """The grid workers ``scope`` covers, by name."""
        cond, params = scope.sql("x.name")
        rows = self._db.read(f"SELECT x.name, x.display_name, x.grid_code FROM accounts x WHERE 1 = 1{cond} "
                             "ORDER BY x.name", params)
        return [Worker(name=r[0], display_name=r[1] or "", grid_code=r[2]) for r in rows]

    def cases(self, scope: WorkerScope, since: datetime, until: datetime) -> dict[str, CaseFigures]:
        """Each worker's :class:`CaseFigures` of [since, until) (UTC); workers without any are left out.

        A handling is on time when made at or before the case's ``due_at`` (a case without one has nothing to be
        late for). Reopened and follow-ups count the distinct cases the person handled in the window, whatever
        happened to them later: reopened when an unsatisfied follow-up came after the person's handling; the
        follow-up read is each case's latest."""
        cond, params = scope.sql("e.actor")
        window = (utc(since), utc(until))
        satisfied = ", ".join(f"'{s}'" for s in SATISFIED)  # written here, not from a request
        out: dict[str, dict[str, int]] = {}

        def put(rows: list[tuple[Any, ...]], *names: str) -> None:
            for actor, *values in rows:
                out.setdefault(actor, {}).update({n: int(v or 0) for n, v in zip(names, values, strict=True)})

        put(self._db.read("SELECT e.actor, count(*) FROM incident_events e WHERE e.action = 'report' "
                          f"AND e.at >= ? AND e.at < ?{cond} GROUP BY e.actor", (*window, *params)), "reported")
        put(self._db.read("SELECT e.actor, count(*), sum(CASE WHEN i.due_at IS NULL OR e.at <= i.due_at "
                          "THEN 1 ELSE 0 END) FROM incident_events e JOIN incidents i ON i.id = e.incident_id "
                          f"WHERE e.action = 'handle' AND e.at >= ? AND e.at < ?{cond} GROUP BY e.actor",
                          (*window, *params)), "handled", "handled_on_time")
        put(self._db.read(
            "SELECT e.actor, count(DISTINCT e.incident_id) FROM incident_events e WHERE e.action = 'handle' "
            f"AND e.at >= ? AND e.at < ?{cond} AND EXISTS (SELECT 1 FROM incident_events f "
            "WHERE f.incident_id = e.incident_id AND f.seq > e.seq AND f.action = 'follow_up' "
            f"AND f.satisfaction IS NOT NULL AND f.satisfaction NOT IN ({satisfied})) GROUP BY e.actor",
            (*window, *params)), "reopened")
        put(self._db.read(
            "SELECT h.actor, count(*), "
            f"sum(CASE WHEN f.satisfaction IN ({satisfied}) THEN 1 ELSE 0 END) "
            "FROM (SELECT DISTINCT e.actor, e.incident_id FROM incident_events e WHERE e.action = 'handle' "
            f"AND e.at >= ? AND e.at < ?{cond}) h "
            "JOIN incident_events f ON f.incident_id = h.incident_id AND f.seq = (SELECT max(g.seq) "
            "FROM incident_events g WHERE g.incident_id = h.incident_id AND g.action = 'follow_up') "
            "GROUP BY h.actor", (*window, *params)), "followed_up", "satisfied")
        return {actor: CaseFigures(**values) for actor, values in out.items()}

    def stops(self, scope: WorkerScope, since: datetime, until: datetime) -> dict[str, StopFigures]:
        """Each worker's :class:`StopFigures` over the patrols after a plan begun in [since, until) (UTC)."""
        cond, params = scope.sql("s.person")
        rows = self._db.read(
            "SELECT s.person, s.plan_id, (SELECT count(*) FROM patrol_checkins c WHERE c.session_id = s.id) "
            f"FROM patrol_sessions s WHERE s.plan_id IS NOT NULL AND s.started_at >= ? AND s.started_at < ?{cond}",
            (utc(since), utc(until), *params))
        planned = self._plan_stops({r[1] for r in rows})
        out: dict[str, StopFigures] = {}
        for person, plan_id, visited in rows:
            found = out.get(person, StopFigures())
            out[person] = StopFigures(patrols=found.patrols + 1, planned=found.planned + planned.get(plan_id, 0),
                                      visited=found.visited + int(visited))
        return out

    def _plan_stops(self, plan_ids: set[str]) -> dict[str, int]:
        """Plan id → how many stops the saved plan has."""
        ids, out = sorted(plan_ids), {}
        for k in range(0, len(ids), PLAN_CHUNK):
            chunk = ids[k:k + PLAN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            for plan_id, plan in self._db.read(f"SELECT id, plan FROM patrol_plans WHERE id IN ({marks})", chunk):
                body = json.loads(plan) if isinstance(plan, str) else plan  # SQLite keeps text; psycopg2 decodes
                out[plan_id] = len(body.get("stops") or ())
        return out

    # -- kept day measures ----------------------------------------------------------------------------------

    def days(self, people: Sequence[str] | WorkerScope, first: date, last: date) -> dict[tuple[str, date],
                                                                                         DaySummary]:
        """The kept measures of the days ``first`` … ``last`` (both inclusive) of ``people`` (names, or the workers
        of a scope), by (person, day)."""
        if isinstance(people, WorkerScope):
            cond, params = people.sql("d.person")
        else:
            if not people:
                return {}
            cond, params = f" AND d.person IN ({', '.join('?' * len(people))})", tuple(people)
        rows = self._db.read("SELECT d.person, d.day, d.fixes, d.distance_m, d.moving_s, d.in_grid_s FROM track_days d "
                             f"WHERE d.day >= ? AND d.day <= ?{cond}", (first.isoformat(), last.isoformat(), *params))
        out = {}
        for person, day, fixes, distance, moving, in_grid in rows:
            when = day if isinstance(day, date) else date.fromisoformat(str(day))
            out[(person, when)] = DaySummary(person, when, int(fixes), float(distance), float(moving),
                                             None if in_grid is None else float(in_grid))
        return out

    def keep_days(self, summaries: Iterable[DaySummary]) -> int:
        """Keep the measures of finished days by the backend's bulk path (a district's first ask of a month keeps
        thousands); a day kept already stays as it is. Return how many were new."""
        rows = ((s.person, s.day.isoformat(), s.fixes, s.distance_m, s.moving_s, s.in_grid_s) for s in summaries)
        with self._db.transaction():
            return self._db.copy_rows("track_days", DAY_COLUMNS, rows, key=("person", "day"))
