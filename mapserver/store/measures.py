"""The leaders' measures of incidents, in portable SQL run by the database: counts, rates and durations
(:meth:`IncidentMeasures.kpis`), and the counts the analysis groups by H3 cell, period and grid.

Times are UTC; durations are seconds; cells are H3 cell ids (hex text) as stored with each incident
(``incidents.h3_cell``). Column names in the SQL below are written here, never taken from a request.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import pairwise
from typing import Any

from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.model import SATISFIED
from mapserver.store.common import BBox, Condition, where_sql
from mapserver.store.database import Database
from mapserver.store.incident_summary import MEASURES, SUMMARY_LEVELS, Days, percentiles, whole_days
from mapserver.store.incidents import OPEN, IncidentFilter, within_and

EVERYTHING = IncidentFilter()


def _tally(pairs: Iterable[tuple[Any, int]]) -> dict[str, int]:
    """Sum counts per key (None keys left out), keys in sorted order."""
    out: dict[str, int] = {}
    for key, n in pairs:
        if key is not None:
            out[str(key)] = out.get(str(key), 0) + int(n)
    return dict(sorted(out.items()))


def _summary_days(where: IncidentFilter, group_level: int | None) -> Days | None:
    """The whole days of ``where``'s window when the summary can answer it (a time window only), else None."""
    # Compared by the SQL it makes, so a subclass adding conditions of its own is never answered from the summary,
    # nor is a jurisdiction: the per-street table counts incidents only, without the categories, statuses and
    # durations a street's measures need, so a scoped filter is always counted from incidents.
    time_only = IncidentFilter(since=where.since, until=where.until)
    if group_level not in SUMMARY_LEVELS or where.conditions() != time_only.conditions():
        return None
    return whole_days(where.since, where.until)


def _day_where(days: Days) -> tuple[str, list[Any]]:
    """WHERE on the summary's ``day`` column (ISO dates compare as dates on both backends)."""
    clauses, params = [], []
    if days.first is not None:
        clauses.append("day >= ?")
        params.append(days.first.isoformat())
    if days.end is not None:
        clauses.append("day < ?")
        params.append(days.end.isoformat())
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _edge_where(days: Days) -> tuple[str, list[Any]]:
    """The condition on incidents for the window's parts outside whole days."""
    text = " OR ".join("(reported_at >= ? AND reported_at < ?)" for _ in days.edges)
    return text, [t for edge in days.edges for t in edge]


class IncidentMeasures:
    """Measures over incidents matching a filter."""

    EXACT_PERCENTILES_UP_TO = 100_000
    """Above this many incidents in a window the summary serves, percentiles come from its histograms (an
    exact percentile sorts every duration in the window)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def kpis(self, *, where: IncidentFilter, now: datetime, group_level: int | None = None) -> dict[str, Any]:
        """Counts by category, severity and status; closure and on-time rates; time to dispatch and to close
        (median and 90th percentile, seconds); overdue now; follow-ups, the satisfaction rate (satisfied and
        basically satisfied over the incidents followed up, each by its latest follow-up) and reopenings;
        optionally counts per grid of one level.

        A window with whole UTC days, filtered on time only and grouped by street or not at all, is counted
        from the per-day summary (exact), plus its partial days from incidents. Its percentiles are exact up
        to ``EXACT_PERCENTILES_UP_TO`` incidents; beyond that they come from the summary's histograms, within
        2.2% (1 s under 1 s) of the exact ones, and ``percentiles_exact`` says so
        (:mod:`mapserver.store.incident_summary`). Anything else is computed from incidents: on PostgreSQL in
        two passes (one GROUP BY with GROUPING SETS for every count, one ``percentile_cont`` for both
        durations); SQLite, which has neither, groups per grid and ranks each duration in passes of their own.
        """
        conditions = where.conditions()
        days = _summary_days(where, group_level)
        result = self.tallies(where=where, now=now, group_level=group_level)
        result.update(self._follow_ups(conditions))
        exact = days is None or result["total"] <= self.EXACT_PERCENTILES_UP_TO
        durations = self._kpi_durations(conditions) if exact else self._summary_durations(days)
        result["time_to_dispatch_s"], result["time_to_close_s"] = durations
        result["percentiles_exact"] = exact
        return result

    def tallies(self, *, where: IncidentFilter, now: datetime, group_level: int | None = None) -> dict[str, Any]:
        """The counts of :meth:`kpis` without its follow-ups and durations: ``total``, ``closed``,
        ``closure_rate``, ``on_time_rate``, ``overdue_now``, ``by_category``/``by_severity``/``by_status`` and,
        with ``group_level``, ``by_grid``; from the per-day summary when it can answer, as :meth:`kpis` says."""
        conditions = where.conditions()
        days = _summary_days(where, group_level)
        if days is None:
            grid_column = f"grid_l{int(group_level)}" if group_level is not None else None
            groups, by_grid = self._kpi_counts(conditions, now, grid_column)
            overdue = sum(o for *_, o in groups)
        else:
            groups, by_grid = self._summary_counts(days, group_level)
            # Open incidents past due, read through the partial index on open incidents.
            clause, params = where_sql([*conditions, (OPEN, ()), ("due_at < ?", (now,))])
            overdue = int(self._db.fetch(f"SELECT count(*) FROM incidents{clause}", params)[0][0])
        total = sum(n for *_, n, _, _ in groups)
        closed = sum(n for _, _, status, n, _, _ in groups if status == "closed")
        on_time = sum(k for *_, k, _ in groups)
        result: dict[str, Any] = {
            "total": total,
            "closed": closed,
            "closure_rate": round(closed / total, 6) if total else None,
            "on_time_rate": round(on_time / closed, 6) if closed else None,
            "overdue_now": overdue,
        }
        for position, column in enumerate(("category", "severity", "status")):
            result[f"by_{column}"] = _tally((group[position], group[3]) for group in groups)
        if by_grid is not None:
            result["by_grid"] = by_grid
        return result

    def open_count(self, *, within: Jurisdiction = WHOLE) -> int:
        """The incidents of ``within`` not closed, whenever reported (the partial index on open incidents)."""
        clause, params = where_sql([*IncidentFilter(within=within).conditions(), (OPEN, ())])
        return int(self._db.fetch(f"SELECT count(*) FROM incidents{clause}", params)[0][0])

    def durations(self, *, where: IncidentFilter) -> tuple[dict[str, float | None], dict[str, float | None]]:
        """Median and 90th percentile (``median``, ``p90``; seconds, linear interpolation, None when none) of the
        time from report to dispatch and from report to close of the incidents matching ``where``, exact."""
        dispatch, close = self._kpi_durations(where.conditions())
        return dispatch, close

    def summary_window(self, *, since: datetime, until: datetime | None = None
                       ) -> tuple[list[tuple[str, str, str, int, int, int]], tuple[dict[str, Any], ...]] | None:
        """For the whole store, from the per-day summary plus incidents at the window's partial days: (category,
        severity, status, incidents, closed on time, 0) per group, exact, and the median and 90th percentile of the
        time to dispatch and to close from the histograms (seconds, within ``RELATIVE_ERROR``); None when the
        window [since, until) holds no whole UTC day."""
        days = whole_days(since, until)
        if days is None:
            return None
        return self._summary_counts(days, None)[0], self._summary_durations(days)

    def _follow_ups(self, conditions: Sequence[Condition]) -> dict[str, Any]:
        """Incidents followed up, the satisfaction rate and reopenings, counted from incidents whichever path
        the rest takes (the per-day summary does not carry them), so both paths give the same."""
        clause, params = where_sql(conditions)
        satisfied = ", ".join(f"'{s}'" for s in SATISFIED)  # written here, not from a request
        followed, content, reopened, reopens = self._db.fetch(
            f"SELECT count(satisfaction), sum(CASE WHEN satisfaction IN ({satisfied}) THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN reopen_count > 0 THEN 1 ELSE 0 END), sum(reopen_count) FROM incidents{clause}",
            params)[0]
        followed = int(followed)
        return {"followed_up": followed,
                "satisfaction_rate": round(int(content or 0) / followed, 6) if followed else None,
                "reopened": int(reopened or 0), "reopen_count": int(reopens or 0)}

    def cell_counts(self, *, where: IncidentFilter = EVERYTHING, box: BBox | None = None) -> dict[str, int]:
        """Incidents per stored H3 cell matching ``where`` (and lying in ``box``, west, south, east, north degrees,
        found by the spatial index); incidents without a cell are left out.

        Grouped in the database: the rows returned grow with the number of cells, not incidents.
        """
        spatial = [self._db.box_condition("incidents", box)] if box is not None else []
        clause, params = where_sql([*where.conditions(), ("h3_cell IS NOT NULL", ()), *spatial])
        rows = self._db.fetch(f"SELECT h3_cell, count(*) FROM incidents t{clause} GROUP BY h3_cell", params)
        return {str(cell): int(n) for cell, n in rows}

    def cell_period_counts(self, *, where: IncidentFilter = EVERYTHING,
                           edges: Sequence[datetime]) -> dict[tuple[str, int], int]:
        """Incidents per (stored H3 cell, period) matching ``where``, for the periods [edges[k], edges[k + 1]).

        ``edges`` are increasing UTC instants; incidents outside [edges[0], edges[-1]) or without a cell are
        left out. One grouped query however many periods: the period is a CASE over the edges.
        """
        if len(edges) < 2 or any(a >= b for a, b in pairwise(edges)):
            raise ValueError("edges must be at least two increasing instants")
        last = len(edges) - 2
        bucket = f"CASE {' '.join(f'WHEN reported_at < ? THEN {k}' for k in range(last))} ELSE {last} END" \
            if last else "0"
        clause, params = where_sql([*where.conditions(), ("h3_cell IS NOT NULL", ()),
                                 ("reported_at >= ? AND reported_at < ?", (edges[0], edges[-1]))])
        rows = self._db.fetch(f"SELECT h3_cell, {bucket}, count(*) FROM incidents{clause} GROUP BY 1, 2",
                              [*edges[1:-1], *params])
        return {(str(cell), int(k)): int(n) for cell, k, n in rows}

    def grid_risk_counts(self, *, level: int, since: datetime, as_of: datetime,
                         within: Jurisdiction = WHOLE) -> dict[str, tuple[int, int]]:
        """Per grid of ``level``: (incidents reported in [since, as_of), items open and past due at ``as_of``),
        counting only the incidents in ``within``.

        Open at ``as_of`` means reported before it and not closed by then (still open, or closed after it), so
        a past ``as_of`` sees the items as they stood. One statement: each part picks its rows by its own index
        (report time; the open items' deadline), and the grouping happens over what they picked.
        """
        if level not in (1, 2, 3, 4):
            raise ValueError(f"grid level must be 1–4, got {level!r}")
        column = f"grid_l{int(level)}"
        scope_sql, scope_params = within_and(within)
        rows = self._db.fetch(
            f"SELECT g, sum(counted), sum(late) FROM ("
            f"SELECT {column} AS g, 1 AS counted, 0 AS late FROM incidents WHERE reported_at >= ? AND reported_at < ?"
            f"{scope_sql} UNION ALL SELECT {column}, 0, 1 FROM incidents "
            f"WHERE {OPEN} AND due_at < ? AND reported_at < ?{scope_sql} "
            f"UNION ALL SELECT {column}, 0, 1 FROM incidents "
            f"WHERE status = 'closed' AND closed_at > ? AND due_at < ? AND reported_at < ?{scope_sql}"
            f") picked WHERE g IS NOT NULL GROUP BY g",
            [since, as_of, *scope_params, as_of, as_of, *scope_params, as_of, as_of, as_of, *scope_params])
        return {str(code): (int(n), int(late)) for code, n, late in rows}

    def grid_counts(self, *, where: IncidentFilter = EVERYTHING, level: int) -> dict[str, int]:
        """Incidents per grid of ``level`` (by the grid chain stored with each incident) matching ``where``."""
        if level not in (1, 2, 3, 4):
            raise ValueError(f"grid level must be 1–4, got {level!r}")
        return self._group_counts(f"grid_l{int(level)}", where.conditions())

    def _summary_counts(self, days: Days, group_level: int | None
                        ) -> tuple[list[tuple[str, str, str, int, int, int]], dict[str, int] | None]:
        """As :meth:`_kpi_counts` (overdue left at 0), from the summary's days plus incidents at the edges."""
        day_clause, day_params = _day_where(days)
        edge_clause, edge_params = _edge_where(days)
        rows = self._db.fetch("SELECT category, severity, status, sum(incident_count), sum(closed_on_time) "
                              f"FROM incident_daily{day_clause} GROUP BY category, severity, status", day_params)
        if days.edges:
            rows += self._db.fetch("SELECT category, severity, status, count(*), "
                                   "sum(CASE WHEN status = 'closed' AND closed_at <= due_at THEN 1 ELSE 0 END) "
                                   f"FROM incidents WHERE {edge_clause} GROUP BY category, severity, status",
                                   edge_params)
        counts: dict[tuple[str, str, str], list[int]] = {}
        for category, severity, status, n, on_time in rows:
            tally = counts.setdefault((category, severity, status), [0, 0])
            tally[0] += int(n)
            tally[1] += int(on_time or 0)
        groups = [(c, s, st, n, k, 0) for (c, s, st), (n, k) in counts.items() if n]
        if group_level != 1:
            return groups, None
        streets = self._db.fetch(f"SELECT grid_l1, sum(incident_count) FROM incident_daily_streets{day_clause} "
                                 "GROUP BY grid_l1", day_params)
        if days.edges:
            streets += self._db.fetch(f"SELECT grid_l1, count(*) FROM incidents WHERE ({edge_clause}) "
                                      "AND grid_l1 IS NOT NULL GROUP BY grid_l1", edge_params)
        by_street: dict[str, int] = {}
        for code, n in streets:
            if code:  # '' holds the incidents without a street
                by_street[code] = by_street.get(code, 0) + int(n)
        return groups, {code: n for code, n in sorted(by_street.items()) if n}

    def _summary_durations(self, days: Days) -> tuple[dict[str, float | None], ...]:
        """Median and 90th percentile of each duration from the summary's histograms plus the edges' rows."""
        day_clause, day_params = _day_where(days)
        rows = self._db.fetch("SELECT measure, bucket, sum(incident_count) FROM incident_daily_durations"
                              f"{day_clause} GROUP BY measure, bucket", day_params)
        if days.edges:
            edge_clause, edge_params = _edge_where(days)
            for measure, end in MEASURES.items():
                rows += [(measure, b, n) for b, n in self._db.fetch(
                    f"SELECT {self._db.duration_bucket_sql(end)}, count(*) FROM incidents WHERE ({edge_clause}) "
                    f"AND {end} IS NOT NULL GROUP BY 1", edge_params)]
        histograms: dict[str, dict[int, int]] = {measure: {} for measure in MEASURES}
        for measure, bucket, n in rows:
            histogram = histograms[measure]
            histogram[int(bucket)] = histogram.get(int(bucket), 0) + int(n)
        out = []
        for measure in MEASURES:
            median, p90 = percentiles(histograms[measure])
            out.append({"median": None if median is None else round(median, 3),
                        "p90": None if p90 is None else round(p90, 3)})
        return tuple(out)

    def _kpi_counts(self, conditions: Sequence[Condition], now: datetime, grid_column: str | None
                    ) -> tuple[list[tuple[str, str, str, int, int, int]], dict[str, int] | None]:
        """(category, severity, status, incidents, closed on time, overdue at ``now``) per group; per-grid counts."""
        clause, params = where_sql(conditions)
        # Closed on time, and open past due at ``now``: counted in the same pass as everything else.
        measures = ("count(*), "
                    "sum(CASE WHEN status = 'closed' AND closed_at <= due_at THEN 1 ELSE 0 END), "
                    f"sum(CASE WHEN {OPEN} AND due_at < ? THEN 1 ELSE 0 END)")
        if grid_column is not None and self._db.grouping_sets:
            # One scan for both groupings; GROUPING(category) is 1 on the per-grid rows.
            rows = self._db.fetch(f"SELECT category, severity, status, {grid_column}, GROUPING(category), {measures} "
                                  f"FROM incidents{clause} GROUP BY GROUPING SETS ((category, severity, status), "
                                  f"({grid_column}))", [now, *params])
            groups = [(c, s, st, int(n), int(k), int(o)) for c, s, st, _, g, n, k, o in rows if g == 0]
            return groups, _tally((code, n) for _, _, _, code, g, n, _, _ in rows if g == 1)
        rows = self._db.fetch(f"SELECT category, severity, status, {measures} FROM incidents{clause} "
                              "GROUP BY category, severity, status", [now, *params])
        groups = [(c, s, st, int(n), int(k or 0), int(o or 0)) for c, s, st, n, k, o in rows]
        return groups, (self._group_counts(grid_column, conditions) if grid_column is not None else None)

    def _kpi_durations(self, conditions: Sequence[Condition]) -> tuple[dict[str, float | None], ...]:
        """Median and 90th percentile of seconds from report to dispatch, and to close (linear interpolation)."""
        if not self._db.percentile_aggregate:  # rank the rows instead
            return self._duration_stats("dispatched_at", conditions), self._duration_stats("closed_at", conditions)
        clause, params = where_sql(conditions)
        # date_part gives double precision (EXTRACT gives numeric, slower to sort) exact to the microsecond.
        quantiles = ", ".join(
            f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY date_part('epoch', {end} - reported_at)) "
            f"FILTER (WHERE {end} IS NOT NULL)" for end in ("dispatched_at", "closed_at"))
        row = self._db.fetch(f"SELECT {quantiles} FROM incidents{clause}", params)[0]
        return tuple({"median": round(v[0], 3), "p90": round(v[1], 3)} if v else {"median": None, "p90": None}
                     for v in row)

    def _group_counts(self, column: str, conditions: Sequence[Condition]) -> dict[str, int]:
        clause, params = where_sql(conditions)
        rows = self._db.fetch(f"SELECT {column}, count(*) FROM incidents{clause} "
                              f"GROUP BY {column} ORDER BY {column}", params)
        return {str(key): int(n) for key, n in rows if key is not None}

    def _duration_stats(self, end_column: str, conditions: Sequence[Condition]) -> dict[str, float | None]:
        """Median and 90th percentile of seconds from report to ``end_column`` (linear interpolation)."""
        seconds = self._db.seconds_between("reported_at", end_column)
        clause, params = where_sql([*conditions, (f"{end_column} IS NOT NULL", ())])
        count = int(self._db.fetch(f"SELECT count(*) FROM incidents{clause}", params)[0][0])
        if count == 0:
            return {"median": None, "p90": None}
        ranks = {}
        for name, p in (("median", 0.5), ("p90", 0.9)):
            position = p * (count - 1)
            ranks[name] = (math.floor(position), math.ceil(position), position - math.floor(position))
        wanted = sorted({r for lo, hi, _ in ranks.values() for r in (lo, hi)})
        marks = ", ".join("?" * len(wanted))
        rows = self._db.fetch(
            f"SELECT rn, s FROM (SELECT {seconds} AS s, row_number() OVER (ORDER BY {seconds}) - 1 AS rn "
            f"FROM incidents{clause}) ranked WHERE rn IN ({marks})", [*params, *wanted])
        value = {int(rn): float(s) for rn, s in rows}
        return {name: round(value[lo] + (value[hi] - value[lo]) * frac, 3) for name, (lo, hi, frac) in ranks.items()}
