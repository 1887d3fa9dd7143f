"""Positions (fixes) as a phone sends them, checked one by one and filtered against each other.

A fix is a WGS-84 position (lon, lat degrees), a time (ISO 8601, or epoch milliseconds) and a horizontal accuracy
in metres (optional: a GPX track has none). Refused, each with its reason: not an object, a coordinate that is
not a finite number or out of range, a time that does not parse, lies more than :data:`FUTURE_SLACK` ahead of the
server's clock or more than :data:`MAX_AGE` behind it, a negative accuracy. Of the rest, dropped and counted: an
accuracy worse than :data:`MAX_ACCURACY_M`, and a fix that implies a speed above :data:`MAX_SPEED_KMH` from the
previous fix kept (the person's stored one before the batch, then the batch's own, in time order). Speeds are
measured on the sphere of :data:`~mapserver.tracks.geodesy.EARTH_RADIUS_M`, accurate to well under 1 % at these
distances.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mapserver.errors import Problem
from mapserver.geo import parse_crs, to_wgs84
from mapserver.tracks.geodesy import sphere_m

MAX_ACCURACY_M = 50.0
"""A fix reported less accurate than this (metres) is dropped."""
MAX_SPEED_KMH = 150.0
"""A fix implying a faster move than this from the previous kept fix is dropped (a jump of the receiver)."""
FUTURE_SLACK = timedelta(minutes=5)
"""A fix timed further ahead of the server's clock is refused (a phone's clock may run a little fast)."""
MAX_AGE = timedelta(days=366)
"""A fix older than this is refused: tracks are kept by month, and an old one is a clock gone wrong."""
MAX_FIXES = 10_000
"""Fixes in one batch at most."""
FIX_FIELDS = frozenset({"lon", "lat", "t", "accuracy"})


@dataclass(frozen=True)
class Fix:
    """A checked fix: its place in the batch, UTC time, WGS-84 degrees, accuracy in metres (None: not reported)."""

    index: int
    t: datetime
    lon: float
    lat: float
    accuracy_m: float | None


@dataclass
class Sorted:
    """What the checks and the filter made of a batch: the fixes kept (in time order) and the others by index."""

    kept: list[Fix] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    dropped_inaccurate: list[int] = field(default_factory=list)
    dropped_speed: list[int] = field(default_factory=list)
    repeated: list[int] = field(default_factory=list)


def decode_batch(raw: bytes) -> Any:
    """A JSON body whose numbers may be NaN or Infinity (refused per fix later, not for the whole batch)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem(400, f"the body is not UTF-8 (byte {exc.start})", param="body") from None
    try:
        # The C decoder stops a nesting too deep for the stack with RecursionError, before it does harm.
        return json.loads(text, parse_constant=float)
    except RecursionError:
        raise Problem(400, "the JSON body nests too deep", param="body") from None
    except ValueError as exc:
        raise Problem(400, f"the body is not valid JSON: {exc}", param="body") from None


def batch_items(body: Any) -> tuple[list[Any], str]:
    """The fixes of a batch body ``{"fixes": [...], "crs": "wgs84"}`` and its CRS; 400 for another shape, 413 for
    too many fixes, 422 for none."""
    if not isinstance(body, Mapping):
        raise Problem(400, "the body must be a JSON object with 'fixes'", param="body")
    unknown = sorted(set(body) - {"fixes", "crs"})
    if unknown:
        raise Problem(400, f"unknown field '{str(unknown[0])[:40]}'; fields: crs, fixes", param=str(unknown[0])[:40])
    items = body.get("fixes")
    if not isinstance(items, list):
        raise Problem(400, "'fixes' must be a list of {lon, lat, t, accuracy}", param="fixes")
    if len(items) > MAX_FIXES:
        raise Problem(413, f"a batch holds at most {MAX_FIXES} fixes, this one {len(items)}: send it in parts",
                      param="fixes")
    if not items:
        raise Problem(422, "the batch holds no fixes", param="fixes")
    crs = body.get("crs", "wgs84")
    if not isinstance(crs, str):
        raise Problem(400, "crs must be a name such as wgs84 or gcj02", param="crs")
    return items, parse_crs(crs)


def _number(item: Mapping[str, Any], name: str) -> float:
    value = item.get(name)
    if type(value) is float and math.isfinite(value):  # the common case, first
        return value
    if isinstance(value, str):  # GPX attributes arrive as text
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"{name} is not a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number" if value is not None else f"{name} is missing")
    try:
        value = float(value)
    except OverflowError:  # a JSON integer too large for a float
        raise ValueError(f"{name} is out of range") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} is not a finite number")
    return value


def _time(value: Any, zone: ZoneInfo) -> datetime:
    if isinstance(value, bool):
        raise ValueError("t must be ISO 8601 text or epoch milliseconds")
    if isinstance(value, int | float):
        try:
            if not math.isfinite(value):
                raise ValueError("t is not a finite number")
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError):
            raise ValueError("t is out of range") from None
    if not isinstance(value, str):
        raise ValueError("t is missing" if value is None else "t must be ISO 8601 text or epoch milliseconds")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"t is not an ISO 8601 time: {value[:40]!r}") from None
    if parsed.tzinfo is None:  # a time without an offset is local time
        parsed = parsed.replace(tzinfo=zone)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("t is out of range") from None


def check_fix(index: int, item: Any, *, now: datetime, zone: ZoneInfo, crs: str = "wgs84") -> Fix:
    """One item of a batch as a fix (WGS-84); ValueError with the reason it is refused."""
    if not isinstance(item, Mapping):
        raise ValueError("a fix must be an object {lon, lat, t, accuracy}")
    if not item.keys() <= FIX_FIELDS:
        unknown = sorted(str(k) for k in item if k not in FIX_FIELDS)
        raise ValueError(f"unknown field '{unknown[0][:40]}'")
    lon, lat = _number(item, "lon"), _number(item, "lat")
    if crs != "wgs84":
        lon, lat = (float(v) for v in to_wgs84(lon, lat, crs))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError("lon must be −180…180 and lat −90…90 (degrees)")
    t = _time(item.get("t"), zone)
    if t > now + FUTURE_SLACK:
        raise ValueError(f"t is {(t - now).total_seconds() / 60:.0f} min in the future")
    if t < now - MAX_AGE:
        raise ValueError(f"t is more than {MAX_AGE.days} days old")
    accuracy = None
    if item.get("accuracy") is not None:
        accuracy = _number(item, "accuracy")
        if accuracy < 0:
            raise ValueError("accuracy must be ≥ 0 metres")
    return Fix(index=index, t=t, lon=lon, lat=lat, accuracy_m=accuracy)


Previous = Callable[[datetime], tuple[datetime, float, float] | None]
"""The person's last stored fix before a time (time, lon, lat), or None."""


def sort_batch(items: Sequence[Any], *, now: datetime, zone: str, previous: Previous, crs: str = "wgs84") -> Sorted:
    """Check every item, then filter the good ones in time order against the person's last stored fix before the
    earliest of them (``previous``) and each other."""
    out, local = Sorted(), ZoneInfo(zone)
    good = []
    for index, item in enumerate(items):
        try:
            good.append(check_fix(index, item, now=now, zone=local, crs=crs))
        except ValueError as exc:
            out.refused.append({"index": index, "reason": str(exc)})
    good.sort(key=lambda f: (f.t, f.index))
    last = previous(good[0].t) if good else None
    for fix in good:
        if fix.accuracy_m is not None and fix.accuracy_m > MAX_ACCURACY_M:
            out.dropped_inaccurate.append(fix.index)
            continue
        if last is not None:
            seconds = (fix.t - last[0]).total_seconds()
            if seconds == 0:  # the same instant twice in one batch: the first is the fix
                out.repeated.append(fix.index)
                continue
            if seconds > 0 and sphere_m(last[1], last[2], fix.lon, fix.lat) / seconds * 3.6 > MAX_SPEED_KMH:
                out.dropped_speed.append(fix.index)
                continue
        out.kept.append(fix)
        last = (fix.t, fix.lon, fix.lat)
    return out


def answer(received: int, sorted_batch: Sorted, stored: int) -> dict[str, Any]:
    """What a batch came to: counts, and each fix not stored by its index in the batch with the reason."""
    dropped = ([{"index": i, "reason": f"accuracy worse than {MAX_ACCURACY_M:g} m"}
                for i in sorted_batch.dropped_inaccurate]
               + [{"index": i, "reason": f"implies a speed above {MAX_SPEED_KMH:g} km/h"}
                  for i in sorted_batch.dropped_speed]
               + [{"index": i, "reason": "the same time as another fix of the batch"} for i in sorted_batch.repeated])
    return {"received": received, "accepted": stored, "duplicates": len(sorted_batch.kept) - stored,
            "dropped_inaccurate": len(sorted_batch.dropped_inaccurate),
            "dropped_speed": len(sorted_batch.dropped_speed),
            "repeated": len(sorted_batch.repeated), "refused": len(sorted_batch.refused),
            "refusals": sorted_batch.refused, "dropped": sorted(dropped, key=lambda d: d["index"])}
