"""The ``incidents:`` and ``cameras:`` sections of config.yaml: taxonomy, time limits, calendar, units.

Time limits are written as ``"<n> working_hours"`` or ``"<n> working_days"``
per severity, with a ``default`` row and optional rows per category that
override it. The calendar (office hours, holidays, make-up working days) is in
the configured time zone. ``units`` names the units incidents are sent to and the
grids each serves (:mod:`mapserver.incidents.units`); a district that lists none
sends incidents to units named in free text.
"""

from __future__ import annotations

import functools
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mapserver.model import SEVERITIES
from mapserver.workcalendar import Allowance, WorkCalendar

DEFAULT_CATEGORIES = {
    "disputes": "矛盾纠纷",
    "public_security": "社会治安",
    "fire_hazard": "消防隐患",
    "city_appearance": "市容环境",
    "roads_facilities": "道路设施",
    "environment": "生态环境",
    "petitions": "信访诉求",
    "other": "其他",
}
DEFAULT_DEADLINES = {
    "default": {"general": "5 working_days", "important": "3 working_days", "urgent": "4 working_hours"},
    "fire_hazard": {"general": "2 working_days", "important": "1 working_days", "urgent": "2 working_hours"},
    "public_security": {"urgent": "2 working_hours"},
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IncidentSettings(_Section):
    """Taxonomy, time limits and the working calendar for incidents."""

    categories: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_CATEGORIES),
                                       description="category code → label shown on screen")
    deadlines: dict[str, dict[str, str]] = Field(default_factory=lambda: {k: dict(v) for k, v in
                                                                         DEFAULT_DEADLINES.items()})
    dispatch_within: str = Field("1 working_hours", description="time limit from report to dispatch")
    yellow_at: float = Field(0.75, gt=0, lt=1, description="share of the time limit used that turns an item yellow")
    office_hours: list[str] = Field(default_factory=lambda: ["08:30-12:00", "14:30-18:00"])
    timezone: str = "Asia/Shanghai"
    holidays: list[date] = Field(default_factory=list)
    makeup_workdays: list[date] = Field(default_factory=list)
    h3_resolution: int = Field(9, ge=0, le=15, description="H3 resolution of the cell stored with each incident")
    description_max: int = Field(2000, ge=10, le=2000)
    units: dict[str, list[str]] = Field(
        default_factory=dict, description="unit name → codes of the grids it serves (none: the whole district); "
                                          "when any are listed, incidents go only to these units")

    @model_validator(mode="after")
    def _check_rules(self) -> IncidentSettings:
        if not self.categories:
            raise ValueError("at least one category is needed")
        if set(self.deadlines.get("default", {})) != set(SEVERITIES):
            raise ValueError(f"deadlines.default needs a time limit for each of {', '.join(SEVERITIES)}")
        for category, row in self.deadlines.items():
            if category != "default" and category not in self.categories:
                raise ValueError(f"deadlines.{category}: not a category")
            for severity, text in row.items():
                if severity not in SEVERITIES:
                    raise ValueError(f"deadlines.{category}.{severity}: severity must be one of {SEVERITIES}")
                Allowance.parse(text)
        Allowance.parse(self.dispatch_within)
        for unit, codes in self.units.items():
            if not unit.strip():
                raise ValueError("units: a unit needs a name")
            if any(not code.strip() for code in codes):
                raise ValueError(f"units.{unit}: a grid code is empty")
        self.calendar()  # office hours and time zone must make a calendar
        return self

    def calendar(self) -> WorkCalendar:
        """The working calendar these settings describe (made once for each distinct calendar: every report asks)."""
        return _calendar(tuple(self.office_hours), tuple(self.holidays), tuple(self.makeup_workdays), self.timezone)

    def allowance(self, category: str, severity: str) -> Allowance:
        """The time limit for a category and severity (the category's own row, else the default)."""
        text = self.deadlines.get(category, {}).get(severity) or self.deadlines["default"][severity]
        return _allowance(text)


@functools.lru_cache(maxsize=16)
def _calendar(periods: tuple[str, ...], holidays: tuple[date, ...], makeup_workdays: tuple[date, ...],
              timezone: str) -> WorkCalendar:
    return WorkCalendar.from_settings(periods=periods, holidays=holidays, makeup_workdays=makeup_workdays,
                                      timezone=timezone)


@functools.lru_cache(maxsize=256)
def _allowance(text: str) -> Allowance:
    return Allowance.parse(text)


class CameraSettings(_Section):
    """Camera liveness: a camera with no heartbeat for this long counts as offline."""

    offline_after_s: int = Field(300, ge=10, le=86_400)
