"""The grid workers' monthly assessment on both backends: hand-made cases and tracks (tests/assessment_data.py) give
known figures per worker; the score and grade follow config; a jurisdiction (and a grid) limits the rows and a grid
worker reads only their own; a finished day's measures are kept once and today's never; the CSV and workbook hold
the same rows as the JSON; bad parameters are 400 problems; the page is a shell under a strict policy."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from mapserver.assessment.days import computed_days, today_of
from mapserver.assessment.files import csv_bytes, xlsx_bytes
from mapserver.assessment.grading import PatrolTotals, WorkerMonth, assess
from mapserver.assessment.month import parse_month
from mapserver.assessment.monthly import assess_month
from mapserver.config import AssessmentSettings
from mapserver.store.assessment import CaseFigures, StopFigures, Worker, WorkerScope
from tests import assessment_data as ad
from tests import jurisdiction_data as data
from tests.test_api import assert_problem

ZONE = "Asia/Shanghai"
APRIL = date(2026, 4, 5)
KM = 90 * ad.METRES_PER_STEP / 1000
HOSTILE = '=HYPERLINK("http://x")<script>window.__pwned=1</script>'


@pytest.fixture
def month_store(store):
    ad.load(store)
    return store


def assessed(store, *, today=APRIL, settings=None, **scope):
    return assess_month(store, settings or AssessmentSettings(), WorkerScope(**scope), parse_month(ad.MONTH, today),
                        zone=ZONE, today=today)


def by_person(result):
    return {row.month.worker.name: row for row in result.rows}


def rows(client, headers, **query) -> list[dict]:
    resp = client.get("/api/assessment", query_string={"month": ad.MONTH, **query}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["rows"]


# -- the figures ------------------------------------------------------------------------------------------------------


def test_the_figures_are_the_hand_counted_ones(month_store):
    got = by_person(assessed(month_store))
    assert set(got) == {ad.LI, ad.WANG, ad.ZHAO}  # the dispatcher is no grid worker
    li = got[ad.LI].month
    assert li.cases == CaseFigures(reported=3, handled=3, handled_on_time=2, reopened=1, followed_up=3, satisfied=2)
    assert li.stops == StopFigures(patrols=1, planned=3, visited=2)
    assert li.patrol.days == 2 and li.patrol.fixes == 61 + 31
    assert li.patrol.distance_m == pytest.approx(90 * ad.METRES_PER_STEP, rel=1e-4)
    assert li.patrol.moving_s == pytest.approx(900) and li.patrol.in_grid_s == pytest.approx(900)
    assert got[ad.WANG].month.cases == CaseFigures(reported=1)
    assert got[ad.ZHAO].month.cases == CaseFigures() and got[ad.ZHAO].month.patrol.distance_m == 0


def test_the_case_figures_keep_to_the_window(month_store):
    february = WorkerScope()
    from datetime import UTC, datetime

    got = month_store.assessment.cases(february, datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
    assert got == {ad.LI: CaseFigures(reported=1)}


# -- the score and the grade ------------------------------------------------------------------------------------------


def test_the_default_rules_fail_a_month_far_below_the_targets(month_store):
    got = by_person(assessed(month_store))
    li = got[ad.LI]
    third = round(2 / 3, 6)
    assert li.shares["on_time"] == third and li.shares["reopen"] == third and li.shares["stops"] == third
    assert li.shares["reports"] == 0.15
    # 10·0.15 + 20·⅔ + 10·⅔ + 15·(0.998/100) + 15·(0.25/60) + 10·(0.25/60) + 10·⅔ + 10·⅔ over 100
    assert li.score == 35.1 and li.grade == "fail"
    # Wang: nothing handled, followed up or planned: judged on reports (1/20) and patrols only, over 50.
    assert got[ad.WANG].shares["on_time"] is None and got[ad.WANG].score == 1.0
    assert [r.month.worker.name for r in assessed(month_store).rows] == [ad.ZHAO, ad.WANG, ad.LI]  # worst first


def test_the_weights_targets_and_grades_come_from_the_settings(month_store):
    rules = AssessmentSettings.model_validate({
        "targets": {"reports_per_month": 3, "km_per_month": 1, "hours_per_month": 0.25,
                    "in_grid_hours_per_month": 0.25}})
    li = by_person(assessed(month_store, settings=rules))[ad.LI]
    assert li.score == 83.3 and li.grade == "pass"
    assert [r.measure for r in li.reasons] == ["on_time", "reopen", "stops", "satisfaction"]
    assert li.reasons[0].value == pytest.approx(2 / 3) and li.reasons[0].target == 1.0
    stricter = rules.model_copy(update={"grades": rules.grades.model_validate({"excellent": 80, "pass": 70})})
    assert by_person(assessed(month_store, settings=stricter))[ad.LI].grade == "excellent"
    only_cases = rules.model_copy(update={"weights": rules.weights.model_validate(
        {"reports": 0, "on_time": 1, "reopen": 0, "distance": 0, "hours": 0, "in_grid": 0, "stops": 0,
         "satisfaction": 0})})
    assert by_person(assessed(month_store, settings=only_cases))[ad.LI].score == 66.7


def test_grades_must_be_in_order():
    with pytest.raises(ValueError, match="excellent"):
        AssessmentSettings.model_validate({"grades": {"excellent": 50, "pass": 75, "basic": 60}})


def test_a_measure_with_nothing_to_count_is_not_judged():
    month = WorkerMonth(Worker("x", "", None), CaseFigures(reported=20), StopFigures(),
                        PatrolTotals(distance_m=100_000, moving_s=60 * 3600))
    got = assess(month, AssessmentSettings())
    assert got.shares["in_grid"] is None and got.shares["satisfaction"] is None
    assert got.score == 100.0 and got.grade == "excellent" and got.reasons == ()


# -- the kept days ----------------------------------------------------------------------------------------------------


def test_a_finished_day_is_kept_once_and_today_never(month_store):
    during = by_person(assessed(month_store, today=ad.DAY_2))
    # Today (11 March) is neither counted nor kept; the ten days before are, one row each.
    assert during[ad.LI].month.patrol.distance_m == pytest.approx(60 * ad.METRES_PER_STEP, rel=1e-4)
    assert during[ad.LI].month.cases.reported == 3  # the cases of the month so far count
    assert today_of(month_store, during[ad.LI].month.worker, zone=ZONE, today=ad.DAY_2).fixes == 31
    kept = month_store.assessment.days(WorkerScope(), date(2026, 3, 1), date(2026, 3, 31))
    assert len(kept) == 3 * 10 and (ad.LI, ad.DAY_2) not in kept
    assert kept[(ad.LI, ad.DAY_1)].fixes == 61 and kept[(ad.LI, date(2026, 3, 9))].fixes == 0
    # Fixes arriving late for a kept day (a phone back in signal) drop its kept row: the day is measured again.
    times, lon, lat = ad.walk(ad.DAY_1, 60)
    later = [t.replace(hour=5) for t in times]
    month_store.tracks.add_fixes(ad.LI, later, lon, lat, [5.0] * len(later))
    kept = month_store.assessment.days(WorkerScope(), date(2026, 3, 1), date(2026, 3, 31))
    assert (ad.LI, ad.DAY_1) not in kept and (ad.WANG, ad.DAY_1) in kept  # the sender's day only
    after = by_person(assessed(month_store))
    kept = month_store.assessment.days(WorkerScope(), date(2026, 3, 1), date(2026, 3, 31))
    assert len(kept) == 3 * 31 and kept[(ad.LI, ad.DAY_1)].fixes == 2 * 61 and kept[(ad.LI, ad.DAY_2)].fixes == 31
    day = computed_days(month_store, after[ad.LI].month.worker, [ad.DAY_1], ZONE, None)[0]
    assert kept[(ad.LI, ad.DAY_1)].distance_m == pytest.approx(day.distance_m)
    assert day.distance_m >= 2 * 60 * ad.METRES_PER_STEP  # both walks, and the way between them
    assert after[ad.LI].month.patrol.distance_m == pytest.approx(
        (90 - 60) * ad.METRES_PER_STEP + day.distance_m, rel=1e-4)
    # The same fixes again are no news: the kept day stays.
    month_store.tracks.add_fixes(ad.LI, later, lon, lat, [5.0] * len(later))
    assert (ad.LI, ad.DAY_1) in month_store.assessment.days(WorkerScope(), ad.DAY_1, ad.DAY_1)
    assert month_store.assessment.keep_days(kept.values()) == 0  # kept already: nothing written again


def test_a_month_to_come_is_refused():
    with pytest.raises(Exception, match="has not begun"):
        parse_month("2026-05", APRIL)


# -- the API: reach, files, caching -----------------------------------------------------------------------------------


def test_the_api_answers_the_hand_counted_rows(month_store, client, tokens):
    got = rows(client, tokens["viewer"])
    assert [r["person"] for r in got] == [ad.ZHAO, ad.WANG, ad.LI]
    li = got[2]
    assert (li["reported"], li["handled"], li["handled_on_time"], li["handled_late"], li["reopened"]) == (3, 3, 2, 1, 1)
    assert (li["followed_up"], li["satisfied"], li["stops_planned"], li["stops_visited"]) == (3, 2, 3, 2)
    assert li["distance_km"] == pytest.approx(KM, abs=1e-3) and li["patrol_hours"] == 0.25
    assert li["score"] == 35.1 and li["grade"] == "fail" and li["label"] == "不合格"
    assert li["reasons"][0]["text"] == "巡查时长 0.2 h，目标 60 h"
    english = rows(client, tokens["admin"], lang="en")
    assert english[2]["label"] == "Fail" and english[2]["name"] == f"{ad.LI} (test)"


def test_a_streets_dispatcher_sees_only_their_streets_workers(month_store, client):
    street_a = data.token(month_store, "dispatcher", data.STREET_A, "street-a")
    assert {r["person"] for r in rows(client, street_a)} == {ad.LI, ad.ZHAO}
    assert [r["person"] for r in rows(client, street_a, grid=data.COMMUNITY_A2.code)] == [ad.ZHAO]
    assert rows(client, street_a, grid=data.COMMUNITY_B1.code) == []  # another street's grid: nobody
    street_b = data.token(month_store, "viewer", data.STREET_B, "street-b")
    assert [r["person"] for r in rows(client, street_b)] == [ad.WANG]
    assert client.get(f"/api/assessment/people/{ad.LI}", query_string={"month": ad.MONTH},
                      headers=street_b).status_code == 404


def test_a_grid_worker_reads_only_their_own_row(month_store, client):
    li = data.token(month_store, "field", data.COMMUNITY_A1, ad.LI)
    assert [r["person"] for r in rows(client, li)] == [ad.LI]
    own = client.get(f"/api/assessment/people/{ad.LI}", query_string={"month": ad.MONTH}, headers=li)
    assert own.status_code == 200 and own.get_json()["row"]["reported"] == 3
    days = {d["day"]: d for d in own.get_json()["days"]}
    assert len(days) == 31 and days["2026-03-10"]["fixes"] == 61 and days["2026-03-11"]["patrol_hours"] == 0.08
    assert not any(d.get("today") for d in days.values())  # a past month has no today
    other = client.get(f"/api/assessment/people/{ad.ZHAO}", query_string={"month": ad.MONTH}, headers=li)
    assert_problem(other, 404)


def test_a_workers_current_month_lists_today_apart(month_store, client):
    li = data.token(month_store, "field", data.COMMUNITY_A1, ad.LI)
    resp = client.get(f"/api/assessment/people/{ad.LI}", headers=li)
    assert resp.status_code == 200
    days = resp.get_json()["days"]
    assert days[-1]["today"] is True and not any(d.get("today") for d in days[:-1])
    kept = month_store.assessment.days([ad.LI], date.fromisoformat(days[0]["day"]),
                                       date.fromisoformat(days[-1]["day"]))
    assert len(kept) == len(days) - 1  # every finished day kept, today not


@pytest.mark.parametrize("role,status", [("viewer", 200), ("dispatcher", 200), ("admin", 200), ("field", 200),
                                         ("operator", 403), ("liaison", 403)])
def test_who_may_read_the_assessment(store, client, tokens, role, status):
    assert client.get("/api/assessment", headers=tokens[role]).status_code == status
    assert client.get("/desk/assessment", headers=tokens[role]).status_code == status


@pytest.mark.parametrize("query,param", [
    ({"month": "2026-13"}, "month"), ({"month": "March"}, "month"), ({"month": "2999-01"}, "month"),
    ({"format": "pdf"}, "format"), ({"by": "unit"}, "by"), ({"grid": "x" * 65}, "grid"),
])
def test_bad_parameters_are_400_problems(store, client, tokens, query, param):
    resp = client.get("/api/assessment", query_string=query, headers=tokens["viewer"])
    assert_problem(resp, 400)
    assert resp.get_json()["param"] == param


def test_an_unknown_grid_is_a_422(month_store, client, tokens):
    resp = client.get("/api/assessment", query_string={"grid": "999"}, headers=tokens["viewer"])
    assert_problem(resp, 422)


def test_an_unchanged_month_is_a_304_and_a_report_changes_its_etag(month_store, client, tokens):
    first = client.get("/api/assessment", query_string={"month": ad.MONTH}, headers=tokens["viewer"])
    tag = first.headers["ETag"]
    again = client.get("/api/assessment", query_string={"month": ad.MONTH},
                       headers={**tokens["viewer"], "If-None-Match": tag})
    assert again.status_code == 304 or again.headers["ETag"] != tag  # a new minute may have begun meanwhile
    street_a = data.token(month_store, "viewer", data.STREET_A, "street-a")
    other = client.get("/api/assessment", query_string={"month": ad.MONTH}, headers={**street_a, "If-None-Match": tag})
    assert other.status_code == 200 and other.headers["ETag"] != tag
    month_store.incidents.report(ad._case(7, data.COMMUNITY_A1, ad.T0), actor=ad.LI)
    after = client.get("/api/assessment", query_string={"month": ad.MONTH},
                       headers={**tokens["viewer"], "If-None-Match": tag})
    assert after.status_code == 200 and after.get_json()["rows"][-1]["reported"] == 4


def test_the_workbook_opens_and_holds_the_same_figures(month_store, client, tokens):
    json_rows = rows(client, tokens["viewer"])
    resp = client.get("/api/assessment", query_string={"month": ad.MONTH, "format": "xlsx"},
                      headers=tokens["viewer"])
    assert resp.status_code == 200 and resp.content_type.startswith("application/vnd.openxmlformats")
    assert resp.headers["Content-Disposition"] == 'attachment; filename="assessment-2026-03.xlsx"'
    sheet = load_workbook(io.BytesIO(resp.data)).active
    values = list(sheet.iter_rows(values_only=True))
    header = list(values[0])
    assert header[:5] == ["账号", "姓名", "网格编码", "得分", "等级"]
    assert [r[0] for r in values[1:]] == [r["person"] for r in json_rows]
    li = dict(zip(header, values[3], strict=True))
    assert (li["上报事件数"], li["按期处置数"], li["超期处置数"], li["被重办数"]) == (3, 2, 1, 1)
    assert li["巡查里程(km)"] == pytest.approx(KM, abs=1e-3) and li["得分"] == 35.1 and li["等级"] == "不合格"
    assert li["点位打卡率（得分率）"] == pytest.approx(2 / 3) and li["满意率（得分率）"] == pytest.approx(2 / 3)
    assert li["上报事件数（得分率）"] == 0.15


def test_the_csv_has_a_bom_and_the_same_rows(month_store, client, tokens):
    resp = client.get("/api/assessment", query_string={"month": ad.MONTH, "format": "csv", "lang": "en"},
                      headers=tokens["viewer"])
    assert resp.status_code == 200 and resp.data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert table[0][:5] == ["Account", "Name", "Grid code", "Score", "Grade"]
    assert [r[0] for r in table[1:]] == [ad.ZHAO, ad.WANG, ad.LI] and table[3][3] == "35.1"


def test_a_hostile_name_is_text_in_every_file():
    month = WorkerMonth(Worker("x", HOSTILE, None), CaseFigures(), StopFigures(), PatrolTotals())
    row = [assess(month, AssessmentSettings())]
    table = list(csv.reader(io.StringIO(csv_bytes(row, "zh").decode("utf-8-sig"))))
    assert table[1][1] == "'" + HOSTILE
    cell = load_workbook(io.BytesIO(xlsx_bytes(row, "zh", "2026-03"))).active["B2"]
    assert cell.value == HOSTILE and cell.data_type == "s"


# -- the page ---------------------------------------------------------------------------------------------------------


def test_the_page_is_a_shell_under_a_strict_policy(month_store, client, tokens):
    resp = client.get("/desk/assessment", headers=tokens["viewer"])
    assert resp.status_code == 200
    policy = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "default-src 'none'" in policy
    html = resp.get_data(as_text=True)
    assert '<html lang="zh-CN"' in html and "网格员考核" in html and ad.LI not in html
    assert html.count("<script") == 1 and 'src="/static/assessment/assessment.js"' in html
    english = client.get("/desk/assessment?lang=en", headers=tokens["viewer"]).get_data(as_text=True)
    assert '<html lang="en"' in english and "Grid worker assessment" in english
    for asset in ("assessment/assessment.js", "assessment/assessment.css"):
        assert client.get(f"/static/{asset}").status_code == 200
    desk = client.get("/desk", headers=tokens["viewer"]).get_data(as_text=True)
    assert 'href="/desk/assessment"' in desk


def test_a_browser_without_a_session_goes_to_the_login_page(store, client):
    resp = client.get("/desk/assessment", headers={"Accept": "text/html"})
    assert resp.status_code == 303 and "/login" in resp.headers["Location"]
