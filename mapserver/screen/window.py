"""The incident window the big screen shows: today, the last 7 days or the last 30 days, in local calendar days."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from mapserver.store.common import utc

WINDOW_DAYS = {"today": 1, "7d": 7, "30d": 30}
"""Window name → calendar days it covers, today included."""


def parse_window(text: str | None, default: str) -> str:
    """The window named by ``text``, or ``default`` for a missing or unknown name (a wall must never show an error)."""
    return text if text in WINDOW_DAYS else default


def window_start(window: str, *, now: datetime, timezone: str) -> datetime:
    """The UTC instant the window starts: local midnight ``days - 1`` days before ``now``'s local date.

    Calendar days rather than a rolling 24 h × n, so "today" (今日) means what a duty officer means by it,
    and the start moves once a day, which keeps cached answers valid all day.
    """
    zone = ZoneInfo(timezone)
    local_day = now.astimezone(zone).date() - timedelta(days=WINDOW_DAYS[window] - 1)
    return utc(datetime.combine(local_day, time(0), tzinfo=zone))
