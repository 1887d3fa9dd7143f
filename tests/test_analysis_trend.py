"""Emerging hotspots on both backends: the Mann-Kendall test against pymannkendall, the category rules, and
cells planted to be new, consecutive, intensifying, diminishing, persistent, sporadic or formerly hot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import h3
import numpy as np
import pymannkendall
import pytest
from shapely.geometry import Point

import layers
from mapserver.analysis.cells import area_cells
from mapserver.analysis.trend import (
    CATEGORIES,
    classify,
    emerging_hotspots,
    mann_kendall,
    period_counts,
    period_starts,
)
from mapserver.config import Settings
from mapserver.derived import DerivedData
from mapserver.maplayers.spec import LayerQuery
from mapserver.model import Incident
from mapserver.store.incidents import IncidentFilter
from tests.analysis_data import STREET, study

UNTIL = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday: eight whole weeks from 2026-10-05
WEEKS = 8
RES = 10  # ~3,000 study cells in the street: room for planted clusters that stay apart
# Planted cells ~1.8 km apart (their first rings never meet), each with its incidents per week, oldest first.
# The weeks mirror each other (k and 7 − k hold the same counts over all cells), so the spread of counts is the
# same in mirrored weeks and a constant cell's z-scores have no trend.
PLANTED: dict[str, tuple[tuple[float, float], tuple[int, ...]]] = {
    "new": ((114.61, 33.615), (0, 0, 0, 0, 0, 0, 0, 40)),
    "consecutive": ((114.63, 33.615), (0, 0, 0, 0, 0, 40, 40, 40)),
    "intensifying": ((114.65, 33.615), (55, 60, 65, 70, 75, 80, 85, 90)),
    "diminishing": ((114.61, 33.635), (90, 85, 80, 75, 70, 65, 60, 55)),
    "persistent": ((114.63, 33.635), (60, 60, 60, 60, 60, 60, 60, 60)),
    "sporadic": ((114.65, 33.635), (40, 0, 40, 0, 0, 40, 0, 40)),
    "none": ((114.61, 33.652), (40, 0, 0, 0, 0, 0, 0, 0)),  # hot once, long ago
    "former": ((114.63, 33.652), (40, 40, 40, 0, 0, 0, 0, 0)),  # hot for three weeks, then quiet: none
}
def _cell(name: str) -> str:
    lon, lat = PLANTED[name][0]
    return h3.latlng_to_cell(lat, lon, RES)


def planted_incidents() -> list[Incident]:
    """The planted cells' incidents, plus a light background: one incident a week in every 25th study cell."""
    starts = period_starts(until=UNTIL, periods=WEEKS, period="week")
    cells = area_cells(STREET.geom, RES)
    rows: list[tuple[str, int]] = [(_cell(name), k) for name, (_, weekly) in PLANTED.items()
                                   for k, n in enumerate(weekly) for _ in range(n)]
    rows += [(cell, k) for k in range(WEEKS) for cell in cells[::25]]
    out = []
    for i, (cell, k) in enumerate(rows):
        lat, lon = h3.cell_to_latlng(cell)
        out.append(Incident(id=f"00000000-0000-4000-8000-{i:012d}", geom=Point(lon, lat),
                            reported_at=starts[k] + timedelta(days=3, minutes=i % 1000), category="disputes",
                            severity="general", status="closed", h3_cell=cell))
    return out


DATA = planted_incidents()


@pytest.fixture
def loaded(store):
    store.layers.add("grids", [STREET])
    store.layers.add("incidents", DATA)
    return store


# -- Mann-Kendall ---------------------------------------------------------------------------------------------


def test_mann_kendall_equals_pymannkendall():
    rng = np.random.default_rng(3)
    rows = [rng.integers(0, 4, 8).astype(float) for _ in range(150)]  # many ties
    rows += [rng.normal(size=n) for n in (8, 12, 20) for _ in range(20)]
    rows += [np.arange(8.0), np.arange(8.0)[::-1], np.full(8, 2.0), np.array([1, 1, 2, 2, 2, 3, 3, 9.0])]
    by_length: dict[int, list[np.ndarray]] = {}
    for row in rows:
        by_length.setdefault(row.size, []).append(row)
    checked = 0
    for batch in by_length.values():
        ours = mann_kendall(np.array(batch))
        for i, row in enumerate(batch):
            ref = pymannkendall.original_test(row)
            assert ours.s[i] == pytest.approx(ref.s, abs=1e-9)
            assert ours.var_s[i] == pytest.approx(ref.var_s, abs=1e-9)
            assert ours.z[i] == pytest.approx(ref.z, abs=1e-9)
            assert ours.p[i] == pytest.approx(ref.p, abs=1e-9)
            assert ours.tau[i] == pytest.approx(ref.Tau, abs=1e-9)
            checked += 1
    assert checked == len(rows)


def test_mann_kendall_in_chunks_equals_in_one_go(monkeypatch):
    rows = np.random.default_rng(5).integers(0, 3, size=(101, 10)).astype(float)
    whole = mann_kendall(rows)
    monkeypatch.setattr("mapserver.analysis.trend.CHUNK_VALUES", 7 * 100)  # 7 rows per chunk, a short last one
    chunked = mann_kendall(rows)
    for name in ("s", "var_s", "z", "p", "tau"):
        assert np.array_equal(getattr(whole, name), getattr(chunked, name)), name


def test_mann_kendall_sees_a_monotone_rise_and_nothing_in_a_flat_row():
    result = mann_kendall(np.array([np.arange(8.0), np.full(8, 5.0)]))
    assert result.s.tolist() == [28, 0] and result.tau[0] == 1.0
    assert result.p[0] < 0.001 and result.p[1] == 1.0


# -- the rules ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("hot", "trend", "category"), [
    ("00000001", 0, "new"),
    ("00000111", 0, "consecutive"),
    ("11111111", 1, "intensifying"),
    ("11111111", -1, "diminishing"),
    ("11111111", 0, "persistent"),
    ("01010011", 0, "sporadic"),
    ("10000001", 1, "sporadic"),
    ("11111110", 0, "none"),
    ("00000000", 0, "none"),
])
def test_category_rules(hot, trend, category):
    row = np.array([[c == "1" for c in hot]])
    assert classify(row, np.array([trend])).tolist() == [category]


def test_ninety_percent_of_twenty_periods_is_persistent():
    row = np.ones((1, 20), dtype=bool)
    row[0, 3] = row[0, 9] = False  # 18 of 20 hot: 90 %
    assert classify(row, np.array([0])).tolist() == ["persistent"]
    row[0, 10] = False
    assert classify(row, np.array([0])).tolist() == ["sporadic"]


# -- on the stores --------------------------------------------------------------------------------------------


def test_one_query_counts_each_period_as_separate_queries_do(loaded):
    starts = period_starts(until=UNTIL, periods=WEEKS, period="week")
    grouped = period_counts(loaded, where=IncidentFilter(), starts=starts, until=UNTIL, res=RES)
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < WEEKS else UNTIL
        assert grouped[k] == loaded.measures.cell_counts(where=IncidentFilter(since=start, until=end))
    assert sum(sum(p.values()) for p in grouped) == len(DATA)


def test_planted_cells_get_their_categories(loaded):
    answer = emerging_hotspots(loaded, study(loaded, RES), until=UNTIL)
    rows = {c.id: c for c in answer.cells}
    for name, (_, weekly) in PLANTED.items():
        cell = _cell(name)
        if name in ("none", "former"):
            assert cell not in rows
            continue
        assert rows[cell].category == name, (name, rows[cell])
        assert rows[cell].counts == weekly
    assert answer.units == len(area_cells(STREET.geom, RES)) == sum(answer.counts.values())
    assert set(answer.counts) == set(CATEGORIES)
    assert rows[_cell("intensifying")].tau > 0.5 > -0.5 > rows[_cell("diminishing")].tau
    assert rows[_cell("persistent")].p > 0.05
    assert rows[_cell("persistent")].hot_periods == WEEKS
    assert [c.z_final for c in answer.cells] == sorted((c.z_final for c in answer.cells), reverse=True)


def test_category_filter_and_an_empty_store(loaded, store):
    only = emerging_hotspots(loaded, study(loaded, RES), until=UNTIL, category="intensifying")
    # Gi* counts the first ring with the cell: the planted cell's ring shares its story.
    assert {c.id for c in only.cells} == set(h3.grid_disk(_cell("intensifying"), 1))
    assert only.cells[0].id == _cell("intensifying")  # strongest final z first
    assert only.counts == emerging_hotspots(loaded, study(loaded, RES), until=UNTIL).counts
    long_ago = emerging_hotspots(loaded, study(loaded, RES), until=datetime(2020, 1, 1, tzinfo=UTC))
    assert long_ago.cells == [] and long_ago.counts["none"] == long_ago.units > 0


def test_no_grids_no_cells(store):
    answer = emerging_hotspots(store, study(store, RES), until=UNTIL)
    assert answer.units == 0 and answer.cells == []


def test_daily_periods_split_the_same_incidents(loaded):
    answer = emerging_hotspots(loaded, study(loaded, RES), until=UNTIL, period="day", periods=56)
    total = sum(sum(c.counts) for c in answer.cells)
    assert len(answer.starts) == 56 and answer.starts[0] == UNTIL - timedelta(days=56)
    assert total <= len(DATA)


# -- over HTTP ------------------------------------------------------------------------------------------------


def test_trend_api(client, tokens, loaded):
    resp = client.get("/api/hotspots/trend?until=2026-11-30T00:00:00Z&res=10", headers=tokens["viewer"])
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["periods"] == WEEKS and body["period"] == "week" and body["confidence"] == 95
    categories = {c["id"]: c["category"] for c in body["cells"]}
    assert categories[_cell("new")] == "new" and categories[_cell("intensifying")] == "intensifying"
    assert body["categories"]["new"] >= 1
    geo = client.get("/api/hotspots/trend?until=2026-11-30T08:00:00&res=10&category=new&geometry=true",
                     headers=tokens["viewer"]).get_json()
    assert geo["type"] == "FeatureCollection" and geo["features"]
    assert all(f["properties"]["category"] == "new" and f["geometry"]["type"] == "Polygon" for f in geo["features"])


@pytest.mark.parametrize(("query", "param"), [
    ("period=month", "period"), ("periods=1", "periods"), ("periods=x", "periods"), ("confidence=80", "confidence"),
    ("category=hot", "category"), ("res=4", "res"), ("until=yesterday", "until"), ("since=2026-01-01", "since"),
    ("incident_category=x", "incident_category"), ("until=0001-01-02T00:00:00Z", "until"),
])
def test_trend_bad_parameters(client, tokens, store, query, param):
    resp = client.get(f"/api/hotspots/trend?{query}", headers=tokens["viewer"])
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["param"] == param


def test_significant_hotspots_only(client, tokens, loaded):
    everything = client.get("/api/hotspots?res=10", headers=tokens["viewer"]).get_json()
    significant = client.get("/api/hotspots?res=10&significant=true", headers=tokens["viewer"]).get_json()
    assert significant["units"] == everything["units"] and significant["classes"] == everything["classes"]
    assert significant["cells"] == [c for c in everything["cells"] if c["class"] != "not_significant"]
    assert 0 < len(significant["cells"]) < len(everything["cells"])
    grids = client.get("/api/hotspots?level=1&significant=true", headers=tokens["viewer"]).get_json()
    assert grids["units"] == 1 and grids["grids"] == []
    bad = client.get("/api/hotspots?significant=yes", headers=tokens["viewer"])
    assert bad.status_code == 400 and bad.get_json()["param"] == "significant"


# -- the big screen's layer -----------------------------------------------------------------------------------


def test_the_trend_layer_draws_one_category(loaded):
    module = layers.load("trend")
    for category in ("new", "intensifying"):
        params = {**module.PARAMS, "res": RES, "category": category}
        answer = module.fetch(loaded, LayerQuery(params=params, now=UNTIL, settings=Settings(),
                                                 derived=DerivedData(loaded)))
        assert {f["id"] for f in answer["features"]} == set(h3.grid_disk(_cell(category), 1))
        assert all(f["properties"]["category"] == category and f["geometry"]["type"] == "Polygon"
                   for f in answer["features"])
    assert module.title("zh", module.PARAMS) == "新增热点(近8周)"
    for bad in ({"category": "none"}, {"periods": 1}, {"period": "month"}, {"confidence": 80}, {"res": 4}):
        assert module.check_params({**module.PARAMS, **bad}), bad


def test_the_screen_serves_the_trend_layers(client, tokens, loaded):
    for key in ("trend_new", "trend_intensifying"):
        resp = client.get(f"/api/screen/layers/{key}", headers=tokens["viewer"])
        assert resp.status_code == 200, (key, resp.get_json())
        assert resp.get_json()["type"] == "FeatureCollection"
