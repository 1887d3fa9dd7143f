"""Unit scorecards (单位考评, 三色预警) on both backends: hand-made cases (tests/scorecards_data.py) give known figures
per unit, street and community, and so known colours and reasons; a jurisdiction limits the rows; the CSV (with its
byte-order mark and Chinese headers) and the workbook hold the same rows as the JSON; bad parameters are 400
problems; the page is a shell under a strict policy that writes no data into its markup."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from mapserver.config import ScorecardSettings
from mapserver.incidents.scorecard_files import csv_bytes, xlsx_bytes
from mapserver.incidents.scorecards import scorecards
from mapserver.jurisdiction import WHOLE
from mapserver.model import Incident
from mapserver.store.scorecards import Figures
from tests import jurisdiction_data as data
from tests import scorecards_data as cards
from tests.test_api import assert_problem

SINCE = cards.NOW - timedelta(days=30)
UNTIL = cards.NOW + timedelta(seconds=1)
HOSTILE = '=HYPERLINK("http://x")<script>window.__pwned=1</script>'


@pytest.fixture
def scored(store):
    cards.load(store)
    return store


def figures(store, by: str, within=WHOLE) -> dict[str, Figures]:
    return {f.key: f for f in store.scorecards.figures(by=by, since=SINCE, until=UNTIL, now=cards.NOW, within=within)}


def rows(client, headers, **query) -> list[dict]:
    resp = client.get("/api/scorecards", query_string=query, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["rows"]


# -- the figures, grouped by the database ----------------------------------------------------------------------------


def test_the_figures_per_unit_are_the_hand_counted_ones(scored):
    got = figures(scored, "unit")
    assert got[cards.GREEN] == Figures(cards.GREEN, cases=6, closed=6, closed_on_time=6, followed_up=4, satisfied=4)
    assert got[cards.YELLOW] == Figures(cards.YELLOW, cases=10, closed=10, closed_on_time=8, followed_up=10,
                                        satisfied=10)
    # The return of the B2 case is charged to 丙, who held it; the case itself is 丁's now.
    assert got[cards.RED] == Figures(cards.RED, cases=10, closed=5, closed_on_time=5, overdue_open=2, followed_up=5,
                                     satisfied=3, reopened=2, reopen_count=3, returns=1)
    assert got[cards.FEW] == Figures(cards.FEW, cases=2)


def test_the_figures_per_street_and_community_charge_a_return_to_the_cases_grid(scored):
    streets = figures(scored, "street")
    assert set(streets) == {data.STREET_A.code, data.STREET_B.code}
    assert streets[data.STREET_A.code] == Figures(data.STREET_A.code, cases=16, closed=16, closed_on_time=14,
                                                  followed_up=14, satisfied=14)
    b = streets[data.STREET_B.code]
    assert (b.cases, b.closed, b.overdue_open, b.returns, b.reopen_count) == (12, 5, 2, 1, 3)
    communities = figures(scored, "community")
    assert communities[data.COMMUNITY_B2.code] == Figures(data.COMMUNITY_B2.code, cases=2, returns=1)
    assert communities[data.COMMUNITY_B1.code].returns == 0


def test_the_window_is_on_the_report_time(scored):
    late = scored.scorecards.figures(by="unit", since=cards.NOW - timedelta(days=4), until=UNTIL, now=cards.NOW)
    assert late == []
    early = scored.scorecards.figures(by="unit", since=SINCE, until=cards.NOW - timedelta(days=5, minutes=10),
                                      now=cards.NOW)
    # Case n was reported n minutes before NOW - 5 days, and until is exclusive: cases 11 on are kept (乙's last six).
    assert {f.key: f.cases for f in early} == {cards.YELLOW: 6, cards.RED: 10, cards.FEW: 2}


def test_a_jurisdiction_limits_every_row(scored):
    in_a = figures(scored, "unit", within=scored.grids.jurisdiction(data.STREET_A.code))
    assert set(in_a) == {cards.GREEN, cards.YELLOW}
    in_b1 = figures(scored, "unit", within=scored.grids.jurisdiction(data.COMMUNITY_B1.code))
    # The B2 case 丙 returned lies outside B1: neither it nor its return is counted there.
    assert set(in_b1) == {cards.RED} and in_b1[cards.RED].returns == 0
    assert set(figures(scored, "street", within=scored.grids.jurisdiction(data.COMMUNITY_B1.code))) == \
        {data.STREET_B.code}


# -- the rules --------------------------------------------------------------------------------------------------------


def test_the_colours_and_reasons_worst_first(scored):
    rows = scorecards(figures(scored, "unit").values(), ScorecardSettings())
    assert [(r.figures.key, r.colour) for r in rows] == [
        (cards.RED, "red"), (cards.YELLOW, "yellow"), (cards.GREEN, "green"), (cards.FEW, "unrated")]
    red, yellow, green, few = rows
    assert [(r.rate, r.colour) for r in red.reasons] == [
        ("on_time_rate", "red"), ("closure_rate", "red"), ("satisfaction_rate", "red"), ("reopen_share", "red"),
        ("return_share", "yellow")]
    assert red.rates == {"on_time_rate": round(5 / 7, 6), "closure_rate": 0.5, "satisfaction_rate": 0.6,
                         "reopen_share": 0.2, "return_share": round(1 / 11, 6)}
    # 8 of 10 on time is on the red line, not under it: yellow.
    assert [(r.rate, r.value, r.limit, r.colour) for r in yellow.reasons] == [("on_time_rate", 0.8, 0.9, "yellow")]
    assert green.reasons == () and few.reasons == ()


def test_the_limits_come_from_the_settings(scored):
    lenient = ScorecardSettings(min_cases=1, red=ScorecardSettings().red.model_copy(update={"on_time_below": 0.5}),
                                yellow=ScorecardSettings().yellow.model_copy(update={"on_time_below": 0.8}))
    by_key = {r.figures.key: r for r in scorecards(figures(scored, "unit").values(), lenient)}
    assert by_key[cards.YELLOW].colour == "green"
    # Rated now: neither case closed (closure 0), but nothing has come due, so the on-time rate is not judged.
    assert [(r.rate, r.colour) for r in by_key[cards.FEW].reasons] == [("closure_rate", "red")]
    assert next(r for r in by_key[cards.RED].reasons if r.rate == "on_time_rate").colour == "yellow"


def test_red_limits_must_be_the_stricter():
    with pytest.raises(ValueError, match="strict"):
        ScorecardSettings(red=ScorecardSettings().yellow, yellow=ScorecardSettings().red)


# -- the API ----------------------------------------------------------------------------------------------------------


def test_the_api_answers_rows_with_labels_and_reasons(scored, client, tokens):
    got = rows(client, tokens["viewer"])
    assert [(r["key"], r["colour"], r["label"], r["action"]) for r in got] == [
        (cards.RED, "red", "红色", "约谈"), (cards.YELLOW, "yellow", "黄色", "整改提示"),
        (cards.GREEN, "green", "绿色", "先进典型"), (cards.FEW, "unrated", "不参评", "样本不足")]
    assert got[1]["reasons"] == [{"rate": "on_time_rate", "value": 0.8, "limit": 0.9, "colour": "yellow",
                                  "text": "按期办结率 80% 低于黄色线 90%"}]
    assert got[0]["returns"] == 1 and got[0]["reopen_count"] == 3 and got[0]["satisfaction_rate"] == 0.6
    english = rows(client, tokens["admin"], lang="en", by="community")
    assert english[0]["key"] == data.COMMUNITY_B1.code and english[0]["name"] == data.COMMUNITY_B1.name
    assert english[0]["action"] == "formal talk"


def test_the_api_keeps_to_the_askers_jurisdiction(scored, client):
    street_a = data.token(scored, "viewer", data.STREET_A, "street-a")
    assert {r["key"] for r in rows(client, street_a)} == {cards.GREEN, cards.YELLOW}
    assert [r["key"] for r in rows(client, street_a, by="street")] == [data.STREET_A.code]


def test_a_plain_date_until_takes_in_that_day(scored, client, tokens):
    resp = client.get("/api/scorecards", query_string={"since": "2026-01-01", "until": "2026-01-31"},
                      headers=tokens["viewer"])
    body = resp.get_json()
    assert body["since"] == "2025-12-31T16:00:00+00:00" and body["until"] == "2026-01-31T16:00:00+00:00"
    assert body["rows"] == []


def test_unchanged_scorecards_are_a_304_and_a_report_changes_their_etag(scored, client, tokens):
    first = client.get("/api/scorecards", headers=tokens["viewer"])
    tag = first.headers["ETag"]
    assert tag.startswith('W/"') and first.headers["Cache-Control"] == "private, no-cache"
    again = client.get("/api/scorecards", headers={**tokens["viewer"], "If-None-Match": tag})
    assert again.status_code == 304 and again.get_data() == b""
    for query in ({"by": "street"}, {"lang": "en"}, {"since": "2026-01-01"}):
        other = client.get("/api/scorecards", query_string=query, headers={**tokens["viewer"], "If-None-Match": tag})
        assert other.status_code == 200 and other.headers["ETag"] != tag, query  # another query, another answer
    street_a = data.token(scored, "viewer", data.STREET_A, "street-a")
    assert client.get("/api/scorecards", headers={**street_a, "If-None-Match": tag}).status_code == 200
    lon, lat = data.COMPOUNDS[0].geom.centroid.x, data.COMPOUNDS[0].geom.centroid.y
    reported = client.post("/api/incidents", headers=tokens["dispatcher"], json={
        "category": "disputes", "severity": "general", "description": "新的上报", "point": {"lon": lon, "lat": lat}})
    assert reported.status_code == 201, reported.get_json()
    after = client.get("/api/scorecards", headers={**tokens["viewer"], "If-None-Match": tag})
    assert after.status_code == 200 and after.headers["ETag"] != tag and after.get_json()["rows"]
    download = client.get("/api/scorecards?format=csv", headers={**tokens["viewer"], "If-None-Match": tag})
    assert download.status_code == 200 and "ETag" not in download.headers  # a download is not revalidated
    assert download.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("role,status", [("viewer", 200), ("dispatcher", 200), ("admin", 200), ("operator", 403),
                                         ("field", 403), ("liaison", 403)])
def test_who_may_read_the_scorecards(store, client, tokens, role, status):
    assert client.get("/api/scorecards", headers=tokens[role]).status_code == status
    assert client.get("/desk/scorecards", headers=tokens[role]).status_code == status


@pytest.mark.parametrize("query,param", [
    ({"by": "grid"}, "by"), ({"format": "pdf"}, "format"), ({"since": "yesterday"}, "since"),
    ({"since": "2026-02-01", "until": "2026-01-01"}, "since"),
    ({"since": "2020-01-01", "until": "2026-01-01"}, "since"),
    ({"unit": "甲"}, "unit"),
])
def test_bad_parameters_are_400_problems(store, client, tokens, query, param):
    resp = client.get("/api/scorecards", query_string=query, headers=tokens["viewer"])
    assert_problem(resp, 400)
    assert resp.get_json()["param"] == param


# -- the files --------------------------------------------------------------------------------------------------------


def test_the_csv_has_a_bom_chinese_headers_and_the_same_rows(scored, client, tokens):
    resp = client.get("/api/scorecards", query_string={"format": "csv"}, headers=tokens["viewer"])
    assert resp.status_code == 200 and resp.content_type == "text/csv; charset=utf-8"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="scorecards-unit-')
    assert resp.data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert table[0][:4] == ["承办单位", "预警", "处置", "事件数"] and table[0][-1] == "原因"
    assert [r[:3] for r in table[1:]] == [[cards.RED, "红色", "约谈"], [cards.YELLOW, "黄色", "整改提示"],
                                         [cards.GREEN, "绿色", "先进典型"], [cards.FEW, "不参评", "样本不足"]]
    red = dict(zip(table[0], table[1], strict=True))
    assert red["返单数"] == "1" and red["按期办结率"] == str(round(5 / 7, 6)) and "约谈" not in red["原因"]
    assert red["原因"].split("；")[0] == "按期办结率 71.4% 低于红色线 80%"


def test_the_workbook_opens_and_holds_the_same_rows(scored, client, tokens):
    json_rows = rows(client, tokens["viewer"], by="street")
    resp = client.get("/api/scorecards", query_string={"format": "xlsx", "by": "street"}, headers=tokens["viewer"])
    assert resp.status_code == 200 and resp.content_type.startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(resp.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("编码", "街道", "预警")
    assert [(r[0], r[1], r[2]) for r in values[1:]] == [(r["key"], r["name"], r["label"]) for r in json_rows]
    header = list(values[0])
    assert values[1][header.index("按期办结率")] == json_rows[0]["on_time_rate"]
    assert values[1][header.index("事件数")] == json_rows[0]["cases"] == 12


def test_a_hostile_unit_name_is_text_in_every_file():
    card = scorecards([Figures(HOSTILE, cases=6, closed=6, closed_on_time=6)], ScorecardSettings())
    table = list(csv.reader(io.StringIO(csv_bytes(card, by="unit", lang="zh").decode("utf-8-sig"))))
    assert table[1][0] == "'" + HOSTILE
    cell = load_workbook(io.BytesIO(xlsx_bytes(card, by="unit", lang="zh"))).active["A2"]
    assert cell.value == HOSTILE and cell.data_type == "s"


# -- the page ---------------------------------------------------------------------------------------------------------


def test_the_page_is_a_shell_under_a_strict_policy(scored, client, tokens):
    scored.layers.add("incidents", [Incident(**{**cards.cases()[0][0].__dict__, "id": "00000000-0000-4000-b000-"
                                                "000000000999", "unit": HOSTILE})])
    resp = client.get("/desk/scorecards", headers=tokens["viewer"])
    assert resp.status_code == 200
    policy = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "default-src 'none'" in policy
    html = resp.get_data(as_text=True)
    assert '<html lang="zh-CN"' in html and "单位考评" in html and "按承办单位" in html
    assert html.count("<script") == 1 and 'src="/static/scorecards/scorecards.js"' in html
    assert "<script>" not in html and HOSTILE not in html  # units arrive as JSON, written as text
    assert rows(client, tokens["viewer"])[0]["key"] in (HOSTILE, cards.RED)
    english = client.get("/desk/scorecards?lang=en", headers=tokens["viewer"]).get_data(as_text=True)
    assert '<html lang="en"' in english and "Unit scorecards" in english
    for asset in ("scorecards/scorecards.js", "scorecards/scorecards.css"):
        assert client.get(f"/static/{asset}").status_code == 200


def test_a_browser_without_a_session_goes_to_the_login_page(store, client):
    resp = client.get("/desk/scorecards", headers={"Accept": "text/html"})
    assert resp.status_code == 303 and "/login" in resp.headers["Location"]
