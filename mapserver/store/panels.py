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
from mapserver.store.incidents import IncidentFilter, within_and, within_condition
from mapserver.store.measures import IncidentMeasures

DAY_S = 86_400
Durations = dict[str, float | None]
"""The median and 90th percentile of a duration: ``{"median": s, "p90": s}`` in seconds, None when none."""


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
        self._measures = IncidentMeasures(database)

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

        One grouped statement over the whole range, read from the reported_at index alone. A backend that takes an
        array as one parameter (PostgreSQL) finds each row's day by binary search over the starts (``width_bucket``,
        a quarter of the time arithmetic on timestamps takes there); otherwise days of 24 h each (a zone without
        daylight saving, as China's) are numbered by arithmetic on the seconds since the first start, and days of
        other lengths by a CASE over the starts.
        """
        if len(day_starts) < 2 or any(a >= b for a, b in pairwise(day_starts)):
            raise ValueError("day_starts must be at least two increasing instants")
        days = len(day_starts) - 1
        first, end = day_starts[0], day_starts[-1]
        if self._db.array_parameters:  # width_bucket is 1 for the first day (0 before it: none here)
            index, index_params = "width_bucket(reported_at, ?) - 1", [list(day_starts)]
        elif all((b - a).total_seconds() == DAY_S for a, b in pairwise(day_starts)):
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

    def window(self, *, since: datetime, until: datetime | None = None,
               within: Jurisdiction = WHOLE) -> tuple[list[Tally], Durations, Durations]:
        """The incidents reported in [since, until) (no ``until``: since ``since``) in ``within``: their tallies per
        (category, source, status) with those closed by their due time; the median and 90th percentile of the
        seconds from report to dispatch and from report to close (``median``, ``p90``; None when none), exact.

        On PostgreSQL one statement reads the window's rows once into a CTE, then groups and ranks them; elsewhere
        the tallies are one grouped statement and the percentiles are ranked as the measures rank them.
        """
        scope, scope_params = within_and(within)
        window = "reported_at >= ?" + ("" if until is None else " AND reported_at < ?")
        params = [since, *([] if until is None else [until]), *scope_params]
        if not self._db.percentile_aggregate:
            rows = self._db.read(f"SELECT category, source, status, count(*), {ON_TIME} FROM incidents "
                                 f"WHERE {window}{scope} GROUP BY category, source, status", params)
            dispatch, close = self._measures.durations(where=IncidentFilter(since=since, until=until, within=within))
            return [_tally(row) for row in rows], dispatch, close
        # date_part gives double precision (EXTRACT gives numeric, slower to sort), exact to the microsecond.
        rows = self._db.read(
            "WITH w AS MATERIALIZED (SELECT category, source, status, "
            "CASE WHEN status = 'closed' AND closed_at <= due_at THEN 1 ELSE 0 END AS on_time, "
            "date_part('epoch', dispatched_at - reported_at) AS dispatch, "
            f"date_part('epoch', closed_at - reported_at) AS close FROM incidents WHERE {window}{scope}) "
            "SELECT category, source, status, count(*), sum(on_time), NULL, NULL FROM w "
            "GROUP BY category, source, status UNION ALL "
            "SELECT NULL, NULL, NULL, count(*), 0, "
            "percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY dispatch) FILTER (WHERE dispatch IS NOT NULL), "
            "percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY close) FILTER (WHERE close IS NOT NULL) FROM w",
            params)
        *groups, (_, _, _, _, _, dispatch_q, close_q) = rows
        return [_tally(row[:5]) for row in groups], _quantiles(dispatch_q), _quantiles(close_q)


ON_TIME = "sum(CASE WHEN status = 'closed' AND closed_at <= due_at THEN 1 ELSE 0 END)"


def _tally(row: Sequence[Any]) -> Tally:
    category, source, status, n, on_time = row
    return Tally(str(category), str(source), str(status), int(n), int(on_time or 0))


def _quantiles(values: Sequence[float] | None) -> Durations:
    return {"median": None, "p90": None} if not values else {"median": round(values[0], 3),
                                                             "p90": round(values[1], 3)}
