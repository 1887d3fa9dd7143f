"""Incident storage shared by both backends: reports with idempotency keys, atomic transitions, timelines,
filtered listings and the leaders' measures, all in portable SQL (``?`` placeholders) run by the backend.

Times are UTC; durations are seconds. Column names in the SQL below are
written here, never taken from a request.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from mapserver.errors import Problem
from mapserver.model import Incident, IncidentEvent, check_record
from mapserver.store.incident_batch import IncidentBatch
from mapserver.store.incident_summary import MEASURES, SUMMARY_LEVELS, Days, bucket_sql, percentiles, whole_days

if TYPE_CHECKING:
    from mapserver.store.base import BBox, Condition

TRANSITION_COLUMNS = ("unit", "dispatched_at", "closed_at", "escalation")
EVENT_INSERT = ("INSERT INTO incident_events (incident_id, at, actor, action, from_status, to_status, note, unit) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
OPEN = "status <> 'closed'"
WARNING_SQL: dict[str, tuple[str, int]] = {
    # colour → (condition, how many times "now" appears in it)
    "purple": (f"{OPEN} AND escalation IS NOT NULL", 0),
    "red": (f"{OPEN} AND escalation IS NULL AND due_at < ?", 1),
    "yellow": (f"{OPEN} AND escalation IS NULL AND warn_at <= ? AND due_at >= ?", 2),
    "green": (f"{OPEN} AND escalation IS NULL AND warn_at > ?", 1),
}


@dataclass(frozen=True)
class IncidentFilter:
    """What to list or measure: a time window on ``reported_at`` (UTC, until exclusive) and column filters."""

    since: datetime | None = None
    until: datetime | None = None
    status: str | None = None
    category: str | None = None
    severity: str | None = None
    grid: str | None = None  # a grid code of any level
    warning: str | None = None
    now: datetime | None = None

    def conditions(self) -> list[Condition]:
        """The SQL conditions for this filter."""
        out: list[Condition] = []
        if self.since is not None:
            out.append(("reported_at >= ?", (self.since,)))
        if self.until is not None:
            out.append(("reported_at < ?", (self.until,)))
        for column in ("status", "category", "severity"):
            value = getattr(self, column)
            if value is not None:
                out.append((f"{column} = ?", (value,)))
        if self.grid is not None:
            # grid_l4 is left out: a building is the finest level, so grid_l4 = code means grid_code = code.
            out.append(("grid_code = ? OR grid_l1 = ? OR grid_l2 = ? OR grid_l3 = ?", (self.grid,) * 4))
        if self.warning is not None:
            if self.now is None:
                raise ValueError("a warning filter needs 'now'")
            text, uses = WARNING_SQL[self.warning]
            out.append((text, (self.now,) * uses))
        return out


def event_values(event: IncidentEvent) -> tuple[Any, ...]:
    """The values of :data:`EVENT_INSERT` for one timeline entry."""
    return (event.incident_id, event.at, event.actor, event.action, event.from_status, event.to_status, event.note,
            event.unit)


def _tally(pairs: Iterable[tuple[Any, int]]) -> dict[str, int]:
    """Sum counts per key (None keys left out), keys in sorted order."""
    out: dict[str, int] = {}
    for key, n in pairs:
        if key is not None:
            out[str(key)] = out.get(str(key), 0) + int(n)
    return dict(sorted(out.items()))


def _where(conditions: Sequence[Condition]) -> tuple[str, list[Any]]:
    if not conditions:
        return "", []
    params: list[Any] = []
    for _, values in conditions:
        params += list(values)
    return " WHERE " + " AND ".join(f"({text})" for text, _ in conditions), params


def _summary_days(where: IncidentFilter, group_level: int | None) -> Days | None:
    """The whole days of ``where``'s window when the summary can answer it (a time window only), else None."""
    # Compared by the SQL it makes, so a subclass adding conditions of its own is never answered from the summary.
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


class IncidentStore:
    """Mixin of :class:`~mapserver.store.base.Store` for incidents (uses the backend's portable SQL)."""

    EXACT_PERCENTILES_UP_TO = 100_000
    """Above this many incidents in a window the summary serves, percentiles come from its histograms (an
    exact percentile sorts every duration in the window)."""

    # -- report -----------------------------------------------------------------

    def report_incident(self, incident: Incident, *, actor: str, idempotency_key: str | None = None,
                        body_hash: str = "") -> tuple[Incident, bool]:
        """Store a new incident and its first timeline entry; return (incident, created).

        With an idempotency key, a repeat of the same body returns the incident
        first created for it (created=False); the same key with another body is
        a 422. Concurrent repeats create exactly one incident.
        """
        errors = [{"field": f, "reason": r} for f, r in check_record(incident)]
        if errors:
            raise Problem(422, "the incident cannot be stored", errors=errors)
        from mapserver.store.base import normalise

        stored = normalise(incident)
        with self.transaction():
            if idempotency_key is not None:
                earlier = self._claim_key(idempotency_key, body_hash, incident)
                if earlier is not None:
                    return earlier, False
            self._insert_report(stored, IncidentEvent(incident_id=incident.id, at=incident.reported_at, actor=actor,
                                                      action="report", from_status=None, to_status=incident.status,
                                                      note="", unit=incident.unit))
        # What was committed is what was given (checked and normalised above): no need to read it back.
        return stored, True

    # -- batch import -----------------------------------------------------------

    def add_incident_columns(self, batches: Iterable[IncidentBatch], *, rows: int) -> int:
        """Write incidents given as columns, ``rows`` of them in ``batches``, all or none (on PostGIS in one
        COPY); return how many were written.

        They must hold what :meth:`add` would accept (every incident passed
        :func:`~mapserver.model.check_record`, ids distinct): the importer's
        columnar path checks that. ``batches`` may be a generator: it is consumed
        while the write runs (on PostGIS, while the server stores the rows
        before), so making a batch must not use the store; whatever it raises is
        raised here. A 409 when an id is stored already. Either way nothing is
        written, and the caller's transaction can still be read in.
        """
        if rows == 0:
            return 0
        with self.transaction():
            written = self._insert_incident_columns(iter(batches), rows)
            self._bump_version("incidents")
        return written

    def _claim_key(self, key: str, body_hash: str, incident: Incident) -> Incident | None:
        # Insert first: a concurrent holder of the same key makes this wait, then do nothing.
        claimed = self._exec("INSERT INTO idempotency_keys (key, body_hash, incident_id, created_at) "
                             "VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                             (key, body_hash, incident.id, incident.reported_at))
        if claimed:
            return None
        stored_hash, incident_id = self._fetch("SELECT body_hash, incident_id FROM idempotency_keys WHERE key = ?",
                                               (key,))[0]
        if stored_hash != body_hash:
            raise Problem(422, "this Idempotency-Key was used with a different body", param="Idempotency-Key")
        return self.get("incidents", incident_id)

    # -- transitions ------------------------------------------------------------

    def transition_incident(self, *, incident_id: str, expected_version: int, event: IncidentEvent,
                            changes: Mapping[str, Any]) -> Incident:
        """Move an incident to ``event.to_status`` if it is still at ``expected_version``; append the event.

        404 when there is no such incident; 409 when another operator moved it
        first (its version changed). All or nothing.
        """
        unknown = set(changes) - set(TRANSITION_COLUMNS)
        if unknown:
            raise ValueError(f"transitions cannot change {sorted(unknown)}")
        assignments = "".join(f", {column} = ?" for column in changes)
        with self.transaction():
            moved = self._exec(
                f"UPDATE incidents SET status = ?, version = version + 1{assignments} "
                "WHERE id = ? AND version = ?",
                (event.to_status, *changes.values(), incident_id, expected_version))
            if not moved:
                current = self.get("incidents", incident_id)
                if current is None:
                    raise Problem(404, f"no incident with id '{incident_id}'", param="id")
                raise Problem(409, f"incident {incident_id} changed meanwhile (now {current.status}, version "
                                   f"{current.version}); reload and try again", param="version")
            self._append_event(event)
            self._bump_version("incidents")
        return self.get("incidents", incident_id)

    def _insert_report(self, incident: Incident, event: IncidentEvent) -> None:
        """Write a new incident and its first timeline entry, then bump the incidents' data version (last: the
        version row's lock is held until commit; on PostGIS concurrent writers take rows of their own). A backend
        may send the three together (PostGIS does, in one round trip)."""
        self._insert("incidents", [incident])
        self._append_event(event)
        self._bump_version("incidents")

    def _append_event(self, event: IncidentEvent) -> None:
        self._exec(EVENT_INSERT, event_values(event))

    def incident_timeline(self, incident_id: str) -> list[IncidentEvent]:
        """The incident's timeline, oldest first."""
        from mapserver.store.base import utc

        rows = self._fetch("SELECT incident_id, at, actor, action, from_status, to_status, note, unit "
                           "FROM incident_events WHERE incident_id = ? ORDER BY seq", (incident_id,))
        return [IncidentEvent(r[0], utc(r[1]), r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]

    # -- listing ----------------------------------------------------------------

    def query_incidents(self, *, bbox: BBox | None = None, where: IncidentFilter = IncidentFilter(),
                        limit: int | None = None, offset: int = 0) -> tuple[list[Incident], int]:
        """Incidents matching ``where`` inside ``bbox``, newest first, and how many match in all."""
        from mapserver.store.base import check_bbox

        box = check_bbox(bbox)
        conditions = where.conditions()
        records = self._select("incidents", bbox=box, where={}, limit=limit, offset=offset, conditions=conditions,
                               order_by="-reported_at")
        return records, self._count("incidents", bbox=box, where={}, conditions=conditions)

    # -- grid reassignment ------------------------------------------------------

    def incident_grid_rows(self) -> tuple[list[str], np.ndarray, np.ndarray, list[tuple[str | None, ...]]]:
        """Every incident's id, longitude, latitude (WGS-84) and grid chain (grid_code, grid_l1 … grid_l4)."""
        rows = self._fetch(f"SELECT id, {self._wkb_sql('geom')}, grid_code, grid_l1, grid_l2, grid_l3, grid_l4 "
                           "FROM incidents ORDER BY id")
        points = shapely.from_wkb([bytes(r[1]) for r in rows]) if rows else np.array([])
        return ([r[0] for r in rows], shapely.get_x(points), shapely.get_y(points), [tuple(r[2:]) for r in rows])

    def set_incident_grids(self, changes: Sequence[tuple[str, tuple[str | None, ...]]]) -> int:
        """Give incidents a new grid chain ((id, (grid_code, l1, l2, l3, l4)) pairs), all in one transaction."""
        with self.transaction():
            if self.kind == "postgis" and changes:
                # One statement for them all: the summary's statement trigger then runs once, not per incident.
                columns = list(zip(*((incident_id, *chain) for incident_id, chain in changes), strict=True))
                self._exec("UPDATE incidents AS i SET grid_code = c.g, grid_l1 = c.l1, grid_l2 = c.l2, "
                           "grid_l3 = c.l3, grid_l4 = c.l4 FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], "
                           "?::text[], ?::text[]) AS c(id, g, l1, l2, l3, l4) WHERE i.id = c.id",
                           [list(column) for column in columns])
            else:
                for incident_id, chain in changes:
                    self._exec("UPDATE incidents SET grid_code = ?, grid_l1 = ?, grid_l2 = ?, grid_l3 = ?, "
                               "grid_l4 = ? WHERE id = ?", (*chain, incident_id))
            if changes:
                self._bump_version("incidents")
        return len(changes)

    # -- measures ---------------------------------------------------------------

    def incident_kpis(self, *, where: IncidentFilter, now: datetime, group_level: int | None = None) -> dict[str, Any]:
        """Counts by category, severity and status; closure and on-time rates; time to dispatch and to close
        (median and 90th percentile, seconds); overdue now; optionally counts per grid of one level.

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
        if days is None:
            grid_column = f"grid_l{int(group_level)}" if group_level is not None else None
            groups, by_grid = self._kpi_counts(conditions, now, grid_column)
            overdue = sum(o for *_, o in groups)
        else:
            groups, by_grid = self._summary_counts(days, group_level)
            # Open incidents past due, read through the partial index on open incidents.
            clause, params = _where([*conditions, (OPEN, ()), ("due_at < ?", (now,))])
            overdue = int(self._fetch(f"SELECT count(*) FROM incidents{clause}", params)[0][0])
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
        exact = days is None or total <= self.EXACT_PERCENTILES_UP_TO
        durations = self._kpi_durations(conditions) if exact else self._summary_durations(days)
        result["time_to_dispatch_s"], result["time_to_close_s"] = durations
        result["percentiles_exact"] = exact
        return result

    def _summary_counts(self, days: Days, group_level: int | None
                        ) -> tuple[list[tuple[str, str, str, int, int, int]], dict[str, int] | None]:
        """As :meth:`_kpi_counts` (overdue left at 0), from the summary's days plus incidents at the edges."""
        day_clause, day_params = _day_where(days)
        edge_clause, edge_params = _edge_where(days)
        rows = self._fetch("SELECT category, severity, status, sum(incident_count), sum(closed_on_time) "
                           f"FROM incident_daily{day_clause} GROUP BY category, severity, status", day_params)
        if days.edges:
            rows += self._fetch("SELECT category, severity, status, count(*), "
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
        streets = self._fetch(f"SELECT grid_l1, sum(incident_count) FROM incident_daily_streets{day_clause} "
                              "GROUP BY grid_l1", day_params)
        if days.edges:
            streets += self._fetch(f"SELECT grid_l1, count(*) FROM incidents WHERE ({edge_clause}) "
                                   "AND grid_l1 IS NOT NULL GROUP BY grid_l1", edge_params)
        by_street: dict[str, int] = {}
        for code, n in streets:
            if code:  # '' holds the incidents without a street
                by_street[code] = by_street.get(code, 0) + int(n)
        return groups, {code: n for code, n in sorted(by_street.items()) if n}

    def _summary_durations(self, days: Days) -> tuple[dict[str, float | None], ...]:
        """Median and 90th percentile of each duration from the summary's histograms plus the edges' rows."""
        day_clause, day_params = _day_where(days)
        rows = self._fetch("SELECT measure, bucket, sum(incident_count) FROM incident_daily_durations"
                           f"{day_clause} GROUP BY measure, bucket", day_params)
        if days.edges:
            edge_clause, edge_params = _edge_where(days)
            for measure, end in MEASURES.items():
                rows += [(measure, b, n) for b, n in self._fetch(
                    f"SELECT {bucket_sql(self.kind, end)}, count(*) FROM incidents WHERE ({edge_clause}) "
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
        clause, params = _where(conditions)
        # Closed on time, and open past due at ``now``: counted in the same pass as everything else.
        measures = ("count(*), "
                    "sum(CASE WHEN status = 'closed' AND closed_at <= due_at THEN 1 ELSE 0 END), "
                    f"sum(CASE WHEN {OPEN} AND due_at < ? THEN 1 ELSE 0 END)")
        if grid_column is not None and self.kind == "postgis":
            # One scan for both groupings; GROUPING(category) is 1 on the per-grid rows. SQLite has no GROUPING SETS.
            rows = self._fetch(f"SELECT category, severity, status, {grid_column}, GROUPING(category), {measures} "
                               f"FROM incidents{clause} GROUP BY GROUPING SETS ((category, severity, status), "
                               f"({grid_column}))", [now, *params])
            groups = [(c, s, st, int(n), int(k), int(o)) for c, s, st, _, g, n, k, o in rows if g == 0]
            return groups, _tally((code, n) for _, _, _, code, g, n, _, _ in rows if g == 1)
        rows = self._fetch(f"SELECT category, severity, status, {measures} FROM incidents{clause} "
                           "GROUP BY category, severity, status", [now, *params])
        groups = [(c, s, st, int(n), int(k or 0), int(o or 0)) for c, s, st, n, k, o in rows]
        return groups, (self._group_counts(grid_column, conditions) if grid_column is not None else None)

    def _kpi_durations(self, conditions: Sequence[Condition]) -> tuple[dict[str, float | None], ...]:
        """Median and 90th percentile of seconds from report to dispatch, and to close (linear interpolation)."""
        if self.kind != "postgis":  # SQLite has no percentile aggregate: rank the rows instead
            return self._duration_stats("dispatched_at", conditions), self._duration_stats("closed_at", conditions)
        clause, params = _where(conditions)
        # date_part gives double precision (EXTRACT gives numeric, slower to sort) exact to the microsecond.
        quantiles = ", ".join(
            f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY date_part('epoch', {end} - reported_at)) "
            f"FILTER (WHERE {end} IS NOT NULL)" for end in ("dispatched_at", "closed_at"))
        row = self._fetch(f"SELECT {quantiles} FROM incidents{clause}", params)[0]
        return tuple({"median": round(v[0], 3), "p90": round(v[1], 3)} if v else {"median": None, "p90": None}
                     for v in row)

    def _group_counts(self, column: str, conditions: Sequence[Condition]) -> dict[str, int]:
        clause, params = _where(conditions)
        rows = self._fetch(f"SELECT {column}, count(*) FROM incidents{clause} "
                           f"GROUP BY {column} ORDER BY {column}", params)
        return {str(key): int(n) for key, n in rows if key is not None}

    def _duration_stats(self, end_column: str, conditions: Sequence[Condition]) -> dict[str, float | None]:
        """Median and 90th percentile of seconds from report to ``end_column`` (linear interpolation)."""
        seconds = self._seconds_between("reported_at", end_column)
        clause, params = _where([*conditions, (f"{end_column} IS NOT NULL", ())])
        count = int(self._fetch(f"SELECT count(*) FROM incidents{clause}", params)[0][0])
        if count == 0:
            return {"median": None, "p90": None}
        ranks = {}
        for name, p in (("median", 0.5), ("p90", 0.9)):
            position = p * (count - 1)
            ranks[name] = (math.floor(position), math.ceil(position), position - math.floor(position))
        wanted = sorted({r for lo, hi, _ in ranks.values() for r in (lo, hi)})
        marks = ", ".join("?" * len(wanted))
        rows = self._fetch(
            f"SELECT rn, s FROM (SELECT {seconds} AS s, row_number() OVER (ORDER BY {seconds}) - 1 AS rn "
            f"FROM incidents{clause}) ranked WHERE rn IN ({marks})", [*params, *wanted])
        value = {int(rn): float(s) for rn, s in rows}
        return {name: round(value[lo] + (value[hi] - value[lo]) * frac, 3) for name, (lo, hi, frac) in ranks.items()}
