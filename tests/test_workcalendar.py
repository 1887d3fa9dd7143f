"""Working-time arithmetic with office hours, holidays and make-up days (the 2025 National Day schedule)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapserver.workcalendar import Allowance, WorkCalendar

BEIJING = ZoneInfo("Asia/Shanghai")
# 2025 National Day: 1–8 October off; Sunday 28 September and Saturday 11 October are working days.
CAL = WorkCalendar.from_settings(
    periods=["08:30-12:00", "14:30-18:00"],
    holidays=[date(2025, 10, d) for d in range(1, 9)],
    makeup_workdays=[date(2025, 9, 28), date(2025, 10, 11)],
    timezone="Asia/Shanghai",
)


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING)


@pytest.mark.parametrize("start, allowance, due", [
    (bj(2025, 9, 15, 10, 0), "1 working_days", bj(2025, 9, 16, 10, 0)),      # Monday → Tuesday
    (bj(2025, 9, 19, 17, 0), "2 working_hours", bj(2025, 9, 22, 9, 30)),     # Friday evening → Monday
    (bj(2025, 9, 15, 12, 30), "1 working_hours", bj(2025, 9, 15, 15, 30)),   # reported at lunch
    (bj(2025, 9, 20, 10, 0), "1h", bj(2025, 9, 22, 9, 30)),                  # Saturday → Monday
    (bj(2025, 9, 30, 17, 0), "2 working_hours", bj(2025, 10, 9, 9, 30)),     # across the holiday
    (bj(2025, 9, 27, 10, 0), "1 working_hours", bj(2025, 9, 28, 9, 30)),     # Sunday 28th is a make-up day
    (bj(2025, 10, 10, 17, 0), "1 working_days", bj(2025, 10, 11, 17, 0)),    # Saturday 11th too
    (bj(2025, 9, 15, 8, 30), "3.5 working_hours", bj(2025, 9, 15, 12, 0)),   # exactly the morning
])
def test_due_times(start, allowance, due):
    assert CAL.add(start, Allowance.parse(allowance)) == due


def test_results_are_utc_and_day_length():
    due = CAL.add(bj(2025, 9, 15, 10, 0), Allowance.parse("1h"))
    assert due.utcoffset() == timedelta(0)
    assert CAL.day_length == timedelta(hours=7)


def test_working_days_and_weekends():
    assert not CAL.is_working_day(date(2025, 10, 1))
    assert CAL.is_working_day(date(2025, 9, 28))
    assert not CAL.is_working_day(date(2025, 9, 27))


def test_elapsed_working_time_skips_nights_lunches_and_holidays():
    assert CAL.working_time_between(bj(2025, 9, 30, 17, 0), bj(2025, 10, 9, 9, 30)) == timedelta(hours=2)
    assert CAL.working_time_between(bj(2025, 9, 15, 11, 0), bj(2025, 9, 15, 15, 0)) == timedelta(hours=1.5)
    assert CAL.working_time_between(bj(2025, 9, 16), bj(2025, 9, 15)) == timedelta(0)


@settings(max_examples=200, deadline=None)
@given(start=st.datetimes(min_value=datetime(2025, 9, 1), max_value=datetime(2025, 12, 31)),
       minutes=st.integers(min_value=1, max_value=60 * 7 * 15))
def test_adding_then_measuring_gives_back_the_allowance(start, minutes):
    begin = start.replace(tzinfo=BEIJING)
    due = CAL.add_working_time(begin, timedelta(minutes=minutes))
    assert CAL.working_time_between(begin, due) == timedelta(minutes=minutes)


@settings(max_examples=200, deadline=None)
@given(start=st.datetimes(min_value=datetime(2025, 9, 1), max_value=datetime(2025, 12, 31)),
       minutes=st.lists(st.integers(min_value=0, max_value=60 * 7 * 15), min_size=1, max_size=4))
def test_several_amounts_in_one_walk_match_one_at_a_time(start, minutes):
    # One amount at a time is checked against working_time_between, an independent walk, above.
    begin = start.replace(tzinfo=BEIJING)
    amounts = [timedelta(minutes=m) for m in minutes]
    assert CAL.add_working_times(begin, amounts) == [CAL.add_working_time(begin, a) for a in amounts]


@pytest.mark.parametrize("text", ["", "5", "five working_days", "-1 working_hours", "0h", "3 weeks"])
def test_bad_allowances(text):
    with pytest.raises(ValueError):
        Allowance.parse(text)


def test_bad_calendars():
    with pytest.raises(ValueError):
        WorkCalendar.from_settings(periods=["12:00-08:00"], holidays=[], makeup_workdays=[], timezone="Asia/Shanghai")
    with pytest.raises(ValueError):
        WorkCalendar.from_settings(periods=["08:00-12:00", "11:00-13:00"], holidays=[], makeup_workdays=[],
                                   timezone="Asia/Shanghai")
    with pytest.raises(Exception):  # noqa: B017 - zoneinfo raises its own error type
        WorkCalendar.from_settings(periods=["08:00-12:00"], holidays=[], makeup_workdays=[], timezone="Mars/Base")
