"""A calendar month in local time (``incidents.timezone``): parsed from ``YYYY-MM``, its local days and its UTC
window [first day's start, next month's first day's start)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from mapserver.errors import Problem
from mapserver.tracks.measures import day_window

PATTERN = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class Month:
    """One calendar month: ``first`` its first day, ``last`` its last (local dates)."""

    first: date
    last: date

    @property
    def key(self) -> str:
        """The month as ``YYYY-MM``."""
        return f"{self.first:%Y-%m}"

    def days(self) -> list[date]:
        """Its days, in order."""
        return [self.first + timedelta(days=k) for k in range((self.last - self.first).days + 1)]

    def window(self, zone: str) -> tuple[datetime, datetime]:
        """[since, until) in UTC: where its first local day begins and where the next month's does."""
        return day_window(self.first, zone)[0], day_window(self.last, zone)[1]


def month_of(day: date) -> Month:
    """The month ``day`` falls in."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Month(first, following - timedelta(days=1))


def parse_month(text: str | None, today: date) -> Month:
    """The month named ``YYYY-MM`` (default: the one of ``today``); a bad name or a month after today's is a 400
    naming ``month``."""
    if not text:
        return month_of(today)
    found = PATTERN.fullmatch(text)
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1970:
        raise Problem(400, f"month must be YYYY-MM, got {text[:20]!r}", param="month")
    month = month_of(date(int(found.group(1)), int(found.group(2)), 1))
    if month.first > today:
        raise Problem(400, f"month {month.key} has not begun", param="month")
    return month
