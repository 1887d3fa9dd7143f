"""A month of grid workers assessed: their cases and patrol stops from the store, their day measures (kept per day,
:mod:`mapserver.assessment.days`), scored and graded (:mod:`mapserver.assessment.grading`), worst first.

The month is local (``incidents.timezone``); its window in UTC is [first day's start, next month's start). The
workers are those of ``scope`` (:class:`mapserver.store.assessment.WorkerScope`: the asker's jurisdiction, a grid
in it, one person).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from mapserver.assessment.days import month_days
from mapserver.assessment.grading import Assessment, WorkerMonth, ranked, totals
from mapserver.assessment.month import Month
from mapserver.store import Store
from mapserver.store.assessment import CaseFigures, DaySummary, StopFigures, WorkerScope

if TYPE_CHECKING:
    from mapserver.config import AssessmentSettings


@dataclass(frozen=True)
class MonthAssessment:
    """The rows of a month, worst first, and each person's finished days."""

    month: Month
    rows: list[Assessment]
    days: dict[str, list[DaySummary]]


def assess_month(store: Store, settings: AssessmentSettings, scope: WorkerScope, month: Month, *, zone: str,
                 today: date) -> MonthAssessment:
    """Every worker of ``scope`` assessed over ``month``: cases and patrols of the whole month so far, track
    measures of its finished days (before ``today``, the local date now)."""
    workers = store.assessment.workers(scope)
    since, until = month.window(zone)
    cases = store.assessment.cases(scope, since, until)
    stops = store.assessment.stops(scope, since, until)
    days = month_days(store, workers, scope, month, zone=zone, today=today)
    months = [WorkerMonth(w, cases.get(w.name, CaseFigures()), stops.get(w.name, StopFigures()),
                          totals(days[w.name])) for w in workers]
    return MonthAssessment(month, ranked(months, settings), days)
