"""The figures of the unit scorecards (单位考评) in portable SQL: per unit, street or community, over the incidents
reported in a window, grouped by the database (one GROUP BY over incidents, one over their returns).

A case counts in the window it was reported in (``reported_at`` in [since, until), UTC), whenever it closed, so a
window's figures do not change once its cases are settled. Returns (返单) are the timeline's ``return`` entries of
those cases: per unit they are charged to the unit that held the case when it returned it (the entry's own unit,
else the latest unit the timeline gave the case before it); per grid, to the case's grid. Everything runs inside
the asker's jurisdiction. Column names in the SQL below are written here, never taken from a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.model import SATISFIED
from mapserver.store.database import Database
from mapserver.store.incidents import OPEN, within_and

GROUPINGS = {"unit": "unit", "street": "grid_l1", "community": "grid_l2"}
"""What a scorecard may be by → the incidents' column it groups on."""


@dataclass(frozen=True)
class Figures:
    """One row's counts over the window (rates are worked out by :mod:`mapserver.incidents.scorecards`)."""

    key: str  # the unit's name or the grid's code
    cases: int = 0  # reported in the window (per unit: held by the unit now)
    closed: int = 0
    closed_on_time: int = 0  # closed at or before due_at
    overdue_open: int = 0  # still open and past due_at at ``now``
    followed_up: int = 0  # with a follow-up (回访) of their latest closing
    satisfied: int = 0  # … whose result was satisfied or basically satisfied
    reopened: int = 0  # cases reopened at least once
    reopen_count: int = 0  # reopenings in all
    returns: int = 0  # return (返单) entries


class ScorecardFigures:
    """Counts per unit, street or community for the scorecards."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def figures(self, *, by: str, since: datetime, until: datetime, now: datetime,
                within: Jurisdiction = WHOLE) -> list[Figures]:
        """The :class:`Figures` of every unit (``by="unit"``), street or community with a case reported in
        [since, until) inside ``within``, or a return of one; rows without a unit or grid are left out.
        Sorted by key."""
        if by not in GROUPINGS:
            raise ValueError(f"by must be one of {', '.join(GROUPINGS)}, got {by!r}")
        column = GROUPINGS[by]
        scope_sql, scope_params = within_and(within)
        satisfied = ", ".join(f"'{s}'" for s in SATISFIED)  # written here, not from a request
        rows = self._db.read(
            f"SELECT {column}, count(*), "
            "sum(CASE WHEN status = 'closed' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN status = 'closed' AND closed_at <= due_at THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN {OPEN} AND due_at < ? THEN 1 ELSE 0 END), "
            f"count(satisfaction), sum(CASE WHEN satisfaction IN ({satisfied}) THEN 1 ELSE 0 END), "
            "sum(CASE WHEN reopen_count > 0 THEN 1 ELSE 0 END), sum(reopen_count) "
            f"FROM incidents WHERE reported_at >= ? AND reported_at < ? AND {column} IS NOT NULL{scope_sql} "
            f"GROUP BY {column}",
            [now, since, until, *scope_params])
        out = {str(r[0]): Figures(str(r[0]), *(int(v or 0) for v in r[1:])) for r in rows}
        for key, returns in self._returns(column, since, until, scope_sql, scope_params).items():
            found = out.get(key, Figures(key))
            out[key] = Figures(**{**found.__dict__, "returns": returns})
        return [out[key] for key in sorted(out)]

    def _returns(self, column: str, since: datetime, until: datetime, scope_sql: str,
                 scope_params: list) -> dict[str, int]:
        """Return entries per unit (the one holding the case then) or per the case's grid."""
        if column == "unit":
            # The entry names a unit only when one was given; else the unit the timeline last gave the case.
            charged = ("COALESCE(e.unit, (SELECT p.unit FROM incident_events p WHERE p.incident_id = e.incident_id "
                       "AND p.seq < e.seq AND p.unit IS NOT NULL AND p.action <> 'report_in' "
                       "ORDER BY p.seq DESC LIMIT 1))")
        else:
            charged = f"i.{column}"
        rows = self._db.read(
            f"SELECT charged, count(*) FROM (SELECT {charged} AS charged FROM incident_events e "
            "JOIN incidents i ON i.id = e.incident_id WHERE e.action = 'return' "
            f"AND i.reported_at >= ? AND i.reported_at < ?{scope_sql}) returned "
            "WHERE charged IS NOT NULL GROUP BY charged",
            [since, until, *scope_params])
        return {str(key): int(n) for key, n in rows}
