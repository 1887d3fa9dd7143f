"""ISO weeks (2026-W47) as instants: Monday 00:00 to the next Monday 00:00 in the configured local time zone.

A week is parsed from its ISO 8601 text and turned into a half-open interval
of timezone-aware UTC datetimes, ``[start, end)``, so the store (which keeps
UTC) can filter on ``reported_at`` directly. An incident reported at Sunday
23:30 Beijing time (15:30 UTC the same Sunday) belongs to that week.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mapserver.errors import Problem

WEEK_PATTERN = r"^[0-9]{4}-W[0-9]{2}$"
_WEEK = re.compile(WEEK_PATTERN)
FIRST_YEAR = 1970  # no incident record predates Unix time; earlier years are typing mistakes


@dataclass(frozen=True)
class IsoWeek:
    """One ISO week: its year and number, and its local time zone (IANA name)."""

    year: int
    number: int
    zone: str

    @property
    def label(self) -> str:
        """``2026-W47``."""
        return f"{self.year:04d}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        """The week's first local day."""
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        """The week's last local day."""
        return self.monday + timedelta(days=6)

    @property
    def start(self) -> datetime:
        """Monday 00:00 local, as UTC."""
        return _local_midnight(self.monday, self.zone)

    @property
    def end(self) -> datetime:
        """The next Monday 00:00 local, as UTC (exclusive)."""
        return _local_midnight(self.monday + timedelta(days=7), self.zone)

    def shifted(self, weeks: int) -> IsoWeek:
        """The week ``weeks`` later (negative: earlier)."""
        year, number, _ = (self.monday + timedelta(weeks=weeks)).isocalendar()
        return IsoWeek(year, number, self.zone)

    def previous(self, count: int) -> list[IsoWeek]:
        """The ``count`` weeks before this one, oldest first."""
        return [self.shifted(-k) for k in range(count, 0, -1)]


def _local_midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def weeks_in_year(year: int) -> int:
    """52 or 53: the ISO week of 28 December is always the year's last."""
    return date(year, 12, 28).isocalendar()[1]


def parse_week(text: str | None, *, zone: str, now: datetime) -> IsoWeek:
    """``YYYY-Www`` → the week; 422 (naming ``week``) when malformed, absent from its year, or not yet begun.

    The week in progress is allowed: its figures run to ``now``.
    """
    if text is None or not _WEEK.match(text):
        shown = "nothing" if text is None else repr(text[:40])
        raise Problem(422, f"week must be an ISO week such as 2026-W47, got {shown}", param="week")
    year, number = int(text[:4]), int(text[6:])
    if not FIRST_YEAR <= year <= 9998:  # the four weeks before and the Monday after must still be dates
        raise Problem(422, f"week {text}: the year must lie in {FIRST_YEAR}–9998", param="week")
    last = weeks_in_year(year)
    if not 1 <= number <= last:
        raise Problem(422, f"week {text} does not exist: {year} has weeks W01–W{last:02d}", param="week")
    week = IsoWeek(year, number, zone)
    if week.start > now:
        raise Problem(422, f"week {text} has not begun yet (it starts {week.monday.isoformat()})", param="week")
    return week
