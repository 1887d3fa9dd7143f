"""The wall's panels (/api/screen/panels) on both backends, against figures computed here in Python from the stored
incidents: cases per Beijing day and the period before, by category and by source, response and handling times
(median, 90th percentile), closure and on-time rates, and the feed of the newest cases; each within the asker's
jurisdiction. The city's grids: tests/scoped_city.py."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from shapely.geometry import Point

from mapserver.model import INCIDENT_SOURCES, Incident
from mapserver.screen.panels import FEED_SIZE, TREND_DAYS, day_starts
from mapserver.store.incident_summary import RELATIVE_ERROR
from tests import scoped_city as city
from tests.scoped_city import A1, A2, B1, COMPOUND, EAST, WEST, bound_token

BEIJING = ZoneInfo("Asia/Shanghai")
CHAINS = {A1: ((WEST, A1, COMPOUND), Point(114.605, 33.605)), A2: ((WEST, A2, None), Point(114.63, 33.62)),
          B1: ((EAST, B1, None), Point(114.66, 33.62))}
CATEGORIES = ("disputes", "public_security", "fire_hazard", "city_appearance")
STATUSES = ("reported", "dispatched", "accepted", "handled", "closed", "closed", "closed")


def _incident(n: int, reported: datetime, rng: random.Random, chain_key: str) -> Incident:
    chain, point = CHAINS[chain_key]
    status = rng.choice(STATUSES)
    dispatched = reported + timedelta(seconds=rng.uniform(30, 12 * 3600)) if status != "reported" else None
    closed = reported + timedelta(seconds=rng.uniform(3600, 5 * 86400)) if status == "closed" else None
    return Incident(id=f"00000000-0000-4000-8000-{n:012d}", geom=point, reported_at=reported,
                    category=rng.choice(CATEGORIES), severity="general", status=status, source=rng.choice(
                        INCIDENT_SOURCES), grid_code=next(c for c in reversed(chain) if c), grid_l1=chain[0],
                    grid_l2=chain[1], grid_l3=chain[2], warn_at=reported + timedelta(days=2),
                    due_at=reported + timedelta(days=3), dispatched_at=dispatched, closed_at=closed,
                    address=f"地址{n}", description=f"描述{n}")


def incidents(now: datetime) -> list[Incident]:
    """Cases over the last 62 days in three communities, and some on either side of a Beijing midnight."""
    rng = random.Random(20)
    out = [_incident(n, now - timedelta(seconds=rng.uniform(0, 62 * 86400)), rng, rng.choice(list(CHAINS)))
           for n in range(1, 501)]
    today = now.astimezone(BEIJING).date()
    for k, days_ago in enumerate((1, 29, 30, 31, 59, 60)):
        midnight = datetime.combine(today - timedelta(days=days_ago), time(0), tzinfo=BEIJING).astimezone(UTC)
        for m, offset in enumerate((-1e-3, 0.0, 1e-3)):
            out.append(_incident(1000 + 10 * k + m, midnight + timedelta(seconds=offset), rng, A1))
    return out


@pytest.fixture
def stored(store):
    store.layers.add("grids", city.GRIDS)
    cases = incidents(datetime.now(UTC))
    store.layers.add("incidents", cases)
    return cases


def inside(cases: list[Incident], code: str | None) -> list[Incident]:
    return [i for i in cases if code is None or code in (i.grid_l1, i.grid_l2, i.grid_l3)]


def expected_trend(cases: list[Incident], today: date) -> tuple[list[int], list[int]]:
    per_day = Counter(i.reported_at.astimezone(BEIJING).date() for i in cases)
    days = [today - timedelta(days=2 * TREND_DAYS - 1 - k) for k in range(2 * TREND_DAYS)]
    counts = [per_day.get(d, 0) for d in days]
    return counts[TREND_DAYS:], counts[:TREND_DAYS]


def percentile_pair(seconds: list[float], *, exact: bool = True) -> dict[str, Any]:
    if not seconds:
        return {"median": None, "p90": None}
    median, p90 = np.percentile(seconds, [50, 90])  # linear interpolation, as percentile_cont
    if exact:
        return {"median": pytest.approx(median, abs=2e-3), "p90": pytest.approx(p90, abs=2e-3)}
    # From the summary's histograms: within one bucket's width (incident_summary.RELATIVE_ERROR).
    return {"median": pytest.approx(median, rel=RELATIVE_ERROR), "p90": pytest.approx(p90, rel=RELATIVE_ERROR)}


def answer(client, headers, window: str = "30d") -> dict:
    resp = client.get(f"/api/screen/panels?window={window}", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def check_figures(client, headers, mine: list[Incident], window: str, *, exact: bool) -> None:
    """The answer for ``window`` against the figures computed here from ``mine``, the asker's incidents."""
    got = answer(client, headers, window)
    current, previous = expected_trend(mine, date.fromisoformat(got["today"]))
    assert got["trend"]["current"] == current and got["trend"]["previous"] == previous
    assert got["trend"]["total"] == sum(current) and len(got["trend"]["days"]) == TREND_DAYS
    assert got["trend"]["days"][-1] == got["today"]
    since = datetime.fromisoformat(got["since"])
    assert since == datetime.combine(date.fromisoformat(got["today"]) - timedelta(
        days={"30d": 29, "7d": 6, "today": 0}[window]), time(0), tzinfo=BEIJING)
    window_cases = [i for i in mine if i.reported_at >= since]
    categories = Counter(i.category for i in window_cases)
    sources = Counter(i.source for i in window_cases)
    by_category = {row["key"]: row["count"] for row in got["breakdown"]["by_category"]}
    by_source = {row["key"]: row["count"] for row in got["breakdown"]["by_source"]}
    assert by_category == dict(categories)
    assert by_source == {s: sources.get(s, 0) for s in INCIDENT_SOURCES}
    counts = [row["count"] for row in got["breakdown"]["by_category"]]
    assert counts == sorted(counts, reverse=True)
    times = got["times"]
    assert times["percentiles_exact"] is exact
    assert times["response_s"] == percentile_pair(
        [(i.dispatched_at - i.reported_at).total_seconds() for i in window_cases if i.dispatched_at], exact=exact)
    assert times["handling_s"] == percentile_pair(
        [(i.closed_at - i.reported_at).total_seconds() for i in window_cases if i.closed_at], exact=exact)
    closed = [i for i in window_cases if i.status == "closed"]
    assert times["reports"] == len(window_cases) and times["closed"] == len(closed)
    assert times["closure_rate"] == (pytest.approx(len(closed) / len(window_cases), abs=1e-6)
                                     if window_cases else None)
    on_time = sum(1 for i in closed if i.closed_at <= i.due_at)
    assert times["on_time_rate"] == (pytest.approx(on_time / len(closed), abs=1e-6) if closed else None)
    measures = client.get(f"/api/screen/measures?window={window}", headers=headers).get_json()["values"]
    assert (measures["closure_rate"], measures["on_time_rate"]) == (times["closure_rate"], times["on_time_rate"])


@pytest.mark.parametrize("code", [None, WEST, A1, EAST])
def test_panel_figures_equal_those_computed_from_the_stored_incidents(client, store, stored, code):
    viewer = bound_token(store, "viewer", code)
    for window in ("30d", "7d", "today"):
        check_figures(client, viewer.headers, inside(stored, code), window, exact=True)


def test_the_whole_stores_larger_windows_are_read_from_the_daily_summary(client, store, stored):
    store.panels.EXACT_PERCENTILES_UP_TO = 10  # this handful counts as large: the summary's path
    viewer = bound_token(store, "viewer", None)
    for window in ("30d", "7d"):
        check_figures(client, viewer.headers, stored, window, exact=False)
    bound = bound_token(store, "viewer", WEST)  # a jurisdiction is always counted from its incidents
    check_figures(client, bound.headers, inside(stored, WEST), "30d", exact=True)


@pytest.mark.parametrize("code", [None, A2, EAST])
def test_the_feed_is_the_jurisdictions_newest_cases(client, store, stored, code):
    viewer = bound_token(store, "viewer", code)
    newest = sorted(inside(stored, code), key=lambda i: (-i.reported_at.timestamp(), i.id))[:FEED_SIZE]
    feed = answer(client, viewer.headers)["feed"]
    assert [row["id"] for row in feed] == [i.id for i in newest]
    names = {g.code: g.name for g in city.GRIDS}
    for row, case in zip(feed, newest, strict=True):
        assert datetime.fromisoformat(row["reported_at"]) == case.reported_at.replace(microsecond=0)
        assert (row["category"], row["source"], row["address"]) == (case.category, case.source, case.address)
        assert row["grid_name"] == names[case.grid_code]
        assert (row["lon"], row["lat"]) == pytest.approx((case.geom.x, case.geom.y))
        assert row["warning"] in (None, "green", "yellow", "red", "purple")
        assert (row["warning"] is None) == (case.status == "closed")


def test_a_new_case_changes_the_answer_and_an_unchanged_one_is_a_304(client, store, stored):
    viewer = bound_token(store, "viewer", None)
    first = client.get("/api/screen/panels?window=today", headers=viewer.headers)
    again = client.get("/api/screen/panels?window=today",
                       headers={**viewer.headers, "If-None-Match": first.headers["ETag"]})
    assert first.headers["ETag"].startswith('W/') and again.status_code == 304
    resp = client.post("/api/incidents", headers=bound_token(store, "operator", None).headers, json={
        "category": "disputes", "severity": "general", "source": "hotline", "description": "新的一件",
        "point": {"lon": 114.63, "lat": 33.62}})
    assert resp.status_code == 201, resp.get_json()
    fresh = client.get("/api/screen/panels?window=today",
                       headers={**viewer.headers, "If-None-Match": first.headers["ETag"]})
    assert fresh.status_code == 200
    body = fresh.get_json()
    assert body["feed"][0]["id"] == resp.get_json()["id"] and body["feed"][0]["source"] == "hotline"
    assert body["trend"]["current"][-1] == first.get_json()["trend"]["current"][-1] + 1


def test_one_street_never_gets_anothers_answer(client, store, stored):
    west, east = bound_token(store, "viewer", WEST), bound_token(store, "viewer", EAST)
    first = client.get("/api/screen/panels", headers=west.headers)
    other = client.get("/api/screen/panels", headers={**east.headers, "If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200 and other.headers["ETag"] != first.headers["ETag"]
    assert {r["id"] for r in other.get_json()["feed"]}.isdisjoint({r["id"] for r in first.get_json()["feed"]})


def test_bad_parameters_are_problems(client, store, stored):
    viewer = bound_token(store, "viewer", None)
    resp = client.get("/api/screen/panels?windw=7d", headers=viewer.headers)
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    assert "windw" in resp.get_json()["detail"]
    assert client.get("/api/screen/panels").status_code == 401


def test_days_are_beijing_midnights():
    starts = day_starts(date(2026, 12, 7), 2, "Asia/Shanghai")
    assert [s.isoformat() for s in starts] == ["2026-12-05T16:00:00+00:00", "2026-12-06T16:00:00+00:00",
                                               "2026-12-07T16:00:00+00:00"]


def test_a_zone_with_daylight_saving_counts_its_short_day(store):
    """Days of 23 h (Europe/Berlin, 29 March 2026) are counted by the CASE over the day starts."""
    starts = day_starts(date(2026, 3, 30), 3, "Europe/Berlin")
    assert (starts[2] - starts[1]).total_seconds() == 23 * 3600
    store.layers.add("grids", city.GRIDS)
    rng = random.Random(1)
    moments = [starts[0], starts[1] - timedelta(seconds=1), starts[1], starts[2] - timedelta(seconds=1), starts[2],
               starts[3] - timedelta(seconds=1)]
    store.layers.add("incidents", [_incident(n, t, rng, A1) for n, t in enumerate(moments, start=1)])
    assert store.panels.day_counts(day_starts=starts) == [2, 2, 2]
