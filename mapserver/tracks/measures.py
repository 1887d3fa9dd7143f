"""A person's day on patrol: the track as a line, its length, the time moving and the time inside their own grid.

Fixes are WGS-84 degrees and UTC times as epoch seconds, in time order. The track is cut where two fixes lie more than
:data:`MAX_GAP_S` apart (the phone was off or out of signal): the parts make the line (a MultiLineString when
there are several), and a gap counts neither as distance nor as time. Distance is the sum of geodesic lengths on
the WGS-84 ellipsoid. A stretch between two fixes counts as moving when its speed is at least
:data:`MOVING_M_S` (a slow walk; standing still with a receiver's jitter of a few metres per minute stays below
it), and as inside the grid when both its fixes lie in the grid's polygon (WGS-84; the boundary counts as inside).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from mapserver.tracks.geodesy import segment_lengths_m

MAX_GAP_S = 300.0
"""Seconds between two fixes beyond which the track is cut."""
MOVING_M_S = 0.5
"""Metres per second from which a stretch counts as moving (1.8 km/h)."""


@dataclass(frozen=True)
class DayMeasures:
    """A day's measures: fixes, metres walked, seconds moving and inside the grid (None: the person has no grid),
    first and last fix (UTC)."""

    fixes: int
    distance_m: float
    moving_s: float
    inside_grid_s: float | None
    first_at: datetime | None
    last_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        """The measures as JSON (metres to 0.1, seconds whole, times ISO 8601)."""
        return {"fixes": self.fixes, "distance_m": round(self.distance_m, 1), "moving_s": round(self.moving_s),
                "inside_grid_s": None if self.inside_grid_s is None else round(self.inside_grid_s),
                "first_at": self.first_at.isoformat() if self.first_at else None,
                "last_at": self.last_at.isoformat() if self.last_at else None,
                "moving_from_m_s": MOVING_M_S, "gap_after_s": MAX_GAP_S}


def instant(seconds: float) -> datetime:
    """A UTC datetime of epoch seconds."""
    return datetime.fromtimestamp(seconds, UTC)


def parts(seconds: npt.ArrayLike, max_gap_s: float = MAX_GAP_S) -> list[slice]:
    """The runs of fixes (at epoch ``seconds``) without a gap longer than ``max_gap_s``, as slices."""
    seconds = np.asarray(seconds, dtype=float)
    if not seconds.size:
        return []
    cuts = np.flatnonzero(np.diff(seconds) > max_gap_s) + 1
    bounds = [0, *cuts.tolist(), seconds.size]
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


def track_geometry(seconds: npt.ArrayLike, lon: npt.ArrayLike, lat: npt.ArrayLike) -> dict[str, Any] | None:
    """The track as GeoJSON (WGS-84): a LineString, a MultiLineString when cut by gaps, a Point for a lone fix,
    None for none. Parts of a single fix are left out of a line."""
    coords = np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)]).tolist()
    runs = [coords[run] for run in parts(seconds)]
    lines = [run for run in runs if len(run) >= 2]
    if not lines:
        return {"type": "Point", "coordinates": runs[0][0]} if runs else None
    if len(lines) == 1:
        return {"type": "LineString", "coordinates": lines[0]}
    return {"type": "MultiLineString", "coordinates": lines}


def day_measures(seconds: npt.ArrayLike, lon: npt.ArrayLike, lat: npt.ArrayLike,
                 grid: BaseGeometry | None) -> DayMeasures:
    """The measures of a day's fixes (epoch seconds, in time order) for a person whose grid polygon is ``grid``
    (None: none)."""
    seconds = np.asarray(seconds, dtype=float)
    n = int(seconds.size)
    if n == 0:
        return DayMeasures(0, 0.0, 0.0, None if grid is None else 0.0, None, None)
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dt = np.diff(seconds)
    length = segment_lengths_m(x, y)
    joined = dt <= MAX_GAP_S  # stretches within a part
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(dt > 0, length / np.where(dt > 0, dt, 1), 0.0)
    moving = joined & (speed >= MOVING_M_S)
    inside_s = None
    if grid is not None:
        inside = shapely.intersects_xy(grid, x, y)  # the boundary counts as inside
        inside_s = float(dt[joined & inside[:-1] & inside[1:]].sum())
    return DayMeasures(fixes=n, distance_m=float(length[joined].sum()), moving_s=float(dt[moving].sum()),
                       inside_grid_s=inside_s, first_at=instant(seconds[0]), last_at=instant(seconds[-1]))


def day_window(day: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC instants where local day ``day`` in ``zone`` begins and the next one begins."""
    local = ZoneInfo(zone)
    start = datetime.combine(day, time(), local)
    return start.astimezone(UTC), datetime.combine(day + timedelta(days=1), time(), local).astimezone(UTC)
