"""The weekly bulletin's numbers, asked of the store: the week against the four before it.

Every count is grouped by the store (SQL GROUP BY through
:meth:`~mapserver.store.measures.IncidentMeasures.kpis` and
:meth:`~mapserver.store.measures.IncidentMeasures.grid_counts`); Python only lines the
grouped rows up by week. Weeks are half-open UTC intervals from
:mod:`mapserver.bulletin.week`; rates are shares in [0, 1]; counts are incidents.

A bulletin for a jurisdiction (:mod:`mapserver.jurisdiction`) counts its incidents only, in the store's queries;
its "streets" table then has one row, the jurisdiction's own grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mapserver.analysis.coverage import coverage
from mapserver.analysis.study import Study
from mapserver.bulletin.week import IsoWeek
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.model import Grid, Incident
from mapserver.store import Store
from mapserver.store.common import Condition
from mapserver.store.incidents import IncidentFilter

HISTORY_WEEKS = 4  # the bulletin compares the week with the mean of the four before it
TOP_GRIDS = 10
OVERDUE_LISTED = 20


@dataclass(frozen=True)
class OpenPastDue(IncidentFilter):
    """Incidents reported before ``at``, due before ``at`` and not closed by ``at``: overdue at that instant.

    ``closed_at`` (not today's status) decides, so a past week's figure does not change when items close later.
    For the reads that apply a filter's conditions as they are (``incidents.query``, ``measures.grid_counts``):
    ``measures.kpis`` may answer a filter with no column set from its per-day summary instead.
    """

    at: datetime | None = None

    def conditions(self) -> list[Condition]:
        if self.at is None:
            raise ValueError("OpenPastDue needs 'at'")
        return [*super().conditions(), ("reported_at < ?", (self.at,)), ("due_at < ?", (self.at,)),
                ("closed_at IS NULL OR closed_at > ?", (self.at,))]


@dataclass(frozen=True)
class Row:
    """One line of a comparison table: counts per week (oldest first; the last is the bulletin's week)."""

    code: str
    name: str
    counts: list[int]

    @property
    def current(self) -> int:
        return self.counts[-1]

    @property
    def mean_before(self) -> float:
        """Mean weekly count over the weeks before the bulletin's week."""
        before = self.counts[:-1]
        return sum(before) / len(before) if before else 0.0

    @property
    def change(self) -> float:
        return self.current - self.mean_before

    @property
    def change_share(self) -> float | None:
        """Change relative to the mean; None when the mean is zero."""
        return self.change / self.mean_before if self.mean_before else None


@dataclass
class Figures:
    """Everything the bulletin states, in the units the module docstring names."""

    week: IsoWeek
    weeks: list[IsoWeek]  # oldest first; weeks[-1] is the bulletin's week
    as_of: datetime  # the end of the week, or now for the week in progress (UTC)
    totals: list[int]
    closure_rates: list[float | None]
    on_time_rates: list[float | None]
    by_category: list[Row]
    by_street: list[Row]
    hot_grids: list[Row]  # grids of hot_level (2 community or 3 compound)
    hot_level: int
    overdue_total: int
    overdue_by_street: dict[str, int]
    overdue_items: list[Incident]
    blind: dict[str, Any]
    streets: list[Grid] = field(default_factory=list)


def week_filter(week: IsoWeek, as_of: datetime, within: Jurisdiction = WHOLE) -> IncidentFilter:
    """Incidents in ``within`` reported in the week, up to ``as_of`` (the week in progress runs to now)."""
    return IncidentFilter(since=week.start, until=min(week.end, as_of), within=within)


def _rows(codes_names: list[tuple[str, str]], per_week: list[dict[str, int]]) -> list[Row]:
    return [Row(code, name, [counts.get(code, 0) for counts in per_week]) for code, name in codes_names]


def category_rows(kpis: list[dict[str, Any]], categories: dict[str, str]) -> list[Row]:
    """Configured categories in their configured order, then any other stored category, by code."""
    per_week = [k["by_category"] for k in kpis]
    seen = {code for counts in per_week for code in counts}
    codes = [*categories, *sorted(seen - set(categories))]
    return _rows([(c, categories.get(c, c)) for c in codes], per_week)


def street_rows(kpis: list[dict[str, Any]], streets: list[Grid]) -> list[Row]:
    """Every street grid, zero weeks included, ordered by this week's count (then code)."""
    per_week = [k["by_grid"] for k in kpis]
    rows = _rows([(g.code, g.name) for g in streets], per_week)
    return sorted(rows, key=lambda r: (-r.current, r.code))


def hot_grid_rows(store: Store, weeks: list[IsoWeek], level: int, as_of: datetime,
                  within: Jurisdiction = WHOLE) -> list[Row]:
    """The grids of ``level`` in ``within`` with the most incidents this week (top :data:`TOP_GRIDS`), with the
    weeks before."""
    per_week = [store.measures.grid_counts(where=week_filter(w, as_of, within), level=level) for w in weeks]
    names = {g.code: g.name for g in store.grids.of_level(level, within=within)}
    rows = _rows([(code, names.get(code, code)) for code in per_week[-1]], per_week)
    return sorted(rows, key=lambda r: (-r.current, r.code))[:TOP_GRIDS]


def gather(store: Store, week: IsoWeek, *, categories: dict[str, str], now: datetime, hot_level: int,
           blind_study: Study, offline_after_s: int, within: Jurisdiction = WHOLE) -> Figures:
    """The bulletin's figures for ``week``, read from ``store`` for the incidents in ``within``; ``now`` caps the
    week in progress; blind spots are cells of ``blind_study`` (the study of ``within``'s area)."""
    weeks = [*week.previous(HISTORY_WEEKS), week]
    as_of = min(week.end, now)
    level = within.level or 1  # the streets, or the jurisdiction's own grid
    kpis = [store.measures.kpis(where=week_filter(w, as_of, within), now=as_of, group_level=level) for w in weeks]
    streets = store.grids.of_level(level, within=within)
    overdue = OpenPastDue(at=as_of, within=within)
    items, overdue_total = store.incidents.query(where=overdue, limit=OVERDUE_LISTED)
    overdue_by_street = store.measures.grid_counts(where=overdue, level=level)
    # Camera status at the end of the week: a heartbeat after it still counts as online then.
    blind = coverage(store, blind_study, where=week_filter(week, as_of, within), now=as_of,
                     offline_after_s=offline_after_s)
    return Figures(
        week=week, weeks=weeks, as_of=as_of,
        totals=[k["total"] for k in kpis],
        closure_rates=[k["closure_rate"] for k in kpis],
        on_time_rates=[k["on_time_rate"] for k in kpis],
        by_category=category_rows(kpis, categories),
        by_street=street_rows(kpis, streets),
        hot_grids=hot_grid_rows(store, weeks, hot_level, as_of, within), hot_level=hot_level,
        overdue_total=overdue_total, overdue_by_street=overdue_by_street,
        overdue_items=sorted(items, key=lambda i: (i.due_at, i.id)),
        blind=blind, streets=streets)
