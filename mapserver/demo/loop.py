"""Where each demo incident stands in the closed loop (事件闭环): status, times, unit, whistle, version.

Time limits come from the configured incident settings (``due_at`` and
``warn_at`` exactly as :func:`mapserver.incidents.deadlines.deadlines` would
give them, computed in bulk by :mod:`mapserver.demo.worktime`). Dispatch takes a
few working minutes (median 15), handling a few working hours by severity, so
about 95 % close on time. A street grabs most items (抢单, the unit is its
office); the district dispatches the rest to the department of the category (派单).
A few are handled jointly (联单) or escalated by a whistle (常规哨 / 重点哨). All
are closed (``closed_at`` before ``as_of``) except the newest ``open`` ones, which
are spread over the open statuses, newest least advanced, and the ``unresolved`` ones, which
stopped somewhere between dispatch and handling whenever they were reported. ``version`` counts
the report plus each transition, as the service's optimistic locking does.
Times are POSIX seconds (UTC) inside, timezone-aware UTC datetimes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from mapserver.demo.worktime import WorkTimeline
from mapserver.incidents.settings import IncidentSettings
from mapserver.workcalendar import Allowance

DEPARTMENTS = {
    "disputes": "区司法局", "public_security": "周口市公安局川汇分局", "fire_hazard": "区消防救援大队",
    "city_appearance": "区城市管理局", "roads_facilities": "区住房和城乡建设局", "environment": "区生态环境分局",
    "petitions": "区信访局", "other": "区应急管理局",
}
HANDLING_MEDIAN_H = (6.0, 4.0, 0.8)  # working hours, by severity general / important / urgent
OPEN_PATH = ("reported", "dispatched", "accepted", "handled", "verified")  # newest first
UNRESOLVED_PATH = ("dispatched", "accepted", "handled")  # where a never-closed report stopped
GRAB_SHARE, JOINT_SHARE, ROUTINE_SHARE, KEY_SHARE = 0.55, 0.04, 0.015, 0.003


@dataclass(frozen=True)
class LoopState:
    """Closed-loop fields per incident, in the order the incidents were given."""

    status: list[str]
    dispatched_at: list[datetime | None]
    closed_at: list[datetime | None]
    warn_at: list[datetime]
    due_at: list[datetime]
    unit: list[str | None]
    escalation: list[str | None]
    version: list[int]


def close_loop(reported: np.ndarray, categories: list[str], severity: np.ndarray, offices: list[str], *,
               open_count: int, unresolved: np.ndarray, settings: IncidentSettings, as_of: datetime,
               rng: np.random.Generator) -> LoopState:
    """Loop fields for incidents reported at ``reported`` (POSIX seconds, oldest first); ``unresolved`` (a mask)
    marks those never closed."""
    n = len(reported)
    first = datetime.fromtimestamp(float(reported.min()), UTC).date() - timedelta(days=2) if n else as_of.date()
    timeline = WorkTimeline.build(settings.calendar(), first, (as_of.date() - first).days + 120)
    warn, due = _deadlines(timeline, reported, categories, severity, settings)
    dispatch_s = np.minimum(900 * rng.lognormal(0, 0.8, n), 1.5 * timeline.seconds(
        Allowance.parse(settings.dispatch_within)))
    dispatched = timeline.add(reported, dispatch_s)
    handling_s = np.asarray(HANDLING_MEDIAN_H)[severity] * 3600 * rng.lognormal(0, 0.8, n)
    closed = timeline.add(dispatched, handling_s)
    end = as_of.timestamp()
    # Keep the published closure rate: whatever the clock says, only the newest few stay open.
    late = closed >= end
    closed[late] = reported[late] + (end - reported[late]) * rng.uniform(0.3, 0.95, int(late.sum()))
    dispatched = np.minimum(dispatched, reported + (closed - reported) * 0.3)
    dispatched, closed = np.round(dispatched), np.round(closed)  # whole seconds, like the reports
    grab = rng.random(n) < GRAB_SHARE
    joint = rng.random(n) < JOINT_SHARE
    whistle = rng.random(n)
    escalation = [("key" if s > 0 else "routine") if w < ROUTINE_SHARE + KEY_SHARE else None
                  for w, s in zip(whistle.tolist(), severity.tolist(), strict=True)]
    units = [offices[i] if g else DEPARTMENTS.get(c, "区综治中心")
             for i, (g, c) in enumerate(zip(grab.tolist(), categories, strict=True))]
    status = ["closed"] * n
    version = (6 + joint + (whistle < ROUTINE_SHARE + KEY_SHARE)).tolist()
    out_dispatched = _times(dispatched)
    out_closed: list[datetime | None] = list(_times(closed))
    stuck = rng.integers(1, len(UNRESOLVED_PATH) + 1, size=n)
    for i in np.flatnonzero(unresolved).tolist():
        step = int(stuck[i])
        status[i] = UNRESOLVED_PATH[step - 1]
        version[i] = step + 1 + (escalation[i] is not None)
        out_closed[i] = None
    for rank in range(min(open_count, n)):
        i = n - 1 - rank  # newest first
        step = rank * len(OPEN_PATH) // max(open_count, 1)
        status[i] = "grabbed" if step == 1 and grab[i] else OPEN_PATH[step]
        version[i] = step + 1 + (escalation[i] is not None)
        out_closed[i] = None
        if step == 0:
            out_dispatched[i], units[i] = None, None
        else:
            out_dispatched[i] = _time(round(min(dispatched[i], reported[i] + (end - reported[i]) * 0.5)))
    return LoopState(status=status, dispatched_at=out_dispatched, closed_at=out_closed, warn_at=_times(warn),
                     due_at=_times(due), unit=units, escalation=escalation, version=[int(v) for v in version])


def _deadlines(timeline: WorkTimeline, reported: np.ndarray, categories: list[str], severity: np.ndarray,
               settings: IncidentSettings) -> tuple[np.ndarray, np.ndarray]:
    """(warn_at, due_at) in POSIX seconds, from the settings' time limit for each category and severity."""
    names = ("general", "important", "urgent")
    limits = {(c, s): timeline.seconds(settings.allowance(c, names[s]))
              for c in dict.fromkeys(categories) for s in range(len(names))}
    due_s = np.array([limits[c, s] for c, s in zip(categories, severity.tolist(), strict=True)])
    return timeline.add(reported, due_s * settings.yellow_at), timeline.add(reported, due_s)


def _time(t: float) -> datetime:
    return datetime.fromtimestamp(round(float(t), 6), UTC)


def _times(values: np.ndarray) -> list[datetime | None]:
    return [_time(t) for t in values.tolist()]
