"""Small pure parsers of untrusted values (query strings, JSON bodies and their fields); each raises a 400 problem
naming the parameter. The API and the core (incidents, patrols) share them; times come out UTC, bboxes in WGS-84
degrees."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from mapserver.errors import Problem
from mapserver.store.common import BBox, check_bbox

MAX_JSON_DEPTH = 32
INT64_MAX = 2**63 - 1


def reject_unknown(args: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """400 for any query parameter the route does not define (typos must not pass silently)."""
    allowed = set(allowed)
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise Problem(400, f"unknown query parameter '{unknown[0]}'; this route takes: "
                           f"{', '.join(sorted(allowed)) or 'none'}", param=unknown[0])


def parse_bbox(text: str | None) -> BBox | None:
    """``minlon,minlat,maxlon,maxlat`` in degrees (WGS-84) → a checked tuple."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise Problem(400, f"bbox must be 4 comma-separated numbers, got {text[:80]!r}", param="bbox") from None
    return check_bbox(values)


def parse_box_numbers(text: str) -> tuple[float, float, float, float]:
    """A ``bbox`` of 4 finite numbers in any CRS's units and axis order (the caller knows which), or a 400
    problem."""
    try:
        values = [float(p) for p in text.split(",")]
    except ValueError:
        raise Problem(400, f"bbox must be 4 comma-separated numbers, got {text[:80]!r}", param="bbox") from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise Problem(400, "bbox needs 4 finite numbers (lower corner, upper corner)", param="bbox")
    return values[0], values[1], values[2], values[3]


def parse_int(name: str, text: str | None, *, default: int | None = None, low: int | None = None,
              high: int | None = None) -> int | None:
    """A whole number within [low, high], or the default when absent."""
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise Problem(400, f"{name} must be a whole number, got {text[:40]!r}", param=name) from None
    # Beyond 64 bits no database column or LIMIT/OFFSET can hold it; refuse it here rather than in the store.
    high = INT64_MAX if high is None else high
    low = -INT64_MAX - 1 if low is None else low
    if value < low or value > high:
        raise Problem(400, f"{name} must be between {low} and {high}, got {value}", param=name)
    return value


def _max_depth(text: str) -> int:
    # Scan brackets outside strings: json.loads would recurse once per level and can overflow the stack.
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw: bytes) -> Any:
    """Decode a JSON request body: UTF-8, no NaN/Infinity, at most ``MAX_JSON_DEPTH`` levels deep."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem(400, f"the body is not UTF-8 (byte {exc.start})", param="body") from None
    if _max_depth(text) > MAX_JSON_DEPTH:
        raise Problem(400, f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels", param="body")
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise Problem(400, f"the body is not valid JSON: {exc}", param="body") from None
    if _has_nul(value):
        raise Problem(400, "the body holds a NUL character (\\u0000), which no text field may hold", param="body")
    return value


def _has_nul(value: Any) -> bool:
    # PostgreSQL text cannot hold NUL (psycopg2 raises, a 500); no field has a use for it. Depth is already capped.
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def parse_time(name: str, text: str | None, *, zone: str) -> datetime | None:
    """ISO 8601 date or date-time → aware UTC datetime; without an offset it is local time in ``zone``."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00")) if "T" in text or " " in text else \
            datetime.combine(date.fromisoformat(text), time())
    except ValueError:
        raise Problem(400, f"{name} must be an ISO 8601 date or date-time, got {text[:40]!r}", param=name) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of UTC, or 9999-12-31 west of it: no UTC instant exists
        raise Problem(400, f"{name} is out of range (years 1–9999 in UTC), got {text[:40]!r}", param=name) from None


def parse_choice(name: str, text: str | None, allowed: Iterable[str]) -> str | None:
    """One of the allowed values, or None when absent."""
    allowed = tuple(allowed)
    if text is not None and text not in allowed:
        raise Problem(400, f"{name} must be one of {', '.join(allowed)}; got {text[:40]!r}", param=name)
    return text


def finite(name: str, value: Any) -> float:
    """A finite float from a JSON value, or a 400 problem naming the field."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Problem(400, f"{name} must be a finite number", param=name)
    return float(value)


def json_object(body: Any, fields: Iterable[str]) -> Mapping[str, Any]:
    """A JSON body that is an object using only the named fields, or a 400 problem naming the first stray one."""
    if not isinstance(body, Mapping):
        raise Problem(400, "the body must be a JSON object", param="body")
    allowed = set(fields)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise Problem(400, f"unknown field '{unknown[0]}'; fields: {', '.join(sorted(allowed))}", param=unknown[0])
    return body
