"""Incident storage on both backends: idempotent reports, atomic transitions, timelines, filters, measures."""

from __future__ import annotations

import statistics
import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from shapely.geometry import Point

from mapserver.errors import Problem
from mapserver.model import Incident, IncidentEvent
from mapserver.store.incidents import IncidentFilter

T0 = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing


def incident(n: int, **changes) -> Incident:
    base = Incident(id=f"00000000-0000-4000-8000-{n:012d}", geom=Point(114.6 + n * 1e-4, 33.6),
                    reported_at=T0 + timedelta(hours=n), category="disputes", severity="general",
                    grid_code="411602001001001001", grid_l1="411602001000000", grid_l2="411602001001000",
                    grid_l3="411602001001001", grid_l4="411602001001001001", h3_cell="8940d9a6b5bffff",
                    warn_at=T0 + timedelta(hours=n + 30), due_at=T0 + timedelta(hours=n + 40))
    return replace(base, **changes)


def event(incident_id: str, action: str, from_status: str, to_status: str, at: datetime) -> IncidentEvent:
    return IncidentEvent(incident_id=incident_id, at=at, actor="op-1", action=action, from_status=from_status,
                         to_status=to_status)


def test_report_stores_the_incident_and_its_first_event(store):
    stored, created = store.incidents.report(incident(1), actor="worker-7")
    assert created and stored == incident(1)
    [first] = store.incidents.timeline(stored.id)
    assert (first.action, first.from_status, first.to_status, first.actor) == ("report", None, "reported", "worker-7")


def test_idempotency_key_returns_the_first_incident_or_refuses_another_body(store):
    first, created = store.incidents.report(incident(1), actor="a", idempotency_key="k-1", body_hash="h1")
    again, created_again = store.incidents.report(incident(2), actor="a", idempotency_key="k-1", body_hash="h1")
    assert created and not created_again and again.id == first.id
    with pytest.raises(Problem) as caught:
        store.incidents.report(incident(3), actor="a", idempotency_key="k-1", body_hash="other")
    assert caught.value.status == 422
    assert store.layers.count("incidents") == 1


def test_sixteen_concurrent_reports_with_one_key_create_one_incident(store):
    barrier = threading.Barrier(16)
    results, errors = [], []

    def report(n: int) -> None:
        barrier.wait()
        try:
            results.append(store.incidents.report(incident(n), actor="a", idempotency_key="same", body_hash="h"))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=report, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.layers.count("incidents") == 1
    assert len({r[0].id for r in results}) == 1 and sum(created for _, created in results) == 1


def test_transition_appends_to_the_timeline_and_bumps_the_version(store):
    store.incidents.report(incident(1), actor="a")
    moved = store.incidents.transition(
        incident_id=incident(1).id, expected_version=1,
        event=event(incident(1).id, "dispatch", "reported", "dispatched", T0 + timedelta(hours=2)),
        changes={"unit": "城管局", "dispatched_at": T0 + timedelta(hours=2)})
    assert (moved.status, moved.version, moved.unit) == ("dispatched", 2, "城管局")
    assert [e.action for e in store.incidents.timeline(moved.id)] == ["report", "dispatch"]


def test_a_stale_version_is_409_and_changes_nothing(store):
    store.incidents.report(incident(1), actor="a")
    ev = event(incident(1).id, "grab", "reported", "grabbed", T0)
    store.incidents.transition(incident_id=incident(1).id, expected_version=1, event=ev, changes={})
    with pytest.raises(Problem) as caught:
        store.incidents.transition(incident_id=incident(1).id, expected_version=1, event=ev, changes={"unit": "x"})
    assert caught.value.status == 409
    # Who moved it first, how and when, and where it stands: what a page words in its own language.
    members = caught.value.to_dict()
    assert {k: members[k] for k in ("reason", "action", "current_status", "current_version", "last_action",
                                    "acted_by", "acted_at")} == {
        "reason": "changed_meanwhile", "action": "grab", "current_status": "grabbed", "current_version": 2,
        "last_action": "grab", "acted_by": ev.actor, "acted_at": ev.at.isoformat()}
    assert store.layers.get("incidents", incident(1).id).unit is None
    assert len(store.incidents.timeline(incident(1).id)) == 2


def test_racing_operators_one_wins(store):
    store.incidents.report(incident(1), actor="a")
    barrier = threading.Barrier(8)
    outcomes = []

    def move(n: int) -> None:
        barrier.wait()
        try:
            store.incidents.transition(incident_id=incident(1).id, expected_version=1,
                                       event=event(incident(1).id, "grab", "reported", "grabbed", T0),
                                       changes={"unit": f"street-{n}"})
            outcomes.append("won")
        except Problem as exc:
            outcomes.append(exc.status)

    threads = [threading.Thread(target=move, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes, key=str) == sorted(["won"] + [409] * 7, key=str)
    assert len(store.incidents.timeline(incident(1).id)) == 2


def test_unknown_incident_is_404(store):
    with pytest.raises(Problem) as caught:
        store.incidents.transition(incident_id=str(uuid.uuid4()), expected_version=1,
                                   event=event("x", "grab", "reported", "grabbed", T0), changes={})
    assert caught.value.status == 404


def test_filters_window_grid_and_order(store):
    for n in range(6):
        store.incidents.report(incident(n, category="fire_hazard" if n % 2 else "disputes"), actor="a")
    found, total = store.incidents.query(where=IncidentFilter(since=T0 + timedelta(hours=1),
                                                              until=T0 + timedelta(hours=5)), limit=2)
    assert total == 4 and [i.id for i in found] == [incident(4).id, incident(3).id]
    assert store.incidents.query(where=IncidentFilter(category="fire_hazard"))[1] == 3
    for level in ("411602001000000", "411602001001000", "411602001001001", "411602001001001001"):  # street … building
        assert store.incidents.query(where=IncidentFilter(grid=level))[1] == 6, level
    assert store.incidents.query(where=IncidentFilter(grid="411602999000000"))[1] == 0
    assert store.incidents.query(bbox=(114.6, 33.5, 114.60025, 33.7))[1] == 3


def test_warning_colours_in_sql(store):
    now = T0 + timedelta(hours=35)
    store.incidents.report(incident(0), actor="a")                                  # warn 30h, due 40h → yellow
    store.incidents.report(incident(10), actor="a")                                 # warn 40h → green
    store.incidents.report(incident(-10), actor="a")                                # due 30h → red
    store.incidents.report(incident(-20, escalation="key"), actor="a")              # escalated → purple
    store.incidents.report(incident(-30, status="closed"), actor="a")               # closed → none
    colours = {w: [i.id for i in store.incidents.query(where=IncidentFilter(warning=w, now=now))[0]]
               for w in ("green", "yellow", "red", "purple")}
    assert colours == {"green": [incident(10).id], "yellow": [incident(0).id], "red": [incident(-10).id],
                       "purple": [incident(-20).id]}


def test_measures_match_a_direct_computation(store):
    rng = np.random.default_rng(7)
    made = []
    for n in range(60):
        closed = n % 4 != 0
        dispatch_after = timedelta(minutes=int(rng.integers(5, 300)))
        close_after = timedelta(hours=int(rng.integers(1, 80)))
        made.append(incident(n, category=("disputes", "fire_hazard", "other")[n % 3],
                             severity=("general", "important", "urgent")[n % 3 == 0 and n % 2],
                             status="closed" if closed else "accepted",
                             dispatched_at=T0 + timedelta(hours=n) + dispatch_after,
                             closed_at=(T0 + timedelta(hours=n) + close_after) if closed else None))
    for item in made:
        store.incidents.report(item, actor="a")
    now = T0 + timedelta(hours=70)
    kpis = store.measures.kpis(where=IncidentFilter(), now=now, group_level=3)
    closed = [i for i in made if i.status == "closed"]
    assert kpis["total"] == 60 and kpis["closed"] == len(closed)
    assert kpis["closure_rate"] == pytest.approx(len(closed) / 60)
    assert kpis["on_time_rate"] == pytest.approx(sum(i.closed_at <= i.due_at for i in closed) / len(closed))
    assert kpis["overdue_now"] == sum(1 for i in made if i.status != "closed" and i.due_at < now)
    assert kpis["by_category"] == {"disputes": 20, "fire_hazard": 20, "other": 20}
    assert sum(kpis["by_status"].values()) == 60 and kpis["by_grid"] == {"411602001001001": 60}
    to_close = sorted((i.closed_at - i.reported_at).total_seconds() for i in closed)
    assert kpis["time_to_close_s"]["median"] == pytest.approx(statistics.median(to_close))
    assert kpis["time_to_close_s"]["p90"] == pytest.approx(float(np.percentile(to_close, 90)))
    to_dispatch = [(i.dispatched_at - i.reported_at).total_seconds() for i in made]
    assert kpis["time_to_dispatch_s"]["median"] == pytest.approx(statistics.median(to_dispatch))


def test_measures_of_an_empty_window(store):
    kpis = store.measures.kpis(where=IncidentFilter(since=T0), now=T0)
    assert kpis["total"] == 0 and kpis["closure_rate"] is None and kpis["time_to_close_s"]["median"] is None


def test_a_report_whose_id_is_stored_already_is_a_409_and_writes_nothing_more(store):
    """On PostGIS the incident goes with the COMMIT: the database's refusal must still be a 409, not a 500."""
    store.incidents.report(incident(1), actor="a")
    with pytest.raises(Problem) as refused:
        store.incidents.report(incident(1, description="again"), actor="b")
    assert refused.value.status == 409
    assert store.layers.count("incidents") == 1 and len(store.incidents.timeline(incident(1).id)) == 1
    store.incidents.report(incident(2), actor="c")  # the refusal leaves the store (and its connection) usable
    assert store.layers.count("incidents") == 2


def test_a_report_and_a_write_after_it_in_one_transaction_stand_or_fall_together(store):
    """A write refused later in the transaction takes the report (sent with the COMMIT on PostGIS) with it."""
    with pytest.raises(Problem), store.transaction():
        store.incidents.report(incident(2), actor="a")
        store.incidents.report(incident(1), actor="a")
        store.incidents.report(incident(2, description="twice"), actor="a")  # the same id: refused
    assert store.layers.count("incidents") == 0 and store.incidents.timeline(incident(1).id) == []
