"""Camera liveness (在线率): heartbeats, the status a camera has now, and online rates overall and per grid.

A camera that reported ``online`` but has sent no heartbeat for
``cameras.offline_after_s`` seconds counts as offline; a camera with no
heartbeat yet keeps the status it was imported with; ``fault`` is set by hand
and stays until changed. Positions are WGS-84. (The same rule in SQL, to list
cameras by status: :func:`mapserver.store.cameras.status_condition`.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from mapserver.model import Camera


def effective_status(camera: Camera, *, now: datetime, offline_after_s: int) -> str:
    """The camera's status at ``now``, with stale heartbeats taken as offline."""
    if camera.status == "online" and camera.last_seen is not None and \
            now - camera.last_seen > timedelta(seconds=offline_after_s):
        return "offline"
    return camera.status


def online_rates(cameras: Sequence[Camera], grid_codes: Sequence[str], *, now: datetime,
                 offline_after_s: int) -> dict[str, Any]:
    """Online rate overall and per grid; ``grid_codes[i]`` is the grid of ``cameras[i]`` ("" for none)."""
    online = np.array([effective_status(c, now=now, offline_after_s=offline_after_s) == "online" for c in cameras],
                      dtype=bool)
    totals = Counter(grid_codes)
    up = Counter(code for code, is_up in zip(grid_codes, online, strict=True) if is_up)
    per_grid = {code: {"cameras": n, "online": up[code], "online_rate": round(up[code] / n, 6)}
                for code, n in sorted(totals.items()) if code}
    return {
        "cameras": len(cameras),
        "online": int(online.sum()),
        "online_rate": round(float(online.mean()), 6) if len(cameras) else None,
        "by_grid": per_grid,
    }
