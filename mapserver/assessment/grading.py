"""A grid worker's month scored and graded by the ``assessment`` section of config.yaml
(:class:`mapserver.config.AssessmentSettings`).

Each measure gives a share of full marks from 0 to 1:

* reports: cases reported over ``targets.reports_per_month`` (at most 1);
* on_time: handlings made by the case's deadline, over the handlings;
* reopen: one less the cases handled that an unsatisfied follow-up reopened, over the handlings;
* distance: kilometres patrolled over ``targets.km_per_month``; hours: hours moving over ``targets.hours_per_month``;
  in_grid: hours inside the own grid over ``targets.in_grid_hours_per_month`` (each at most 1);
* stops: planned stops checked in at, over the planned stops of the month's patrols after a plan;
* satisfaction: satisfied or basically satisfied, over the cases handled that were followed up.

A measure with nothing to count (no handlings, no follow-ups, no planned stops, no own grid) is not judged. The
score is 100 × the weighted mean of the shares judged (weights ``assessment.weights``), to 0.1; the grade is the
highest whose lowest score (``assessment.grades``) it reaches: 优秀, 合格, 基本合格, else 不合格. Each measure under
``assessment.short_of`` of full marks is a reason, the weakest first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mapserver.i18n import assessment_word
from mapserver.store.assessment import CaseFigures, DaySummary, StopFigures, Worker

if TYPE_CHECKING:
    from mapserver.config import AssessmentSettings

GRADES = ("fail", "basic", "pass", "excellent")
"""Worst first: the order rows are listed in."""
MEASURES = ("reports", "on_time", "reopen", "distance", "hours", "in_grid", "stops", "satisfaction")


@dataclass(frozen=True)
class PatrolTotals:
    """The sum of a person's day measures over the month: days with fixes, fixes, metres, seconds moving, seconds
    inside the own grid (None: no grid)."""

    days: int = 0
    fixes: int = 0
    distance_m: float = 0.0
    moving_s: float = 0.0
    in_grid_s: float | None = None


def totals(days: Iterable[DaySummary]) -> PatrolTotals:
    """The sum of ``days``."""
    days = list(days)
    inside = [d.in_grid_s for d in days if d.in_grid_s is not None]
    return PatrolTotals(days=sum(1 for d in days if d.fixes), fixes=sum(d.fixes for d in days),
                        distance_m=sum(d.distance_m for d in days), moving_s=sum(d.moving_s for d in days),
                        in_grid_s=sum(inside) if inside else None)


@dataclass(frozen=True)
class WorkerMonth:
    """What a worker did in the month."""

    worker: Worker
    cases: CaseFigures
    stops: StopFigures
    patrol: PatrolTotals


@dataclass(frozen=True)
class Reason:
    """A measure under ``short_of`` of full marks: its share of full marks, its value and its target."""

    measure: str
    share: float
    value: float
    target: float


@dataclass(frozen=True)
class Assessment:
    """One worker's month: the figures, each measure's share of full marks (None: not judged), score and grade."""

    month: WorkerMonth
    shares: dict[str, float | None]
    score: float | None
    grade: str
    reasons: tuple[Reason, ...]


def _ratio(part: float, whole: float) -> float | None:
    return None if whole <= 0 else min(1.0, max(0.0, part / whole))


def measure_values(m: WorkerMonth, settings: AssessmentSettings) -> dict[str, tuple[float, float, float | None]]:
    """Per measure: (value, target, share of full marks or None). Rates' values and targets are shares 0–1."""
    t, c, p, s = settings.targets, m.cases, m.patrol, m.stops
    km, hours = p.distance_m / 1000, p.moving_s / 3600
    in_grid = None if p.in_grid_s is None else p.in_grid_s / 3600
    rate = lambda part, whole: (part / whole if whole else 0.0, 1.0, _ratio(part, whole))  # noqa: E731
    return {"reports": (c.reported, t.reports_per_month, _ratio(c.reported, t.reports_per_month)),
            "on_time": rate(c.handled_on_time, c.handled),
            "reopen": (c.reopened / c.handled if c.handled else 0.0, 0.0,
                       None if not c.handled else 1.0 - min(1.0, c.reopened / c.handled)),
            "distance": (km, t.km_per_month, _ratio(km, t.km_per_month)),
            "hours": (hours, t.hours_per_month, _ratio(hours, t.hours_per_month)),
            "in_grid": (in_grid or 0.0, t.in_grid_hours_per_month,
                        None if in_grid is None else _ratio(in_grid, t.in_grid_hours_per_month)),
            "stops": rate(s.visited, s.planned),
            "satisfaction": rate(c.satisfied, c.followed_up)}


def grade_of(score: float, settings: AssessmentSettings) -> str:
    """The grade a score reaches."""
    g = settings.grades
    return "excellent" if score >= g.excellent else "pass" if score >= g.passing else \
        "basic" if score >= g.basic else "fail"


def assess(m: WorkerMonth, settings: AssessmentSettings) -> Assessment:
    """The score, grade and reasons of one worker's month."""
    values = measure_values(m, settings)
    weights = settings.weights.model_dump()
    shares = {k: (None if v[2] is None else round(v[2], 6)) for k, v in values.items()}
    judged = [(weights[k], share) for k, share in shares.items() if share is not None and weights[k] > 0]
    total = sum(w for w, _ in judged)
    score = round(100 * sum(w * share for w, share in judged) / total, 1) if total else None
    grade = "fail" if score is None else grade_of(score, settings)
    reasons = sorted((Reason(k, shares[k], round(values[k][0], 6), values[k][1]) for k in MEASURES
                      if weights[k] > 0 and shares[k] is not None and shares[k] < settings.short_of),
                     key=lambda r: (r.share, MEASURES.index(r.measure)))
    return Assessment(m, shares, score, grade, tuple(reasons))


def ranked(months: Iterable[WorkerMonth], settings: AssessmentSettings) -> list[Assessment]:
    """Every worker's month assessed, worst first: by grade, then the lowest score, then name."""
    return sorted((assess(m, settings) for m in months),
                  key=lambda a: (GRADES.index(a.grade), -1.0 if a.score is None else a.score, a.month.worker.name))


def _figure(measure: str, value: float) -> str:
    if measure in ("on_time", "reopen", "stops", "satisfaction"):
        return f"{value * 100:.1f}%".replace(".0%", "%")
    unit = {"reports": "", "distance": " km", "hours": " h", "in_grid": " h"}[measure]
    return f"{value:.1f}".removesuffix(".0") + unit


def reason_text(reason: Reason, lang: str) -> str:
    """A reason in words, e.g. 巡查里程 42 km，目标 100 km."""
    key = "reason_above" if reason.measure == "reopen" else "reason_below"
    return assessment_word(lang, key, measure=assessment_word(lang, reason.measure),
                           value=_figure(reason.measure, reason.value),
                           target=_figure(reason.measure, reason.target))


def as_json(a: Assessment, lang: str) -> dict[str, Any]:
    """One row as the API answers it: the worker, the figures, the shares, score, grade, its label, reasons."""
    w, c, s, p = a.month.worker, a.month.cases, a.month.stops, a.month.patrol
    return {"person": w.name, "name": w.display_name or w.name, "grid_code": w.grid_code,
            "reported": c.reported, "handled": c.handled, "handled_on_time": c.handled_on_time,
            "handled_late": c.handled - c.handled_on_time, "reopened": c.reopened, "followed_up": c.followed_up,
            "satisfied": c.satisfied, "patrol_days": p.days, "fixes": p.fixes,
            "distance_km": round(p.distance_m / 1000, 3), "patrol_hours": round(p.moving_s / 3600, 2),
            "in_grid_hours": None if p.in_grid_s is None else round(p.in_grid_s / 3600, 2),
            "patrols": s.patrols, "stops_planned": s.planned, "stops_visited": s.visited,
            "shares": a.shares, "score": a.score, "grade": a.grade,
            "label": assessment_word(lang, f"grade_{a.grade}"),
            "reasons": [{"measure": r.measure, "share": r.share, "value": r.value, "target": r.target,
                         "text": reason_text(r, lang)} for r in a.reasons]}


def day_json(day: DaySummary) -> dict[str, Any]:
    """One day of a person's month: fixes, km, hours moving and inside the own grid."""
    return {"day": day.day.isoformat(), "fixes": day.fixes, "distance_km": round(day.distance_m / 1000, 3),
            "patrol_hours": round(day.moving_s / 3600, 2),
            "in_grid_hours": None if day.in_grid_s is None else round(day.in_grid_s / 3600, 2)}


def settings_json(settings: AssessmentSettings) -> dict[str, Any]:
    """The rules a month was assessed by, as JSON."""
    return settings.model_dump(by_alias=True)

