"""The work desk's queue (工单台): its tabs, what each holds, how each is sorted, and one case as the desk shows it.

A tab is a set of statuses plus, for three of them, a condition on the clock or the escalation; the store turns
these definitions into SQL (:mod:`mapserver.store.desk`). Times are UTC; "today" is the local day in
``incidents.timezone``.

A case waiting for dispatch (reported or returned) is **late for dispatch** once the working time
``incidents.dispatch_within`` has passed since it was reported, on the same working calendar as its due time
(:mod:`mapserver.incidents.deadlines`); the loop stores no dispatch deadline, so it is worked out here for the
cases of one page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from math import ceil
from typing import Any
from zoneinfo import ZoneInfo

from mapserver.incidents.deadlines import warning_colour
from mapserver.incidents.settings import IncidentSettings
from mapserver.model import Incident
from mapserver.workcalendar import Allowance

PAGE_SIZE = 50
DESCRIPTION_CHARS = 200  # a row shows the start of a description; the case page shows all of it
WAITING_FOR_DISPATCH = ("reported", "returned")


@dataclass(frozen=True)
class Tab:
    """One tab of the queue: the statuses it holds (None: every open one), the extra condition, the sort."""

    key: str
    statuses: tuple[str, ...] | None
    overdue: bool = False  # open and past its due time
    whistled: bool = False  # escalated by a whistle (督办) and open
    closed_today: bool = False  # closed since local midnight
    newest_closed_first: bool = False  # sorted by closed_at, newest first (else by due time, soonest first)


TABS: tuple[Tab, ...] = (
    Tab("dispatch", WAITING_FOR_DISPATCH),
    Tab("sign", ("dispatched", "grabbed")),
    Tab("handling", ("accepted", "joint")),
    Tab("verify", ("handled",)),
    Tab("overdue", None, overdue=True),
    Tab("whistled", None, whistled=True),
    Tab("closed_today", ("closed",), closed_today=True, newest_closed_first=True),
)
"""The tabs in the order the desk shows them (number keys 1–7)."""
TAB_KEYS: tuple[str, ...] = tuple(tab.key for tab in TABS)
BY_KEY = {tab.key: tab for tab in TABS}


def today_start(now: datetime, timezone: str) -> datetime:
    """Local midnight of ``now``'s day in ``timezone``, as a UTC instant."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(), zone).astimezone(now.tzinfo)


def pages(total: int, size: int = PAGE_SIZE) -> int:
    """How many pages ``total`` cases fill (at least one, so page 1 always exists)."""
    return max(1, ceil(total / size))


def dispatch_due(incident: Incident, settings: IncidentSettings) -> datetime:
    """When the case should have been dispatched: ``dispatch_within`` of working time after it was reported."""
    return settings.calendar().add(incident.reported_at, Allowance.parse(settings.dispatch_within))


def late_for_dispatch(incident: Incident, settings: IncidentSettings, now: datetime) -> bool:
    """Whether a case still waiting for dispatch has waited longer than ``dispatch_within``."""
    return incident.status in WAITING_FOR_DISPATCH and now > dispatch_due(incident, settings)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def queue_item(incident: Incident, *, settings: IncidentSettings, now: datetime) -> dict[str, Any]:
    """One case as a row of the desk (JSON): no geometry, the description cut to its first 200 characters."""
    waiting = incident.status in WAITING_FOR_DISPATCH
    due_dispatch = dispatch_due(incident, settings) if waiting else None
    return {
        "id": incident.id,
        "reported_at": _iso(incident.reported_at),
        "category": incident.category,
        "severity": incident.severity,
        "status": incident.status,
        "source": incident.source,
        "grid_code": incident.grid_code,
        "unit": incident.unit,
        "address": incident.address,
        "description": incident.description[:DESCRIPTION_CHARS],
        "due_at": _iso(incident.due_at),
        "closed_at": _iso(incident.closed_at),
        "escalation": incident.escalation,
        "warning": warning_colour(status=incident.status, escalation=incident.escalation, warn_at=incident.warn_at,
                                  due_at=incident.due_at, now=now),
        "dispatch_due": _iso(due_dispatch),
        "dispatch_late": due_dispatch is not None and now > due_dispatch,
        "version": incident.version,
    }
