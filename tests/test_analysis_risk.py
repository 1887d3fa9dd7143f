"""Grid risk colours on both backends: four community grids built to be red by their rate, yellow by their rate,
red by overdue items and yellow by a hot cell, seen at and before the day they were built for."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import h3
import pytest
from shapely.geometry import Point, box

import layers
from mapserver.analysis.cells import area_cells
from mapserver.analysis.risk import COLOURS, grid_risk
from mapserver.config import RiskSettings, Settings
from mapserver.derived import DerivedData
from mapserver.maplayers.spec import LayerQuery
from mapserver.model import Grid, Incident
from tests.analysis_data import STREET, study

AS_OF = datetime(2026, 11, 30, tzinfo=UTC)
RES = 9
SETTINGS = RiskSettings()  # window 30 days; yellow 20, red 40 per 1,000 households; 3 overdue → red; hot at 95 %
CLUSTER = (114.645, 33.645)  # deep inside the north-east community: its hot ring stays there


def _community(i: int) -> tuple[str, object]:
    return f"4116020010010{i:02d}", box(114.60 + 0.03 * (i % 2), 33.60 + 0.03 * (i // 2),
                                       114.63 + 0.03 * (i % 2), 33.63 + 0.03 * (i // 2))


def _where(lon: float, lat: float) -> str:
    for i in range(4):
        code, geom = _community(i)
        if geom.covers(Point(lon, lat)):
            return code
    raise AssertionError((lon, lat))


def _incident(n: int, lon: float, lat: float, reported_at: datetime, **extra: object) -> Incident:
    values = {"status": "closed", "closed_at": reported_at + timedelta(hours=2),
              "due_at": reported_at + timedelta(days=3), **extra}
    return Incident(id=f"00000000-0000-4000-8000-{n:012d}", geom=Point(lon, lat), reported_at=reported_at,
                    category="disputes", grid_code=_where(lon, lat), grid_l1=STREET.code, grid_l2=_where(lon, lat),
                    h3_cell=h3.latlng_to_cell(lat, lon, RES), **values)


def build() -> tuple[list[Grid], list[Incident]]:
    """One incident in every study cell in the window (even counts: no cell hot), a planted cluster in the
    north-east, 300 old incidents in the south-east, and four late items in the north-west."""
    incidents: list[Incident] = []
    day = AS_OF - timedelta(days=10)
    for cell in area_cells(STREET.geom, RES):
        lat, lon = h3.cell_to_latlng(cell)
        incidents.append(_incident(len(incidents), lon, lat, day))
    incidents += [_incident(len(incidents) + i, *CLUSTER, day) for i in range(60)]
    # Outside the window (40 days before as_of): must not count towards the rate.
    incidents += [_incident(len(incidents) + i, 114.645, 33.615, AS_OF - timedelta(days=40)) for i in range(300)]
    late = AS_OF - timedelta(days=5)
    nw = (114.615, 33.645)
    incidents += [
        _incident(len(incidents), *nw, late - timedelta(days=3), status="dispatched", closed_at=None, due_at=late),
        _incident(len(incidents) + 1, *nw, late - timedelta(days=3), status="reported", closed_at=None,
                  due_at=late + timedelta(days=1)),
        # Closed after as_of: still open, and late, as things stood at as_of.
        _incident(len(incidents) + 2, *nw, late - timedelta(days=3), closed_at=AS_OF + timedelta(days=1),
                  due_at=late),
        # Open but not yet due at as_of.
        _incident(len(incidents) + 3, *nw, late, status="reported", closed_at=None, due_at=AS_OF + timedelta(days=2)),
        # Closed in time.
        _incident(len(incidents) + 4, *nw, late - timedelta(days=3), closed_at=late - timedelta(days=1),
                  due_at=late),
    ]
    window = Counter(i.grid_l2 for i in incidents if AS_OF - timedelta(days=30) <= i.reported_at < AS_OF)
    codes = [_community(i)[0] for i in range(4)]
    households = {codes[0]: window[codes[0]] * 1000 // 45,  # ≈ 45 per 1,000: red
                  codes[1]: window[codes[1]] * 1000 // 25,  # ≈ 25: yellow (the 300 old ones would make it red)
                  codes[2]: window[codes[2]] * 1000 // 5,  # ≈ 5: green by rate; three items late → red
                  codes[3]: None}  # no households recorded: no rate; the hot cluster → yellow
    grids = [Grid(code=code, level=2, parent_code=STREET.code, name=f"社区{i}", geom=_community(i)[1],
                  households=households[code]) for i, code in enumerate(codes)]
    return grids, incidents


GRIDS, DATA = build()
SW, SE, NW, NE = (g.code for g in GRIDS)


@pytest.fixture
def loaded(store):
    store.layers.add("grids", [STREET, *GRIDS])
    store.layers.add("incidents", DATA)
    return store


def test_each_rule_lights_its_grid(loaded):
    risks = {r.code: r for r in grid_risk(loaded, study(loaded, SETTINGS.hot_res), SETTINGS, level=2, as_of=AS_OF)}
    assert list(risks) == sorted(risks)
    in_window = Counter(i.grid_l2 for i in DATA if AS_OF - timedelta(days=30) <= i.reported_at < AS_OF)
    for grid in GRIDS:
        risk = risks[grid.code]
        assert risk.incidents == in_window[grid.code]
        expected_rate = round(1000 * in_window[grid.code] / grid.households, 3) if grid.households else None
        assert risk.rate_per_1000 == expected_rate
    assert (risks[SW].colour, [r.rule for r in risks[SW].reasons]) == ("red", ["rate"])
    assert (risks[SE].colour, [r.rule for r in risks[SE].reasons]) == ("yellow", ["rate"])
    assert (risks[NW].colour, [r.rule for r in risks[NW].reasons]) == ("red", ["overdue"])
    assert (risks[NE].colour, [r.rule for r in risks[NE].reasons]) == ("yellow", ["hot_cells"])
    assert risks[NW].overdue == 3 and risks[SW].overdue == risks[SE].overdue == risks[NE].overdue == 0
    assert risks[NE].hot_cells >= 7 and risks[SW].hot_cells == 0  # the cluster's cell and its ring
    assert risks[NE].rate_per_1000 is None and risks[NE].households is None


def test_as_of_sees_the_items_as_they_stood(loaded):
    hot = study(loaded, SETTINGS.hot_res)
    before = {r.code: r for r in grid_risk(loaded, hot, SETTINGS, level=2, as_of=AS_OF - timedelta(days=6))}
    assert before[NW].overdue == 0  # nothing was due yet
    earlier = {r.code: r for r in grid_risk(loaded, hot, SETTINGS, level=2, as_of=AS_OF - timedelta(days=12))}
    assert earlier[SE].incidents == 300  # the old ones only: the window's background came two days later
    assert earlier[NE].incidents == 0 and earlier[NE].hot_cells == 0 and earlier[NE].colour == "green"
    lenient = RiskSettings(yellow_per_1000=1000, red_per_1000=2000, overdue_red=4)
    calm = {r.code: r.colour for r in grid_risk(loaded, hot, lenient, level=2, as_of=AS_OF)}
    assert calm == {SW: "green", SE: "green", NW: "green", NE: "yellow"}


def test_levels_without_grids_and_bad_levels(loaded):
    assert grid_risk(loaded, study(loaded, SETTINGS.hot_res), SETTINGS, level=4, as_of=AS_OF) == []
    street = grid_risk(loaded, study(loaded, SETTINGS.hot_res), SETTINGS, level=1, as_of=AS_OF)
    assert [r.code for r in street] == [STREET.code] and street[0].incidents == len(
        [i for i in DATA if AS_OF - timedelta(days=30) <= i.reported_at < AS_OF])
    with pytest.raises(ValueError):
        grid_risk(loaded, study(loaded, SETTINGS.hot_res), SETTINGS, level=5, as_of=AS_OF)
    with pytest.raises(ValueError):
        grid_risk(loaded, study(loaded, SETTINGS.hot_res), SETTINGS, level=2, as_of=datetime(2026, 11, 30))


def test_red_must_be_above_yellow():
    with pytest.raises(ValueError):
        RiskSettings(yellow_per_1000=30, red_per_1000=30)


def test_risk_api(client, tokens, loaded):
    resp = client.get("/api/grids/risk?as_of=2026-11-30T08:00:00", headers=tokens["viewer"])  # local time
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["type"] == "FeatureCollection" and body["level"] == 2 and body["window_days"] == 30
    colours = {f["id"]: f["properties"]["risk"] for f in body["features"]}
    assert colours == {SW: "red", SE: "yellow", NW: "red", NE: "yellow"}
    assert body["colours"] == {"green": 0, "yellow": 2, "red": 2} and set(body["colours"]) == set(COLOURS)
    nw = next(f for f in body["features"] if f["id"] == NW)
    assert nw["properties"]["reasons"] == [{"rule": "overdue", "colour": "red", "value": 3, "threshold": 3}]
    assert nw["geometry"]["type"] in ("Polygon", "MultiPolygon") and nw["geometry"]["coordinates"]


@pytest.mark.parametrize(("query", "param"), [
    ("level=5", "level"), ("level=x", "level"), ("as_of=tomorrow", "as_of"), ("as_of=0001-01-05", "as_of"),
    ("since=2026-01-01", "since"),
])
def test_risk_bad_parameters(client, tokens, store, query, param):
    resp = client.get(f"/api/grids/risk?{query}", headers=tokens["viewer"])
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["param"] == param


# -- the big screen's layer -----------------------------------------------------------------------------------


def test_the_risk_layer_fills_each_grid_with_its_colour(loaded):
    module = layers.load("risk")
    answer = module.fetch(loaded, LayerQuery(params=module.PARAMS, now=AS_OF, settings=Settings(),
                                             derived=DerivedData(loaded)))
    assert answer["numberMatched"] == 4
    assert {f["id"]: f["properties"]["risk"] for f in answer["features"]} == {SW: "red", SE: "yellow", NW: "red",
                                                                              NE: "yellow"}
    assert [f["properties"]["risk"] for f in answer["features"]] == ["red", "red", "yellow", "yellow"]  # worst first
    assert set(module.STYLE["risk_colors"]) == set(COLOURS)
    capped = module.fetch(loaded, LayerQuery(params=module.PARAMS, now=AS_OF, limit=1, settings=Settings(),
                                             derived=DerivedData(loaded)))
    assert len(capped["features"]) == 1 and capped["numberMatched"] == 4
    assert module.check_params({"level": 5}) and not module.check_params({"level": 3})


def test_the_screen_serves_the_risk_layer(client, tokens, loaded):
    resp = client.get("/api/screen/layers/risk", headers=tokens["viewer"])
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["type"] == "FeatureCollection"  # now: every item is long closed, the window is empty
