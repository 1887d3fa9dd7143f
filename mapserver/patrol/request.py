"""A plan request read from JSON (the API's body, or what the command line builds) and checked.

``start`` and ``must_visit`` points may be in wgs84, cgcs2000, gcj02, bd09 or
EPSG:n (``crs``) and are kept in WGS-84 (EPSG:4326) degrees. Times are ISO
8601; a time without an offset is local time in ``zone``. A malformed field
is a 400 problem naming it; a field that is well formed but unusable (a budget
of no minutes) is a 422.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from mapserver.errors import Problem
from mapserver.geo import parse_crs, to_wgs84
from mapserver.parsing import parse_time
from mapserver.patrol.settings import MODES, WINDOWS

MAX_BUDGET_MIN = 24 * 60
MAX_MUST_VISIT = 25
FIELDS = ("area", "start", "budget_min", "mode", "window", "must_visit", "since", "until", "start_at")


@dataclass(frozen=True)
class Point:
    """A WGS-84 point given in a request, with an optional name."""

    lon: float
    lat: float
    name: str = ""


@dataclass(frozen=True)
class PlanRequest:
    """What to plan: the area (grid codes or a liaison), the start (a point or a key place code), the budget in
    minutes, the travel mode, day or night, stops that must be visited, the hotspot window (UTC) and when the
    patrol sets off (UTC)."""

    grids: tuple[str, ...]
    liaison: str | None
    start: Point | None
    start_place: str | None
    budget_min: float
    mode: str
    window: str
    must_visit: tuple[Point, ...]
    since: datetime | None
    until: datetime | None
    start_at: datetime

    def as_json(self) -> dict[str, Any]:
        """The request as saved with the plan (WGS-84 points, UTC times)."""
        return {
            "area": {"liaison": self.liaison} if self.liaison else {"grids": list(self.grids)},
            "start": {"place": self.start_place} if self.start_place else
            {"lon": self.start.lon, "lat": self.start.lat} if self.start else None,
            "budget_min": self.budget_min, "mode": self.mode, "window": self.window,
            "must_visit": [{"lon": p.lon, "lat": p.lat, "name": p.name} for p in self.must_visit],
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "start_at": self.start_at.isoformat(),
        }


def _text(value: Any, name: str, *, max_len: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise Problem(400, f"{name} must be text of 1–{max_len} characters", param=name)
    return value.strip()


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Problem(400, f"{name} must be a number", param=name)
    return float(value)


def _point(value: Any, name: str) -> Point:
    if not isinstance(value, dict) or not {"lon", "lat"} <= set(value) or set(value) - {"lon", "lat", "crs", "name"}:
        raise Problem(400, f"{name} must be {{\"lon\": …, \"lat\": …}} with an optional crs (and name)", param=name)
    lon, lat = _number(value["lon"], f"{name}.lon"), _number(value["lat"], f"{name}.lat")
    crs = parse_crs(_text(value.get("crs", "wgs84"), f"{name}.crs", max_len=40))
    lon, lat = (float(v) for v in to_wgs84(lon, lat, crs))
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise Problem(400, f"{name} lies outside -180..180, -90..90 once in WGS-84", param=name)
    label = _text(value["name"], f"{name}.name") if "name" in value else ""
    return Point(lon, lat, label)


def _area(value: Any) -> tuple[tuple[str, ...], str | None]:
    if isinstance(value, dict) and set(value) == {"liaison"}:
        return (), _text(value["liaison"], "area.liaison", max_len=100)
    if isinstance(value, dict) and set(value) == {"grids"} and isinstance(value["grids"], list):
        return tuple(_text(code, "area.grids", max_len=64) for code in value["grids"]), None
    raise Problem(400, "area must be {\"grids\": [grid code, …]} or {\"liaison\": name}", param="area")


def _start(value: Any) -> tuple[Point | None, str | None]:
    if isinstance(value, dict) and set(value) == {"place"}:
        return None, _text(value["place"], "start.place", max_len=64)
    return _point(value, "start"), None


def _choice(body: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = body.get(name, allowed[0])
    if value not in allowed:
        raise Problem(400, f"{name} must be one of {', '.join(allowed)}", param=name)
    return str(value)


def parse_plan_request(body: Any, *, zone: str, now: datetime, hotspot_days: int) -> PlanRequest:
    """A checked request from a JSON body; missing ``until`` is now, missing ``since`` ``hotspot_days`` before."""
    if not isinstance(body, dict):
        raise Problem(400, "the body must be a JSON object", param="body")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise Problem(400, f"unknown field '{unknown[0]}'; fields: {', '.join(FIELDS)}", param=unknown[0])
    for name in ("area", "start", "budget_min"):
        if name not in body:
            raise Problem(400, f"{name} is required", param=name)
    grids, liaison = _area(body["area"])
    start, start_place = _start(body["start"])
    budget = _number(body["budget_min"], "budget_min")
    if not 0 < budget <= MAX_BUDGET_MIN:
        raise Problem(422, f"budget_min must be more than 0 and at most {MAX_BUDGET_MIN} minutes, got {budget:g}",
                      param="budget_min")
    must = body.get("must_visit", [])
    if not isinstance(must, list) or len(must) > MAX_MUST_VISIT:
        raise Problem(400, f"must_visit must be a list of at most {MAX_MUST_VISIT} points", param="must_visit")
    times = {}
    for name in ("since", "until", "start_at"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise Problem(400, f"{name} must be an ISO 8601 date-time", param=name)
        times[name] = parse_time(name, value, zone=zone)
    until = times["until"] or now
    if times["since"] is None and until - datetime.min.replace(tzinfo=UTC) < timedelta(days=hotspot_days):
        raise Problem(400, f"until ({until.isoformat()}) leaves no {hotspot_days} days before it", param="until")
    since = times["since"] or until - timedelta(days=hotspot_days)
    if since >= until:
        raise Problem(400, f"since ({since.isoformat()}) must be before until ({until.isoformat()})", param="since")
    return PlanRequest(grids=grids, liaison=liaison, start=start, start_place=start_place, budget_min=budget,
                       mode=_choice(body, "mode", MODES), window=_choice(body, "window", WINDOWS),
                       must_visit=tuple(_point(p, f"must_visit[{i}]") for i, p in enumerate(must)),
                       since=since.astimezone(UTC), until=until.astimezone(UTC),
                       start_at=(times["start_at"] or now).astimezone(UTC))
