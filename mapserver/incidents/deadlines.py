"""Due times and warning colours (四色预警) of incidents.

An incident is **green** while on track, **yellow** once ``yellow_at`` (75% by
default) of its working-time allowance is used, **red** when overdue, and
**purple** when escalated by a whistle (督办), whatever its clock says; a
closed incident has no warning colour. Both thresholds are fixed at report
time as instants (``warn_at``, ``due_at``, UTC), so the colour of any incident
at any moment is a comparison the store can make in SQL.
"""

from __future__ import annotations

from datetime import datetime

from mapserver.incidents.settings import IncidentSettings

WARNINGS = ("green", "yellow", "red", "purple")
WARNING_LABELS = {"green": "正常", "yellow": "临期预警", "red": "超期", "purple": "督办"}


def deadlines(settings: IncidentSettings, *, category: str, severity: str,
              reported_at: datetime) -> tuple[datetime, datetime]:
    """(warn_at, due_at) for an incident reported at ``reported_at``, both UTC."""
    calendar = settings.calendar()
    allowance = settings.allowance(category, severity)
    allowed = calendar.working_time(allowance)
    warn_at, due_at = calendar.add_working_times(reported_at, (allowed * settings.yellow_at, allowed))
    return warn_at, due_at


def warning_colour(*, status: str, escalation: str | None, warn_at: datetime | None, due_at: datetime | None,
                   now: datetime) -> str | None:
    """The warning colour at ``now``; None for closed incidents or ones without a deadline."""
    if status == "closed":
        return None
    if escalation:
        return "purple"
    if due_at is None or warn_at is None:
        return None
    if now > due_at:
        return "red"
    return "yellow" if now >= warn_at else "green"
