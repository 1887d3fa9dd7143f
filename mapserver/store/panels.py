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
class WindowFigures:
    """The incidents reported in a window: how many by category and by source, closed, closed by their due time,
    and the median and 90th percentile of the seconds from report to dispatch (``response``) and to close
    (``handling``); ``percentiles_exact`` is false when those come from the per-day summary's histograms (within
    :data:`~mapserver.store.incident_summary.RELATIVE_ERROR`)."""

    by_category: dict[str, int]
    by_source: dict[str, int]
    reports: int
    closed: int
    closed_on_time: int
    response: Durations
    handling: Durations
    percentiles_exact: bool


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

    EXACT_PERCENTILES_UP_TO = 5_000
    """Above this many incidents in a window of the whole store, the window's counts by category and status and
    its percentiles come from the per-day summary (its percentiles from histograms); only the sources are counted
    from incidents. A city's day (about 2,700 reports) is counted exactly, its week and month from the summary;
    so is a district's week (about 2,300)."""

    def window(self, *, since: datetime, until: datetime | None = None,
               within: Jurisdiction = WHOLE) -> WindowFigures:
        """The figures of the incidents reported in [since, until) (no ``until``: since ``since``) in ``within``.

        The whole store's larger windows are read from the per-day summary, plus incidents for the parts of the
        window outside whole UTC days (as :meth:`~mapserver.store.measures.IncidentMeasures.kpis` does), and one
        grouped read of the sources. Otherwise the window's rows are read once: on PostgreSQL into a CTE grouped
        and ranked in the same statement; elsewhere grouped, then ranked as the measures rank durations. Either way
        the counts are exact.
        """
        if within.whole:
            summary = self._measures.summary_window(since=since, until=until)
            if summary is not None and sum(g[3] for g in summary[0]) > self.EXACT_PERCENTILES_UP_TO:
                groups, (response, handling) = summary
                return self._from_summary(groups, self._sources(since, until), response, handling)
        return self._from_rows(since, until, within)

    def _sources(self, since: datetime, until: datetime | None) -> dict[str, int]:
        window, params = _window_sql(since, until)
        return {str(source): int(n) for source, n in self._db.read(
            f"SELECT source, count(*) FROM incidents WHERE {window} GROUP BY source", params)}

    @staticmethod
    def _from_summary(groups: Sequence[tuple[Any, ...]], sources: dict[str, int], response: Durations,
                      handling: Durations) -> WindowFigures:
        by_category: dict[str, int] = {}
        closed = on_time = 0
        for category, _severity, status, n, closed_on_time, _ in groups:
            by_category[category] = by_category.get(category, 0) + n
            closed += n if status == "closed" else 0
            on_time += closed_on_time
        return WindowFigures(by_category, sources, sum(by_category.values()), closed, on_time, response, handling,
                             percentiles_exact=False)

    def _from_rows(self, since: datetime, until: datetime | None, within: Jurisdiction) -> WindowFigures:
        window, params = _window_sql(since, until)
        scope, scope_params = within_and(within)
        params += scope_params
        if not self._db.percentile_aggregate:
            rows = self._db.read(f"SELECT category, source, status, count(*), {ON_TIME} FROM incidents "
                                 f"WHERE {window}{scope} GROUP BY category, source, status", params)
            response, handling = self._measures.durations(
                where=IncidentFilter(since=since, until=until, within=within))
        else:
            # date_part gives double precision (EXTRACT gives numeric, slower to sort), exact to the microsecond.
            *rows, (_, _, _, _, _, dispatch_q, close_q) = self._db.read(
                "WITH w AS MATERIALIZED (SELECT category, source, status, "
                "CASE WHEN status = 'closed' AND closed_at <= due_at THEN 1 ELSE 0 END AS on_time, "
                "date_part('epoch', dispatched_at - reported_at) AS dispatch, "
                f"date_part('epoch', closed_at - reported_at) AS close FROM incidents WHERE {window}{scope}) "
                "SELECT category, source, status, count(*), sum(on_time), NULL, NULL FROM w "
                "GROUP BY category, source, status UNION ALL "
                "SELECT NULL, NULL, NULL, count(*), 0, "
                f"{_QUANTILES.format(column='dispatch')}, {_QUANTILES.format(column='close')} FROM w", params)
            response, handling = _quantiles(dispatch_q), _quantiles(close_q)
        by_category: dict[str, int] = {}
        by_source: dict[str, int] = {}
        closed = on_time = 0
        for category, source, status, n, closed_on_time, *_ in rows:
            by_category[str(category)] = by_category.get(str(category), 0) + int(n)
            by_source[str(source)] = by_source.get(str(source), 0) + int(n)
            closed += int(n) if status == "closed" else 0
            on_time += int(closed_on_time or 0)
        return WindowFigures(by_category, by_source, sum(by_category.values()), closed, on_time, response, handling,
                             percentiles_exact=True)


def _window_sql(since: datetime, until: datetime | None) -> tuple[str, list[Any]]:
    if until is None:
        return "reported_at >= ?", [since]
    return "reported_at >= ? AND reported_at < ?", [since, until]


_QUANTILES = "percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {column}) FILTER (WHERE {column} IS NOT NULL)"
ON_TIME = "sum(CASE WHEN status = 'closed' AND closed_at <= due_at THEN 1 ELSE 0 END)"


def _quantiles(values: Sequence[float] | None) -> Durations:
    return {"median": None, "p90": None} if not values else {"median": round(values[0], 3),
                                                             "p90": round(values[1], 3)}
