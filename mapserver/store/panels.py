"""The wall's panels in portable SQL: the newest incidents, incidents per local day, and the window's counts by
category, source and status.

Every statement carries the asker's jurisdiction (:func:`~mapserver.store.incidents.within_condition`) and a
range of ``reported_at`` that its index selects; the grouping happens in the database, so the rows returned grow
with the days, categories and sources, not with the incidents. Times are UTC; days are given by their starts
(UTC instants of local midnights), so a day is whatever the caller's time zone says it is. Column names in the SQL
below are written here, never taken from a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.model import Incident
from mapserver.store.common import where_sql
from mapserver.store.database import Database
from mapserver.store.incidents import within_condition

DAY_S = 86_400


@dataclass(frozen=True)
class Tally:
    """Incidents of one (category, source, status) in a window, and how many of them were closed on time."""

    category: str
    source: str
    status: str
    incidents: int
    closed_on_time: int


class PanelFigures:
    """What the wall's panels read of incidents."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def latest(self, *, limit: int, within: Jurisdiction = WHOLE) -> list[Incident]:
        """The ``limit`` incidents reported last in ``within``, newest first (the reported_at index, read
        backwards)."""
        return self._db.select("incidents", bbox=None, where={}, limit=limit, offset=0,
                               conditions=within_condition(within), order_by="-reported_at")

    def grid_names(self, codes: Sequence[str]) -> dict[str, str]:
        """Grid code → name for the codes given (unknown codes are left out)."""
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        rows = self._db.read(f"SELECT code, name FROM grids WHERE code IN ({', '.join('?' for _ in wanted)})",
                             wanted)
        return {str(code): str(name) for code, name in rows}

    def day_counts(self, *, day_starts: Sequence[datetime], within: Jurisdiction = WHOLE) -> list[int]:
        """Incidents reported in each day [day_starts[k], day_starts[k + 1]) in ``within``: one count per day, so
        one fewer than ``day_starts`` (increasing UTC instants).

        One grouped statement over the whole range. Days of 24 h each (a zone without daylight saving, as China's)
        are numbered by arithmetic on the seconds since the first start; otherwise a CASE over the starts does it.
        """
        if len(day_starts) < 2 or any(a >= b for a, b in pairwise(day_starts)):
            raise ValueError("day_starts must be at least two increasing instants")
        days = len(day_starts) - 1
        first, end = day_starts[0], day_starts[-1]
        if all((b - a).total_seconds() == DAY_S for a, b in pairwise(day_starts)):
            index, index_params = f"floor({self._db.seconds_between('?', 'reported_at')} / {DAY_S}.0)", [first]
        else:
            index = f"CASE {' '.join(f'WHEN reported_at < ? THEN {k}' for k in range(days - 1))} ELSE {days - 1} END"
            index_params = list(day_starts[1:-1])
        clause, params = where_sql([*within_condition(within), ("reported_at >= ? AND reported_at < ?", (first, end))])
        rows = self._db.read(f"SELECT {index}, count(*) FROM incidents{clause} GROUP BY 1",
                             [*index_params, *params])
        counts = [0] * days
        for k, n in rows:
            counts[int(k)] += int(n)
        return counts

    def tallies(self, *, since: datetime, until: datetime | None = None,
                within: Jurisdiction = WHOLE) -> list[Tally]:
        """Incidents reported in [since, until) (no ``until``: since ``since``) in ``within`` per (category,
        source, status), with those closed by their due time, in one grouped statement."""
        window = ("reported_at >= ?", (since,)) if until is None else \
            ("reported_at >= ? AND reported_at < ?", (since, until))
        clause, params = where_sql([*within_condition(within), window])
        rows: list[tuple[Any, ...]] = self._db.read(
            "SELECT category, source, status, count(*), "
            "sum(CASE WHEN status = 'closed' AND closed_at <= due_at THEN 1 ELSE 0 END) "
            f"FROM incidents{clause} GROUP BY category, source, status", params)
        return [Tally(str(c), str(s), str(st), int(n), int(k or 0)) for c, s, st, n, k in rows]
