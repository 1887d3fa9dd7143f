"""Emerging hotspots: how each district H3 cell's Getis-Ord Gi* hot-spot status moved over the latest N periods.

The study area and weights are those of :mod:`mapserver.analysis.hotspots`
(every cell at ``res`` whose centre lies inside the street grids, zero counts
included; the cell and its first ring): the caller's study, kept per process
(:data:`mapserver.analysis.study.STUDY`). Periods are consecutive spans of equal
length (``week`` = 7 × 24 h, ``day`` = 24 h) ending at ``until`` (exclusive,
UTC instants): period 0 is the oldest, period N − 1 the final one. Incidents
are counted per cell and period with ONE grouped store query; Gi* runs once per
period on those counts (false-discovery-rate corrected, as for ``/api/hotspots``).

A cell is *hot* in a period when its Gi* class is hot at ``confidence`` % or
stricter. The Mann-Kendall test runs on the cell's N Gi* z-scores (oldest
first); its trend is *up* or *down* when the two-sided p-value is below
1 − confidence / 100, else *none*. With ``share`` = hot periods / N and
``PERSISTENT_SHARE`` = 0.9 (ESRI's 90 %), each cell gets the first category
whose rule holds:

``none``
    not hot in the final period.
``new``
    hot in the final period and in no earlier one.
``intensifying``
    share ≥ 90 % (final period included) and an upward trend.
``diminishing``
    share ≥ 90 % (final period included) and a downward trend.
``persistent``
    share ≥ 90 % (final period included) and no trend.
``consecutive``
    one unbroken run of two or more hot periods ending in the final one, never hot before the run,
    share < 90 %.
``sporadic``
    on-again off-again: hot in the final period and in earlier ones with gaps between, share < 90 %.

Positions are WGS-84 (lon, lat) degrees; z-scores, p-values and tau are unitless.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from scipy import stats

from mapserver.analysis.cells import hexagon, roll_up
from mapserver.analysis.gistar import gi_star
from mapserver.analysis.study import Study
from mapserver.jurisdiction import WHOLE, Jurisdiction
from mapserver.store import Store
from mapserver.store.incidents import IncidentFilter

CATEGORIES = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "none")
PERIOD_LENGTHS = {"week": timedelta(days=7), "day": timedelta(days=1)}
CONFIDENCES = (90, 95, 99)
PERSISTENT_SHARE = 0.9  # ESRI's Emerging Hot Spot Analysis: "90 percent of the time-step intervals"
MIN_PERIODS, MAX_PERIODS = 2, 104
CHUNK_VALUES = 4_000_000


# -- Mann-Kendall -------------------------------------------------------------


@dataclass(frozen=True)
class MannKendall:
    """The Mann-Kendall trend test per row of an (units × periods) array, aligned with its rows."""

    s: np.ndarray  # Σ_{i<j} sign(x_j − x_i)
    var_s: np.ndarray  # variance of S with the tie correction
    z: np.ndarray  # (S ∓ 1) / √var_s, 0 when S = 0 (continuity correction)
    p: np.ndarray  # two-sided, standard normal
    tau: np.ndarray  # Kendall's tau: S / (n (n − 1) / 2)


def mann_kendall(x: np.ndarray) -> MannKendall:
    """The Mann-Kendall test on every row of ``x`` (units × n periods, oldest first), vectorised with numpy.

    Same statistics as ``pymannkendall.original_test``: S, its variance
    (n(n−1)(2n+5) − Σ t(t−1)(2t+5)) / 18 over groups of t tied values, Z with
    continuity correction, two-sided normal p, and tau. A row with no variation has S = 0, Z = 0 and p = 1.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    units, n = x.shape
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    s = np.empty(units)
    tied = np.empty(units)
    # Rows in chunks, so the units × n × n differences stay near 4 million values (32 MB) at most.
    step = max(1, CHUNK_VALUES // max(n * n, 1))
    for lo in range(0, units, step):
        part = x[lo:lo + step]
        diff = part[:, None, :] - part[:, :, None]  # diff[u, i, j] = x[u, j] − x[u, i]; pairs i < j: upper
        s[lo:lo + step] = np.sign(diff[:, upper]).sum(axis=1)
        # Each value's tie-group size t_i (itself included): a group of t adds t × (t−1)(2t+5), as wanted.
        ties = (diff == 0).sum(axis=2)
        tied[lo:lo + step] = ((ties - 1) * (2 * ties + 5)).sum(axis=1)
    var_s = (n * (n - 1) * (2 * n + 5) - tied) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var_s), np.where(s < 0, (s + 1) / np.sqrt(var_s), 0.0))
    z = np.where(var_s > 0, z, 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    tau = s / (0.5 * n * (n - 1)) if n > 1 else np.zeros_like(s)
    return MannKendall(s=s, var_s=var_s, z=z, p=p, tau=tau)


# -- classification -----------------------------------------------------------


def classify(hot: np.ndarray, trend: np.ndarray) -> np.ndarray:
    """The category of each row of ``hot`` (units × periods, booleans, oldest first) given ``trend``
    (+1 significant upward, −1 downward, 0 none), by the rules of the module docstring."""
    hot = np.atleast_2d(np.asarray(hot, dtype=bool))
    units, n = hot.shape
    out = np.full(units, "none", dtype=object)
    if n == 0:
        return out
    final = hot[:, -1]
    count = hot.sum(axis=1)
    mostly = count >= PERSISTENT_SHARE * n
    # Length of the unbroken run of hot periods that ends in the final one.
    cold_seen = np.cumsum(~hot[:, ::-1], axis=1) > 0
    run = (~cold_seen).sum(axis=1)
    out[final & (count == 1)] = "new"
    out[final & (count > 1) & ~mostly & (run == count)] = "consecutive"
    out[final & (count > 1) & ~mostly & (run < count)] = "sporadic"
    out[final & mostly & (trend > 0)] = "intensifying"
    out[final & mostly & (trend < 0)] = "diminishing"
    out[final & mostly & (trend == 0)] = "persistent"
    if n == 1:  # one period: hot now is new, there is no history to trend
        out[final] = "new"
    return out


# -- the analysis -------------------------------------------------------------


@dataclass(frozen=True)
class TrendCell:
    """One study cell's trend: its category, final Gi* z, the Mann-Kendall result on its z-scores and hot periods."""

    id: str
    lon: float
    lat: float
    category: str
    z_final: float
    tau: float
    p: float  # Mann-Kendall two-sided p-value
    hot_periods: int
    counts: tuple[int, ...]  # incidents per period, oldest first
    z: tuple[float, ...]  # Gi* z per period, oldest first

    def to_json(self, *, geometry: bool = False) -> dict[str, Any]:
        """The cell as a JSON object (rounded), with its hexagon (WGS-84 GeoJSON Polygon) when asked."""
        out = {"id": self.id, "lon": self.lon, "lat": self.lat, "category": self.category,
               "z": round(self.z_final, 6), "tau": round(self.tau, 6), "p": float(f"{self.p:.6g}"),
               "hot_periods": self.hot_periods, "counts": list(self.counts),
               "z_series": [round(v, 4) for v in self.z]}
        if geometry:
            out["geometry"] = hexagon(self.id)
        return out


@dataclass(frozen=True)
class TrendResult:
    """Emerging-hotspot classes of the district's cells over the periods that end at ``until``.

    ``cells`` holds the cells of a category other than ``none`` (only ``category`` when one was asked),
    strongest final z first; ``counts`` is the number of study cells per category (all categories, always).
    """

    resolution: int
    period: str
    until: datetime
    starts: tuple[datetime, ...]  # each period's start, oldest first (UTC)
    confidence: int
    units: int
    counts: dict[str, int]
    cells: list[TrendCell] = field(default_factory=list)

    def to_json(self, *, geometry: bool = False) -> dict[str, Any]:
        """The answer as plain JSON (times ISO 8601 UTC)."""
        return {"resolution": self.resolution, "period": self.period, "periods": len(self.starts),
                "since": self.starts[0].isoformat() if self.starts else self.until.isoformat(),
                "until": self.until.isoformat(), "starts": [s.isoformat() for s in self.starts],
                "confidence": self.confidence, "units": self.units, "categories": dict(self.counts),
                "cells": [c.to_json(geometry=geometry) for c in self.cells]}

    def feature_collection(self) -> dict[str, Any]:
        """The cells as a GeoJSON FeatureCollection of hexagons (WGS-84), summary in foreign members."""
        body = self.to_json()
        features = [{"type": "Feature", "id": c.id, "geometry": hexagon(c.id),
                     "properties": {k: v for k, v in c.to_json().items() if k != "id"}} for c in self.cells]
        return {"type": "FeatureCollection", **{k: v for k, v in body.items() if k != "cells"},
                "features": features}


def period_starts(*, until: datetime, periods: int, period: str) -> list[datetime]:
    """The start of each of ``periods`` spans of ``period`` ending at ``until``, oldest first."""
    length = PERIOD_LENGTHS[period]
    return [until - length * (periods - k) for k in range(periods)]


def period_counts(store: Store, *, where: IncidentFilter, starts: Sequence[datetime], until: datetime,
                  res: int) -> list[dict[str, int]]:
    """Incidents per cell at ``res`` for each period (one grouped store query), oldest first."""
    grouped = store.measures.cell_period_counts(where=where, edges=[*starts, until])
    per_period: list[dict[str, int]] = [{} for _ in starts]
    for (cell, k), n in grouped.items():
        per_period[k][cell] = n
    return [roll_up(counts, res) for counts in per_period]


def emerging_hotspots(store: Store, study: Study, *, until: datetime, periods: int = 8, period: str = "week",
                      category: str | None = None, confidence: int = 95,
                      incident_category: str | None = None, within: Jurisdiction = WHOLE) -> TrendResult:
    """Emerging-hotspot category of every cell of the district's ``study`` (at its resolution ``res``) over
    ``periods`` spans of ``period`` ("week" or "day") ending at ``until`` (exclusive, timezone-aware), by the rules
    of the module docstring.

    ``category`` keeps only the cells of that trend category in ``cells`` (the per-category counts stay
    complete); ``confidence`` (90, 95 or 99 %) sets both what counts as hot and the Mann-Kendall significance;
    ``incident_category`` restricts the incidents counted (e.g. "disputes"), ``within`` to a jurisdiction's (whose
    own study ``study`` then is: :func:`mapserver.analysis.study.study_for`). No grids stored → no cells.
    Raises ValueError for a period, confidence, periods or category outside the allowed values.
    """
    if period not in PERIOD_LENGTHS:
        raise ValueError(f"period must be one of {', '.join(PERIOD_LENGTHS)}, got {period!r}")
    if confidence not in CONFIDENCES:
        raise ValueError(f"confidence must be one of {CONFIDENCES}, got {confidence!r}")
    if not MIN_PERIODS <= periods <= MAX_PERIODS:
        raise ValueError(f"periods must be {MIN_PERIODS}–{MAX_PERIODS}, got {periods!r}")
    if category is not None and category not in CATEGORIES:
        raise ValueError(f"category must be one of {', '.join(CATEGORIES)}, got {category!r}")
    if until.tzinfo is None:
        raise ValueError("until must be timezone-aware")
    starts = period_starts(until=until, periods=periods, period=period)
    res, cells = study.res, study.cells
    counts = {name: 0 for name in CATEGORIES}
    if not cells:
        return TrendResult(resolution=res, period=period, until=until, starts=tuple(starts), confidence=confidence,
                           units=0, counts=counts)
    per_period = period_counts(store, where=IncidentFilter(category=incident_category, within=within), starts=starts,
                               until=until, res=res)
    y = np.array([study.counts(p) for p in per_period], dtype=np.float64)  # periods × cells
    weights = study.weights
    wanted = {f"hot_{c}" for c in CONFIDENCES if c >= confidence}
    z = np.empty_like(y)
    hot = np.zeros(y.shape, dtype=bool)
    for k in range(periods):
        result = gi_star(y[k], weights)
        z[k] = result.z
        hot[k] = np.isin(result.classes, list(wanted))
    z, hot, y = z.T, hot.T, y.T  # cells × periods from here on
    mk = mann_kendall(z)
    alpha = 1 - confidence / 100
    trend = np.where(mk.p < alpha, np.sign(mk.s), 0)
    classes = classify(hot, trend)
    names, n = np.unique(classes, return_counts=True)
    counts |= {str(k): int(v) for k, v in zip(names, n, strict=True)}
    keep = np.flatnonzero(classes == category) if category is not None else np.flatnonzero(classes != "none")
    keep = keep[np.lexsort((-y[keep, -1], -z[keep, -1]))]
    rows = [TrendCell(id=cells[i], lon=float(study.lon[i]), lat=float(study.lat[i]), category=str(classes[i]),
                      z_final=float(z[i, -1]), tau=float(mk.tau[i]), p=float(mk.p[i]), hot_periods=int(hot[i].sum()),
                      counts=tuple(int(v) for v in y[i]), z=tuple(float(v) for v in z[i])) for i in keep]
    return TrendResult(resolution=res, period=period, until=until, starts=tuple(starts), confidence=confidence,
                       units=len(cells), counts=counts, cells=rows)
