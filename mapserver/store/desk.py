"""The work desk's queue in portable SQL: every tab's count in one statement, and one page of one tab.

The tabs are defined in :mod:`mapserver.incidents.queue`; here each becomes a condition. Both the counts and the
page run inside the asker's jurisdiction and the desk's filters (:class:`DeskFilter`), so a count is exactly
how many cases its tab pages through. Times are UTC. Column names in the SQL below are written here, never
taken from a request; a search's text is a bound parameter with ``%``, ``_`` and ``\\`` escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from mapserver.model import Incident
from mapserver.store.common import Condition, where_sql
from mapserver.store.database import Database
from mapserver.store.incidents import OPEN, IncidentFilter

ESCAPE = "\\"


class Tab(Protocol):
    """What the store reads of a tab of the queue (defined in :mod:`mapserver.incidents.queue`)."""

    @property
    def key(self) -> str: ...
    @property
    def statuses(self) -> tuple[str, ...] | None: ...  # None: every open status
    @property
    def overdue(self) -> bool: ...
    @property
    def whistled(self) -> bool: ...
    @property
    def closed_today(self) -> bool: ...
    @property
    def newest_closed_first(self) -> bool: ...


def like_pattern(text: str, *, prefix_only: bool = False) -> str:
    """A LIKE pattern that matches ``text`` literally (``%``, ``_`` and the escape escaped): anywhere, or at the
    start with ``prefix_only``."""
    literal = text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"{literal}%" if prefix_only else f"%{literal}%"


@dataclass(frozen=True)
class DeskFilter:
    """The desk's filters: those of the incident listing (time window on ``reported_at``, category, severity,
    warning colour, grid, jurisdiction) plus the unit, the source and a search on the id's start or the
    description's or address's text (case-insensitive)."""

    incidents: IncidentFilter = field(default_factory=IncidentFilter)
    unit: str | None = None
    source: str | None = None
    search: str | None = None

    def conditions(self) -> list[Condition]:
        """The SQL conditions for this filter."""
        out = self.incidents.conditions()
        for column in ("unit", "source"):
            value = getattr(self, column)
            if value is not None:
                out.append((f"{column} = ?", (value,)))
        if self.search:
            anywhere = like_pattern(self.search.lower())
            out.append((f"id LIKE ? ESCAPE '{ESCAPE}' OR lower(description) LIKE ? ESCAPE '{ESCAPE}' "
                        f"OR lower(address) LIKE ? ESCAPE '{ESCAPE}'",
                        (like_pattern(self.search, prefix_only=True), anywhere, anywhere)))
        return out


def tab_condition(tab: Tab, *, now: datetime, today: datetime) -> Condition:
    """The condition a case meets to be in ``tab`` at ``now`` (``today``: local midnight, UTC)."""
    parts: list[str] = []
    params: list[Any] = []
    if tab.statuses is None:
        parts.append(OPEN)
    else:
        parts.append(f"status IN ({', '.join('?' for _ in tab.statuses)})")
        params += tab.statuses
    if tab.overdue:
        parts.append("due_at < ?")
        params.append(now)
    if tab.whistled:
        parts.append("escalation IS NOT NULL")
    if tab.closed_today:
        parts.append("closed_at >= ?")
        params.append(today)
    return " AND ".join(parts), tuple(params)


class Desk:
    """The queue of the work desk."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def counts(self, tabs: Sequence[Tab], where: DeskFilter, *, now: datetime, today: datetime) -> dict[str, int]:
        """How many cases each of ``tabs`` holds under ``where``, in one statement over the open cases and those closed
        since ``today`` (local midnight, UTC)."""
        columns, params = [], []
        for tab in tabs:
            text, values = tab_condition(tab, now=now, today=today)
            columns.append(f"COALESCE(SUM(CASE WHEN {text} THEN 1 ELSE 0 END), 0)")
            params += values
        # Only open cases and today's closed ones can be in a tab: the rest of the table is never counted.
        clause, filter_params = where_sql([*where.conditions(), (f"{OPEN} OR closed_at >= ?", (today,))])
        query = f"SELECT {', '.join(columns)} FROM incidents{clause}"  # noqa: S608 - every column written here
        row = self._db.read(query, [*params, *filter_params])[0]
        return {tab.key: int(n) for tab, n in zip(tabs, row, strict=True)}

    def page(self, tab: Tab, where: DeskFilter, *, now: datetime, today: datetime, limit: int,
             offset: int) -> list[Incident]:
        """One page of ``tab`` under ``where``: by due time, soonest first (closed today: latest closed first)."""
        conditions = [*where.conditions(), tab_condition(tab, now=now, today=today)]
        return self._db.select("incidents", bbox=None, where={}, limit=limit, offset=offset, conditions=conditions,
                               order_by="-closed_at" if tab.newest_closed_first else "due_at")
