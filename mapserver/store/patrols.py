"""Saved patrol plans, shared by both backends in portable SQL (``?`` placeholders).

A plan is kept whole as JSON (``plan``: the request, stops and the route as a
GeoJSON LineString in WGS-84), beside the columns it is listed by. Times are
UTC; lengths metres; durations and budgets minutes.

A plan lies in a jurisdiction J when its planner's jurisdiction (``grid_code``)
is J or a grid below it, or when one of the grids it covers (``patrol_plan_grids``:
its area's grids, and the finest grid at its start and at each stop, as the
caller found them) is; reads by id and listings keep to ``within`` by that rule,
in their SQL. A plan saved for the whole store by the whole store lies in no
grid's jurisdiction unless it covers one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mapserver.errors import Problem
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.store.common import Condition, utc, where_sql
from mapserver.store.database import Database
from mapserver.store.scoping import subtree_sql

COLUMNS = ("id", "created_at", "created_by", "liaison", "mode", "time_window", "budget_min", "length_m",
           "duration_min")
MAX_LIST = 1000


@dataclass(frozen=True)
class PatrolPlanRow:
    """A saved plan's listing columns (``plan`` holds the whole plan when read by id)."""

    id: str
    created_at: datetime
    created_by: str
    liaison: str | None
    mode: str
    time_window: str
    budget_min: float
    length_m: float
    duration_min: float
    plan: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        """The listing columns as JSON."""
        return {"id": self.id, "created_at": self.created_at.isoformat(), "created_by": self.created_by,
                "liaison": self.liaison, "mode": self.mode, "window": self.time_window,
                "budget_min": self.budget_min, "length_m": self.length_m, "duration_min": self.duration_min}


def within_condition(within: Jurisdiction) -> list[Condition]:
    """Plans in ``within`` (none for the whole store): planned from it, or covering one of its grids."""
    if within.whole:
        return []
    # Fixed SQL texts; the code goes in as a parameter.
    subtree = subtree_sql(within)
    text = (f"patrol_plans.grid_code IN ({subtree}) OR EXISTS (SELECT 1 FROM patrol_plan_grids p "  # noqa: S608
            f"WHERE p.plan_id = patrol_plans.id AND p.grid_code IN ({subtree}))")
    return [(text, (within.code, within.code))]


def new_plan_id() -> str:
    """A fresh plan id: 32 lowercase hex digits."""
    return uuid.uuid4().hex


class PatrolPlans:
    """Saved patrol plans."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def save(self, plan: dict[str, Any], *, created_by: str, created_at: datetime, plan_id: str | None = None,
             planner_grid: str | None = None, grids: Sequence[str] = ()) -> PatrolPlanRow:
        """Keep a plan (the planner's JSON) under a new id; return its row. The plan gets ``id`` and ``created_*``.

        ``planner_grid`` is the grid of the planner's jurisdiction (None: the whole store); ``grids`` the codes of
        the grids the plan covers (its area's, and the finest at its start and stops).

        Call inside :meth:`~mapserver.store.Store.transaction` to join other writes (an audit record) in one
        commit.
        """
        for key in ("mode", "window", "budget_min", "length_m", "duration_min"):
            if key not in plan:
                raise Problem(422, f"a patrol plan needs '{key}'", param=key)
        when = utc(created_at)
        row = PatrolPlanRow(id=plan_id or new_plan_id(), created_at=when, created_by=created_by,
                            liaison=plan.get("liaison"), mode=str(plan["mode"]), time_window=str(plan["window"]),
                            budget_min=float(plan["budget_min"]), length_m=float(plan["length_m"]),
                            duration_min=float(plan["duration_min"]))
        kept = {**plan, "id": row.id, "created_at": when.isoformat(), "created_by": created_by}
        text = json.dumps(kept, ensure_ascii=False, separators=(",", ":"))
        with self._db.transaction():
            self._db.execute(f"INSERT INTO patrol_plans ({', '.join(COLUMNS)}, plan, grid_code) "  # noqa: S608
                             f"VALUES ({', '.join('?' * 11)})",
                             (row.id, row.created_at, row.created_by, row.liaison, row.mode, row.time_window,
                              row.budget_min, row.length_m, row.duration_min, text, planner_grid))
            for code in sorted(set(grids)):
                self._db.execute("INSERT INTO patrol_plan_grids (plan_id, grid_code) VALUES (?, ?)", (row.id, code))
            self._db.bump_version("patrol_plans")
        return PatrolPlanRow(**{**row.__dict__, "plan": kept})

    def get(self, plan_id: str, *, within: Jurisdiction = WHOLE) -> PatrolPlanRow | None:
        """The saved plan with this id, whole, or None (also when it lies outside ``within``)."""
        clause, params = where_sql([("id = ?", (plan_id,)), *within_condition(within)])
        query = f"SELECT {', '.join(COLUMNS)}, plan FROM patrol_plans{clause}"  # noqa: S608 - fixed columns
        rows = self._db.fetch(query, params)
        return _row(rows[0]) if rows else None

    def list(self, *, liaison: str | None = None, since: datetime | None = None, limit: int = 100,
             offset: int = 0, whole: bool = False, within: Jurisdiction = WHOLE) -> tuple[list[PatrolPlanRow], int]:
        """Saved plans in ``within``, newest first (by ``liaison``, created at or after ``since``), and how many
        match in all.

        ``whole`` reads each plan's JSON too (the map layer draws the routes).
        """
        if not isinstance(limit, int) or not 0 <= limit <= MAX_LIST:
            raise Problem(400, f"limit must be a whole number 0–{MAX_LIST}", param="limit")
        if not isinstance(offset, int) or offset < 0:
            raise Problem(400, "offset must be a whole number ≥ 0", param="offset")
        conditions = within_condition(within)
        if liaison is not None:
            conditions.append(("liaison = ?", (liaison,)))
        if since is not None:
            conditions.append(("created_at >= ?", (utc(since),)))
        where, params = where_sql(conditions)
        plan_column = ", plan" if whole else ""
        # Columns and conditions are the fixed texts above; values go in as parameters.
        rows = self._db.fetch(f"SELECT {', '.join(COLUMNS)}{plan_column} FROM patrol_plans{where} "  # noqa: S608
                              "ORDER BY created_at DESC, id LIMIT ? OFFSET ?", (*params, limit, offset))
        total = self._db.fetch(f"SELECT count(*) FROM patrol_plans{where}", params)[0][0]  # noqa: S608
        return [_row(r) for r in rows], int(total)

    def version(self) -> int:
        """A number that grows with every saved plan (caches compare it)."""
        return self._db.data_version("patrol_plans")


def _row(values: tuple[Any, ...]) -> PatrolPlanRow:
    plan = values[9] if len(values) > 9 else None
    if isinstance(plan, str):  # SQLite keeps JSON text; psycopg2 hands jsonb back decoded
        plan = json.loads(plan)
    return PatrolPlanRow(id=values[0], created_at=utc(values[1]), created_by=values[2], liaison=values[3],
                         mode=values[4], time_window=values[5], budget_min=float(values[6]),
                         length_m=float(values[7]), duration_min=float(values[8]), plan=plan)
