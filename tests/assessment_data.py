"""Hand-made months for the grid workers' assessment, over the streets of tests/jurisdiction_data.py, with the
figures worked out by hand (the tests compare against these numbers, not against a second computation).

March 2026, local time Asia/Shanghai:

* 李娜 (``li.na``, community A1) reported 3 cases; handled 2 by their deadline and 1 after it; follow-ups: the
  first satisfied, the second unsatisfied (reopened), the third basically satisfied. She walked two days north
  along a meridian inside A1, a fix every 10 s, 0.0001° of latitude apart: 60 steps on 10 March (600 s moving,
  60 × 11.0915 m = 665.5 m) and 30 on 11 March (300 s, 332.7 m). One patrol after a plan of 3 stops, 2 checked in.
* 王芳 (``wang.fang``, community B1) reported 1 case, in street B, and nothing else.
* 赵磊 (``zhao.lei``, community A2) did nothing. A dispatcher handled a case too: not a grid worker, not assessed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from shapely.geometry import Point

from mapserver.model import Incident, IncidentEvent
from mapserver.store import Store
from mapserver.store.tracks import CheckIn
from tests import jurisdiction_data as data
from tests.logins import add_person

MONTH = "2026-03"
DAY_1, DAY_2 = date(2026, 3, 10), date(2026, 3, 11)
LI, WANG, ZHAO, DISPATCHER = "li.na", "wang.fang", "zhao.lei", "diao.du"
T0 = datetime(2026, 3, 5, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
METRES_PER_STEP = 11.0915  # 0.0001° of latitude at 33.6° N on the WGS-84 ellipsoid (meridian arc)
LON = data.COMMUNITY_A1.geom.bounds[0] + 0.01
LAT = 33.62


def _case(n: int, community, reported: datetime) -> Incident:
    west, south, _, _ = community.geom.bounds
    return Incident(
        id=f"00000000-0000-4000-c000-{n:012d}", geom=Point(west + 0.01, south + 0.01), reported_at=reported,
        category="disputes", status="reported", grid_code=community.code, grid_l1=str(community.parent_code),
        grid_l2=community.code, warn_at=reported + timedelta(days=1), due_at=reported + timedelta(days=2))


def _event(incident_id: str, at: datetime, actor: str, action: str, satisfaction: str | None = None) -> IncidentEvent:
    return IncidentEvent(incident_id, at, actor, action, "accepted", "handled", satisfaction=satisfaction)


def walk(day: date, steps: int) -> tuple[list[datetime], list[float], list[float]]:
    """Fixes every 10 s from 09:00 local on ``day``, ``steps`` steps north of 0.0001° from (LON, LAT)."""
    start = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)
    times = [start + timedelta(seconds=10 * k) for k in range(steps + 1)]
    return times, [LON] * (steps + 1), [LAT + 0.0001 * k for k in range(steps + 1)]


def load(store: Store) -> None:
    """The grids, the four people, the cases and their timelines, the two days' fixes and the patrol."""
    store.layers.add("grids", data.GRIDS)
    add_person(store, LI, role="field", grid_code=data.COMMUNITY_A1.code)
    add_person(store, WANG, role="field", grid_code=data.COMMUNITY_B1.code)
    add_person(store, ZHAO, role="field", grid_code=data.COMMUNITY_A2.code)
    add_person(store, DISPATCHER, role="dispatcher", grid_code=None)
    # Li's three cases: handled 1 day after the report (on time), 1 day, and 3 days (late: due after 2).
    for n, (late, result) in enumerate([(False, "satisfied"), (False, "unsatisfied"),
                                        (True, "basically_satisfied")], start=1):
        reported = T0 + timedelta(days=n)
        case = _case(n, data.COMMUNITY_A1, reported)
        store.incidents.report(case, actor=LI)
        handled = reported + timedelta(days=3 if late else 1)
        store.incidents.transition(incident_id=case.id, expected_version=1,
                                   event=_event(case.id, handled, LI, "handle"), changes={})
        store.incidents.transition(
            incident_id=case.id, expected_version=2,
            event=_event(case.id, handled + timedelta(days=1), "hotline", "follow_up", result),
            changes={"satisfaction": result})
    # Wang's one report; a dispatcher's handling (not assessed); a report of Li's in February (outside the month).
    store.incidents.report(_case(4, data.COMMUNITY_B1, T0), actor=WANG)
    other = _case(5, data.COMMUNITY_A2, T0)
    store.incidents.report(other, actor=DISPATCHER)
    store.incidents.transition(incident_id=other.id, expected_version=1,
                               event=_event(other.id, T0 + timedelta(hours=1), DISPATCHER, "handle"), changes={})
    store.incidents.report(_case(6, data.COMMUNITY_A1, T0 - timedelta(days=10)), actor=LI)
    for day, steps in ((DAY_1, 60), (DAY_2, 30)):
        times, lon, lat = walk(day, steps)
        store.tracks.add_fixes(LI, times, lon, lat, [5.0] * len(times))
    stops = [{"order": k, "name": f"点位{k}", "lon": LON, "lat": LAT + 0.001 * k} for k in range(1, 4)]
    plan = store.patrols.save({"mode": "foot", "window": "day", "budget_min": 60, "length_m": 500,
                               "duration_min": 30, "stops": stops, "route": {"type": "Feature", "geometry": {
                                   "type": "LineString", "coordinates": [[LON, LAT], [LON, LAT + 0.003]]}}},
                              created_by=DISPATCHER, created_at=T0)
    start = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    session = store.tracks.start_patrol(LI, plan_id=plan.id, now=start)
    for k in (1, 2):
        store.tracks.check_in(CheckIn(session.id, k, start + timedelta(minutes=k), LON, LAT + 0.001 * k, 3.0))
    store.tracks.stop_patrol(session.id, person=LI, now=start + timedelta(hours=1))
