"""Deadlines (``warn_at``, ``due_at``) of many incidents at once, equal to the microsecond to :func:`deadlines`.

:meth:`WorkCalendar.add` walks office intervals one by one, twice per incident:
too slow for a batch import. Here the office intervals of the whole span are laid
out once, with the working time before each, and each sum is two binary searches
over them.

Units: instants are whole **microseconds** since 1970-01-01 UTC (``int64``);
amounts of working time are whole microseconds. Integer arithmetic keeps the
result exact: the same rounding as ``WorkCalendar`` (``timedelta(hours=…)``),
the same choice at an interval's very end (an allowance that runs out exactly
when an office period closes is due then, not when the next one opens).

Like :class:`WorkCalendar`, the intervals are laid out on the *local wall
clock* of the calendar's zone. When the zone's UTC offset is the same over the
whole span (Asia/Shanghai has had no summer time since 1991), wall clock and UTC
differ by one constant and everything is vectorised; otherwise each incident
falls back to :func:`mapserver.incidents.deadlines.deadlines`, which is exact
but slow.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from mapserver.incidents.deadlines import deadlines
from mapserver.incidents.settings import IncidentSettings
from mapserver.workcalendar import MAX_DAYS_AHEAD, Allowance, WorkCalendar

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
DAY_US = 86_400_000_000
# How often the zone's UTC offset is sampled to decide that it is fixed over a span. Offsets change
# for months at a time (summer time); no zone changes and changes back within six hours.
OFFSET_SAMPLE = timedelta(hours=6)


def to_us(moments: Sequence[datetime]) -> np.ndarray:
    """Aware datetimes → int64 microseconds since the epoch (exact)."""
    return np.fromiter(((m - EPOCH) // US for m in moments), dtype=np.int64, count=len(moments))


def from_us(values: np.ndarray) -> list[datetime]:
    """int64 microseconds since the epoch → aware UTC datetimes (pandas: faster than a loop, as exact)."""
    return list(pd.to_datetime(np.asarray(values, dtype=np.int64), unit="us", utc=True).to_pydatetime())


def working_us(calendar: WorkCalendar, allowance: Allowance) -> int:
    """An allowance as microseconds of working time, rounded exactly as :meth:`WorkCalendar.add` rounds it."""
    hours = allowance.amount * (calendar.day_length.total_seconds() / 3600 if allowance.unit == "working_days" else 1)
    return timedelta(hours=hours) // US


def _wall_us(day: date, clock: time) -> int:
    """Local wall-clock microseconds (as if the zone were UTC) of ``clock`` on ``day``."""
    return (datetime.combine(day, clock, UTC) - EPOCH) // US


class OfficeIntervals:
    """Office intervals (wall-clock microseconds) over a span of local days, and the working time before each."""

    def __init__(self, calendar: WorkCalendar, first: date, last: date) -> None:
        starts, ends = [], []
        day = first
        while day <= last:
            if calendar.is_working_day(day):
                for begin, end in calendar.periods:
                    starts.append(_wall_us(day, begin))
                    ends.append(_wall_us(day, end))
            day += timedelta(days=1)
        self.starts = np.asarray(starts, dtype=np.int64)
        self.spans = np.asarray(ends, dtype=np.int64) - self.starts
        self.done = np.cumsum(self.spans)  # working time up to each interval's end
        self.before = self.done - self.spans  # ... and up to its start

    def worked(self, t: np.ndarray) -> np.ndarray:
        """Working microseconds from the first interval's start up to each wall-clock instant."""
        i = np.searchsorted(self.starts, t, side="right") - 1
        k = np.maximum(i, 0)
        inside = np.clip(t - self.starts[k], 0, self.spans[k])
        return np.where(i < 0, 0, self.before[k] + inside)

    def add(self, t: np.ndarray, amount: np.ndarray) -> np.ndarray:
        """The wall-clock instants when ``amount`` of working time, counted from each ``t``, runs out."""
        target = self.worked(t) + amount
        # The first interval whose end reaches the target: a target equal to an end is due at that end.
        j = np.searchsorted(self.done, target, side="left")
        if len(self.starts) == 0 or (j >= len(self.starts)).any():
            raise ValueError("no working time within ten years: check holidays and office periods")
        return self.starts[j] + (target - self.before[j])


def _last_day_needed(calendar: WorkCalendar, after: date, amount_us: int) -> date:
    """The last local day whose office hours are needed to spend ``amount_us`` starting on ``after``."""
    day_us = calendar.day_length // US
    # Start counting the day after: the starting day may have no working time left at all.
    have, day = 0, after
    for _ in range(MAX_DAYS_AHEAD):
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            have += day_us
            if have >= amount_us:
                return day
    raise ValueError("no working time within ten years: check holidays and office periods")


def fixed_offset_us(zone: ZoneInfo, first_us: int, last_us: int) -> int | None:
    """The zone's UTC offset in microseconds if it is the same throughout [first, last]; else None."""
    moment, last = EPOCH + timedelta(microseconds=first_us), EPOCH + timedelta(microseconds=last_us)
    offset = moment.astimezone(zone).utcoffset()
    while moment < last:
        moment = min(moment + OFFSET_SAMPLE, last)
        if moment.astimezone(zone).utcoffset() != offset:
            return None
    return offset // US


def many_deadlines(settings: IncidentSettings, categories: Sequence[str], severities: Sequence[str],
                   reported_us: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(warn_at, due_at) for each incident, int64 microseconds since the epoch (UTC), as :func:`deadlines` gives.

    ``categories`` must be configured categories and ``severities`` known ones (the caller checks).
    """
    reported_us = np.asarray(reported_us, dtype=np.int64)
    n = len(reported_us)
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    calendar = settings.calendar()
    due_amount, warn_amount = _amounts(settings, calendar, categories, severities)
    zone = ZoneInfo(calendar.timezone)
    longest = int(due_amount.max())
    # Working days are at most a day long, so the deadline lies within longest/day_length working days.
    first_us, last_us = int(reported_us.min()), int(reported_us.max())
    first_day = _local_date(first_us, zone)
    last_day = _last_day_needed(calendar, _local_date(last_us, zone), longest)
    span_end_us = (datetime.combine(last_day + timedelta(days=2), time(), UTC) - EPOCH) // US
    offset = fixed_offset_us(zone, first_us - DAY_US, span_end_us)
    if offset is None:
        return _one_by_one(settings, categories, severities, reported_us)
    intervals = OfficeIntervals(calendar, first_day, last_day)
    wall = reported_us + offset
    return intervals.add(wall, warn_amount) - offset, intervals.add(wall, due_amount) - offset


def _local_date(us: int, zone: ZoneInfo) -> date:
    return (EPOCH + timedelta(microseconds=us)).astimezone(zone).date()


def _amounts(settings: IncidentSettings, calendar: WorkCalendar, categories: Sequence[str],
             severities: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Working microseconds until due and until the yellow warning, per incident (rules looked up per pair)."""
    pairs: dict[tuple[str, str], tuple[int, int]] = {}
    due, warn = np.empty(len(categories), dtype=np.int64), np.empty(len(categories), dtype=np.int64)
    for k, pair in enumerate(zip(categories, severities, strict=True)):
        if pair not in pairs:
            allowance = settings.allowance(*pair)
            # deadlines() scales the allowance itself (not the due time) by yellow_at: do the same.
            yellow = Allowance(allowance.amount * settings.yellow_at, allowance.unit)
            pairs[pair] = (working_us(calendar, allowance), working_us(calendar, yellow))
        due[k], warn[k] = pairs[pair]
    return due, warn


def _one_by_one(settings: IncidentSettings, categories: Sequence[str], severities: Sequence[str],
                reported_us: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exact slow path, for a zone whose UTC offset changes within the span."""
    warn, due = [], []
    for category, severity, at in zip(categories, severities, from_us(reported_us), strict=True):
        w, d = deadlines(settings, category=category, severity=severity, reported_at=at)
        warn.append(w)
        due.append(d)
    return to_us(warn), to_us(due)
