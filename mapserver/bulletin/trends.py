"""The bulletin's "new and intensifying hotspots": emerging-hotspot classes of the district's H3 cells over the
bulletin's week and the four before it (:func:`mapserver.analysis.trend.emerging_hotspots`).

Periods are 7 × 24 h spans ending at the week's end (local Monday 00:00), so
in a zone without daylight saving (Asia/Shanghai) they are the local weeks
themselves. Positions are WGS-84 degrees; z-scores are unitless.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapserver.analysis.study import Study
from mapserver.analysis.trend import TrendCell, emerging_hotspots
from mapserver.bulletin.week import IsoWeek
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.store import Store

SHOWN = ("new", "intensifying")
CONFIDENCE = 90  # the wall's hotspot layer draws hot cells from 90 % confidence; the bulletin names the same cells


@dataclass(frozen=True)
class HotspotChanges:
    """Cells that became hot this week (new) or stayed hot with a rising Gi* z (intensifying), strongest first."""

    resolution: int
    confidence: int
    new: list[TrendCell]
    intensifying: list[TrendCell]
    counts: dict[str, int]  # study cells per trend category


def hotspot_changes(store: Store, study: Study, week: IsoWeek, *, weeks: int,
                    within: Jurisdiction = WHOLE) -> HotspotChanges:
    """Emerging-hotspot classes of the cells of ``study`` (``within``'s area) over ``weeks`` weeks ending with
    ``week``, from the incidents in ``within``."""
    result = emerging_hotspots(store, study, until=week.end, periods=weeks, period="week", confidence=CONFIDENCE,
                               within=within)
    return HotspotChanges(resolution=study.res, confidence=CONFIDENCE,
                          new=[c for c in result.cells if c.category == "new"],
                          intensifying=[c for c in result.cells if c.category == "intensifying"],
                          counts=dict(result.counts))
