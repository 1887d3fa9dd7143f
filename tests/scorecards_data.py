"""Hand-made cases for the unit scorecards, over the two streets of tests/jurisdiction_data.py, with figures worked
out by hand (the tests compare against these numbers, not against a second computation):

======  ==========  =====  ======  =======  =======  =========  ===========  ========  =======  ==========
unit    community   cases  closed  on time  overdue  followed   satisfied    reopened  reopens  returns
                                             open     up        (+ basic)    cases
======  ==========  =====  ======  =======  =======  =========  ===========  ========  =======  ==========
甲单位  A1            6      6       6        0        4          4            0         0        0
乙单位  A2           10     10       8        0       10         10            0         0        0
丙单位  B1           10      5       5        2        5          3            2         3        1 (a B2 case)
丁单位  B2            2      0       0        0        0          0            0         0        0
======  ==========  =====  ======  =======  =======  =========  ===========  ========  =======  ==========

丙单位 returned one case of community B2 (the timeline gave it 丙 by a dispatch; the return names no unit), which
was then dispatched to 丁单位: the return is charged to 丙, the case to 丁, and per grid both to street B / B2.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from shapely.geometry import Point

from mapserver.model import Incident, IncidentEvent
from mapserver.store import Store
from tests import jurisdiction_data as data

NOW = data.NOW
GREEN, YELLOW, RED, FEW = "甲单位", "乙单位", "丙单位", "丁单位"
RETURNED_ID = "00000000-0000-4000-b000-000000000900"


def _case(n: int, unit: str, community, *, closed: bool, on_time: bool = True, overdue: bool = False) -> Incident:
    west, south, _, _ = community.geom.bounds
    reported = NOW - timedelta(days=5, minutes=n)
    due = reported + timedelta(days=2) if (closed or overdue) else NOW + timedelta(days=3)
    return Incident(
        id=f"00000000-0000-4000-b000-{n:012d}", geom=Point(west + 0.01, south + 0.01), reported_at=reported,
        category="disputes", status="closed" if closed else "accepted", unit=unit, grid_code=community.code,
        grid_l1=str(community.parent_code), grid_l2=community.code, warn_at=reported + timedelta(days=1), due_at=due,
        dispatched_at=reported + timedelta(minutes=10),
        closed_at=(reported + timedelta(days=1 if on_time else 3)) if closed else None)


def cases() -> tuple[list[Incident], dict[str, tuple[str, int]]]:
    """The incidents, and per incident id the follow-up to record: (satisfaction, reopen_count)."""
    out: list[Incident] = []
    follow: dict[str, tuple[str, int]] = {}
    n = 0

    def add(incident: Incident, satisfaction: str | None = None, reopens: int = 0) -> None:
        out.append(incident)
        if satisfaction is not None:
            follow[incident.id] = (satisfaction, reopens)

    for k in range(6):  # 甲: all closed on time, four followed up, all satisfied
        n += 1
        add(_case(n, GREEN, data.COMMUNITY_A1, closed=True), "satisfied" if k < 4 else None)
    for k in range(10):  # 乙: all closed, eight on time, all satisfied
        n += 1
        add(_case(n, YELLOW, data.COMMUNITY_A2, closed=True, on_time=k < 8),
            "basically_satisfied" if k % 2 else "satisfied")
    red_follow = [("satisfied", 0), ("satisfied", 0), ("basically_satisfied", 0), ("unsatisfied", 1),
                  ("unsatisfied", 2)]
    for k in range(10):  # 丙: five closed on time, two open past due, three open in time
        n += 1
        if k < 5:
            add(_case(n, RED, data.COMMUNITY_B1, closed=True), *red_follow[k])
        else:
            add(_case(n, RED, data.COMMUNITY_B1, closed=False, overdue=k < 7))
    n += 1
    add(_case(n, FEW, data.COMMUNITY_B2, closed=False))
    returned = _case(900, None, data.COMMUNITY_B2, closed=False)  # 丁's second case, returned by 丙 first
    add(replace(returned, status="reported"))
    return out, follow


def load(store: Store) -> None:
    """The grids of tests/jurisdiction_data.py and the cases above, with their follow-ups and the return."""
    store.layers.add("grids", data.GRIDS)
    incidents, follow = cases()
    store.layers.add("incidents", incidents)
    at = NOW - timedelta(days=1)
    for incident_id, (satisfaction, reopens) in follow.items():
        store.incidents.transition(
            incident_id=incident_id, expected_version=1,
            event=IncidentEvent(incident_id, at, "hotline", "follow_up", "closed", "closed", satisfaction=satisfaction),
            changes={"satisfaction": satisfaction, "followed_up_at": at, "reopen_count": reopens})
    steps = [("dispatch", "reported", "dispatched", RED), ("return", "dispatched", "returned", None),
             ("dispatch", "returned", "dispatched", FEW)]
    for version, (action, before, after, unit) in enumerate(steps, start=1):
        store.incidents.transition(
            incident_id=RETURNED_ID, expected_version=version,
            event=IncidentEvent(RETURNED_ID, at + timedelta(minutes=version), "dispatcher", action, before, after,
                                unit=unit),
            changes={"unit": unit} if unit else {})
