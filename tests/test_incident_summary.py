"""The per-day incident summary on both backends: kept equal to a direct GROUP BY over incidents through reports,
imports, transitions, grid changes and deletes; and the measures read from it (exact counts, percentiles within the
stated bound)."""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg2
import psycopg2.errors
import pytest
from shapely.geometry import Point

from mapserver.errors import Problem
from mapserver.model import Incident, IncidentEvent
from mapserver.store import open_store
from mapserver.store.incident_summary import (
    ABSOLUTE_ERROR_UNDER_1S,
    MEASURES,
    RELATIVE_ERROR,
    bucket_bounds,
    bucket_of,
    percentiles,
    whole_days,
)
from mapserver.store.incidents import IncidentFilter
from mapserver.store.postgis_schema import TRANSACTION_SLOT

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
STREETS = ("411602001000000", "411602002000000", "411602003000000", None)
CATEGORIES = ("disputes", "fire_hazard", "other")
SEVERITIES = ("general", "important", "urgent")


def made_incidents(rng: np.random.Generator, n: int, start: int = 0) -> list[Incident]:
    """Incidents over ten days at random times (to the microsecond), some closed or dispatched already."""
    out = []
    for k in range(start, start + n):
        reported = T0 + timedelta(seconds=float(rng.uniform(0, 10 * 86_400)))
        street = STREETS[int(rng.integers(len(STREETS)))]
        status = ("reported", "dispatched", "closed")[int(rng.integers(3))]
        dispatched = reported + timedelta(seconds=float(rng.exponential(3_000))) if status != "reported" else None
        closed = reported + timedelta(seconds=float(rng.exponential(90_000))) if status == "closed" else None
        out.append(Incident(
            id=f"00000000-0000-4000-8000-{k:012d}", geom=Point(114.6 + k * 1e-5, 33.6), reported_at=reported,
            category=CATEGORIES[int(rng.integers(3))], severity=SEVERITIES[int(rng.integers(3))], status=status,
            grid_code=street, grid_l1=street, dispatched_at=dispatched, closed_at=closed,
            warn_at=reported + timedelta(hours=20), due_at=reported + timedelta(hours=int(rng.integers(1, 60)))))
    return out


def _day(store, column: str = "reported_at") -> str:
    return f"(({column} AT TIME ZONE 'UTC')::date)::text" if store.kind == "postgis" else f"substr({column}, 1, 10)"


def summary_rows(store) -> tuple[set, set, set]:
    """The summary's figures per key (summed over the rows of a key, zeros left out), as (day text, …) tuples:
    counts, streets, durations. On PostGIS a key may be kept in several rows (one per slot)."""
    day = "day::text" if store.kind == "postgis" else "day"
    counts = {(*r[:4], int(r[4]), int(r[5])) for r in store.database.fetch(
        f"SELECT {day}, category, severity, status, sum(incident_count), sum(closed_on_time) FROM incident_daily "
        "GROUP BY 1, 2, 3, 4") if r[4] or r[5]}
    streets = {(*r[:2], int(r[2])) for r in store.database.fetch(
        f"SELECT {day}, grid_l1, sum(incident_count) FROM incident_daily_streets GROUP BY 1, 2") if r[2]}
    durations = {(*r[:3], int(r[3])) for r in store.database.fetch(
        f"SELECT {day}, measure, bucket, sum(incident_count) FROM incident_daily_durations GROUP BY 1, 2, 3") if r[3]}
    return counts, streets, durations


def direct_rows(store) -> tuple[set, set, set]:
    """The same figures straight from incidents with one GROUP BY each."""
    counts = {tuple(r) for r in store.database.fetch(
        f"SELECT {_day(store)}, category, severity, status, count(*), "
        "sum(CASE WHEN status = 'closed' AND closed_at <= due_at THEN 1 ELSE 0 END) FROM incidents "
        f"GROUP BY {_day(store)}, category, severity, status")}
    streets = {tuple(r) for r in store.database.fetch(
        f"SELECT {_day(store)}, coalesce(grid_l1, ''), count(*) FROM incidents "
        f"GROUP BY {_day(store)}, coalesce(grid_l1, '')")}
    durations = set()
    for measure, end in MEASURES.items():
        durations |= {(day, measure, int(b), int(n)) for day, b, n in store.database.fetch(
            f"SELECT {_day(store)}, {store.database.duration_bucket_sql(end)}, count(*) FROM incidents "
            f"WHERE {end} IS NOT NULL GROUP BY 1, 2")}
    return counts, streets, durations


def assert_summary_is_exact(store) -> None:
    got, want = summary_rows(store), direct_rows(store)
    assert got[0] == want[0]  # counts
    assert got[1] == want[1]  # streets
    assert got[2] == want[2]  # durations


def test_the_summary_follows_every_kind_of_write(store):
    rng = np.random.default_rng(11)
    made = made_incidents(rng, 160)
    for item in made[:60]:  # reports, one by one
        store.incidents.report(item, actor="a")
    store.layers.add("incidents", made[60:110])  # a batch import
    store.layers.add("incidents", made[110:])
    assert_summary_is_exact(store)
    for item in rng.choice(made, 50, replace=False):  # transitions: dispatch or close, with times
        current = store.layers.get("incidents", item.id)
        if current.status == "closed":
            continue
        at = current.reported_at + timedelta(seconds=float(rng.exponential(40_000)))
        closing = bool(rng.integers(2))
        changes = {"closed_at": at} if closing else {"dispatched_at": at, "unit": "street office"}
        store.incidents.transition(
            incident_id=item.id, expected_version=current.version, changes=changes,
            event=IncidentEvent(incident_id=item.id, at=at, actor="op", action="close" if closing else "dispatch",
                                from_status=current.status, to_status="closed" if closing else "dispatched"))
    assert_summary_is_exact(store)
    moved = [(i.id, (STREETS[1], STREETS[1], None, None, None)) for i in made[:30]]  # grids redrawn
    store.incidents.set_grids(moved)
    assert_summary_is_exact(store)
    gone = [str(i) for i in rng.choice([m.id for m in made], 40, replace=False)]
    assert store.layers.delete("incidents", keys=gone) == 40
    assert_summary_is_exact(store)
    assert sum(r[4] for r in summary_rows(store)[0]) == 120 == sum(r[2] for r in summary_rows(store)[1])


def test_a_refused_write_leaves_the_summary_alone(store):
    made = made_incidents(np.random.default_rng(3), 20)
    store.layers.add("incidents", made)
    before = summary_rows(store)
    with pytest.raises(Problem) as caught:  # a duplicate id: the whole batch is refused, its trigger work undone
        store.layers.add("incidents", [replace(made[0], category="other"),
                                       *made_incidents(np.random.default_rng(4), 5, 100)])
    assert caught.value.status == 409
    assert summary_rows(store) == before and store.layers.count("incidents") == 20


def test_measures_from_the_summary_match_the_incidents(store):
    rng = np.random.default_rng(5)
    made = made_incidents(rng, 300)
    store.layers.add("incidents", made)
    now = T0 + timedelta(days=6)
    since, until = T0 + timedelta(days=1, hours=7, minutes=3), T0 + timedelta(days=8, hours=13)
    inside = [i for i in made if since <= i.reported_at < until]
    for where, chosen, level in ((IncidentFilter(), made, None), (IncidentFilter(since=since, until=until), inside, 1),
                                 (IncidentFilter(since=since), [i for i in made if i.reported_at >= since], None)):
        store.measures.EXACT_PERCENTILES_UP_TO = 0  # the histograms, even for this handful
        kpis = store.measures.kpis(where=where, now=now, group_level=level)
        closed = [i for i in chosen if i.status == "closed"]
        assert kpis["total"] == len(chosen) and kpis["closed"] == len(closed)
        assert kpis["closure_rate"] == round(len(closed) / len(chosen), 6)
        assert kpis["on_time_rate"] == round(sum(i.closed_at <= i.due_at for i in closed) / len(closed), 6)
        assert kpis["overdue_now"] == sum(1 for i in chosen if i.status != "closed" and i.due_at < now)
        assert kpis["by_category"] == {c: n for c in CATEGORIES if (n := sum(i.category == c for i in chosen))}
        assert kpis["by_status"] == {s: n for s in sorted({i.status for i in chosen})
                                     if (n := sum(i.status == s for i in chosen))}
        if level == 1:
            assert kpis["by_grid"] == {s: n for s in STREETS[:3] if (n := sum(i.grid_l1 == s for i in chosen))}
        assert kpis["percentiles_exact"] is False
        for key, end in (("time_to_dispatch_s", "dispatched_at"), ("time_to_close_s", "closed_at")):
            seconds = [(getattr(i, end) - i.reported_at).total_seconds() for i in chosen if getattr(i, end)]
            for name, q in (("median", 50), ("p90", 90)):
                exact = float(np.percentile(seconds, q))
                assert abs(kpis[key][name] - exact) <= max(RELATIVE_ERROR * exact, ABSOLUTE_ERROR_UNDER_1S) + 1e-3
        store.measures.EXACT_PERCENTILES_UP_TO = 10**9  # and the exact ones, same counts
        again = store.measures.kpis(where=where, now=now, group_level=level)
        assert again["percentiles_exact"] is True
        assert {k: v for k, v in again.items() if k not in ("time_to_dispatch_s", "time_to_close_s",
                                                             "percentiles_exact")} == \
               {k: v for k, v in kpis.items() if k not in ("time_to_dispatch_s", "time_to_close_s",
                                                            "percentiles_exact")}


def test_percentiles_from_buckets_stay_within_the_bound():
    rng = np.random.default_rng(1)
    for values in (rng.exponential(5_000, 999), rng.uniform(0, 3, 50), rng.lognormal(9, 2, 4_001), [42.0]):
        histogram: dict[int, int] = {}
        for v in values:
            histogram[bucket_of(float(v))] = histogram.get(bucket_of(float(v)), 0) + 1
        for q, got in zip((0.1, 0.5, 0.9, 0.99), percentiles(histogram, (0.1, 0.5, 0.9, 0.99)), strict=True):
            exact = float(np.percentile(values, q * 100))
            assert abs(got - exact) <= max(RELATIVE_ERROR * exact, ABSOLUTE_ERROR_UNDER_1S) * (1 + 1e-9)
    assert percentiles({}) == [None, None]
    assert bucket_bounds(bucket_of(1000.0))[0] <= 1000.0 < bucket_bounds(bucket_of(1000.0))[1]
    assert math.isclose(RELATIVE_ERROR, 0.0219, abs_tol=1e-4)


def test_a_window_splits_into_whole_days_and_edges():
    days = whole_days(T0 + timedelta(hours=5), T0 + timedelta(days=3, hours=2))
    assert (days.first, days.end) == ((T0 + timedelta(days=1)).date(), (T0 + timedelta(days=3)).date())
    assert days.edges == ((T0 + timedelta(hours=5), T0 + timedelta(days=1)),
                          (T0 + timedelta(days=3), T0 + timedelta(days=3, hours=2)))
    assert whole_days(T0, T0 + timedelta(days=1)).edges == ()
    assert whole_days(T0 + timedelta(hours=1), T0 + timedelta(hours=30)) is None  # no whole day inside
    assert whole_days(None, None).edges == ()


def test_concurrent_reports_transitions_and_an_import_keep_the_summary_exact(store):
    """Writers on the same days and keys at once: none fails (no deadlock), and the summary still adds up."""
    rng = np.random.default_rng(21)
    earlier = made_incidents(rng, 40)
    store.layers.add("incidents", earlier)
    batch = made_incidents(rng, 3000, start=1000)  # one import, every day of the ten
    reports = made_incidents(rng, 60, start=10_000)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run(work) -> None:
        barrier.wait()
        try:
            work()
        except BaseException as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    def report(part: list[Incident]) -> None:
        for item in part:
            store.incidents.report(item, actor="w")

    def move() -> None:
        for item in earlier:
            current = store.layers.get("incidents", item.id)
            if current.status != "closed":
                store.incidents.transition(
                    incident_id=item.id, expected_version=current.version,
                    changes={"closed_at": current.reported_at + timedelta(hours=3)},
                    event=IncidentEvent(incident_id=item.id, at=current.reported_at, actor="op", action="close",
                                        from_status=current.status, to_status="closed"))

    threads = [threading.Thread(target=run, args=(work,)) for work in (
        lambda: store.layers.add("incidents", batch), lambda: report(reports[:30]), lambda: report(reports[30:]), move)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert store.layers.count("incidents") == 40 + 3000 + 60
    assert_summary_is_exact(store)



def test_a_filter_with_conditions_of_its_own_is_never_answered_from_the_summary(store):
    """A subclass of IncidentFilter adding SQL the summary cannot see is measured from the incidents themselves."""

    class DisputesOnly(IncidentFilter):
        def conditions(self):
            return [*super().conditions(), ("category = ?", ("disputes",))]

    made = made_incidents(np.random.default_rng(11), 120)
    store.layers.add("incidents", made)
    window = {"since": T0 - timedelta(days=1), "until": T0 + timedelta(days=20)}
    kpis = store.measures.kpis(where=DisputesOnly(**window), now=T0 + timedelta(days=6))
    assert kpis["total"] == sum(i.category == "disputes" for i in made) < len(made)


def _insert_open(conn, n: int) -> None:
    """INSERT one incident of the same day and key as every other call, in an open transaction of ``conn``."""
    with conn.cursor() as cur:
        cur.execute("INSERT INTO incidents (id, geom, reported_at, category, severity, status, grid_l1) VALUES "
                    "(%s, ST_SetSRID(ST_MakePoint(114.6, 33.6), 4326), %s, 'disputes', 'general', 'reported', %s)",
                    (f"00000000-0000-4000-8000-{n:012d}", T0, STREETS[0]))


def _daily_writes(conn) -> tuple[int, int]:
    """(rows inserted, rows updated) in incident_daily by ``conn``'s open transaction so far."""
    with conn.cursor() as cur:
        cur.execute("SELECT n_tup_ins, n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'incident_daily'")
        return cur.fetchone()


@pytest.mark.parametrize("store", ["postgis"], indirect=True)
def test_a_bulk_insert_by_another_client_sums_each_key_once_and_this_stores_sessions_sum_row_by_row(store):
    """Another client's multi-row INSERT (a COPY by hand, an ETL job) writes each summary key once, not once per row
    (by row, a year's bulk load rewrites each key's rows once per incident on it, in one transaction). This store's
    own connections ask for row by row, which costs a single report less."""
    conn = psycopg2.connect(store.url)
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO incidents (id, geom, reported_at, category, severity, status) "
                        "SELECT 'bulk-' || n, ST_SetSRID(ST_MakePoint(114.6, 33.6), 4326), %s, 'disputes', 'general', "
                        "'reported' FROM generate_series(1, 5) AS n", (T0,))
            assert _daily_writes(conn) == (1, 0)  # one key, one upsert
            cur.execute("SET LOCAL mapserver.summary_by_statement = 'off'")
            cur.execute("INSERT INTO incidents (id, geom, reported_at, category, severity, status) "
                        "SELECT 'rows-' || n, ST_SetSRID(ST_MakePoint(114.6, 33.6), 4326), %s, 'other', 'general', "
                        "'reported' FROM generate_series(1, 5) AS n", (T0,))
            assert _daily_writes(conn) == (2, 4)  # a new key, then four more upserts of it
        conn.commit()
    finally:
        conn.close()
    assert store.database.fetch("SHOW mapserver.summary_by_statement") == [("off",)]
    assert_summary_is_exact(store)


@pytest.mark.parametrize("store", ["postgis"], indirect=True)
def test_two_reports_on_one_summary_key_do_not_wait_for_each_other(store):
    """Two open reports on one key: the second does not wait for the first one's COMMIT (a lock on the key's summary
    row), as concurrent writers update summary rows of their own, in the slot their transaction id picks."""
    first, second = psycopg2.connect(store.url), psycopg2.connect(store.url)
    try:
        _insert_open(first, 1)
        for _ in range(16):  # another client may have taken the id next to the first's: a new transaction, a new id
            if _slot(second) != _slot(first):
                break
            second.rollback()
        with second.cursor() as cur:
            cur.execute("SET lock_timeout = '500ms'")
        _insert_open(second, 2)  # LockNotAvailable if it had to wait for the first
        second.commit()
        first.commit()
    finally:
        first.close()
        second.close()
    assert store.layers.count("incidents") == 2
    assert_summary_is_exact(store)
    assert sum(r[4] for r in summary_rows(store)[0]) == 2


def _slot(conn) -> int:
    """The summary slot of ``conn``'s open transaction (giving it an id if it has none yet)."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT {TRANSACTION_SLOT}")
        return int(cur.fetchone()[0])


def test_other_clients_inserts_are_summed_once_whichever_trigger_sums_them(fresh_database):
    """Another client's INSERTs are summed by the statement trigger; with the setting 'off', as this store's own
    sessions have it, row by row; after a batch in a transaction, a report of the same transaction is summed row by
    row again."""
    store = open_store(fresh_database)
    try:
        store.migrate()
        conn = psycopg2.connect(fresh_database)
        try:
            with conn.cursor() as cur:
                for n in range(3):
                    _insert_open(conn, n)  # one transaction, three statements
                cur.execute("SET LOCAL mapserver.summary_by_statement = 'off'")
                cur.execute("INSERT INTO incidents (id, geom, reported_at, category, severity, status, grid_l1) "
                            "SELECT '00000000-0000-4000-8000-' || lpad(n::text, 12, '0'), "
                            "ST_SetSRID(ST_MakePoint(114.6, 33.6), 4326), %s + n * interval '1 day', 'other', "
                            "'urgent', 'reported', NULL FROM generate_series(10, 14) AS n", (T0,))
            conn.commit()
        finally:
            conn.close()
        made = made_incidents(np.random.default_rng(5), 40, start=100)
        with store.transaction():
            store.layers.add("incidents", made[:39])
            store.incidents.report(made[39], actor="a")
        assert store.layers.count("incidents") == 3 + 5 + 40
        assert_summary_is_exact(store)
    finally:
        store.close()
