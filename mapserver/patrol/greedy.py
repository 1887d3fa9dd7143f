"""The baseline the solver is measured against: from where the patrol stands, go next to the stop that pays
most per second of travel, as long as the way back to the start still fits the budget.

Same inputs as :func:`mapserver.patrol.solver.solve_tour`: ``seconds[i][j]``
(travel from i plus dwell at j, whole seconds; inf when unreachable), node 0
the start. Must-visit stops are taken first, nearest first.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def greedy_tour(seconds: np.ndarray, weights: Sequence[float], must: Sequence[bool], *, budget_s: int,
                nearest: bool = False) -> list[int]:
    """Stops in visiting order (node numbers, start excluded); never over ``budget_s`` seconds.

    ``nearest``: the plainer rule, go to the nearest stop that still fits (weights break ties only).
    """
    n = len(seconds)
    left = set(range(1, n))
    here, used, order = 0, 0.0, []
    while left:
        best, best_score = None, -1.0
        must_left = [j for j in left if must[j]]
        for j in must_left or left:
            cost = seconds[here][j]
            if not np.isfinite(cost) or used + cost + seconds[j][0] > budget_s:
                continue
            # A must-visit stop: nearest first; any other: most weight per second of the way there.
            if must_left or nearest:
                score = -cost + weights[j] * 1e-9
            else:
                score = weights[j] / max(cost, 1.0)
            if best is None or score > best_score:
                best, best_score = j, score
        if best is None:
            break
        used += seconds[here][best]
        order.append(best)
        left.discard(best)
        here = best
    return order
