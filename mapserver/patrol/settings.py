"""The ``patrol:`` section of config.yaml: travel speeds, solver time, snapping and the weights of stops.

Speeds are km/h per travel mode; times are minutes or seconds as named;
distances are metres. Weights are unitless prizes: a stop's weight is what the
route forgoes when it leaves the stop out.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

MODES = ("foot", "bike", "car")
WINDOWS = ("day", "night")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModeSpeeds(_Section):
    """Average travel speed along the roads per mode, km/h (stops and crossings included in the average)."""

    foot: float = Field(4.5, gt=0, le=20)
    bike: float = Field(12.0, gt=0, le=60)
    car: float = Field(25.0, gt=0, le=120)


class StopWeights(_Section):
    """What each kind of stop is worth.

    A hot cell weighs its Gi* z-score times ``blind_spot`` when no online camera
    sees it, else times ``hot_cell`` (video already watches it, so feet matter
    less there). A key place weighs ``key_place``; an overdue open incident
    ``overdue_incident``. In a night window, a stop's weight is multiplied by
    1 + (``night_factor`` − 1) × the share of its incidents reported at night.
    """

    blind_spot: float = Field(3.0, ge=0, le=1000)
    hot_cell: float = Field(1.0, ge=0, le=1000)
    key_place: float = Field(2.0, ge=0, le=1000)
    overdue_incident: float = Field(2.5, ge=0, le=1000)
    night_factor: float = Field(2.0, ge=1, le=100)

    @model_validator(mode="after")
    def _blind_spots_first(self) -> StopWeights:
        if self.blind_spot < self.hot_cell:
            raise ValueError("blind_spot must weigh at least as much as hot_cell (no camera sees a blind spot)")
        return self


class PatrolSettings(_Section):
    """Patrol route planning (巡逻路线): speeds, solver time, snapping, stop weights and limits."""

    speeds_kmh: ModeSpeeds = ModeSpeeds()
    solve_time_s: float = Field(2.0, gt=0, le=60, description="most time the route solver may take per plan")
    snap_m: float = Field(150.0, gt=0, le=5000, description="a start or stop farther than this from a road is "
                                                            "refused (start) or dropped (stop)")
    dwell_min: float = Field(2.0, ge=0, le=120, description="minutes spent at each stop")
    merge_m: float = Field(40.0, ge=0, le=1000, description="stops this close together become one stop")
    max_candidates: int = Field(100, ge=1, le=500, description="the heaviest stops offered to the solver")
    hotspot_days: int = Field(90, ge=1, le=3660, description="hotspot window when a plan gives no since")
    hotspot_res: int = Field(9, ge=5, le=12, description="H3 resolution of the hot cells")
    hot_confidence: int = Field(90, description="Gi* confidence (90, 95 or 99) for a cell to count as hot")
    night_hours: tuple[int, int] = Field((19, 7), description="local hours [start, end) of the night window")
    road_margin_m: float = Field(500.0, ge=0, le=10_000, description="roads this far outside the area are "
                                                                    "routable too")
    weights: StopWeights = StopWeights()

    @model_validator(mode="after")
    def _consistent(self) -> PatrolSettings:
        if self.hot_confidence not in (90, 95, 99):
            raise ValueError("hot_confidence must be 90, 95 or 99")
        start, end = self.night_hours
        if not (0 <= start <= 23 and 0 <= end <= 23) or start == end:
            raise ValueError("night_hours are two different hours 0–23, e.g. [19, 7]")
        return self

    def speed_mps(self, mode: str) -> float:
        """Metres per second for a travel mode."""
        return float(getattr(self.speeds_kmh, mode)) / 3.6

    def is_night(self, hour: int) -> bool:
        """Whether a local hour (0–23) falls in the night window."""
        start, end = self.night_hours
        return start <= hour < end if start < end else hour >= start or hour < end
