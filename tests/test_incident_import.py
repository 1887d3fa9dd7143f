"""Batch import of historical incidents: each gets what a report gets (grid chain, H3 cell, deadlines, taxonomy).

Runs on both backends (the ``store`` fixture). Points are near Chuanhui (WGS-84),
in the sample grids of tests/samples.py; times are UTC unless a file says otherwise.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mapserver.cli import main
from mapserver.errors import Problem
from mapserver.gridindex import GridIndex
from mapserver.importer import import_layer
from mapserver.incidents.deadline_batch import from_us, many_deadlines, to_us
from mapserver.incidents.deadlines import deadlines
from mapserver.incidents.enrich import _updated, prepare_incidents
from mapserver.incidents.service import new_incident
from mapserver.incidents.settings import IncidentSettings
from mapserver.model import SEVERITIES
from tests import samples

SETTINGS = IncidentSettings()
IN_COMPOUND = (114.6005, 33.6005)  # street → community → compound
IN_STREET_ONLY = (114.68, 33.68)  # street, outside its one community
NEAR_STREET = (114.7003, 33.65)  # about 28 m east of the street's edge: snapped, as a report would be
FAR_AWAY = (114.80, 33.80)  # kilometres from every grid


@pytest.fixture
def grids(store):
    store.layers.add("grids", samples.GRIDS)
    return store


def write_csv(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def row(point: tuple[float, float], reported_at: str = "2026-11-20T09:30:00+08:00", **fields) -> dict:
    return {"lon": point[0], "lat": point[1], "category": "disputes", "severity": "important",
            "reported_at": reported_at, "description": "邻里纠纷", **fields}


def run_import(store, path: Path, settings: IncidentSettings = SETTINGS):
    return import_layer(store, "incidents", path, prepare=prepare_incidents(store, settings))


def refused(store, path: Path, settings: IncidentSettings = SETTINGS) -> list[dict]:
    before = (store.layers.count("incidents"), store.layers.data_version("incidents"))
    with pytest.raises(Problem) as caught:
        run_import(store, path, settings)
    assert caught.value.status == 422, caught.value
    assert caught.value.detail.endswith("nothing was written")
    assert (store.layers.count("incidents"), store.layers.data_version("incidents")) == before
    return caught.value.errors


def as_reported(store, incident, settings: IncidentSettings = SETTINGS):
    """What POST /api/incidents would have made of the same point, category, severity and time."""
    index = GridIndex.from_store(store)
    body = {"category": incident.category, "severity": incident.severity,
            "point": {"lon": incident.geom.x, "lat": incident.geom.y}}
    return new_incident(body, settings=settings, now=incident.reported_at,
                        locate=lambda lon, lat: [ref.code for ref in index.lookup(lon, lat).chain],
                        geocode=lambda address: pytest.fail("no geocoding expected"))


CHAIN_FIELDS = ("grid_code", "grid_l1", "grid_l2", "grid_l3", "grid_l4", "h3_cell", "warn_at", "due_at")


def test_imported_incidents_get_what_a_report_gets(grids, tmp_path):
    path = write_csv(tmp_path / "history.csv", [
        row(IN_COMPOUND, category="fire_hazard", severity="urgent"),
        row(IN_STREET_ONLY, reported_at="2026-11-21T10:00:00+08:00"),  # a Saturday: due after the weekend
        row(NEAR_STREET, severity="general", status="closed", closed_at="2026-11-24T10:00:00+08:00"),
    ])
    report = run_import(grids, path)
    assert report.written == 3
    stored = sorted(grids.layers.query("incidents"), key=lambda i: i.geom.x)
    for incident in stored:
        expected = as_reported(grids, incident)
        assert {f: getattr(incident, f) for f in CHAIN_FIELDS} == {f: getattr(expected, f) for f in CHAIN_FIELDS}
    compound, street, snapped = stored
    assert (compound.grid_code, compound.grid_l1, compound.grid_l2, compound.grid_l3, compound.grid_l4) == (
        samples.COMPOUND.code, samples.STREET.code, samples.COMMUNITY.code, samples.COMPOUND.code, None)
    assert (street.grid_code, street.grid_l1, street.grid_l2) == (samples.STREET.code, samples.STREET.code, None)
    assert snapped.grid_code == samples.STREET.code and snapped.status == "closed"
    # Urgent fire hazards: 2 working hours from Friday 09:30 in Beijing.
    assert compound.due_at == datetime(2026, 11, 20, 3, 30, tzinfo=UTC)
    assert street.due_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 3 working days from Monday 08:30: Wed 18:00


def test_a_given_grid_code_is_kept_and_its_chain_filled_in(grids, tmp_path):
    path = write_csv(tmp_path / "history.csv", [row(IN_COMPOUND, grid_code=samples.COMMUNITY.code,
                                                    grid_l3="stale-code")])
    run_import(grids, path)
    [stored] = grids.layers.query("incidents")
    assert (stored.grid_code, stored.grid_l1, stored.grid_l2, stored.grid_l3) == (
        samples.COMMUNITY.code, samples.STREET.code, samples.COMMUNITY.code, None)


def test_deadlines_in_the_file_are_kept(grids, tmp_path):
    path = write_csv(tmp_path / "history.csv", [
        row(IN_COMPOUND, due_at="2026-11-20T10:00:00+08:00"),  # due half an hour after the report
        row(IN_STREET_ONLY, warn_at="2026-11-22T10:00:00+08:00", due_at="2026-11-23T10:00:00+08:00"),
    ])
    run_import(grids, path)
    early, given = sorted(grids.layers.query("incidents"), key=lambda i: i.geom.x)
    assert early.due_at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert early.warn_at == early.due_at  # the rules' yellow time would come after the file's due time
    assert (given.warn_at, given.due_at) == (datetime(2026, 11, 22, 2, tzinfo=UTC),
                                             datetime(2026, 11, 23, 2, tzinfo=UTC))


def test_refused_rows_are_listed_by_row_and_nothing_is_written(grids, tmp_path):
    settings = IncidentSettings(description_max=20)
    path = write_csv(tmp_path / "history.csv", [
        row(IN_COMPOUND),
        row(IN_COMPOUND, category="aliens"),
        row(FAR_AWAY),
        row(IN_COMPOUND, description="长" * 21),
        row(IN_COMPOUND, grid_code="411602999000000"),
        row(NEAR_STREET),
    ])
    findings = refused(grids, path, settings)
    assert [(f["row"], f["field"]) for f in findings] == [
        (2, "category"), (3, "geom"), (4, "description"), (5, "grid_code")]
    assert all(len(f["id"]) == 36 for f in findings)
    assert "'aliens' is not one of disputes, public_security" in findings[0]["reason"]
    assert "nearest grid 411602001000000 is" in findings[1]["reason"] and "limit 50 m" in findings[1]["reason"]
    assert "longer than 20 characters (21)" in findings[2]["reason"]
    assert "'411602999000000' is not in the store" in findings[3]["reason"]


def test_without_grids_nothing_can_be_placed(store, tmp_path):
    with pytest.raises(Problem) as caught:
        run_import(store, write_csv(tmp_path / "history.csv", [row(IN_COMPOUND)]))
    assert caught.value.status == 422 and "import the grids first" in caught.value.detail
    assert store.layers.count("incidents") == 0


def test_geojson_in_gcj02(grids, tmp_path):
    from mapserver.geo import from_wgs84

    lon, lat = from_wgs84(*IN_COMPOUND, "gcj02")
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
               "properties": {"category": "environment", "severity": "一般", "reported_at": "2026-11-20T01:30:00Z"}}
    path = tmp_path / "history.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    report = import_layer(grids, "incidents", path, crs="gcj02", prepare=prepare_incidents(grids, SETTINGS))
    assert report.written == 1
    [stored] = grids.layers.query("incidents")
    assert stored.grid_code == samples.COMPOUND.code and stored.severity == "general"
    assert stored.h3_cell == as_reported(grids, stored).h3_cell


def test_the_import_command_prepares_incidents_with_the_configured_settings(grids, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {grids.url}\nincidents:\n  h3_resolution: 7\n", encoding="utf-8")
    path = write_csv(tmp_path / "history.csv", [row(IN_COMPOUND), row(IN_COMPOUND, category="aliens")])

    def run(*args: str):
        return CliRunner().invoke(main, ["--config", str(config), *map(str, args)], env={"MAPSERVER_STORE": grids.url})

    refusal = run("import", "incidents", path)
    assert refusal.exit_code == 1
    assert refusal.stderr.splitlines()[0].startswith("  row 2 (") and "category: 'aliens' is not one of" in \
        refusal.stderr
    path = write_csv(tmp_path / "history.csv", [row(IN_COMPOUND)])
    result = run("import", "incidents", path)
    assert result.exit_code == 0, result.output
    [stored] = grids.layers.query("incidents")
    assert stored.grid_code == samples.COMPOUND.code and stored.h3_cell.startswith("87")  # resolution 7


# --- deadlines in bulk --------------------------------------------------------------------------------


CALENDAR_RULES = {
    "office_hours": ["08:30-12:00", "14:30-17:59:59.5"],
    "holidays": [date(2026, 1, 1), date(2026, 1, 2)] + [date(2026, 2, 16) + timedelta(days=k) for k in range(7)]
    + [date(2026, 10, 1) + timedelta(days=k) for k in range(7)],
    "makeup_workdays": [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 27),
                        date(2026, 10, 10)],
    "yellow_at": 0.7,
    "deadlines": {"default": {"general": "5 working_days", "important": "1.5 working_days",
                              "urgent": "0.3 working_hours"},
                  "fire_hazard": {"urgent": "7 working_hours"}},
}


def boundary_instants(settings: IncidentSettings) -> list[datetime]:
    """Every office period's start and end (and a microsecond either side) over two weeks, in UTC."""
    calendar, out = settings.calendar(), []
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(calendar.timezone)
    for k in range(14):
        day = date(2026, 2, 10) + timedelta(days=k)
        for begin, end in calendar.periods:
            for clock in (begin, end):
                moment = datetime.combine(day, clock, zone)
                out += [moment - timedelta(microseconds=1), moment, moment + timedelta(microseconds=1)]
    return out


@pytest.mark.parametrize("timezone", ["Asia/Shanghai", "Europe/Berlin"])  # Berlin: summer time, the slow path
def test_bulk_deadlines_equal_deadlines_to_the_microsecond(timezone):
    settings = IncidentSettings(**CALENDAR_RULES, timezone=timezone)
    rng = np.random.default_rng(5)
    start = to_us([datetime(2025, 12, 20, tzinfo=UTC)])[0]
    count = 3000 if timezone == "Asia/Shanghai" else 300
    moments = [*from_us(start + rng.integers(0, 330 * 86_400_000_000, count)), *boundary_instants(settings)]
    categories = list(rng.choice(list(settings.categories), len(moments)))
    severities = list(rng.choice(SEVERITIES, len(moments)))
    warn, due = many_deadlines(settings, categories, severities, to_us(moments))
    expected = [deadlines(settings, category=c, severity=s, reported_at=m)
                for c, s, m in zip(categories, severities, moments, strict=True)]
    assert from_us(warn) == [w for w, _ in expected]
    assert from_us(due) == [d for _, d in expected]


def test_updated_is_replace():
    incident = samples.INCIDENTS[0]
    changes = {"grid_l1": "a", "h3_cell": "b", "due_at": datetime(2026, 1, 1, tzinfo=UTC)}
    assert _updated(incident, changes) == replace(incident, **changes)
    assert _updated(incident, changes) is not incident and incident.grid_l1 is None


def test_the_prepare_hook_names_refused_records_by_file_row(store, tmp_path):
    """The hook is generic: it sees the records (a two-part road is two), and its findings come back by row."""
    lines = [{"type": "MultiLineString", "coordinates": [[[114.60, 33.61], [114.65, 33.61]],
                                                         [[114.66, 33.61], [114.70, 33.61]]]},
             {"type": "LineString", "coordinates": [[114.61, 33.60], [114.61, 33.65]]}]
    features = [{"type": "Feature", "geometry": g,
                 "properties": {"code": f"R{n}", "name": "路", "road_class": "primary"}}
                for n, g in enumerate(lines, start=1)]
    path = tmp_path / "roads.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    seen = []

    def refuse_the_last(records):
        seen.extend(r.code for r in records)
        raise Problem(422, "no", errors=[{"record": 3, "id": records[2].code, "field": "name", "reason": "too short"}])

    with pytest.raises(Problem) as caught:
        import_layer(store, "roads", path, prepare=refuse_the_last)
    assert seen == ["R1-1", "R1-2", "R2"]
    assert caught.value.errors == [{"row": 2, "id": "R2", "field": "name", "reason": "too short"}]
    assert caught.value.detail == "1 problem in roads.geojson; nothing was written"
    assert store.layers.count("roads") == 0
    report = import_layer(store, "roads", path, prepare=lambda records: records[:1])
    assert report.written == 1 and [r.code for r in store.layers.query("roads")] == ["R1-1"]


def test_ids_named_in_one_pass_are_each_incident_content_id(grids, tmp_path):
    from mapserver.importer import incident_id

    rows = [row(IN_COMPOUND), row(IN_STREET_ONLY, description="噪音扰民"), row(IN_COMPOUND, id="given-id-1")]
    path = write_csv(tmp_path / "history.csv", rows)
    report = import_layer(grids, "incidents", path)  # no prepare hook: stored as read, so the content is the file's
    assert report.written == 3
    stored = grids.layers.query("incidents")
    made = [i for i in stored if i.id != "given-id-1"]
    assert len(made) == 2 and {i.description for i in made} == {"邻里纠纷", "噪音扰民"}
    for incident in made:  # the id written one at a time, geometry and all, is the id the import gave
        assert incident.id == incident_id(replace(incident, id=""))
    with pytest.raises(Problem) as caught:  # the same file again: every row is a duplicate
        import_layer(grids, "incidents", path)
    assert [e["row"] for e in caught.value.errors] == [1, 2, 3]
    assert all("already in the store" in e["reason"] for e in caught.value.errors)
