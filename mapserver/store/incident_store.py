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

if TYPE_CHECKING:
    from mapserver.store.base import BBox, Condition

TRANSITION_COLUMNS = ("unit", "dispatched_at", "closed_at", "escalation")
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
            out.append(("grid_code = ? OR grid_l1 = ? OR grid_l2 = ? OR grid_l3 = ? OR grid_l4 = ?", (self.grid,) * 5))
        if self.warning is not None:
            if self.now is None:
                raise ValueError("a warning filter needs 'now'")
            text, uses = WARNING_SQL[self.warning]
            out.append((text, (self.now,) * uses))
        return out


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


class IncidentStore:
    """Mixin of :class:`~mapserver.store.base.Store` for incidents (uses the backend's portable SQL)."""

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
            self._insert("incidents", [stored])
            self._append_event(IncidentEvent(incident_id=incident.id, at=incident.reported_at, actor=actor,
                                             action="report", from_status=None, to_status=incident.status,
                                             note="", unit=incident.unit))
            # Last: every report updates the same data_versions row, whose lock is held until commit.
            self._bump_version("incidents")
        # What was committed is what was given (checked and normalised above): no need to read it back.
        return stored, True

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

    def _append_event(self, event: IncidentEvent) -> None:
        self._exec("INSERT INTO incident_events (incident_id, at, actor, action, from_status, to_status, note, unit) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (event.incident_id, event.at, event.actor, event.action, event.from_status, event.to_status,
                    event.note, event.unit))

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
            for incident_id, chain in changes:
                self._exec("UPDATE incidents SET grid_code = ?, grid_l1 = ?, grid_l2 = ?, grid_l3 = ?, grid_l4 = ? "
                           "WHERE id = ?", (*chain, incident_id))
            if changes:
                self._bump_version("incidents")
        return len(changes)

    # -- measures ---------------------------------------------------------------

    def incident_kpis(self, *, where: IncidentFilter, now: datetime, group_level: int | None = None) -> dict[str, Any]:
        """Counts by category, severity and status; closure and on-time rates; time to dispatch and to close
        (median and 90th percentile, seconds); overdue now; optionally counts per grid of one level.

        On PostgreSQL two passes over the matching incidents, however many measures: one GROUP BY for every
        count (the per-grid counts joined to it with GROUPING SETS), one ``percentile_cont`` for both
        durations. SQLite, which has neither, groups per grid and ranks each duration in passes of their own.
        """
        conditions = where.conditions()
        grid_column = f"grid_l{int(group_level)}" if group_level is not None else None
        groups, by_grid = self._kpi_counts(conditions, now, grid_column)
        total = sum(n for *_, n, _, _ in groups)
        closed = sum(n for _, _, status, n, _, _ in groups if status == "closed")
        on_time = sum(k for *_, k, _ in groups)
        result: dict[str, Any] = {
            "total": total,
            "closed": closed,
            "closure_rate": round(closed / total, 6) if total else None,
            "on_time_rate": round(on_time / closed, 6) if closed else None,
            "overdue_now": sum(k for *_, k in groups),
        }
        for position, column in enumerate(("category", "severity", "status")):
            result[f"by_{column}"] = _tally((group[position], group[3]) for group in groups)
        if by_grid is not None:
            result["by_grid"] = by_grid
        result["time_to_dispatch_s"], result["time_to_close_s"] = self._kpi_durations(conditions)
        return result

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
