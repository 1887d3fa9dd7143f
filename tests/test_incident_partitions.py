"""Incidents by month: on PostGIS each UTC month of reported_at is a partition of its own, made ahead of the writes
that need it; a time window reads only its months (shown by EXPLAIN of the statements the store sends); rows written
by another client for a month without a partition wait in the default one until the upkeep moves them; old months
are detached into the archive schema, not deleted. SQLite keeps one table and the same contract."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from click.testing import CliRunner
from shapely.geometry import Point

from mapserver.cli import main
from mapserver.errors import Problem
from mapserver.model import Incident
from mapserver.store import Store, open_store
from mapserver.store.incidents import IncidentFilter
from tests.conftest import BACKENDS, empty_store

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
MONTHS = [datetime(2025, 11, 10, 8, tzinfo=UTC), datetime(2025, 12, 10, 8, tzinfo=UTC),
          datetime(2026, 1, 10, 8, tzinfo=UTC), datetime(2026, 2, 10, 8, tzinfo=UTC),
          datetime(2026, 3, 10, 8, tzinfo=UTC)]
PARTITION = re.compile(r"incidents_(\d{4}_\d{2}|default)")


def incident(n: int, at: datetime, **fields: Any) -> Incident:
    return Incident(id=f"00000000-0000-4000-8000-{n:012d}", geom=Point(114.6 + n * 1e-4, 33.6), reported_at=at,
                    category="disputes", severity="general", **fields)


def five_months(store: Store) -> None:
    """Three incidents in each of five months, one of each month reported through the loop (with its timeline)."""
    store.layers.add("incidents", [incident(10 * k + j, at + timedelta(hours=j)) for k, at in enumerate(MONTHS)
                                   for j in (1, 2)])
    for k, at in enumerate(MONTHS):
        store.incidents.report(incident(10 * k + 3, at), actor="worker-1")


def sql(url: str, statement: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def partitions(url: str, schema: str = "public") -> dict[str, int]:
    """The incidents' partitions in ``schema`` and the rows each holds."""
    names = [n for (n,) in sql(url, "SELECT c.relname FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace "
                                    "WHERE s.nspname = %s AND c.relkind = 'r' AND c.relname ~ '^incidents_'",
                               (schema,))]
    return {name: sql(url, f'SELECT count(*) FROM "{schema}"."{name}"')[0][0] for name in sorted(names)}


def scanned(store: Store, statements: list[tuple[str, tuple]]) -> list[set[str]]:
    """For each statement sent to the store, the incidents' partitions its plan reads (EXPLAIN, not run)."""
    out = []
    for query, params in statements:
        plan = store.database.fetch(f"EXPLAIN (FORMAT JSON) {query}", params)[0][0]
        out.append(set(PARTITION.findall(json.dumps(plan))))
    return out


@pytest.fixture
def store(postgis_url: str) -> Iterator[Store]:
    """The session's PostGIS store emptied, without the months and the archive earlier tests made (here in place of
    conftest's fixture, which keeps them: the partitions and the archive one test makes are not another's)."""
    opened = open_store(postgis_url)
    empty_store(opened)
    for (name,) in sql(postgis_url, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                    "WHERE i.inhparent = 'incidents'::regclass AND c.relname <> 'incidents_default'"):
        sql(postgis_url, f'DROP TABLE "{name}"')
    sql(postgis_url, "DROP SCHEMA IF EXISTS archive CASCADE")
    yield opened
    opened.close()


@pytest.fixture(params=BACKENDS)
def either(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A new SQLite store, or the PostGIS one above."""
    if request.param == "postgis":
        yield request.getfixturevalue("store")
        return
    opened = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    opened.migrate()
    yield opened
    opened.close()


def recorded(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple]]:
    """The read statements on incidents the store sends from now on (the database still runs every one)."""
    sent: list[tuple[str, tuple]] = []
    db = store.database
    for name in ("fetch", "read"):
        original = getattr(db, name)

        def keep(query: str, params: Any = (), _original: Any = original) -> list[tuple]:
            if re.search(r"\bFROM incidents\b", query) and query.lstrip().upper().startswith("SELECT"):
                sent.append((query, tuple(params)))
            return _original(query, params)

        monkeypatch.setattr(db, name, keep)
    return sent


def test_a_time_window_reads_only_its_months(store, monkeypatch):
    five_months(store)
    sent = recorded(store, monkeypatch)
    window = IncidentFilter(since=datetime(2026, 1, 20, tzinfo=UTC), until=datetime(2026, 2, 20, tzinfo=UTC))
    found, total = store.incidents.query(where=window)
    kpis = store.measures.kpis(where=window, now=NOW)
    store.measures.cell_counts(where=window)  # the heat's counts by H3 cell
    assert total == kpis["total"] == 3 and {i.reported_at.month for i in found} == {2}
    assert sent, "the store sent no statement on incidents"
    plans = scanned(store, sent)
    # Every statement of the listing, the measures and the heat cells reads January and February only (the
    # default partition is left out too: the window lies inside months that have partitions).
    assert all(p <= {"2026_01", "2026_02"} for p in plans), list(zip(plans, [q for q, _ in sent], strict=True))
    assert any(p == {"2026_01", "2026_02"} for p in plans)
    # Without a window every month is read: the plans above are pruned, not merely small.
    assert scanned(store, [("SELECT count(*) FROM incidents", ())])[0] == \
        {"2025_11", "2025_12", "2026_01", "2026_02", "2026_03", "2026_04", "default"}


def test_reports_and_imports_make_their_months_and_the_next_ahead(store):
    five_months(store)
    held = partitions(store.url)
    assert {name: held[name] for name in held if name.count("_") == 2} == {
        "incidents_2025_11": 3, "incidents_2025_12": 3, "incidents_2026_01": 3, "incidents_2026_02": 3,
        "incidents_2026_03": 3, "incidents_2026_04": 0}
    assert held["incidents_default"] == 0
    assert sql(store.url, "SELECT count(*) FROM incident_keys")[0][0] == 15
    assert [e.action for e in store.incidents.timeline(incident(3, MONTHS[0]).id)] == ["report"]


def test_an_id_is_unique_across_months(store):
    store.incidents.report(incident(1, MONTHS[0]), actor="worker-1")
    with pytest.raises(Problem) as refused:
        store.layers.add("incidents", [incident(1, MONTHS[3])])
    assert refused.value.status == 409
    with pytest.raises(Problem) as again:
        store.incidents.report(incident(1, MONTHS[4]), actor="worker-1")
    assert again.value.status == 409
    assert store.incidents.query()[1] == 1


def test_an_incidents_id_and_report_time_do_not_change(store):
    store.incidents.report(incident(1, MONTHS[0]), actor="worker-1")
    with pytest.raises(psycopg2.errors.CheckViolation, match="do not change"):
        sql(store.url, "UPDATE incidents SET reported_at = reported_at + interval '40 days'")
    assert store.incidents.get(incident(1, MONTHS[0]).id).reported_at == MONTHS[0]


def test_rows_of_another_client_wait_in_the_default_partition_until_the_upkeep_moves_them(store):
    five_months(store)
    sql(store.url, "INSERT INTO incidents (id, reported_at, category, severity, status, geom) VALUES "
                   "('loaded-by-hand-1', '2024-06-03 10:00+00', 'disputes', 'general', 'reported', "
                   "ST_SetSRID(ST_MakePoint(114.6, 33.6), 4326)), "
                   "('loaded-by-hand-2', '2024-07-04 10:00+00', 'disputes', 'general', 'closed', "
                   "ST_SetSRID(ST_MakePoint(114.6, 33.6), 4326))")
    everything = IncidentFilter(since=datetime(2024, 1, 1, tzinfo=UTC), until=NOW)
    before = store.measures.kpis(where=everything, now=NOW)
    assert partitions(store.url)["incidents_default"] == 2 and before["total"] == 17

    done = store.incidents.keep_months(now=NOW, retention_months=0)
    assert set(done.made) == {"incidents_2024_06", "incidents_2024_07", "incidents_2026_05"} and done.archived == ()
    held = partitions(store.url)
    assert (held["incidents_default"], held["incidents_2024_06"], held["incidents_2024_07"]) == (0, 1, 1)
    assert store.measures.kpis(where=everything, now=NOW) == before  # moved, not counted again
    assert store.incidents.get("loaded-by-hand-2").status == "closed"


def test_months_beyond_the_retention_are_detached_into_the_archive_not_deleted(store):
    five_months(store)
    oldest = incident(3, MONTHS[0]).id
    everything = IncidentFilter(since=datetime(2025, 1, 1, tzinfo=UTC), until=NOW + timedelta(days=1))
    assert store.measures.kpis(where=everything, now=NOW)["total"] == 15
    sql(store.url, "UPDATE incidents SET status = 'closed'")  # so that the tiles' cells count them all
    assert sql(store.url, "SELECT sum(incident_count) FROM incident_tile_cells")[0][0] == 15
    version = store.layers.data_version("incidents")

    done = store.incidents.keep_months(now=NOW, retention_months=3)  # January, February, March kept
    assert done.archived == ((2025, 11), (2025, 12))
    assert partitions(store.url, "archive") == {"incidents_2025_11": 3, "incidents_2025_12": 3}
    assert "incidents_2025_11" not in partitions(store.url)
    assert store.incidents.query(where=everything)[1] == 9 and store.incidents.get(oldest) is None
    # The measures agree with what is left: the archived days left the per-day summary with their incidents.
    assert store.measures.kpis(where=everything, now=NOW)["total"] == 9
    assert sql(store.url, "SELECT sum(incident_count) FROM incident_daily")[0][0] == 9
    assert sql(store.url, "SELECT sum(incident_count) FROM incident_tile_cells")[0][0] == 9  # the tiles' cells too
    assert store.layers.data_version("incidents") > version
    # The id stays taken and the timeline stays, for an archived month attached again.
    assert [e.action for e in store.incidents.timeline(oldest)] == ["report"]
    with pytest.raises(Problem) as refused:
        store.incidents.report(incident(3, NOW), actor="worker-1")
    assert refused.value.status == 409
    assert store.incidents.keep_months(now=NOW, retention_months=3).archived == ()  # nothing more to do


def test_sqlite_keeps_one_table_and_the_upkeep_has_nothing_to_do(either):
    store = either
    five_months(store)
    done = store.incidents.keep_months(now=NOW, retention_months=1)
    if store.kind == "sqlite":
        assert (done.made, done.archived) == ((), ())
        assert store.incidents.query()[1] == 15
    else:
        assert done.archived == ((2025, 11), (2025, 12), (2026, 1), (2026, 2))
        assert store.incidents.query()[1] == 3


def test_the_partitions_command_archives_by_the_configured_retention(store, tmp_path: Path):
    five_months(store)
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {store.url}\n  incident_retention_months: 2\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "partitions"])
    assert result.exit_code == 0, result.output
    this = datetime.now(UTC)
    assert f"incidents_{this.year:04d}_{this.month:02d}" in result.output or "made: none" in result.output
    kept_from = (this.year * 12 + this.month - 2)
    held = [(at.year, at.month) for at in MONTHS] + [(2026, 4)]  # the month after the last report, made ahead
    archived = [f"{y:04d}-{m:02d}" for y, m in held if y * 12 + m - 1 < kept_from]
    assert f"archived: {', '.join(archived) or 'none'}\n" in result.output
    assert sorted(partitions(store.url, "archive")) == [f"incidents_{a.replace('-', '_')}" for a in archived]
