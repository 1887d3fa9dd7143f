"""Incidents: reports with idempotency keys, atomic transitions, timelines, filtered listings, bulk writes of
columns and grid reassignment, in portable SQL run by the database (the measures: :mod:`mapserver.store.measures`).

Times are UTC; positions WGS-84 (EPSG:4326) degrees. Column names in the SQL below are written here, never
taken from a request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import shapely

from mapserver.errors import Problem
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.model import Assessment, Callout, Incident, IncidentEvent, check_record
from mapserver.store.common import BBox, Condition, check_bbox, normalise, sphere_distance_m, utc
from mapserver.store.cql2_sql import filter_condition
from mapserver.store.database import Database
from mapserver.store.incident_batch import IncidentBatch
from mapserver.store.month_partitions import INCIDENTS, MonthPartitions, month_key, next_month

TRANSITION_COLUMNS = ("unit", "dispatched_at", "closed_at", "escalation", "satisfaction", "follow_up_comment",
                      "followed_up_at", "reopen_count")
EVENT_INSERT = ("INSERT INTO incident_events (incident_id, at, actor, action, from_status, to_status, note, unit) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
# A transition's entry also carries a follow-up's satisfaction (schema version 4); a report's never does.
TRANSITION_EVENT_INSERT = ("INSERT INTO incident_events (incident_id, at, actor, action, from_status, to_status, "
                           "note, unit, satisfaction) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
CALLOUT_COLUMNS = "incident_id, department, called_at, called_by, report_by, reported_at, reported_by"
OPEN = "status <> 'closed'"
LINK_ACTION = "link"
"""The timeline action of a caller's report recorded as a repeat of the incident (no change of status)."""
WARNING_SQL: dict[str, tuple[str, int]] = {
    # colour → (condition, how many times "now" appears in it)
    "purple": (f"{OPEN} AND escalation IS NOT NULL", 0),
    "red": (f"{OPEN} AND escalation IS NULL AND due_at < ?", 1),
    "yellow": (f"{OPEN} AND escalation IS NULL AND warn_at <= ? AND due_at >= ?", 2),
    "green": (f"{OPEN} AND escalation IS NULL AND warn_at > ?", 1),
}


def within_condition(within: Jurisdiction) -> list[Condition]:
    """The condition that keeps incidents inside ``within`` (none for the whole store): its level's grid chain
    column (``grid_l1`` … ``grid_l3``, each indexed) equals its code."""
    if within.whole:
        return []
    return [(f"{within.chain_column} = ?", (within.code,))]


def within_and(within: Jurisdiction) -> tuple[str, list[Any]]:
    """`` AND (…)`` to append to a WHERE so it keeps incidents inside ``within`` ("" for the whole store), and
    its values."""
    scope = within_condition(within)
    return "".join(f" AND ({text})" for text, _ in scope), [v for _, values in scope for v in values]


def changed_meanwhile(current: Incident, timeline: Sequence[IncidentEvent], *, action: str) -> Problem:
    """The 409 for ``action`` on an incident someone else moved first: ``current`` as it stands and its
    ``timeline`` (oldest first). Its members tell a page what to say in its own language: ``reason``
    (``changed_meanwhile``), ``action`` attempted, ``current_status``, ``current_version`` and the last step
    taken (``last_action``, ``acted_by``, ``acted_at`` in UTC ISO 8601; null with no timeline)."""
    last = timeline[-1] if timeline else None
    by = f" by {last.actor} ({last.action} at {last.at.isoformat()})" if last is not None else ""
    return Problem(409, f"incident {current.id} changed meanwhile{by}: now {current.status}, version "
                        f"{current.version}; reload and try again", param="version",
                   members={"reason": "changed_meanwhile", "action": action, "current_status": current.status,
                            "current_version": current.version,
                            "last_action": last.action if last is not None else None,
                            "acted_by": last.actor if last is not None else None,
                            "acted_at": last.at.isoformat() if last is not None else None})


@dataclass(frozen=True)
class IncidentFilter:
    """What to list or measure: a time window on ``reported_at`` (UTC, until exclusive), column filters, and the
    jurisdiction the asker may see (``within``; the whole store by default)."""

    since: datetime | None = None
    until: datetime | None = None
    status: str | None = None
    category: str | None = None
    severity: str | None = None
    grid: str | None = None  # a grid code of any level
    warning: str | None = None
    now: datetime | None = None
    within: Jurisdiction = WHOLE

    def conditions(self) -> list[Condition]:
        """The SQL conditions for this filter."""
        out: list[Condition] = within_condition(self.within)
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


@dataclass(frozen=True)
class MonthUpkeep:
    """What :meth:`Incidents.keep_months` did: partitions made (rows moved out of the default partition into
    some), and months detached into the archive, as (year, month)."""

    made: tuple[str, ...]
    archived: tuple[tuple[int, int], ...]


SUMMARY_TABLES = ("incident_daily", "incident_daily_streets", "incident_daily_durations", "incident_tile_cells")
"""The per-day summary of incidents on a backend with month partitions (postgis_schema), by UTC day, and the closed
incidents per day and zoom-13 tile (the wall's clusters)."""


class Incidents:
    """Incidents and their timelines."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._months = MonthPartitions(database, INCIDENTS)

    def report(self, incident: Incident, *, actor: str, idempotency_key: str | None = None,
               body_hash: str = "") -> tuple[Incident, bool]:
        """Store a new incident and its first timeline entry; return (incident, created).

        With an idempotency key, a repeat of the same body returns the incident
        first created for it (created=False); the same key with another body is
        a 422. Concurrent repeats create exactly one incident.
        """
        errors = [{"field": f, "reason": r} for f, r in check_record(incident)]
        if errors:
            raise Problem(422, "the incident cannot be stored", errors=errors)
        stored = normalise(incident)
        db = self._db
        # The report's month, and the next one ahead of the reports that will need it (known months: no round trip).
        month = month_key(stored.reported_at)
        self._months.ensure((month, next_month(*month)))
        with db.transaction():
            if idempotency_key is not None:
                earlier = self._claim_key(idempotency_key, body_hash, incident)
                if earlier is not None:
                    return earlier, False
            # The incident, its first timeline entry, then the version bump (last: the version row's lock is held
            # until commit); all left for the COMMIT, which a server backend sends with them in one round trip.
            db.insert_at_commit("incidents", stored)
            db.execute_at_commit(EVENT_INSERT, event_values(IncidentEvent(
                incident_id=incident.id, at=incident.reported_at, actor=actor, action="report", from_status=None,
                to_status=incident.status, note="", unit=incident.unit)))
            db.bump_version("incidents")
        # What was committed is what was given (checked and normalised above): no need to read it back.
        return stored, True

    def keep_months(self, *, now: datetime, retention_months: int, ahead: int = 2) -> MonthUpkeep:
        """The month partitions' upkeep (a backend without them has none): rows waiting in the default partition
        moved into their months, the partitions of this UTC month and the ``ahead`` next ones made, and with
        ``retention_months`` > 0 the months before the last ``retention_months`` (this one counted) detached into
        the archive schema. An archived month's incidents leave every query and measure (its days leave the
        per-day summary and the tiles' cells with them); their ids stay taken, and their timelines, photos and
        call-outs stay."""
        made = self._months.ensure(self._months.strays())
        this = month_key(now)
        made += self._months.ensure(next_month(*this, step) for step in range(ahead + 1))
        archived: list[tuple[int, int]] = []
        if retention_months > 0:
            first_kept = next_month(*this, 1 - retention_months)
            with self._db.transaction():
                archived = self._months.detach_before(*first_kept)
                if archived:
                    start, end = archived[0], next_month(*archived[-1])
                    for table in SUMMARY_TABLES:  # written here, never from a request
                        self._db.execute(f"DELETE FROM {table} WHERE day >= ? AND day < ?",
                                         (f"{start[0]:04d}-{start[1]:02d}-01", f"{end[0]:04d}-{end[1]:02d}-01"))
                    self._db.bump_version("incidents")
        return MonthUpkeep(made=tuple(made), archived=tuple(archived))

    def add_columns(self, batches: Iterable[IncidentBatch], *, rows: int,
                    months: Iterable[tuple[int, int]] = ()) -> int:
        """Write incidents given as columns, ``rows`` of them in ``batches``, all or none (on PostGIS in one
        COPY); return how many were written.

        They must hold what :meth:`~mapserver.store.layers.Layers.add` would accept (every incident passed
        :func:`~mapserver.model.check_record`, ids distinct): the importer's
        columnar path checks that. ``batches`` may be a generator: it is consumed
        while the write runs (on PostGIS, while the server stores the rows
        before), so making a batch must not use the store; whatever it raises is
        raised here. A 409 when an id is stored already. Either way nothing is
        written, and the caller's transaction can still be read in.
        """
        if rows == 0:
            return 0
        self._months.ensure(months)
        with self._db.transaction():
            written = self._db.copy_incident_columns(iter(batches), rows)
            self._db.bump_version("incidents")
        return written

    def transition(self, *, incident_id: str, expected_version: int, event: IncidentEvent,
                   changes: Mapping[str, Any], within: Jurisdiction = WHOLE, callouts: Sequence[Callout] = (),
                   report_in: Callout | None = None) -> Incident:
        """Move an incident to ``event.to_status`` if it is still at ``expected_version`` and lies in ``within``;
        append the event; record a whistle's ``callouts`` (departments to report in) and a department's
        ``report_in`` (its ``reported_at`` and ``reported_by``).

        404 when there is no such incident in ``within`` (the UPDATE itself carries the jurisdiction's condition,
        so an incident outside it is never moved, even by a racing request); 409 when another operator moved it
        first (its version changed), when a called-out department is called again, or when the reporting
        department is not pending. All or nothing.
        """
        unknown = set(changes) - set(TRANSITION_COLUMNS)
        if unknown:
            raise ValueError(f"transitions cannot change {sorted(unknown)}")
        assignments = "".join(f", {column} = ?" for column in changes)
        scope_sql, scope_params = within_and(within)
        with self._db.transaction():
            moved = self._db.execute(
                f"UPDATE incidents SET status = ?, version = version + 1{assignments} "
                f"WHERE id = ? AND version = ?{scope_sql}",
                (event.to_status, *changes.values(), incident_id, expected_version, *scope_params))
            if not moved:
                current = self.get(incident_id, within=within)
                if current is None:
                    raise Problem(404, f"no incident with id '{incident_id}'", param="id")
                raise changed_meanwhile(current, self.timeline(incident_id), action=event.action)
            self._db.execute(TRANSITION_EVENT_INSERT, (*event_values(event), event.satisfaction))
            for callout in callouts:
                called = self._db.execute(f"INSERT INTO whistle_callouts ({CALLOUT_COLUMNS}) VALUES (?, ?, ?, ?, ?, "
                                          "NULL, NULL) ON CONFLICT (incident_id, department) DO NOTHING",
                                          (incident_id, callout.department, callout.called_at, callout.called_by,
                                           callout.report_by))
                if not called:
                    raise Problem(409, f"'{callout.department}' was called out by an earlier whistle already",
                                  param="departments",
                                  members={"reason": "called_out_already", "unit": callout.department})
            if report_in is not None:
                reported = self._db.execute("UPDATE whistle_callouts SET reported_at = ?, reported_by = ? "
                                            "WHERE incident_id = ? AND department = ? AND reported_at IS NULL",
                                            (report_in.reported_at, report_in.reported_by, incident_id,
                                             report_in.department))
                if not reported:
                    raise Problem(409, f"'{report_in.department}' is not waiting to report in", param="unit",
                                  members={"reason": "not_pending", "unit": report_in.department})
            self._db.bump_version("incidents")
        return self.get(incident_id)

    def assessment(self, incident_id: str) -> Assessment:
        """The incident's follow-up, reopenings and call-outs (called first, then by department); read it only for
        an incident :meth:`get` found in the asker's jurisdiction."""
        rows = self._db.fetch("SELECT satisfaction, follow_up_comment, followed_up_at, reopen_count FROM incidents "
                              "WHERE id = ?", (incident_id,))
        if not rows:
            return Assessment()
        satisfaction, comment, followed_up_at, reopen_count = rows[0]
        called = self._db.fetch(f"SELECT {CALLOUT_COLUMNS} FROM whistle_callouts WHERE incident_id = ? "
                                "ORDER BY called_at, department", (incident_id,))
        return Assessment(satisfaction=satisfaction, follow_up_comment=comment or "",
                          followed_up_at=utc(followed_up_at), reopen_count=int(reopen_count),
                          callouts=tuple(Callout(r[0], r[1], utc(r[2]), r[3], utc(r[4]), utc(r[5]), r[6])
                                         for r in called))

    def get(self, incident_id: str, *, within: Jurisdiction = WHOLE) -> Incident | None:
        """The incident with this id if it lies in ``within`` (the condition is part of the query), else None:
        an incident outside the jurisdiction is as absent as one that does not exist."""
        found = self._db.select("incidents", bbox=None, where={"id": incident_id}, limit=1, offset=0,
                                conditions=within_condition(within))
        return found[0] if found else None

    def timeline(self, incident_id: str) -> list[IncidentEvent]:
        """The incident's timeline, oldest first; read it only for an incident :meth:`get` found in the asker's
        jurisdiction."""
        rows = self._db.fetch("SELECT incident_id, at, actor, action, from_status, to_status, note, unit, "
                              "satisfaction, seq FROM incident_events WHERE incident_id = ? ORDER BY seq",
                              (incident_id,))
        return [IncidentEvent(r[0], utc(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8], int(r[9])) for r in rows]

    def query(self, *, bbox: BBox | None = None, where: IncidentFilter = IncidentFilter(),
              limit: int | None = None, offset: int = 0,
              matching: Mapping[str, Any] | None = None) -> tuple[list[Incident], int]:
        """Incidents matching ``where`` and the CQL2 expression ``matching`` (JSON form,
        :mod:`~mapserver.store.cql2_sql`) inside ``bbox``, newest first, and how many match in all."""
        box = check_bbox(bbox)
        conditions = where.conditions()
        if matching is not None:
            conditions.append(filter_condition(self._db, "incidents", matching))
        records = self._db.select("incidents", bbox=box, where={}, limit=limit, offset=offset,
                                  conditions=conditions, order_by="-reported_at")
        return records, self._db.count("incidents", bbox=box, where={}, conditions=conditions)

    def near(self, lon: float, lat: float, *, radius_m: float, category: str, since: datetime,
             within: Jurisdiction = WHOLE, limit: int = 20) -> list[tuple[Incident, float]]:
        """Open incidents of ``category`` reported since ``since`` (UTC) within ``radius_m`` metres of (lon, lat)
        WGS-84 and inside ``within``, nearest first, with their distances in metres: the possible repeats of a
        new report (重复件). The index finds them by box; the distance test is in the SQL."""
        conditions = [*within_condition(within), (OPEN, ()), ("category = ?", (category,)),
                      ("reported_at >= ?", (since,)), self._db.near_condition("incidents", lon, lat, radius_m)]
        found = self._db.select("incidents", bbox=None, where={}, limit=None, offset=0, conditions=conditions)
        measured = [(i, sphere_distance_m(i.geom.x, i.geom.y, lon, lat)) for i in found]
        measured.sort(key=lambda pair: (pair[1], pair[0].id))
        return measured[:limit]

    def link(self, incident_id: str, *, actor: str, at: datetime, note: str,
             within: Jurisdiction = WHOLE) -> tuple[Incident, int]:
        """Record that a caller reported ``incident_id`` again (a "link" entry in its timeline, status unchanged);
        return the incident and how many reports are linked to it now. 404 outside ``within`` as for no such
        incident; 409 for a closed one (a new report of a closed case is a new case)."""
        with self._db.transaction():
            incident = self.get(incident_id, within=within)
            if incident is None:
                raise Problem(404, f"no incident with id '{incident_id}'", param="id")
            if incident.status == "closed":
                raise Problem(409, f"incident {incident_id} is closed: report the call as a new case", param="id")
            self._db.execute(EVENT_INSERT, event_values(IncidentEvent(
                incident_id=incident_id, at=at, actor=actor, action=LINK_ACTION, from_status=incident.status,
                to_status=incident.status, note=note, unit=None)))
            self._db.bump_version("incidents")
            count = self.link_count(incident_id)
        return incident, count

    def link_count(self, incident_id: str) -> int:
        """How many later reports were linked to the incident as repeats."""
        return int(self._db.fetch("SELECT count(*) FROM incident_events WHERE incident_id = ? AND action = ?",
                                  (incident_id, LINK_ACTION))[0][0])

    def grid_rows(self) -> tuple[list[str], np.ndarray, np.ndarray, list[tuple[str | None, ...]]]:
        """Every incident's id, longitude, latitude (WGS-84) and grid chain (grid_code, grid_l1 … grid_l4)."""
        rows = self._db.fetch(f"SELECT id, {self._db.wkb_sql('geom')}, grid_code, grid_l1, grid_l2, grid_l3, "
                              "grid_l4 FROM incidents ORDER BY id")
        points = shapely.from_wkb([bytes(r[1]) for r in rows]) if rows else np.array([])
        return ([r[0] for r in rows], shapely.get_x(points), shapely.get_y(points), [tuple(r[2:]) for r in rows])

    def set_grids(self, changes: Sequence[tuple[str, tuple[str | None, ...]]]) -> int:
        """Give incidents a new grid chain ((id, (grid_code, l1, l2, l3, l4)) pairs), all in one transaction."""
        with self._db.transaction():
            if self._db.array_parameters and changes:
                # One statement for them all: the summary's statement trigger then runs once, not per incident.
                columns = list(zip(*((incident_id, *chain) for incident_id, chain in changes), strict=True))
                self._db.execute("UPDATE incidents AS i SET grid_code = c.g, grid_l1 = c.l1, grid_l2 = c.l2, "
                                 "grid_l3 = c.l3, grid_l4 = c.l4 FROM unnest(?::text[], ?::text[], ?::text[], "
                                 "?::text[], ?::text[], ?::text[]) AS c(id, g, l1, l2, l3, l4) WHERE i.id = c.id",
                                 [list(column) for column in columns])
            else:
                for incident_id, chain in changes:
                    self._db.execute("UPDATE incidents SET grid_code = ?, grid_l1 = ?, grid_l2 = ?, grid_l3 = ?, "
                                     "grid_l4 = ? WHERE id = ?", (*chain, incident_id))
            if changes:
                self._db.bump_version("incidents")
        return len(changes)

    def claim_transition_key(self, key: str, body_hash: str, incident_id: str, at: datetime) -> bool:
        """Claim ``key`` for one transition of ``incident_id`` (inside the caller's transaction, so a transition
        that fails frees it again); False when the same transition already took it (a replay: the caller moves
        nothing). The same key with another body or case is a 422."""
        # Namespaced: a phone makes its keys for reports and transitions alike, and the table keys reports.
        stored_key = f"transition:{key}"
        if self._db.execute("INSERT INTO idempotency_keys (key, body_hash, incident_id, created_at) "
                            "VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                            (stored_key, body_hash, incident_id, at)):
            return True
        stored_hash, stored_incident = self._db.fetch("SELECT body_hash, incident_id FROM idempotency_keys "
                                                      "WHERE key = ?", (stored_key,))[0]
        if stored_hash != body_hash or stored_incident != incident_id:
            raise Problem(422, "this Idempotency-Key was used with a different transition", param="Idempotency-Key")
        return False

    def _claim_key(self, key: str, body_hash: str, incident: Incident) -> Incident | None:
        # Insert first: a concurrent holder of the same key makes this wait, then do nothing.
        claimed = self._db.execute("INSERT INTO idempotency_keys (key, body_hash, incident_id, created_at) "
                                   "VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                                   (key, body_hash, incident.id, incident.reported_at))
        if claimed:
            return None
        stored_hash, incident_id = self._db.fetch("SELECT body_hash, incident_id FROM idempotency_keys "
                                                  "WHERE key = ?", (key,))[0]
        if stored_hash != body_hash:
            raise Problem(422, "this Idempotency-Key was used with a different body", param="Idempotency-Key")
        return self.get(incident_id)
