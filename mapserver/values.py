"""Checks on single values from untrusted input, shared by the API and the core."""

from __future__ import annotations

import math
from typing import Any

from mapserver.errors import Problem


def finite(name: str, value: Any) -> float:
    """A finite float from a JSON value, or a 400 problem naming the field."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Problem(400, f"{name} must be a finite number", param=name)
    return float(value)
