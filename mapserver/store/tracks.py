"""Patrol tracks: people's positions (fixes), their patrols (start … stop, optionally after a saved plan), check-ins
at a plan's stops, and the answers of position batches sent with an Idempotency-Key.

Coordinates are WGS-84 (EPSG:4326) longitude/latitude degrees, as phones report them; times are UTC; accuracy and
distances metres. A fix is keyed by (person, time): a batch written twice stores each fix once, and the count of
the fixes stored anew tells the caller which were repeats. On PostGIS the positions table is partitioned by month
(:mod:`~mapserver.store.month_partitions`) and a batch goes in by COPY (through a temporary table, which leaves
out the fixes stored already); on SQLite it is one table.

Who lies in a jurisdiction J (the people whose tracks a supervisor of J may read, and the live layer shows): the
accounts whose own jurisdiction is J or a grid below it; a person bound to the whole store lies only in the whole
store's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from mapserver.errors import Problem
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.store.common import utc
from mapserver.store.database import Database
from mapserver.store.month_partitions import MonthPartitions, month_key
from mapserver.store.scoping import subtree_sql

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIX_COLUMNS = ("person", "t", "lon", "lat", "accuracy_m")
TRAIL_DIGITS = 6
"""Decimals of a live trail's degrees (about 0.1 m): the layer is drawn, not measured."""


@dataclass(frozen=True)
class StoredFix:
    """One stored position: UTC time, WGS-84 degrees, accuracy in metres (None: not reported)."""

    t: datetime
    lon: float
    lat: float
    accuracy_m: float | None


@dataclass(frozen=True)
class TrackColumns:
    """A person's fixes as columns, in time order: UTC epoch seconds (to 0.1 ms: SQLite counts them from a Julian
    day number), WGS-84 degrees."""

    seconds: np.ndarray
    lon: np.ndarray
    lat: np.ndarray

    def __len__(self) -> int:
        return int(self.seconds.size)


@dataclass(frozen=True)
class PatrolSession:
    """A patrol walked by ``person``: started, stopped (None while it goes on), after ``plan_id`` (or none)."""

    id: str
    person: str
    plan_id: str | None
    started_at: datetime
    ended_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        """The session as JSON, times ISO 8601 UTC."""
        return {"id": self.id, "person": self.person, "plan_id": self.plan_id,
                "started_at": self.started_at.isoformat(),
                "ended_at": self.ended_at.isoformat() if self.ended_at else None}


@dataclass(frozen=True)
class CheckIn:
    """A check-in at stop ``stop_order`` of a patrol's plan: when, where (WGS-84) and how far from the stop (m)."""

    session_id: str
    stop_order: int
    at: datetime
    lon: float
    lat: float
    distance_m: float

    def as_json(self) -> dict[str, Any]:
        """The check-in as JSON."""
        return {"patrol_id": self.session_id, "stop": self.stop_order, "at": self.at.isoformat(), "lon": self.lon,
                "lat": self.lat, "distance_m": round(self.distance_m, 1)}


@dataclass
class LivePerson:
    """A person with a recent fix: their account's name, display name, role and grid, their open patrol and its
    start, and their
    latest fixes, oldest first (the last is where they are): epoch seconds and (lon, lat) (WGS-84, to
    :data:`TRAIL_DIGITS` decimals), and the last one's accuracy in metres."""

    person: str
    display_name: str
    role: str
    grid_code: str | None
    patrol_id: str | None
    patrol_started: datetime | None
    seconds: list[float]
    trail: list[tuple[float, float]]
    accuracy_m: float | None


def _people_within(column: str, within: Jurisdiction) -> tuple[str, tuple[Any, ...]]:
    """A condition: the account named by ``column`` lies in ``within`` (see the module's rule)."""
    if within.whole:
        return "", ()
    # A fixed SQL text; the code goes in as a parameter.
    return (f" AND {column} IN (SELECT a.name FROM accounts a WHERE a.grid_code IN ({subtree_sql(within)}))",  # noqa: S608
            (within.code,))


class Tracks:
    """Positions, patrol sessions and check-ins."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._partitions = MonthPartitions(database)

    # -- positions --------------------------------------------------------------------------------------

    def add_fixes(self, person: str, times: Sequence[datetime], lon: Sequence[float], lat: Sequence[float],
                  accuracy_m: Sequence[float | None]) -> int:
        """Store checked fixes of ``person`` (UTC times, WGS-84 degrees, metres) by the backend's bulk path; return
        how many were new (a fix whose (person, time) is stored already is left as it is). Call it outside other
        transactions: a month's new partition is made and committed first, in a transaction of its own, and this
        process then takes it as made."""
        if not times:
            return 0
        self._partitions.ensure({month_key(t) for t in times})
        rows = zip([person] * len(times), times, lon, lat, accuracy_m, strict=True)
        with self._db.transaction():
            new = self._db.copy_rows("positions", FIX_COLUMNS, rows, key=("person", "t"))
            if new:
                self._forget_days(person, min(times), max(times))
            return new

    def _forget_days(self, person: str, first: datetime, last: datetime) -> None:
        # Fixes of a finished day sent late (a phone back in signal, a GPX file): its kept measures are stale. A
        # local day lies within a UTC date either side, so those are dropped too, to be measured again when asked.
        self._db.execute("DELETE FROM track_days WHERE person = ? AND day >= ? AND day <= ?",
                         (person, (utc(first).date() - timedelta(days=1)).isoformat(),
                          (utc(last).date() + timedelta(days=1)).isoformat()))

    def copy_fixes(self, rows: Iterable[tuple[str, datetime, float, float, float | None]],
                   months: Iterable[tuple[int, int]]) -> int:
        """Append fixes known to be new, (person, UTC time, lon, lat, accuracy m) each, by the backend's bulk path
        (a history loaded at once); ``months`` names the (year, month) they fall in, whose partitions are made
        first. A fix stored already refuses the whole load (409). Return how many were written."""
        self._partitions.ensure(months)
        with self._db.transaction():
            return self._db.copy_rows("positions", FIX_COLUMNS, rows)

    def fix_before(self, person: str, t: datetime) -> StoredFix | None:
        """The person's latest stored fix before ``t`` (UTC), or None."""
        rows = self._db.fetch("SELECT t, lon, lat, accuracy_m FROM positions WHERE person = ? AND t < ? "
                              "ORDER BY t DESC LIMIT 1", (person, utc(t)))
        return _fix(rows[0]) if rows else None

    def fixes(self, person: str, since: datetime, until: datetime) -> list[StoredFix]:
        """The person's fixes from ``since`` (inclusive) to ``until`` (exclusive), in time order."""
        rows = self._db.read("SELECT t, lon, lat, accuracy_m FROM positions WHERE person = ? AND t >= ? AND t < ? "
                             "ORDER BY t", (person, utc(since), utc(until)))
        return [_fix(r) for r in rows]

    def track(self, person: str, since: datetime, until: datetime) -> TrackColumns:
        """The person's fixes from ``since`` (inclusive) to ``until`` (exclusive) as columns, in time order: times
        travel as epoch seconds, not as timestamps to be parsed one by one."""
        epoch = f"CAST({self._db.seconds_between('?', 't')} AS DOUBLE PRECISION)"  # not numeric: floats parse fast
        rows = self._db.read(f"SELECT {epoch}, lon, lat FROM positions WHERE person = ? AND t >= ? AND t < ? "  # noqa: S608
                             "ORDER BY t", (EPOCH, person, utc(since), utc(until)))
        values = np.array(rows, dtype=float).reshape(-1, 3)
        return TrackColumns(seconds=values[:, 0], lon=values[:, 1], lat=values[:, 2])

    def live(self, *, since: datetime, until: datetime, trail: int, within: Jurisdiction = WHOLE) -> list[LivePerson]:
        """People in ``within`` with a fix from ``since`` to ``until`` (inclusive), each with their latest
        ``trail`` fixes of that time, by name."""
        scope, params = _people_within("p.person", within)
        epoch = self._db.seconds_between("?", "r.t")
        # Fixed SQL texts; values go in as parameters. The window ranks only the minutes asked for.
        rows = self._db.read(
            f"SELECT r.person, a.display_name, a.role, a.grid_code, s.id, s.started_at, {epoch}, "  # noqa: S608
            "r.lon, r.lat, r.accuracy_m "
            "FROM (SELECT p.person, p.t, p.lon, p.lat, p.accuracy_m, "
            "row_number() OVER (PARTITION BY p.person ORDER BY p.t DESC) AS k "
            f"FROM positions p WHERE p.t >= ? AND p.t <= ?{scope}) r "
            "JOIN accounts a ON a.name = r.person AND a.disabled_at IS NULL "
            "LEFT JOIN patrol_sessions s ON s.person = r.person AND s.ended_at IS NULL "
            "WHERE r.k <= ? ORDER BY r.person, r.t", (EPOCH, utc(since), utc(until), *params, trail))
        people: list[LivePerson] = []
        for name, display, role, grid, patrol, started, seconds, lon, lat, accuracy in rows:
            if not people or people[-1].person != name:
                people.append(LivePerson(person=name, display_name=display, role=role, grid_code=grid,
                                         patrol_id=patrol, patrol_started=utc(started), seconds=[], trail=[],
                                         accuracy_m=None))
            person = people[-1]
            person.seconds.append(float(seconds))
            person.trail.append((round(lon, TRAIL_DIGITS), round(lat, TRAIL_DIGITS)))
            person.accuracy_m = accuracy  # the last row's: the person's latest fix
        return people

    def live_features(self, *, now: datetime, minutes: float, trail: int,
                      within: Jurisdiction = WHOLE) -> tuple[str, tuple[str, ...]]:
        """The people in ``within`` with a fix in the ``minutes`` up to ``now`` as a JSON array of GeoJSON point
        Features (where each is, WGS-84), by name, and the layer's version.

        Each Feature: id and ``person`` the account, ``display_name``, ``role``, ``grid_code``, ``patrol_id``
        (their open patrol, or null), ``t`` (the last fix, ISO 8601 UTC), ``age_s``, ``accuracy_m`` (of the last
        fix), ``trail`` (the latest ``trail`` fixes' [lon, lat], oldest first, to :data:`TRAIL_DIGITS` decimals) and
        ``trail_s`` (their seconds from ``now``, negative).

        The version is what the layer shows, read in the same statement: the newest fix, how many people are on
        it (someone's last fix ageing out changes it), and the count and latest start of their open patrols.
        Equal versions, equal layers, but for the ages (a reader counts them on from the fixes' times) and a
        trail's oldest fixes ageing out before the person's next fix.

        Made by the database where it writes JSON (PostGIS): a layer of thousands of people is then one value to
        pass on, not rows to decode and encode again."""
        since, now = utc(now - timedelta(minutes=minutes)), utc(now)
        if not self._db.lateral_json:
            return _layer(self.live(since=since, until=now, trail=trail, within=within), now)
        scope = "" if within.whole else f" AND a.grid_code IN ({subtree_sql(within)})"
        scale = 10 ** TRAIL_DIGITS
        # Each account's latest fixes by a probe of the (person, t) key, newest first; the Feature is made here.
        rows = self._db.read(
            "SELECT coalesce(json_agg(f.feature ORDER BY f.name), '[]'::json)::text, "  # noqa: S608
            "max(f.last_t), count(*), max(f.started_at), count(f.started_at) FROM (SELECT a.name, tr.last_t, "
            "s.started_at, "
            "json_build_object('type', 'Feature', 'id', a.name, 'geometry', json_build_object('type', 'Point', "
            "'coordinates', tr.trail -> -1), 'properties', json_build_object('person', a.name, 'display_name', "
            "a.display_name, 'role', a.role, 'grid_code', a.grid_code, 'patrol_id', s.id, "
            "'t', to_char(tr.last_t AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"'), "
            "'age_s', round(EXTRACT(EPOCH FROM (? - tr.last_t)))::integer, 'accuracy_m', tr.acc, "
            "'trail', tr.trail, 'trail_s', tr.trail_s)) AS feature "
            "FROM accounts a CROSS JOIN LATERAL (SELECT "
            f"json_agg(json_build_array(round(x.lon * {scale}) / {scale}, round(x.lat * {scale}) / {scale}) "
            "ORDER BY x.t) AS trail, "
            "json_agg(round(EXTRACT(EPOCH FROM (x.t - ?)))::integer ORDER BY x.t) AS trail_s, "
            "max(x.t) AS last_t, (array_agg(x.accuracy_m))[1] AS acc "
            "FROM (SELECT p.t, p.lon, p.lat, p.accuracy_m FROM positions p WHERE p.person = a.name "
            "AND p.t >= ? AND p.t <= ? ORDER BY p.t DESC LIMIT ?) x) tr "
            "LEFT JOIN patrol_sessions s ON s.person = a.name AND s.ended_at IS NULL "
            f"WHERE a.disabled_at IS NULL AND tr.trail IS NOT NULL{scope}) f",
            (now, now, since, now, trail, *(() if within.whole else (within.code,))))
        features, *version = rows[0]
        return features, _version(*version)

    def person_within(self, person: str, within: Jurisdiction) -> bool:
        """Whether an account named ``person`` exists and lies in ``within``."""
        scope, params = _people_within("x.name", within)
        return bool(self._db.fetch(f"SELECT 1 FROM accounts x WHERE x.name = ?{scope}", (person, *params)))  # noqa: S608

    # -- batches sent with an Idempotency-Key ----------------------------------------------------------

    def batch_answer(self, person: str, key: str, body_hash: str) -> dict[str, Any] | None:
        """The answer given to the person's batch with this key, or None for a new key; 422 when the key came with
        another body."""
        rows = self._db.fetch("SELECT body_hash, answer FROM position_batches WHERE person = ? AND key = ?",
                              (person, key))
        if not rows:
            return None
        if rows[0][0] != body_hash:
            raise Problem(422, "this Idempotency-Key was used with a different batch", param="Idempotency-Key")
        return json.loads(rows[0][1])

    def keep_batch_answer(self, person: str, key: str, body_hash: str, answer: dict[str, Any], now: datetime) -> None:
        """Remember the answer to a batch sent with a key (call in the batch's transaction)."""
        self._db.execute("INSERT INTO position_batches (person, key, body_hash, answer, created_at) "
                         "VALUES (?, ?, ?, ?, ?) ON CONFLICT (person, key) DO NOTHING",
                         (person, key, body_hash, json.dumps(answer, separators=(",", ":")), utc(now)))

    # -- patrols and check-ins -------------------------------------------------------------------------

    def start_patrol(self, person: str, *, plan_id: str | None, now: datetime) -> PatrolSession:
        """Open a patrol for ``person``; 409 naming the open one when one is open already."""
        with self._db.transaction():
            current = self.open_patrol(person)
            if current is not None:
                raise Problem(409, f"'{person}' is on patrol {current.id} already; stop it first", param="patrol")
            session = PatrolSession(id=uuid.uuid4().hex, person=person, plan_id=plan_id, started_at=utc(now),
                                    ended_at=None)
            self._db.execute("INSERT INTO patrol_sessions (id, person, plan_id, started_at) VALUES (?, ?, ?, ?)",
                             (session.id, person, plan_id, session.started_at))
        return session

    def copy_patrols(self, sessions: Iterable[PatrolSession]) -> int:
        """Record patrols walked already (a history loaded at once), each with its stop; one whose id is stored
        already is left as it is. Return how many were new."""
        rows = ((s.id, s.person, s.plan_id, utc(s.started_at), None if s.ended_at is None else utc(s.ended_at))
                for s in sessions)
        with self._db.transaction():
            return self._db.copy_rows("patrol_sessions", ("id", "person", "plan_id", "started_at", "ended_at"), rows,
                                      key=("id",))

    def stop_patrol(self, session_id: str, *, person: str, now: datetime) -> PatrolSession:
        """End the person's patrol ``session_id`` at ``now``; 404 for another's or an unknown one, 409 when it
        ended already."""
        with self._db.transaction():
            session = self.patrol(session_id, person=person)
            if session.ended_at is not None:
                raise Problem(409, f"patrol {session_id} ended at {session.ended_at.isoformat()}", param="patrol")
            ended = max(utc(now), session.started_at)
            self._db.execute("UPDATE patrol_sessions SET ended_at = ? WHERE id = ?", (ended, session_id))
        return PatrolSession(**{**session.__dict__, "ended_at": ended})

    def patrol(self, session_id: str, *, person: str) -> PatrolSession:
        """The person's patrol ``session_id``; 404 for another's or an unknown one."""
        rows = self._db.fetch("SELECT id, person, plan_id, started_at, ended_at FROM patrol_sessions "
                              "WHERE id = ? AND person = ?", (session_id, person))
        if not rows:
            raise Problem(404, f"no patrol {session_id[:64]!r} of yours", param="patrol")
        return _session(rows[0])

    def open_patrol(self, person: str) -> PatrolSession | None:
        """The person's patrol going on now, or None."""
        rows = self._db.fetch("SELECT id, person, plan_id, started_at, ended_at FROM patrol_sessions "
                              "WHERE person = ? AND ended_at IS NULL", (person,))
        return _session(rows[0]) if rows else None

    def check_in(self, check_in: CheckIn) -> tuple[CheckIn, bool]:
        """Record a check-in; a second at the same stop of the same patrol keeps the first. The stored check-in,
        and whether it is new."""
        with self._db.transaction():
            created = self._db.execute("INSERT INTO patrol_checkins (session_id, stop_order, at, lon, lat, distance_m)"
                                       " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, stop_order) DO NOTHING",
                                       (check_in.session_id, check_in.stop_order, utc(check_in.at), check_in.lon,
                                        check_in.lat, check_in.distance_m)) == 1
            rows = self._db.fetch("SELECT session_id, stop_order, at, lon, lat, distance_m FROM patrol_checkins "
                                  "WHERE session_id = ? AND stop_order = ?", (check_in.session_id,
                                                                                check_in.stop_order))
        return _check_in(rows[0]), created

    def check_ins(self, person: str, since: datetime, until: datetime, *, plan_id: str | None = None) -> list[CheckIn]:
        """The person's check-ins from ``since`` to ``until`` (exclusive), at stops of ``plan_id`` if given."""
        plan = " AND s.plan_id = ?" if plan_id is not None else ""
        rows = self._db.fetch("SELECT c.session_id, c.stop_order, c.at, c.lon, c.lat, c.distance_m "  # noqa: S608
                              "FROM patrol_checkins c JOIN patrol_sessions s ON s.id = c.session_id "
                              f"WHERE s.person = ? AND c.at >= ? AND c.at < ?{plan} ORDER BY c.at",
                              (person, utc(since), utc(until), *((plan_id,) if plan_id is not None else ())))
        return [_check_in(r) for r in rows]

    def patrol_check_ins(self, session_id: str) -> list[CheckIn]:
        """The check-ins of one patrol, by stop order."""
        rows = self._db.fetch("SELECT session_id, stop_order, at, lon, lat, distance_m FROM patrol_checkins "
                              "WHERE session_id = ? ORDER BY stop_order", (session_id,))
        return [_check_in(r) for r in rows]


def _layer(people: list[LivePerson], now: datetime) -> tuple[str, tuple[str, ...]]:
    """The live layer and its version as :meth:`Tracks.live_features` makes them, from the people on it."""
    now_s = now.timestamp()
    features = json.dumps([_feature(p, now_s) for p in people], ensure_ascii=False, separators=(",", ":"))
    started = [p.patrol_started for p in people if p.patrol_started is not None]
    newest = max((p.seconds[-1] for p in people), default=None)
    return features, _version(None if newest is None else datetime.fromtimestamp(newest, UTC), len(people),
                              max(started, default=None), len(started))


def _version(newest_fix: datetime | str | None, people: int, newest_patrol: datetime | str | None,
             patrols: int) -> tuple[str, ...]:
    """The live layer's version from its newest fix and patrol start (either backend's value) and their counts."""
    return (_stamp(newest_fix), str(people), _stamp(newest_patrol), str(patrols))


def _stamp(value: datetime | str | None) -> str:
    return "" if value is None else f"{utc(value).timestamp():.6f}"


def _feature(person: LivePerson, now_s: float) -> dict[str, Any]:
    """A live person as the GeoJSON Feature :meth:`Tracks.live_features` describes."""
    last = person.seconds[-1]
    return {"type": "Feature", "id": person.person, "geometry": {"type": "Point", "coordinates": person.trail[-1]},
            "properties": {"person": person.person, "display_name": person.display_name, "role": person.role,
                           "grid_code": person.grid_code, "patrol_id": person.patrol_id,
                           "t": datetime.fromtimestamp(round(last), UTC).isoformat(), "age_s": round(now_s - last),
                           "accuracy_m": person.accuracy_m, "trail": person.trail,
                           "trail_s": [round(s - now_s) for s in person.seconds]}}


def _fix(row: tuple[Any, ...]) -> StoredFix:
    return StoredFix(t=utc(row[0]), lon=float(row[1]), lat=float(row[2]),
                     accuracy_m=None if row[3] is None else float(row[3]))


def _session(row: tuple[Any, ...]) -> PatrolSession:
    return PatrolSession(id=row[0], person=row[1], plan_id=row[2], started_at=utc(row[3]), ended_at=utc(row[4]))


def _check_in(row: tuple[Any, ...]) -> CheckIn:
    return CheckIn(session_id=row[0], stop_order=int(row[1]), at=utc(row[2]), lon=float(row[3]), lat=float(row[4]),
                   distance_m=float(row[5]))
