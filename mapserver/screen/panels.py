"""The wall's panels beside the measures: the newest cases, cases per day against the period before, the window's
cases by category and by source, and how fast cases are answered and closed.

Every figure is of one jurisdiction (``within``) and computed by the store (:mod:`mapserver.store.panels`). Days
are local calendar days in the wall's time zone (Asia/Shanghai: Beijing time), as the window's are. Response time
(响应时长) is from report to dispatch, handling time (办结时长) from report to close, both in elapsed seconds, as
``/api/kpis`` gives them: the time a caller waits, which is what a leader reads ("average response time 4 hours");
working hours are what deadlines are counted in, and the on-time rate beside them already says how cases fared
against those.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mapserver.incidents.deadlines import warning_colour
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.model import INCIDENT_SOURCES, Incident
from mapserver.store import Store
from mapserver.store.common import utc
from mapserver.store.panels import WindowFigures

FEED_SIZE = 12
"""Cases in the rolling feed: as many as a panel shows legibly on the wall."""
TREND_DAYS = 30
"""Days in the trend, today included; the previous period is as many days just before."""
DESCRIPTION_CHARS = 80
"""A case's description is cut to this many characters in the feed (the card shows all of it)."""
SOURCES = ("incidents", "grids")
"""Store layers the answer depends on (its cache key holds their data versions)."""


def day_starts(today: date, days: int, timezone: str) -> list[datetime]:
    """UTC instants of the local midnights that start each of ``days`` days ending with ``today``, and the
    midnight after it: ``days + 1`` instants."""
    zone = ZoneInfo(timezone)
    first = today - timedelta(days=days - 1)
    return [utc(datetime.combine(first + timedelta(days=k), time(0), tzinfo=zone)) for k in range(days + 1)]


def trend(store: Store, *, today: date, timezone: str, within: Jurisdiction = WHOLE) -> dict[str, Any]:
    """Cases per local day over the ``TREND_DAYS`` days ending today (``current``, today so far) and the same
    number of days before them (``previous``), each list oldest first, with their dates (ISO)."""
    starts = day_starts(today, 2 * TREND_DAYS, timezone)
    counts = store.panels.day_counts(day_starts=starts, within=within)
    dates = [(today - timedelta(days=2 * TREND_DAYS - 1 - k)).isoformat() for k in range(2 * TREND_DAYS)]
    return {"days": dates[TREND_DAYS:], "current": counts[TREND_DAYS:],
            "previous_days": dates[:TREND_DAYS], "previous": counts[:TREND_DAYS],
            "total": sum(counts[TREND_DAYS:]), "previous_total": sum(counts[:TREND_DAYS])}


def _ranked(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [{"key": key, "count": n} for key, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def breakdown(figures: WindowFigures) -> dict[str, Any]:
    """Cases by category (most first) and by source (every known source, most first, then any other)."""
    by_source = dict.fromkeys(INCIDENT_SOURCES, 0)
    for source, n in figures.by_source.items():
        by_source[source] = by_source.get(source, 0) + n
    return {"reports": figures.reports, "by_category": _ranked(figures.by_category), "by_source": _ranked(by_source)}


def times(figures: WindowFigures) -> dict[str, Any]:
    """Median and 90th percentile of the response and handling times (seconds), closure rate (closed / reported) and
    on-time rate (closed by the due time / closed); rates 0..1 or None."""
    return {"response_s": figures.response, "handling_s": figures.handling,
            "percentiles_exact": figures.percentiles_exact, "reports": figures.reports, "closed": figures.closed,
            "closure_rate": round(figures.closed / figures.reports, 6) if figures.reports else None,
            "on_time_rate": round(figures.closed_on_time / figures.closed, 6) if figures.closed else None}


def feed_item(incident: Incident, *, now: datetime, grid_names: dict[str, str]) -> dict[str, Any]:
    """One case of the feed: what its row shows and where the map flies on a click (WGS-84 degrees)."""
    description = incident.description or ""
    return {"id": incident.id, "reported_at": incident.reported_at.isoformat(timespec="seconds"),
            "category": incident.category, "source": incident.source, "severity": incident.severity,
            "status": incident.status,
            "warning": warning_colour(status=incident.status, escalation=incident.escalation,
                                      warn_at=incident.warn_at, due_at=incident.due_at, now=now),
            "address": incident.address or "", "grid_code": incident.grid_code,
            "grid_name": grid_names.get(incident.grid_code or ""),
            "description": description[:DESCRIPTION_CHARS] + ("…" if len(description) > DESCRIPTION_CHARS else ""),
            "lon": round(incident.geom.x, 7), "lat": round(incident.geom.y, 7)}


def feed(store: Store, *, now: datetime, within: Jurisdiction = WHOLE, size: int = FEED_SIZE) -> list[dict[str, Any]]:
    """The ``size`` newest cases of the jurisdiction, newest first, with their warning colour at ``now``."""
    latest = store.panels.latest(limit=size, within=within)
    names = store.panels.grid_names([i.grid_code for i in latest if i.grid_code])
    return [feed_item(i, now=now, grid_names=names) for i in latest]


def panels(store: Store, *, since: datetime, now: datetime, timezone: str,
           within: Jurisdiction = WHOLE) -> dict[str, Any]:
    """Everything the panels draw for the window starting at ``since`` (UTC) as of ``now``: ``feed``, ``trend``
    (fixed 30 days, whatever the window), the window's ``breakdown`` and ``times`` (median and 90th percentile of
    the response and handling times in seconds, beside the closure and on-time rates)."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    figures = store.panels.window(since=since, within=within)
    return {
        "since": since.isoformat(), "today": today.isoformat(), "timezone": timezone,
        "feed": feed(store, now=now, within=within),
        "trend": trend(store, today=today, timezone=timezone, within=within),
        "breakdown": breakdown(figures), "times": times(figures),
    }
