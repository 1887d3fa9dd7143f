"""The measures panel (态势指标): what a leader reads at a glance, computed by the store (SQL aggregates).

Window measures (reports, closure rate, on-time rate, the five hottest grids)
describe incidents reported since the window start; backlog measures (open,
overdue) describe every incident as it stands now, whenever it was reported,
because an item overdue since last month is still on the desk today. Every
figure is of one jurisdiction (``within``): its incidents, cameras and grids,
counted by the store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.maplayers.reads import level_counts
from mapserver.model import GRID_LEVELS
from mapserver.store import Store
from mapserver.store.incidents import IncidentFilter

CLOSED_STATUS = "closed"  # the loop's last status (mapserver/incidents/lifecycle.py): everything else is open
HOTTEST_LEVEL = 2  # communities/villages (社区/村): the level weekly analysis meetings name high-incidence areas by
HOTTEST_COUNT = 5
PENDING: tuple[str, ...] = ()  # slots for measures whose module has not landed (none at present)
SOURCES = ("incidents", "cameras", "grids")


def camera_online_rate(online: int, total: int) -> float | None:
    """Share of cameras online, 0..1; None when there are no cameras."""
    return online / total if total else None


def hottest_grids(store: Store, by_grid: dict[str, int], count: int = HOTTEST_COUNT, *,
                  within: Jurisdiction = WHOLE) -> list[dict[str, Any]]:
    """The grids with the most incidents, most first (ties by code), with their names (read in ``within``)."""
    top = sorted(by_grid.items(), key=lambda item: (-item[1], item[0]))[:count]
    out = []
    for code, incidents in top:
        grid = store.layers.get("grids", code, within=within)
        out.append({"code": code, "name": grid.name if grid else code, "incidents": incidents})
    return out


def _backlog(store: Store, now: datetime, within: Jurisdiction) -> dict[str, int]:
    overdue = store.incidents.query(where=IncidentFilter(warning="red", now=now, within=within), limit=0)[1]
    return {"open": store.measures.open_count(within=within), "overdue": overdue}


def measures(store: Store, *, since: datetime, now: datetime, offline_after_s: int,
             within: Jurisdiction = WHOLE) -> dict[str, Any]:
    """The panel's figures of the jurisdiction ``within`` for the window starting at ``since`` (UTC), as of
    ``now``; rates are 0..1 or None.

    A camera counts as online when it says so and its last heartbeat is under ``offline_after_s`` seconds old.
    """
    # Counts only: the summary answers the whole store's, and the grids are counted apart (it has no communities).
    window = IncidentFilter(since=since, within=within)
    kpis = store.measures.tallies(where=window, now=now)
    by_grid = store.measures.grid_counts(where=window, level=HOTTEST_LEVEL)
    cameras = store.layers.count("cameras", within=within)
    online = store.cameras.query(status="online", now=now, offline_after_s=offline_after_s, limit=0,
                                 within=within)[1]
    values: dict[str, Any] = {
        "reports": kpis["total"],
        **_backlog(store, now, within),
        "closure_rate": kpis["closure_rate"],
        "on_time_rate": kpis["on_time_rate"],
        "camera_online_rate": camera_online_rate(online, cameras),
        "hottest_grids": hottest_grids(store, by_grid, within=within),
    }
    return {
        "since": since.isoformat(),
        "values": values,
        "cameras": {"online": online, "total": cameras},
        "grids_by_level": {str(k): v for k, v in level_counts(store, sorted(GRID_LEVELS), within=within).items()},
        "hottest_level": HOTTEST_LEVEL,
        "pending": list(PENDING),
    }
