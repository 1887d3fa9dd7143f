"""The demo city (mapserver.demo, `mapserver demo`): counts, topology, codes, people, cameras, incidents,
determinism, and loading into both store backends.

The district is built once per module (a few seconds); meanwhile a child process
with another hash seed rebuilds it, for the determinism test. Areas and distances are measured in the demo's metric CRS
(a local transverse Mercator, metres).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import uuid
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from mapserver.config import load_settings
from mapserver.demo import AS_OF, build_city, load_city
from mapserver.demo.boundary import CHUANHUI, district, to_metric
from mapserver.demo.grids import build_grid_tree
from mapserver.demo.specs import CHUANHUI_SPEC, specs_for
from mapserver.demo.worktime import WorkTimeline
from mapserver.errors import Problem
from mapserver.incidents.deadlines import deadlines
from mapserver.incidents.settings import IncidentSettings
from mapserver.store import open_store

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = {1: 12, 2: 138, 3: 358, 4: 1663}
DIGEST = "from mapserver.demo import build_city; print(build_city(seed={seed}, scale='district').digest())"


@pytest.fixture(scope="module")
def child_digest():
    """The digest of seed 1 built in a fresh interpreter with another hash seed (started before the city)."""
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    proc = subprocess.Popen([sys.executable, "-c", DIGEST.format(seed=1)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield proc
    proc.kill()
    proc.wait()


@pytest.fixture(scope="module")
def city(child_digest):
    return build_city(seed=1, scale="district")


def base(city, level=None):
    return [g for g in city.grids if g.kind == "base" and (level is None or g.level == level)]


def metric(geoms):
    return to_metric(np.asarray(geoms, dtype=object))


# -- counts -------------------------------------------------------------------------------------------------


def test_grid_counts_per_level_are_the_published_ones(city):
    assert {level: len(base(city, level)) for level in PUBLISHED} == PUBLISHED
    special = [g for g in city.grids if g.kind == "special"]
    assert 20 <= len(special) <= 40
    assert {g.level for g in special} <= {3, 4}
    assert {g.subtype for g in special} == {"school", "hospital", "market"}


def test_layer_counts(city):
    counts = city.counts()
    assert counts["cameras"] == 1200
    assert counts["addresses"] == 50_000
    assert counts["incidents"] == 120_000
    assert 60 <= counts["places"] <= 120
    assert counts["roads"] > 1000
    assert counts["grid_staff"] >= 3 * counts["grids"]


# -- topology -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outline_m(city):
    return to_metric(city.outlines[CHUANHUI])


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_each_level_tiles_the_district(city, outline_m, level):
    grids = metric([g.geom for g in base(city, level)])
    assert shapely.is_valid(grids).all()
    union = shapely.union_all(grids)
    assert union.symmetric_difference(outline_m).area <= 1.0  # m², gaps and overhangs together
    tree = shapely.STRtree(grids)
    left, right = tree.query(grids, predicate="intersects")
    pairs = left < right
    overlaps = shapely.area(shapely.intersection(grids[left[pairs]], grids[right[pairs]]))
    assert overlaps.max(initial=0) <= 1.0 and overlaps.sum() <= 1.0
    assert abs(shapely.area(grids).sum() - outline_m.area) <= 1.0


def test_district_outline_is_the_real_boundary(outline_m):
    real = to_metric(district(CHUANHUI).geom)
    # Vertices are rounded to 7 decimals (about 1 cm): the outline moves by millimetres only.
    assert shapely.hausdorff_distance(outline_m, real) < 0.02
    assert outline_m.symmetric_difference(real).area < 1e-6 * real.area
    assert 330e6 < real.area < 336e6  # 川汇区 is published as 349 km²; its web-map boundary holds 333 km²


def test_children_lie_inside_their_parents_and_make_them_up(city):
    by_code = {g.code: g for g in city.grids}
    children = defaultdict(list)
    for g in city.grids:
        if g.parent_code:
            assert g.parent_code in by_code, g.code
            parent = by_code[g.parent_code]
            assert parent.level == g.level - 1 and parent.kind == "base"
            children[g.parent_code].append(g)
    kids = [g for g in city.grids if g.parent_code]
    spill = shapely.area(shapely.difference(metric([g.geom for g in kids]),
                                            metric([by_code[g.parent_code].geom for g in kids])))
    assert spill.max() <= 0.01  # m²
    for code, group in children.items():
        made = shapely.union_all(metric([g.geom for g in group if g.kind == "base"]))
        assert made.symmetric_difference(to_metric(by_code[code].geom)).area <= 1.0, code


def test_geometries_are_valid_and_on_the_7_decimal_grid(city):
    for layer in ("grids", "places", "roads", "addresses", "cameras"):
        geoms = np.asarray([r.geom for r in getattr(city, layer)], dtype=object)
        assert shapely.is_valid(geoms).all(), layer
        coords = shapely.get_coordinates(geoms)
        assert np.abs(coords - np.round(coords, 7)).max() < 1e-9, layer
    assert {type(g.geom).__name__ for g in city.grids} <= {"Polygon", "MultiPolygon"}


# -- codes, names and people ---------------------------------------------------------------------------------


def test_grid_codes(city):
    codes = [g.code for g in city.grids]
    assert len(set(codes)) == len(codes)
    for g in city.grids:
        assert g.code.isdigit() and g.code.startswith("411602"), g.code
        assert len(g.code) == (18 if g.level == 4 else 15), g.code
        street, community, serial = int(g.code[6:9]), int(g.code[9:12]), int(g.code[12:15])
        assert 1 <= street <= 99  # all 12 level-1 units of 川汇区 are street offices
        if g.level == 1:
            assert community == serial == 0 and g.name.endswith("街道")
        if g.level >= 2:
            assert g.code.startswith(g.parent_code[: 6 + 3 * (g.level - 1)]) or g.code.startswith(g.parent_code)
        if g.level == 2:
            village = g.name.endswith("村")
            assert (201 <= community <= 399) if village else (1 <= community <= 199 and g.name.endswith("社区"))
            assert serial == 0
        if g.level == 3:
            assert g.code[:12] == g.parent_code[:12] and serial >= 1
        if g.level == 4:
            assert g.code[:15] == g.parent_code and int(g.code[15:]) >= 1
        if g.kind == "special":
            assert int(g.code[-3:]) >= 901
    villages = [g for g in base(city, 2) if g.name.endswith("村")]
    assert len(villages) == 55 and len(base(city, 2)) - len(villages) == 83
    assert all(g.name.endswith(("号楼", "组")) for g in base(city, 4))


def test_households_and_population(city):
    level4 = base(city, 4)
    assert all(2.2 <= g.population / g.households <= 3.1 for g in level4)  # people a household, not 1.1
    assert sum(g.population for g in base(city, 1)) == 758_000
    assert sum(g.population for g in level4) / len(level4) == pytest.approx(456, abs=1)  # as published for 川汇
    assert 240_000 < sum(g.households for g in level4) < 320_000
    by_parent = defaultdict(lambda: [0, 0])
    for g in base(city):
        if g.parent_code:
            by_parent[g.parent_code][0] += g.households
            by_parent[g.parent_code][1] += g.population
    for g in base(city):
        if g.level < 4:
            assert [g.households, g.population] == by_parent[g.code], g.code
    assert all(g.households is None for g in city.grids if g.kind == "special")


def test_every_grid_has_a_leader_a_worker_and_a_police_liaison(city):
    roles = defaultdict(set)
    for s in city.grid_staff:
        roles[s.grid_code].add(s.role)
        assert re.fullmatch(r"1[358]\d{9}", s.phone), s.phone
        assert 2 <= len(s.name) <= 3 and s.unit
    for g in city.grids:
        assert {"grid_leader", "grid_worker", "police_liaison"} <= roles[g.code], g.code
    person = {}
    for s in city.grid_staff:
        assert person.setdefault(s.phone, s.name) == s.name  # one phone, one person
    led = Counter(s.phone for s in city.grid_staff if s.role == "grid_leader")
    assert max(led.values()) <= 3 and sum(1 for n in led.values() if n >= 2) > 100


def test_one_police_liaison_per_community(city):
    liaison = defaultdict(set)
    for s in city.grid_staff:
        if s.role == "police_liaison" and len(s.grid_code) >= 15 and s.grid_code[9:12] != "000":
            liaison[s.grid_code[:12]].add(s.phone)
    assert len(liaison) == 138
    assert all(len(phones) == 1 for phones in liaison.values())


# -- cameras, places, addresses, roads -----------------------------------------------------------------------


def test_cameras(city, outline_m):
    cams = city.cameras
    assert all(re.fullmatch(r"411602\d{14}", c.code) and c.code[10:13] in ("131", "132") for c in cams)
    assert len({c.code for c in cams}) == len(cams)
    online = sum(c.status == "online" for c in cams) / len(cams)
    assert 0.98 <= online <= 0.99
    assert all(0 <= c.direction_deg <= 360 and 40 <= c.fov_deg <= 100 and 30 <= c.range_m <= 120 for c in cams)
    assert all(c.last_seen <= AS_OF for c in cams if c.status == "offline")
    assert all(c.last_seen is None for c in cams if c.status == "online")
    points = metric([c.geom for c in cams])
    assert shapely.contains(outline_m, points).all()
    main = shapely.union_all(metric([r.geom for r in city.roads if r.road_class in ("primary", "secondary")]))
    near = shapely.dwithin(main, points, 50).mean()
    area_share = main.buffer(50).intersection(outline_m).area / outline_m.area
    assert near > 2 * area_share  # denser along main roads than the land they take up


def test_places_and_special_grids(city):
    kinds = Counter(p.kind for p in city.places)
    assert {"school", "hospital", "market", "station"} <= set(kinds)
    places = {p.name: p for p in city.places}
    for g in city.grids:
        if g.kind == "special":
            assert places[g.name].geom.equals(g.geom)


def test_addresses_lie_in_their_building_grid(city):
    grids = {g.code: g.geom for g in base(city, 4)}
    codes = [a.code for a in city.addresses]
    assert len(set(codes)) == len(codes)
    by_grid = defaultdict(list)
    for a in city.addresses:
        by_grid[a.code[:18]].append(a.geom)
    for code, points in by_grid.items():
        assert shapely.contains(grids[code], np.asarray(points, dtype=object)).all(), code
    pattern = re.compile(r"川汇区\S+?(\d+号\S+\d+号楼\d单元\d+室|村\S+组\d+号)")
    assert all(pattern.fullmatch(a.text) for a in city.addresses)


def test_roads_follow_the_grid_boundaries(city, outline_m):
    roads = city.roads
    assert {r.road_class for r in roads} == {"primary", "secondary", "tertiary", "residential"}
    assert all(r.geom.geom_type == "LineString" for r in roads) and any(r.oneway for r in roads)
    assert {"七一路", "八一大道", "中州大道"} & {r.name for r in roads}
    primary = shapely.union_all(metric([r.geom for r in roads if r.road_class == "primary"])).buffer(1.0)
    inner = shapely.union_all(metric([g.geom for g in base(city, 1)])).boundary  # the outline only
    streets = shapely.union_all(shapely.boundary(metric([g.geom for g in base(city, 1)]))).difference(inner)
    assert streets.difference(primary).length < 0.01 * streets.length


# -- incidents -----------------------------------------------------------------------------------------------


def test_incident_statuses_and_closure_rate(city):
    incidents = city.incidents
    closed = [i.status == "closed" for i in incidents if i.source != "public_app"]
    assert sum(closed) / len(closed) == pytest.approx(0.9997, abs=0.0001)
    open_at = closed.index(False)
    assert not any(closed[open_at:])  # the open ones are the newest
    public = [i for i in incidents if i.source == "public_app"]
    assert len(public) / len(incidents) == pytest.approx(0.008, abs=0.001)  # under 1 % of the volume
    assert sum(i.status == "closed" for i in public) / len(public) == pytest.approx(443 / 493, abs=0.03)
    assert {i.status for i in public if i.status != "closed"} <= {"dispatched", "accepted", "handled"}
    times = [i.reported_at for i in incidents]
    assert times == sorted(times) and AS_OF - timedelta(days=365) <= times[0] and times[-1] < AS_OF
    for i in incidents:
        if i.status == "closed":
            assert i.reported_at <= i.dispatched_at <= i.closed_at < AS_OF
        assert i.reported_at < i.warn_at <= i.due_at
    ids = [i.id for i in incidents]
    assert len(set(ids)) == len(ids) and all(uuid.UUID(x).version == 4 for x in ids[:1000])


def test_incident_mix(city):
    incidents = city.incidents
    severity = Counter(i.severity for i in incidents)
    for name, share in (("general", 0.80), ("important", 0.17), ("urgent", 0.03)):
        assert severity[name] / len(incidents) == pytest.approx(share, abs=0.01)
    assert len({i.category for i in incidents}) == 8
    assert all(i.description and i.address for i in incidents)
    local = [i.reported_at + timedelta(hours=8) for i in incidents]
    hours = Counter(t.hour for t in local)
    assert hours[10] > 4 * hours[3]
    days = Counter(t.weekday() for t in local)
    assert days[6] < 0.85 * days[2]
    cells = Counter(i.h3_cell for i in incidents)
    assert max(cells.values()) > 20 * len(incidents) / len(cells)  # hotspots


def test_incidents_carry_their_building_grid_and_its_chain(city):
    grids = [g for g in base(city, 4)]
    tree = shapely.STRtree(np.asarray([g.geom for g in grids], dtype=object))
    points = np.asarray([i.geom for i in city.incidents], dtype=object)
    found, grid = tree.query(points, predicate="intersects")
    inside = defaultdict(set)
    for f, g in zip(found.tolist(), grid.tolist(), strict=True):
        inside[f].add(grids[g].code)
    for k, i in enumerate(city.incidents):
        assert i.grid_code == min(inside[k]) and i.grid_l4 == i.grid_code  # the grid index's tie-break
        assert (i.grid_l1[:9], i.grid_l2[:12], i.grid_l3) == (i.grid_code[:9], i.grid_code[:12], i.grid_code[:15])


def test_deadlines_agree_with_the_work_calendar(city):
    settings = IncidentSettings()
    for i in city.incidents[::1999]:
        warn, due = deadlines(settings, category=i.category, severity=i.severity, reported_at=i.reported_at)
        assert abs((i.warn_at - warn).total_seconds()) < 1e-3 and abs((i.due_at - due).total_seconds()) < 1e-3


def test_worktime_matches_the_calendar_at_awkward_instants():
    calendar = IncidentSettings().calendar()
    timeline = WorkTimeline.build(calendar, AS_OF.date() - timedelta(days=20), 60)
    allowance = IncidentSettings().allowance("disputes", "urgent")
    starts = [AS_OF - timedelta(days=3, hours=h, minutes=m) for h in range(0, 72, 5) for m in (0, 30)]
    got = timeline.add(np.array([s.timestamp() for s in starts]), timeline.seconds(allowance))
    want = [calendar.add(s, allowance).timestamp() for s in starts]
    assert np.abs(got - np.array(want)).max() < 1e-3


# -- determinism ---------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_records_in_another_process(city, child_digest):
    out, err = child_digest.communicate(timeout=300)
    assert child_digest.returncode == 0, err
    assert out.strip() == city.digest()


def test_another_seed_gives_another_city(city):
    # Every layer grows from the grid tree, so a different tree is a different city.
    other = build_grid_tree(CHUANHUI_SPEC, 2)
    streets = {g.code: g.geom for g in base(city, 1)}
    assert any(c.code not in streets or not c.wgs.equals(streets[c.code]) for c in other.levels[0])
    assert {c.name for c in other.levels[2]} != {g.name for g in base(city, 3)}


def test_city_scale_plan_and_a_county_tree():
    specs = specs_for("city", 1)
    assert len(specs) == 10 and sum(s.levels[3] for s in specs) == pytest.approx(17_000, abs=20)
    county = next(s for s in specs if s.adcode == 411621)
    tree = build_grid_tree(county, 1)
    assert [len(cells) for cells in tree.levels] == list(county.levels)
    kinds = Counter(int(c.code[6:9]) // 100 for c in tree.levels[0])  # 0 street, 1 town, 2-3 township
    assert kinds[0] == county.level1_kinds[0] and kinds[1] == county.level1_kinds[1]
    assert all(c.code.startswith("411621") for c in tree.levels[3])


# -- loading -------------------------------------------------------------------------------------------------


def test_load_into_the_store(store, city):
    written = load_city(store, city, progress=False)
    assert written == city.counts()
    assert {layer: store.layers.count(layer) for layer in written} == city.counts()
    for level, n in PUBLISHED.items():
        assert store.layers.count("grids", where={"level": level, "kind": "base"}) == n
    sample = base(city, 4)[100]
    assert store.layers.get("grids", sample.code).households == sample.households


def small(city, **changes):
    """A slice of the city: a few records of each layer."""
    parts = {layer: records[:5] for layer, records in city.layers().items()}
    field = {"accounts": city.accounts[:5], "walks": city.walks[:2], "photos": []}
    return dataclasses.replace(city, **{**parts, **field, **changes})


def test_load_is_all_or_nothing(store, city):
    bad = dataclasses.replace(city.incidents[0], severity="catastrophic")
    with pytest.raises(Problem):
        load_city(store, small(city, incidents=[bad]), progress=False)
    assert all(store.layers.count(layer) == 0 for layer in city.layers())


def test_cli_loads_and_then_refuses_a_store_with_data(tmp_path, city, monkeypatch):
    from mapserver.cli import demo as cli

    monkeypatch.setattr(cli, "build_city", lambda **kwargs: small(city))
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    opened = open_store(url)
    opened.migrate()
    opened.close()
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {url}\n", encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(cli.demo_command, ["--seed", "1"], obj={"config": str(config)})
    assert first.exit_code == 0, first.output
    assert "loaded the demo district (seed 1)" in first.output
    again = runner.invoke(cli.demo_command, [], obj={"config": str(config)})
    assert again.exit_code != 0 and "already holds data" in again.output and "--replace" in again.output
    skipped = runner.invoke(cli.demo_command, ["--if-empty"], obj={"config": str(config)})
    assert skipped.exit_code == 0 and "was not loaded" in skipped.output
    replaced = runner.invoke(cli.demo_command, ["--replace"], obj={"config": str(config)})
    assert replaced.exit_code == 0 and "replacing" in replaced.output
    check = open_store(url)
    assert check.layers.count("grids") == 5 and check.layers.count("incidents") == 5
    check.close()


def test_the_topology_check_finds_the_demo_clean(city):
    from mapserver.topology import check_grids, is_clean

    report = check_grids(city.grids, households=load_settings(ROOT / "config.yaml").grids.households_per_base_grid)
    assert is_clean(report), {k: v for k, v in report.items() if k != "household_warnings"}
    assert report["household_warnings"] == []  # within the band the shipped config.yaml sets for 川汇
    standard = check_grids(city.grids)  # the standard's 300–500: 川汇's building grids are smaller
    assert len(standard["household_warnings"]) > 0.9 * len(base(city, 4))


# -- the field side: accounts, a week of patrols, photos -----------------------------------------------------


def test_field_accounts_are_the_compound_and_building_grid_workers(city):
    workers = {s.grid_code: s.name for s in city.grid_staff if s.role == "grid_worker"}
    field_grids = {g.code for g in city.grids if g.kind == "base" and g.level in (3, 4)}
    assert len(city.accounts) == len(field_grids) == PUBLISHED[3] + PUBLISHED[4]
    assert len({a.name for a in city.accounts}) == len(city.accounts)
    for a in city.accounts:
        assert a.grid_code in field_grids and a.display_name == workers[a.grid_code]
        assert a.name == "wg" + a.grid_code


def walk_metric(walk):
    return to_metric(np.asarray(shapely.points(np.column_stack([walk.lon, walk.lat])), dtype=object))


def test_a_week_of_patrols_along_the_roads(city):
    walks = city.walks
    people = {w.person for w in walks}
    assert len(people) == 80 and people <= {a.name for a in city.accounts}
    assert 80 * 6 * 2 <= len(walks) <= 80 * 6 * 3
    assert all(AS_OF - timedelta(days=8) <= w.started_at < w.ended_at < AS_OF for w in walks)
    minutes = np.array([(w.ended_at - w.started_at).total_seconds() / 60 for w in walks])
    assert minutes.min() >= 30 and minutes.max() <= 90
    local_hours = np.array([(w.started_at + timedelta(hours=8)).hour for w in walks])
    assert set(local_hours.tolist()) <= set(range(8, 18))
    roads = shapely.STRtree(metric([r.geom for r in city.roads]))
    grids = {g.code: to_metric(g.geom) for g in city.grids}
    accounts = {a.name: a.grid_code for a in city.accounts}
    speeds, off_road, far = [], [], []
    for w in walks[::7]:
        dt = np.diff(w.seconds)
        assert (dt >= 10).all() and np.isin(w.seconds % 1, 0).all()  # whole seconds, 10–30 s apart or a lost fix
        assert ((w.accuracy_m >= 3) & (w.accuracy_m <= 50)).all()
        points = walk_metric(w)
        off_road.append(roads.query_nearest(points, return_distance=True)[1])
        far.append(shapely.distance(grids[accounts[w.person]], points))
        steps = np.hypot(*np.diff(shapely.get_coordinates(points), axis=0).T)
        speeds.append(steps / dt)
    off_road, far, speeds = np.concatenate(off_road), np.concatenate(far), np.concatenate(speeds)
    assert np.quantile(off_road, 0.9) < 12 and off_road.max() < 90  # metres: noise, a few outliers
    assert np.quantile(far, 0.95) < 200  # in and near their own grid
    assert 0.9 < np.median(speeds) < 1.8 and np.quantile(speeds, 0.99) < 5  # m/s, walking


def test_a_patrol_day_measures_like_a_walk(city):
    from mapserver.tracks.measures import day_measures

    grids = {g.code: g.geom for g in city.grids}
    accounts = {a.name: a.grid_code for a in city.accounts}
    days = defaultdict(list)
    for w in city.walks:
        days[(w.person, (w.started_at + timedelta(hours=8)).date())].append(w)
    for key in sorted(days)[::40]:
        walks = days[key]
        seconds = np.concatenate([w.seconds for w in walks])
        lon, lat = np.concatenate([w.lon for w in walks]), np.concatenate([w.lat for w in walks])
        walked_s = sum((w.ended_at - w.started_at).total_seconds() for w in walks)
        m = day_measures(seconds, lon, lat, grids[accounts[key[0]]])
        assert 0.9 * walked_s < m.distance_m < 2.5 * walked_s, key  # 1–1.5 m/s plus the noise's zigzag
        assert 0.6 * walked_s < m.moving_s <= walked_s and 0 < m.inside_grid_s <= walked_s, key


def test_photos_on_recent_cases(city):
    from mapserver.photos.checking import check_photo
    from mapserver.photos.service import limits
    from mapserver.photos.settings import PhotoSettings

    photos = city.photos
    reports = [p for p in photos if p.kind == "report"]
    assert len(reports) == 200 and len({p.incident_id for p in reports}) == 200
    assert 30 <= sum(p.kind == "after" for p in photos) <= 70
    cases = {i.id: i for i in city.incidents}
    newest = sorted(i.reported_at for i in city.incidents)[-5000]
    assert all(cases[p.incident_id].reported_at >= newest for p in photos)
    assert len({p.data for p in photos}) == len(photos)
    for p in photos[::25]:
        check_photo(p.data, limits(PhotoSettings())).close()


def test_load_the_field_side(store, city, tmp_path):
    from mapserver.demo.field_load import load_field
    from mapserver.logins import Attempt, WrongLogin, check_login
    from mapserver.photos.checking import check_photo
    from mapserver.photos.files import PhotoFiles
    from mapserver.photos.service import limits
    from mapserver.photos.settings import PhotoSettings

    settings = load_settings(ROOT / "config.yaml")
    cases = {p.incident_id for p in city.photos}
    walkers = sorted({w.person for w in city.walks})[:3]
    part = dataclasses.replace(city, grid_staff=[], places=[], roads=[], addresses=[], cameras=[],
                               incidents=[i for i in city.incidents if i.id in cases],
                               walks=[w for w in city.walks if w.person in walkers])
    load_city(store, part, progress=False)
    files = PhotoFiles(tmp_path / "photos")
    photo_settings = PhotoSettings(dir=str(tmp_path / "photos"))
    written = load_field(store, part, hashing=settings.accounts.password_hash, files=files,
                         photo_settings=photo_settings)
    fixes = sum(w.seconds.size for w in part.walks)
    assert written == {"accounts": len(city.accounts), "patrols": len(part.walks), "fixes": fixes,
                       "photos": len(city.photos)}
    account = store.accounts.get(city.accounts[7].name, with_hash=True)
    assert account.role == "field" and account.grid_code == city.accounts[7].grid_code and account.enabled
    assert account.display_name == city.accounts[7].display_name
    assert store.layers.get("grids", account.grid_code) is not None
    for password in ("", "123456", "password", account.name):  # fewer than the failures that lock the name
        with pytest.raises(WrongLogin):
            check_login(store, settings.accounts, password=password,
                        attempt=Attempt(name=account.name, remote_addr="192.0.2.1", request_id=None, now=AS_OF))
    person = walkers[0]
    track = store.tracks.track(person, AS_OF - timedelta(days=8), AS_OF)
    assert len(track) == sum(w.seconds.size for w in part.walks if w.person == person)
    first = next(w for w in part.walks if w.person == person)
    assert store.tracks.patrol(first.id, person=person).ended_at == first.ended_at
    for case_id in sorted(cases)[::20]:
        for photo in store.photos.for_incident(case_id):
            assert photo.uploaded_by.startswith("wg") and photo.format == "JPEG"
            data = files.read(photo.sha256, "jpg")
            assert data is not None and files.read(photo.sha256, "jpg", thumb=True) is not None
            check_photo(data, limits(photo_settings)).close()
    again = load_field(store, part, hashing=settings.accounts.password_hash, files=files,
                       photo_settings=photo_settings)
    assert again == {"accounts": 0, "patrols": 0, "fixes": 0, "photos": 0}
