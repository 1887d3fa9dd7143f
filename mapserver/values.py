"""Checks on single values from untrusted input, shared by the API and the core."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from mapserver.errors import Problem


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
