"""The work desk's queue on both backends: which tab holds which case and how many, within a jurisdiction, under
filters and searches (with ``%`` and ``_`` in the text), paged by 50; the API's ETag answers 304 while nothing
changed and moves with a report."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import Point

from mapserver.api.desk import CLOCK_BUCKET_S
from mapserver.incidents.queue import TABS, late_for_dispatch, today_start
from mapserver.incidents.settings import IncidentSettings
from mapserver.jurisdiction import Jurisdiction
from mapserver.model import Incident
from mapserver.store.desk import DeskFilter, like_pattern
from mapserver.store.incidents import IncidentFilter
from tests import jurisdiction_data as data

A1_SOUTH, A1_NORTH = data.COMPOUNDS[0], data.COMPOUNDS[1]
B1_SOUTH = data.COMPOUNDS[4]
TIMEZONE = "Asia/Shanghai"


def minute(now: datetime) -> datetime:
    """The clock as the API reads it: whole minutes."""
    return datetime.fromtimestamp(int(now.timestamp()) // CLOCK_BUCKET_S * CLOCK_BUCKET_S, UTC)


NOW = minute(datetime.now(UTC))
TODAY = today_start(NOW, TIMEZONE)


def case(key: str, status: str, compound=A1_SOUTH, *, due_in_h: float = 48, reported_ago_h: float = 1,
         escalation: str | None = None, closed_at: datetime | None = None, description: str = "",
         address: str = "", unit: str | None = None, source: str = "grid_worker", category: str = "disputes",
         severity: str = "general") -> Incident:
    """A hand-made case in ``compound`` (its id starts with ``key``)."""
    l1, l2, l3 = data._chain(compound)
    west, south, east, north = compound.geom.bounds
    reported = NOW - timedelta(hours=reported_ago_h)
    return Incident(
        id=f"{key}-0000-4000-a000-000000000000"[:36], geom=Point((west + east) / 2, (south + north) / 2),
        reported_at=reported, category=category, severity=severity, status=status, grid_code=l3, grid_l1=l1,
        grid_l2=l2, grid_l3=l3, due_at=NOW + timedelta(hours=due_in_h), warn_at=NOW + timedelta(hours=due_in_h - 1),
        escalation=escalation, closed_at=closed_at, unit=unit, source=source, description=description,
        address=address, dispatched_at=reported + timedelta(minutes=5) if status != "reported" else None)


CASES = [
    case("aaaa0001", "reported", reported_ago_h=240, due_in_h=50, description="楼道堆物 100% 堵塞",
         address="七一路1号"),
    # Reported at NOW: not late for dispatch however long the run takes to reach the API tests (under an hour).
    case("aaaa0002", "returned", due_in_h=20, reported_ago_h=0, description="噪音扰民_夜间", unit="区城管局"),
    case("aaaa0003", "dispatched", A1_NORTH, unit="区城管局", source="hotline", description="路灯不亮"),
    case("aaaa0004", "grabbed", unit="街道综治中心"),
    case("aaaa0005", "accepted", severity="urgent"),
    case("aaaa0006", "joint", category="fire_hazard"),
    case("aaaa0007", "handled"),
    case("aaaa0008", "verified"),
    case("aaaa0009", "accepted", due_in_h=-3, description="Broken PIPE"),  # overdue
    case("aaaa0010", "dispatched", escalation="routine"),  # whistled
    case("aaaa0011", "closed", escalation="key", closed_at=NOW - timedelta(days=3)),  # closed: not whistled
    case("aaaa0012", "closed", closed_at=TODAY + (NOW - TODAY) / 2),  # closed today
    case("aaaa0013", "closed", closed_at=TODAY - timedelta(hours=1)),  # closed yesterday
    case("bbbb0001", "reported", B1_SOUTH, description="100 percent"),
    case("bbbb0002", "accepted", B1_SOUTH, due_in_h=-30),  # overdue
]
WHOLE_COUNTS = {"dispatch": 3, "sign": 3, "handling": 4, "verify": 1, "overdue": 2, "whistled": 1,
                "closed_today": 1}
A1_COUNTS = {"dispatch": 2, "sign": 3, "handling": 3, "verify": 1, "overdue": 1, "whistled": 1, "closed_today": 1}
BY_TAB = {tab.key: tab for tab in TABS}
EVERY_CASE = DeskFilter()


@pytest.fixture
def desk(store):
    store.layers.add("grids", data.GRIDS)
    store.layers.add("incidents", CASES)
    return store


def counts(store, where=EVERY_CASE):
    return store.desk.counts(TABS, where, now=NOW, today=TODAY)


def ids(store, tab, where=EVERY_CASE, *, limit=50, offset=0):
    return [i.id[:8] for i in store.desk.page(BY_TAB[tab], where, now=NOW, today=TODAY, limit=limit,
                                              offset=offset)]


# -- the store ----------------------------------------------------------------------------------------------------


def test_each_tab_holds_its_statuses_sorted_by_due_time(desk):
    assert counts(desk) == WHOLE_COUNTS
    assert ids(desk, "dispatch") == ["aaaa0002", "bbbb0001", "aaaa0001"]  # due in 20 h, 48 h, 50 h
    assert set(ids(desk, "sign")) == {"aaaa0003", "aaaa0004", "aaaa0010"}
    assert ids(desk, "handling") == ["bbbb0002", "aaaa0009", "aaaa0005", "aaaa0006"]
    assert ids(desk, "verify") == ["aaaa0007"]
    assert ids(desk, "overdue") == ["bbbb0002", "aaaa0009"]
    assert ids(desk, "whistled") == ["aaaa0010"]
    assert ids(desk, "closed_today") == ["aaaa0012"]


def test_each_count_is_what_its_tab_pages_through(desk):
    for tab, n in counts(desk).items():
        assert len(ids(desk, tab, limit=1000)) == n, tab


def test_a_communitys_cases_and_counts_only(desk):
    a1 = DeskFilter(incidents=IncidentFilter(within=Jurisdiction(data.COMMUNITY_A1.code, 2)))
    assert counts(desk, a1) == A1_COUNTS
    assert all(i.startswith("aaaa") for tab in WHOLE_COUNTS for i in ids(desk, tab, a1))
    b = DeskFilter(incidents=IncidentFilter(within=Jurisdiction(data.STREET_B.code, 1)))
    assert counts(desk, b) == {"dispatch": 1, "sign": 0, "handling": 1, "verify": 0, "overdue": 1, "whistled": 0,
                               "closed_today": 0}


def test_filters_narrow_every_count(desk):
    by_unit = DeskFilter(unit="区城管局")
    assert counts(desk, by_unit)["dispatch"] == 1 and counts(desk, by_unit)["sign"] == 1
    assert ids(desk, "sign", DeskFilter(source="hotline")) == ["aaaa0003"]
    assert counts(desk, DeskFilter(incidents=IncidentFilter(category="fire_hazard")))["handling"] == 1
    assert ids(desk, "handling", DeskFilter(incidents=IncidentFilter(severity="urgent"))) == ["aaaa0005"]
    assert ids(desk, "handling", DeskFilter(incidents=IncidentFilter(warning="red", now=NOW))) == [
        "bbbb0002", "aaaa0009"]
    north = DeskFilter(incidents=IncidentFilter(grid=A1_NORTH.code))
    assert sum(counts(desk, north).values()) == 1 and ids(desk, "sign", north) == ["aaaa0003"]
    old = DeskFilter(incidents=IncidentFilter(until=NOW - timedelta(days=2)))
    assert ids(desk, "dispatch", old) == ["aaaa0001"]
    outside = DeskFilter(incidents=IncidentFilter(grid=data.COMMUNITY_B1.code,
                                                  within=Jurisdiction(data.COMMUNITY_A1.code, 2)))
    assert sum(counts(desk, outside).values()) == 0


def test_search_by_id_start_or_text_takes_percent_and_underscore_literally(desk):
    assert ids(desk, "dispatch", DeskFilter(search="aaaa0002")) == ["aaaa0002"]
    assert ids(desk, "dispatch", DeskFilter(search="0002")) == []  # an id matches by its start only
    assert ids(desk, "dispatch", DeskFilter(search="100%")) == ["aaaa0001"]  # not "100 percent"
    assert ids(desk, "dispatch", DeskFilter(search="%")) == ["aaaa0001"]
    assert ids(desk, "dispatch", DeskFilter(search="_")) == ["aaaa0002"]
    assert ids(desk, "dispatch", DeskFilter(search="扰民_夜")) == ["aaaa0002"]
    assert ids(desk, "dispatch", DeskFilter(search="七一路")) == ["aaaa0001"]  # the address
    assert ids(desk, "handling", DeskFilter(search="broken pipe")) == ["aaaa0009"]  # any case
    assert counts(desk, DeskFilter(search="%"))["dispatch"] == 1
    assert like_pattern("a\\%_b") == "%a\\\\\\%\\_b%"


def test_pages_of_fifty_cover_a_tab_once(desk):
    extra = [replace(case("cccc0000", "reported", data.COMPOUNDS[6], due_in_h=10 + n / 10),
                     id=f"cccc{n:04d}-0000-4000-a000-000000000000") for n in range(117)]
    desk.layers.add("incidents", extra)
    assert counts(desk)["dispatch"] == 120
    pages = [ids(desk, "dispatch", offset=o) for o in (0, 50, 100)]
    assert [len(p) for p in pages] == [50, 50, 20]
    together = [i for p in pages for i in p]
    assert len(set(together)) == 120 and together[:3] == ["cccc0000", "cccc0001", "cccc0002"]


def test_a_case_waiting_longer_than_dispatch_within_is_late():
    settings = IncidentSettings()
    old, fresh = CASES[0], CASES[1]
    assert late_for_dispatch(old, settings, NOW)
    assert not late_for_dispatch(fresh, settings, NOW)
    assert not late_for_dispatch(replace(old, status="dispatched"), settings, NOW)  # no longer waiting


# -- the API ------------------------------------------------------------------------------------------------------


@pytest.fixture
def people(desk):
    return {
        "dispatcher": data.token(desk, "dispatcher", None, "dispatcher-district"),
        "operator_a1": data.token(desk, "operator", data.COMMUNITY_A1, "operator-a1"),
        "liaison": data.token(desk, "liaison", None, "liaison-district"),
        "viewer": data.token(desk, "viewer", None, "viewer-district"),
    }


def queue(client, headers, query=""):
    resp = client.get(f"/api/desk/queue{query}", headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp


def test_the_api_answers_counts_and_one_page(client, people):
    body = queue(client, people["dispatcher"]).get_json()
    assert body["counts"] == WHOLE_COUNTS and body["tab"] == "dispatch" and body["page"] == 1 and body["pages"] == 1
    assert [i["id"][:8] for i in body["items"]] == ["aaaa0002", "bbbb0001", "aaaa0001"]
    late = {i["id"][:8]: i["dispatch_late"] for i in body["items"]}
    assert late["aaaa0001"] is True and late["aaaa0002"] is False
    mine = queue(client, people["operator_a1"], "?tab=overdue").get_json()
    assert mine["counts"] == A1_COUNTS and [i["id"][:8] for i in mine["items"]] == ["aaaa0009"]
    assert mine["items"][0]["warning"] == "red"
    found = queue(client, people["viewer"], "?tab=dispatch&q=100%25").get_json()
    assert [i["id"][:8] for i in found["items"]] == ["aaaa0001"] and found["counts"]["dispatch"] == 1
    outside = queue(client, people["operator_a1"], f"?grid={data.COMMUNITY_B1.code}").get_json()
    assert sum(outside["counts"].values()) == 0


def test_the_api_refuses_bad_queries_and_roles(client, people):
    for query in ("?tab=nope", "?page=0", "?page=x", "?severity=huge", "?since=yesterday", "?q=" + "x" * 101,
                  "?source=pigeon", "?color=red"):
        resp = client.get(f"/api/desk/queue{query}", headers=people["dispatcher"])
        assert resp.status_code == 400, (query, resp.status_code)
        assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert client.get("/api/desk/queue", headers=people["liaison"]).status_code == 403
    assert client.get("/api/desk/queue").status_code == 401


def test_an_unchanged_queue_is_a_304_and_a_report_changes_its_etag(client, people):
    first = queue(client, people["operator_a1"])
    tag = first.headers["ETag"]
    again = client.get("/api/desk/queue", headers={**people["operator_a1"], "If-None-Match": tag})
    assert again.status_code == 304 and again.get_data() == b""
    other = client.get("/api/desk/queue", headers={**people["dispatcher"], "If-None-Match": tag})
    assert other.status_code == 200  # another jurisdiction's answer is another answer
    lon, lat = A1_SOUTH.geom.centroid.x, A1_SOUTH.geom.centroid.y
    resp = client.post("/api/incidents", headers=people["operator_a1"], json={
        "category": "disputes", "severity": "general", "description": "新的上报", "point": {"lon": lon, "lat": lat}})
    assert resp.status_code == 201, resp.get_json()
    after = client.get("/api/desk/queue", headers={**people["operator_a1"], "If-None-Match": tag})
    assert after.status_code == 200 and after.headers["ETag"] != tag
    body = after.get_json()
    assert body["counts"]["dispatch"] == A1_COUNTS["dispatch"] + 1
    assert resp.get_json()["id"] in {i["id"] for i in body["items"]}


def test_the_page_is_served_in_both_languages_with_its_policy(client, people):
    resp = client.get("/desk", headers=people["dispatcher"])
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "工单台" in html and "待派单" in html and "<script>" not in html
    assert "script-src 'self';" in resp.headers["Content-Security-Policy"]
    assert "Work desk" in client.get("/desk?lang=en", headers=people["viewer"]).get_data(as_text=True)
    # The address may carry the tab and filters the page opens on (a scorecard's row links so); nothing else.
    opened = client.get("/desk", query_string={"tab": "overdue", "unit": "城管中队", "grid": A1_SOUTH.code,
                                               "since": "2026-01-01", "until": "2026-01-31"}, headers=people["viewer"])
    assert opened.status_code == 200 and "城管中队" not in opened.get_data(as_text=True)  # the script reads them
    assert client.get("/desk?page=2", headers=people["viewer"]).status_code == 400
    assert client.get("/desk", headers=people["liaison"]).status_code == 403


def test_the_page_links_the_other_desks_each_role_may_open(client, people):
    dispatcher = client.get("/desk", headers=people["dispatcher"]).get_data(as_text=True)
    assert all(f'href="{path}"' in dispatcher for path in ("/desk/intake", "/desk/patrols", "/desk/scorecards"))
    operator = client.get("/desk?lang=en", headers=people["operator_a1"]).get_data(as_text=True)
    assert 'href="/desk/intake?lang=en">Hotline intake' in operator
    assert "/desk/patrols" not in operator and "/desk/scorecards" not in operator  # not for an operator
    viewer = client.get("/desk", headers=people["viewer"]).get_data(as_text=True)
    assert "/desk/intake" not in viewer and 'href="/desk/scorecards"' in viewer
