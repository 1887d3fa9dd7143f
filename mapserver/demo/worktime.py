"""Working-time arithmetic for many instants at once, with the same rules as :class:`WorkCalendar`.

:meth:`mapserver.workcalendar.WorkCalendar.add` walks office intervals one by
one; a demo year of 120,000 incidents needs several such sums each, and the city
a million. Here the office intervals of the whole window are laid out once (from
the calendar's own ``periods``, ``timezone`` and ``is_working_day``), with the
working seconds before each, and a sum is two binary searches. Instants are POSIX
seconds (UTC); amounts are working seconds. The test suite checks the results
against ``WorkCalendar.add``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from mapserver.workcalendar import Allowance, WorkCalendar


@dataclass(frozen=True)
class WorkTimeline:
    """Office intervals over a span of days, as POSIX seconds, and the working seconds before each."""

    starts: np.ndarray
    ends: np.ndarray
    before: np.ndarray
    day_seconds: float  # working seconds in one working day

    @classmethod
    def build(cls, calendar: WorkCalendar, first: date, days: int) -> WorkTimeline:
        """The intervals of ``days`` calendar days from ``first`` (local dates of the calendar's zone)."""
        zone = ZoneInfo(calendar.timezone)
        starts, ends = [], []
        for offset in range(days):
            day = first + timedelta(days=offset)
            if calendar.is_working_day(day):
                for begin, end in calendar.periods:
                    starts.append(datetime.combine(day, begin, zone).timestamp())
                    ends.append(datetime.combine(day, end, zone).timestamp())
        s, e = np.asarray(starts), np.asarray(ends)
        before = np.concatenate([[0.0], np.cumsum(e - s)[:-1]])
        return cls(starts=s, ends=e, before=before, day_seconds=calendar.day_length.total_seconds())

    def worked(self, t: np.ndarray) -> np.ndarray:
        """Working seconds from the first interval's start up to each instant."""
        t = np.asarray(t, dtype=float)
        i = np.searchsorted(self.starts, t, side="right") - 1
        inside = np.clip(t - self.starts[np.maximum(i, 0)], 0, (self.ends - self.starts)[np.maximum(i, 0)])
        return np.where(i < 0, 0.0, self.before[np.maximum(i, 0)] + inside)

    def add(self, t: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """The instants when ``seconds`` of working time, counted from each ``t``, run out."""
        target = self.worked(t) + np.asarray(seconds, dtype=float)
        done = self.before + (self.ends - self.starts)
        j = np.searchsorted(done, target, side="left")
        if (j >= len(self.starts)).any():
            raise ValueError("a sum runs past the end of the working-time window; build it longer")
        return self.starts[j] + (target - self.before[j])

    def seconds(self, allowance: Allowance) -> float:
        """An allowance in working seconds."""
        return allowance.amount * (self.day_seconds if allowance.unit == "working_days" else 3600.0)
