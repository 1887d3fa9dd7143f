"""Working time: office hours, public holidays and make-up working days (调休).

Deadlines in the command centre's rules are written in working hours or
working days ("dispatch within 1 working hour", "close within 5 working
days"). A :class:`WorkCalendar` turns such an allowance into a due time and
measures how much of it has been used.

All datetimes given and returned are timezone-aware; computation happens in
the calendar's local zone (default Asia/Shanghai) and results are returned in
UTC. A working day lasts as long as its office periods add up to (e.g. 7 h for
08:30–12:00 and 14:30–18:00); "N working days" means N such days of working
time, so an item reported at 10:00 on Monday with 1 working day is due at
10:00 on Tuesday.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS_AHEAD = 3660  # a deadline further than ten years out is a configuration error


@dataclass(frozen=True)
class Allowance:
    """A time limit: an amount of working hours or working days."""

    amount: float
    unit: str  # "working_hours" | "working_days"

    @classmethod
    def parse(cls, text: str) -> Allowance:
        """``"4 working_hours"``, ``"5 working_days"``, ``"2h"``, ``"3d"`` → Allowance."""
        cleaned = text.strip().lower().replace("working ", "working_")
        for suffix, unit in (("working_hours", "working_hours"), ("working_days", "working_days"),
                             ("h", "working_hours"), ("d", "working_days")):
            if cleaned.endswith(suffix):
                number = cleaned.removesuffix(suffix).strip()
                try:
                    amount = float(number)
                except ValueError:
                    break
                if amount <= 0:
                    raise ValueError(f"time limit {text!r} must be positive")
                return cls(amount, unit)
        raise ValueError(f"time limit {text!r} is not '<number> working_hours' or '<number> working_days'")


def _parse_period(text: str) -> tuple[time, time]:
    start, _, end = text.partition("-")
    begin, finish = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    if finish <= begin:
        raise ValueError(f"office period {text!r} must end after it starts")
    return begin, finish


@dataclass(frozen=True)
class WorkCalendar:
    """Office periods per working day, weekends, holidays and make-up working days, in one time zone."""

    periods: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(14, 30), time(18, 0)))
    holidays: frozenset[date] = field(default_factory=frozenset)
    makeup_workdays: frozenset[date] = field(default_factory=frozenset)
    timezone: str = "Asia/Shanghai"

    @classmethod
    def from_settings(cls, *, periods: Iterable[str], holidays: Iterable[date], makeup_workdays: Iterable[date],
                      timezone: str) -> WorkCalendar:
        """Build from config values (periods as ``"HH:MM-HH:MM"``)."""
        parsed = tuple(sorted(_parse_period(p) for p in periods))
        for (_, end), (start, _) in itertools.pairwise(parsed):
            if start < end:
                raise ValueError("office periods overlap")
        ZoneInfo(timezone)  # raises for an unknown zone name
        return cls(parsed, frozenset(holidays), frozenset(makeup_workdays), timezone)

    @property
    def day_length(self) -> timedelta:
        """Working time in one working day."""
        return sum((datetime.combine(date.min, e) - datetime.combine(date.min, s) for s, e in self.periods),
                   timedelta())

    def is_working_day(self, day: date) -> bool:
        """Monday–Friday unless a holiday; a make-up day (调休) is a working day even on a weekend."""
        if day in self.makeup_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def _intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Office intervals (local time) from ``start`` on, the first one clipped to start."""
        local = start.astimezone(ZoneInfo(self.timezone))
        day = local.date()
        for _ in range(MAX_DAYS_AHEAD):
            for lo, hi in _office_intervals(self, day):
                if hi > local:
                    yield max(lo, local), hi
            day += timedelta(days=1)
        raise ValueError("no working time within ten years: check holidays and office periods")

    def working_time(self, allowance: Allowance) -> timedelta:
        """An allowance as working time (a working day is ``day_length``)."""
        hours = allowance.amount * (self.day_length.total_seconds() / 3600 if allowance.unit == "working_days" else 1)
        return timedelta(hours=hours)

    def add(self, start: datetime, allowance: Allowance) -> datetime:
        """The moment when ``allowance`` of working time, counted from ``start``, runs out (UTC)."""
        return self.add_working_time(start, self.working_time(allowance))

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """``start`` plus ``amount`` of working time (UTC)."""
        return self.add_working_times(start, (amount,))[0]

    def add_working_times(self, start: datetime, amounts: Sequence[timedelta]) -> list[datetime]:
        """``start`` plus each of ``amounts`` of working time (UTC), in one walk over the office intervals
        (a report's warning and due times share their way through the calendar)."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        order = sorted(range(len(amounts)), key=amounts.__getitem__)
        out: list[datetime] = [start] * len(amounts)
        passed = timedelta()  # working time in the intervals already walked
        intervals = self._intervals(start)
        lo, hi = next(intervals)
        for i in order:
            while amounts[i] - passed > hi - lo:
                passed += hi - lo
                lo, hi = next(intervals)
            out[i] = (lo + (amounts[i] - passed)).astimezone(UTC)
        return out

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time elapsed from ``start`` to ``end`` (zero if end is not after start)."""
        total = timedelta()
        if end <= start:
            return total
        for lo, hi in self._intervals(start):
            if lo >= end:
                break
            total += min(hi, end) - lo
        return total


@functools.lru_cache(maxsize=8192)
def _office_intervals(calendar: WorkCalendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    # Kept per (calendar, day): every report's two deadlines walk the same few days ahead.
    if not calendar.is_working_day(day):
        return ()
    zone = ZoneInfo(calendar.timezone)
    return tuple((datetime.combine(day, begin, zone), datetime.combine(day, end, zone))
                 for begin, end in calendar.periods)
