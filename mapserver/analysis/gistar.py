"""Getis-Ord Gi* (local G with the focal unit included) over any binary weights matrix, with normal p-values,
Benjamini–Hochberg false-discovery-rate correction and hot/cold classes.

Inputs are counts per unit (cells or grids) and a sparse n × n binary weights
matrix whose diagonal is 1 (the unit itself). Unitless outputs: z-scores,
two-sided p-values and q-values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse, stats

CONFIDENCE = ((0.01, "99"), (0.05, "95"), (0.10, "90"))  # (q at most, confidence %), strictest first
NOT_SIGNIFICANT = "not_significant"
CLASSES = (*(f"hot_{c}" for _, c in CONFIDENCE), *(f"cold_{c}" for _, c in CONFIDENCE), NOT_SIGNIFICANT)


@dataclass(frozen=True)
class GiStar:
    """Per-unit results, aligned with the input counts."""

    z: np.ndarray
    p: np.ndarray  # two-sided, standard normal
    q: np.ndarray  # Benjamini–Hochberg adjusted p
    classes: np.ndarray  # one of CLASSES


def z_scores(y: np.ndarray, w: sparse.csr_matrix) -> np.ndarray:
    """Gi* z-scores: (Σ_j w_ij y_j − ȳ W_i) / (S √((n W_i − W_i²) / (n − 1))), S the population std of y.

    Same as esda's ``G_Local(y, w, star=True, transform="B")`` ``Zs``. All zeros when y is constant (no
    variation: nothing is hot or cold), and for a unit whose weights cover every unit (no contrast).
    """
    y = np.asarray(y, dtype=np.float64)
    n = y.size
    if n < 2:
        return np.zeros(n)
    mean = y.mean()
    std = np.sqrt(max((y * y).mean() - mean * mean, 0.0))
    weights = np.asarray(w.sum(axis=1)).ravel()
    spread = std * np.sqrt((n * weights - weights * weights) / (n - 1))
    local = w @ y
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (local - mean * weights) / spread
    return np.where(spread > 0, z, 0.0)


def bh_adjust(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg q-values: min over j ≥ i of p_(j) n / j, in the input order, capped at 1."""
    p = np.asarray(p, dtype=np.float64)
    n = p.size
    if n == 0:
        return p
    order = np.argsort(p)
    scaled = p[order] * n / np.arange(1, n + 1)
    q_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(n)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


def classify(z: np.ndarray, q: np.ndarray) -> np.ndarray:
    """hot_99/95/90 or cold_99/95/90 by the strictest confidence the q-value reaches, else not_significant."""
    out = np.full(z.size, NOT_SIGNIFICANT, dtype=object)
    # Loosest first so that stricter levels overwrite: a cell at q ≤ 0.01 ends as 99.
    for limit, confidence in reversed(CONFIDENCE):
        reached = q <= limit
        out[reached & (z > 0)] = f"hot_{confidence}"
        out[reached & (z < 0)] = f"cold_{confidence}"
    return out


def is_significant(result: GiStar) -> np.ndarray:
    """Whether each unit's class is hot or cold (not ``not_significant``), as :func:`classify` decides it, without
    comparing the class strings (tens of milliseconds over a city's 142,379 cells)."""
    return (result.q <= CONFIDENCE[-1][0]) & ((result.z > 0) | (result.z < 0))


def gi_star(y: np.ndarray, w: sparse.csr_matrix) -> GiStar:
    """z-scores, two-sided normal p-values, BH q-values and classes for counts ``y`` over weights ``w``."""
    z = z_scores(y, w)
    p = 2.0 * stats.norm.sf(np.abs(z))
    q = bh_adjust(p)
    return GiStar(z=z, p=p, q=q, classes=classify(z, q))
