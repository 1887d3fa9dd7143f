"""The weekly bulletin (研判专报): the figures of one ISO week against the four before it, rendered as one
self-contained HTML page.

Weeks are local (``map.timezone``); hot spots are H3 cells at resolution
:data:`TREND_RES` (weekly counts are sparse at finer cells), blind spots at
:data:`BLIND_RES` (the wall's blind-spot layer, a street camera's reach); both
capped at the stored resolution.
"""

from __future__ import annotations

from datetime import datetime

from mapserver.analysis.study import outline_for, study_for
from mapserver.bulletin.figures import gather
from mapserver.bulletin.render import Page, render
from mapserver.bulletin.trends import hotspot_changes
from mapserver.bulletin.week import IsoWeek
from mapserver.config import Settings
from mapserver.derived import DerivedData
from mapserver.jurisdiction import WHOLE, Jurisdiction

TREND_RES = 8  # ≈ 0.7 km² cells: a district week has a few thousand incidents, too few for 0.1 km² cells
BLIND_RES = 9  # ≈ 0.1 km² cells, the wall's blind-spot layer: comparable with a camera's 50–300 m reach
HOT_GRID_LEVELS = (2, 3)  # communities or compounds: streets have their own table


def weekly_bulletin(derived: DerivedData, settings: Settings, *, week: IsoWeek, now: datetime, lang: str = "zh",
                    hot_level: int = 2, within: Jurisdiction = WHOLE) -> str:
    """The bulletin for ``week`` as HTML, from ``derived.store`` and the studies ``derived`` keeps; ``now`` (UTC)
    ends a week still in progress and stamps the page. ``within``: the jurisdiction whose incidents and area it
    covers (the whole district by default)."""
    if hot_level not in HOT_GRID_LEVELS:
        raise ValueError(f"hot grids are of level 2 or 3, got {hot_level!r}")
    store, stored = derived.store, settings.incidents.h3_resolution
    categories = dict(settings.incidents.categories)
    figures = gather(store, week, categories=categories, now=now, hot_level=hot_level,
                     blind_study=study_for(derived, min(BLIND_RES, stored), within),
                     offline_after_s=settings.cameras.offline_after_s, within=within)
    changes = hotspot_changes(store, study_for(derived, min(TREND_RES, stored), within), week,
                              weeks=len(figures.weeks), within=within)
    page = Page(lang=lang, zone=settings.map.timezone, generated_at=now, categories=categories,
                district=outline_for(derived, within),  # the outline the hotspot studies keep, not a new union
                area_name=None if within.whole else f"{within.name} ({within.code})")
    return render(figures, changes, page)
