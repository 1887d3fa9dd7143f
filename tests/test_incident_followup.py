"""One case, one feedback, one assessment (一单一反馈一考评) on both backends: the follow-up after closing (回访)
keeps a satisfied case closed and reopens an unsatisfied one to its unit, once per closing; the whistle's call-outs
(吹哨报到) record each named department's report-in; the measures count satisfaction and reopenings the same
whether the per-day summary answers or the incidents do; jurisdictions still hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from mapserver.errors import Problem
from mapserver.incidents.lifecycle import ACTIONS, allowed_actions, target_status
from mapserver.incidents.service import move_incident
from mapserver.model import Assessment
from mapserver.store.incidents import IncidentFilter
from tests import jurisdiction_data as data
from tests import samples
from tests.test_api import assert_problem
from tests.test_incident_api import report
from tests.test_incident_summary import T0, made_incidents

LATER = (datetime.now(UTC) + timedelta(hours=4)).isoformat()


@pytest.fixture
def city(store):
    samples.load_all(store)
    return store


def move(client, headers, incident_id, **body):
    return client.post(f"/api/incidents/{incident_id}/transitions", json=body, headers=headers)


def closed_incident(client, tokens) -> str:
    """An incident reported, dispatched to 陈州街道 and taken to 办结."""
    incident_id = report(client, tokens["dispatcher"]).get_json()["id"]
    for body in ({"action": "dispatch", "unit": "陈州街道"}, {"action": "accept"}, {"action": "handle"},
                 {"action": "verify"}, {"action": "close"}):
        assert move(client, tokens["dispatcher"], incident_id, **body).status_code == 200
    return incident_id


def detail(client, tokens, incident_id) -> dict:
    resp = client.get(f"/api/incidents/{incident_id}", headers=tokens["viewer"])
    assert resp.status_code == 200
    return resp.get_json()["properties"]


# -- the state table ------------------------------------------------------------------------------------------------


def test_a_case_closed_without_a_time_has_one_closing_to_follow_up():
    assert not Assessment().followed_up(None) and Assessment(followed_up_at=T0).followed_up(None)
    assert not Assessment(followed_up_at=T0).followed_up(T0 + timedelta(seconds=1))


def test_the_state_table_of_the_follow_up_and_the_report_in():
    follow_up, report_in = ACTIONS["follow_up"], ACTIONS["report_in"]
    assert follow_up.sources == ("closed",) and "closed" not in report_in.sources and report_in.needs_unit
    assert target_status("closed", follow_up, "satisfied") == "closed"
    assert target_status("closed", follow_up, "basically_satisfied") == "closed"
    assert target_status("closed", follow_up, "unsatisfied") == "accepted"
    assert target_status("accepted", report_in) == "accepted"
    assert allowed_actions("closed") == ["follow_up"] and allowed_actions("closed", followed_up=True) == []
    assert "report_in" not in allowed_actions("accepted")
    assert allowed_actions("accepted", awaiting_report_in=True)[-1] == "report_in"


# -- the follow-up --------------------------------------------------------------------------------------------------


def test_a_satisfied_follow_up_keeps_the_case_closed_once_per_closing(client, city, tokens):
    incident_id = closed_incident(client, tokens)
    before = detail(client, tokens, incident_id)
    assert before["follow_up"]["due"] and before["next_actions"] == ["follow_up"]
    resp = move(client, tokens["operator"], incident_id, action="follow_up", satisfaction="basically_satisfied",
                comment="处理及时，态度一般")
    assert resp.status_code == 200, resp.get_json()
    props = resp.get_json()["properties"]
    assert props["status"] == "closed" and props["closed_at"] == before["closed_at"]
    assert props["follow_up"]["satisfaction"] == "basically_satisfied" and not props["follow_up"]["due"]
    assert props["follow_up"]["comment"] == "处理及时，态度一般" and props["follow_up"]["reopen_count"] == 0
    assert props["next_actions"] == []
    audited = city.audit.records(action="incident.transition")[0][0]
    assert audited.detail == {"action": "follow_up", "status": "closed", "version": props["version"],
                              "satisfaction": "basically_satisfied"}
    last = detail(client, tokens, incident_id)["timeline"][-1]
    assert (last["action"], last["from"], last["to"], last["satisfaction"], last["note"]) == (
        "follow_up", "closed", "closed", "basically_satisfied", "处理及时，态度一般")
    version = props["version"]
    again = move(client, tokens["operator"], incident_id, action="follow_up", satisfaction="unsatisfied")
    assert "one follow-up per closing" in assert_problem(again, 409, "action")["detail"]
    assert city.incidents.get(incident_id).version == version


def test_an_unsatisfied_follow_up_reopens_to_the_unit_with_the_original_deadline(client, city, tokens):
    incident_id = closed_incident(client, tokens)
    before = detail(client, tokens, incident_id)
    resp = move(client, tokens["operator"], incident_id, action="follow_up", satisfaction="unsatisfied",
                comment="漏水未修好")
    assert resp.status_code == 200, resp.get_json()
    props = resp.get_json()["properties"]
    assert props["status"] == "accepted" and props["unit"] == "陈州街道" and props["closed_at"] is None
    assert props["due_at"] == before["due_at"] and props["warn_at"] == before["warn_at"]
    assert props["follow_up"]["satisfaction"] == "unsatisfied" and props["follow_up"]["reopen_count"] == 1
    assert props["next_actions"] == ["return", "split", "joint", "handle", "whistle"]
    # Handled and closed again: the new closing is followed up again, and the reopening stays counted.
    for action in ("handle", "verify", "close"):
        assert move(client, tokens["dispatcher"], incident_id, action=action).status_code == 200
    assert detail(client, tokens, incident_id)["follow_up"]["due"]
    resp = move(client, tokens["dispatcher"], incident_id, action="follow_up", satisfaction="satisfied")
    assert resp.status_code == 200, resp.get_json()
    props = resp.get_json()["properties"]
    assert props["status"] == "closed" and props["follow_up"]["satisfaction"] == "satisfied"
    assert props["follow_up"]["reopen_count"] == 1
    timeline = detail(client, tokens, incident_id)["timeline"]
    assert [(e["action"], e["to"], e["satisfaction"]) for e in timeline if e["action"] == "follow_up"] == [
        ("follow_up", "accepted", "unsatisfied"), ("follow_up", "closed", "satisfied")]


@pytest.mark.parametrize("body, status, param", [
    ({"action": "follow_up"}, 422, "satisfaction"),
    ({"action": "follow_up", "satisfaction": "thrilled"}, 422, "satisfaction"),
    ({"action": "follow_up", "satisfaction": "satisfied", "comment": 7}, 400, "comment"),
    ({"action": "follow_up", "satisfaction": "satisfied", "comment": "好" * 1001}, 422, "comment"),
    ({"action": "follow_up", "satisfaction": "satisfied", "departments": ["城管局"]}, 422, "departments"),
])
def test_bad_follow_ups_write_nothing(client, city, tokens, body, status, param):
    incident_id = closed_incident(client, tokens)
    version = city.incidents.get(incident_id).version
    assert_problem(move(client, tokens["operator"], incident_id, **body), status, param)
    assert city.incidents.get(incident_id).version == version
    assert city.incidents.assessment(incident_id).followed_up_at is None


def test_only_a_closed_case_is_followed_up_and_only_its_fields_go_with_it(client, city, tokens):
    incident_id = report(client, tokens["dispatcher"]).get_json()["id"]
    assert_problem(move(client, tokens["operator"], incident_id, action="follow_up", satisfaction="satisfied"),
                   409, "action")
    assert_problem(move(client, tokens["dispatcher"], incident_id, action="grab", unit="陈州街道",
                        satisfaction="satisfied"), 422, "satisfaction")


def test_the_hotline_follows_up_but_takes_no_other_step_and_a_grid_worker_does_not_follow_up(client, city, tokens):
    incident_id = report(client, tokens["dispatcher"]).get_json()["id"]
    assert_problem(move(client, tokens["operator"], incident_id, action="dispatch", unit="陈州街道"), 403, "action")
    closed = closed_incident(client, tokens)
    assert_problem(move(client, tokens["field"], closed, action="follow_up", satisfaction="satisfied"), 403, "action")
    assert_problem(move(client, tokens["viewer"], closed, action="follow_up", satisfaction="satisfied"), 403, None)


# -- the whistle's call-outs ----------------------------------------------------------------------------------------


def whistled(client, tokens, departments=("住建局", "城管局")) -> str:
    incident_id = report(client, tokens["dispatcher"]).get_json()["id"]
    resp = move(client, tokens["dispatcher"], incident_id, action="whistle", level="key",
                departments=list(departments), report_by=LATER)
    assert resp.status_code == 200, resp.get_json()
    return incident_id


def test_a_whistle_names_departments_and_each_reports_in_once(client, city, tokens):
    incident_id = whistled(client, tokens)
    props = detail(client, tokens, incident_id)
    whistle = props["whistle"]
    assert whistle["pending"] == ["住建局", "城管局"] and whistle["reported"] == [] and not whistle["overdue"]
    assert {d["department"]: d["reported_at"] for d in whistle["departments"]} == {"住建局": None, "城管局": None}
    assert datetime.fromisoformat(whistle["departments"][0]["report_by"]) == datetime.fromisoformat(LATER)
    assert props["next_actions"][-1] == "report_in" and props["escalation"] == "key"

    resp = move(client, tokens["dispatcher"], incident_id, action="report_in", unit="城管局", note="王科长到场")
    assert resp.status_code == 200, resp.get_json()
    whistle = resp.get_json()["properties"]["whistle"]
    assert resp.get_json()["properties"]["status"] == "reported" and resp.get_json()["properties"]["unit"] is None
    assert whistle["reported"] == ["城管局"] and whistle["pending"] == ["住建局"]
    reported = next(d for d in whistle["departments"] if d["department"] == "城管局")
    assert reported["reported_by"].startswith("dispatcher-") and reported["reported_at"]

    assert_problem(move(client, tokens["dispatcher"], incident_id, action="report_in", unit="城管局"), 409, "unit")
    assert_problem(move(client, tokens["dispatcher"], incident_id, action="report_in", unit="公安局"), 422, "unit")
    assert_problem(move(client, tokens["dispatcher"], incident_id, action="report_in"), 422, "unit")
    assert_problem(move(client, tokens["field"], incident_id, action="report_in", unit="住建局"), 403, "action")
    assert move(client, tokens["admin"], incident_id, action="report_in", unit="住建局").status_code == 200
    props = detail(client, tokens, incident_id)
    assert props["whistle"]["pending"] == [] and "report_in" not in props["next_actions"]
    assert_problem(move(client, tokens["dispatcher"], incident_id, action="report_in", unit="住建局"), 409, "action")
    assert [e["unit"] for e in props["timeline"] if e["action"] == "report_in"] == ["城管局", "住建局"]


def test_no_report_in_without_a_whistle_naming_departments(client, city, tokens):
    incident_id = report(client, tokens["dispatcher"]).get_json()["id"]
    assert move(client, tokens["dispatcher"], incident_id, action="whistle").status_code == 200  # a plain whistle
    assert detail(client, tokens, incident_id)["whistle"] == {"departments": [], "reported": [], "pending": [],
                                                              "overdue": False}
    assert_problem(move(client, tokens["dispatcher"], incident_id, action="report_in", unit="住建局"), 409, "action")


def test_a_department_past_its_report_by_time_is_overdue(client, city, tokens):
    incident_id = report(client, tokens["dispatcher"]).get_json()["id"]
    called = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a whistle blown in the past, due an hour after
    move_incident(city, incident_id, {"action": "whistle", "departments": ["住建局", "城管局"],
                                      "report_by": "2026-01-05T18:00:00+08:00"},
                  actor="dispatcher", role="dispatcher", now=called)
    move_incident(city, incident_id, {"action": "report_in", "unit": "城管局"}, actor="dispatcher",
                  role="dispatcher", now=called + timedelta(minutes=50))
    whistle = detail(client, tokens, incident_id)["whistle"]
    assert whistle["overdue"] and whistle["pending"] == ["住建局"]
    assert {d["department"]: d["overdue"] for d in whistle["departments"]} == {"住建局": True, "城管局": False}
    assert whistle["departments"][0]["report_by"] == "2026-01-05T10:00:00+00:00"


@pytest.mark.parametrize("body, status, param", [
    ({"departments": ["住建局"]}, 422, "report_by"),
    ({"report_by": LATER}, 422, "departments"),
    ({"departments": [], "report_by": LATER}, 422, "departments"),
    ({"departments": "住建局", "report_by": LATER}, 400, "departments"),
    ({"departments": ["住建局", "住建局"], "report_by": LATER}, 422, "departments"),
    ({"departments": ["住建局"], "report_by": "2020-01-01T00:00:00+08:00"}, 422, "report_by"),
    ({"departments": ["住建局"], "report_by": "2099-01-01T00:00:00"}, 422, "report_by"),
    ({"departments": ["住建局"], "report_by": "tomorrow"}, 422, "report_by"),
    ({"departments": ["住建局"], "report_by": 24}, 400, "report_by"),
])
def test_bad_whistles_write_nothing(client, city, tokens, body, status, param):
    incident_id = report(client, tokens["dispatcher"]).get_json()["id"]
    assert_problem(move(client, tokens["dispatcher"], incident_id, action="whistle", **body), status, param)
    assert city.incidents.get(incident_id).version == 1 and city.incidents.assessment(incident_id).callouts == ()


def test_a_department_called_by_an_earlier_whistle_is_409_and_the_whole_whistle_is_undone(client, city, tokens):
    incident_id = whistled(client, tokens, departments=("住建局",))
    version = city.incidents.get(incident_id).version
    resp = move(client, tokens["dispatcher"], incident_id, action="whistle", departments=["城管局", "住建局"],
                report_by=LATER)
    assert_problem(resp, 409, "departments")
    assert city.incidents.get(incident_id).version == version
    assert [c.department for c in city.incidents.assessment(incident_id).callouts] == ["住建局"]
    assert [e.action for e in city.incidents.timeline(incident_id)] == ["report", "whistle"]


def test_departments_must_be_configured_units_when_units_are_configured(city, tokens):
    incident_id = city.incidents.query()[0][0].id
    with pytest.raises(Problem) as raised:
        move_incident(city, incident_id, {"action": "whistle", "departments": ["住房"], "report_by": LATER},
                      actor="d", role="dispatcher", now=datetime.now(UTC), units={"区住房和城乡建设局": []})
    assert raised.value.status == 422 and "区住房和城乡建设局" in raised.value.detail


# -- measures -------------------------------------------------------------------------------------------------------


def test_the_measures_count_satisfaction_and_reopenings(client, city, tokens):
    empty = client.get("/api/kpis", headers=tokens["viewer"]).get_json()
    assert (empty["followed_up"], empty["satisfaction_rate"], empty["reopened"], empty["reopen_count"]) == (
        0, None, 0, 0)
    results = ("satisfied", "basically_satisfied", "unsatisfied", "unsatisfied")
    ids = [closed_incident(client, tokens) for _ in results]
    for incident_id, result in zip(ids, results, strict=True):
        assert move(client, tokens["operator"], incident_id, action="follow_up",
                    satisfaction=result).status_code == 200
    body = client.get("/api/kpis", headers=tokens["viewer"]).get_json()
    assert (body["followed_up"], body["satisfaction_rate"], body["reopened"], body["reopen_count"]) == (
        4, 0.5, 2, 2)
    # One reopened case closed and found satisfactory: its latest follow-up counts, its reopening stays.
    for action in ("handle", "verify", "close"):
        move(client, tokens["dispatcher"], ids[2], action=action)
    move(client, tokens["operator"], ids[2], action="follow_up", satisfaction="satisfied")
    body = client.get("/api/kpis", headers=tokens["viewer"]).get_json()
    assert (body["followed_up"], body["satisfaction_rate"], body["reopened"], body["reopen_count"]) == (
        4, 0.75, 2, 2)


def test_the_summary_and_the_incidents_give_the_same_follow_up_measures(store):
    """A time window of whole days is answered from the per-day summary, a filter with SQL of its own from the
    incidents: the follow-up figures (counted from incidents either way) and everything else agree."""

    class Everything(IncidentFilter):
        def conditions(self):
            return [*super().conditions(), ("1 = 1", ())]

    made = made_incidents(np.random.default_rng(3), 120)
    store.layers.add("incidents", made)
    closed = [i for i in made if i.status == "closed"]
    now = T0 + timedelta(days=12)
    for k, incident in enumerate(closed[:30]):
        result = ("satisfied", "basically_satisfied", "unsatisfied")[k % 3]
        move_incident(store, incident.id, {"action": "follow_up", "satisfaction": result}, actor="hotline",
                      role="operator", now=now)
    window = {"since": T0 - timedelta(days=1), "until": T0 + timedelta(days=20)}
    store.measures.EXACT_PERCENTILES_UP_TO = 10**9
    from_summary = store.measures.kpis(where=IncidentFilter(**window), now=now)
    from_incidents = store.measures.kpis(where=Everything(**window), now=now)
    assert from_summary == from_incidents
    assert from_summary["followed_up"] == 30 and from_summary["reopened"] == from_summary["reopen_count"] == 10
    assert from_summary["satisfaction_rate"] == round(20 / 30, 6)
    assert from_summary["by_status"]["accepted"] == 10


# -- jurisdiction ---------------------------------------------------------------------------------------------------


def test_a_follow_up_or_report_in_outside_the_jurisdiction_is_404_and_writes_nothing(client, store):
    data.load(store)
    theirs = next(i for i in data.INCIDENTS if i.status == "reported" and i.grid_l1 == data.STREET_B.code)
    district = data.token(store, "dispatcher", None, "dispatcher-district")
    street_a = data.token(store, "dispatcher", data.STREET_A, "dispatcher-a")
    operator_a1 = data.token(store, "operator", data.COMMUNITY_A1, "operator-a1")
    assert move(client, district, theirs.id, action="dispatch", unit="七一路街道办事处").status_code == 200
    for action in ("accept", "handle", "verify", "close"):
        assert move(client, district, theirs.id, action=action).status_code == 200
    version = store.incidents.get(theirs.id).version
    assert_problem(move(client, operator_a1, theirs.id, action="follow_up", satisfaction="unsatisfied"), 404, "id")
    assert store.incidents.get(theirs.id).version == version and store.incidents.get(theirs.id).status == "closed"

    ours = next(i for i in data.INCIDENTS if i.status == "reported" and i.grid_l1 == data.STREET_B.code
                and i.id != theirs.id)
    assert move(client, district, ours.id, action="whistle", departments=["住建局"], report_by=LATER).status_code == 200
    assert_problem(move(client, street_a, ours.id, action="report_in", unit="住建局"), 404, "id")
    assert store.incidents.assessment(ours.id).pending[0].department == "住建局"
