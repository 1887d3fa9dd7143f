"""Choose and order stops as a prize-collecting routing problem, with OR-Tools' routing solver.

Node 0 is the start (the route leaves and returns there). ``seconds[i][j]``
is the whole-second time from leaving node i to leaving node j: the travel
along the roads plus the dwell at j, rounded up so the solver never believes a
route shorter than it is. Every stop but the must-visit ones is optional
(``AddDisjunction``), its penalty its weight; the budget is the capacity of a
time dimension. Penalties are scaled so that the lightest stop outweighs the
whole budget of travel: the route collects the most weight it can, and
among equal weights travels least. The first solution is built by cheapest
insertion (which weighs each stop's penalty against the detour it costs;
cheapest arc starts from the nearest stops and left GLS stuck short of the
optimum on small tests) and a short descent; when the caller's hint (the
greedy tour) is better, the search starts from the hint instead. Guided local
search then improves it until the time limit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

SECONDS_PER_STOP_LIMIT = 0.02  # a small problem converges long before the configured limit; 100 stops get 2 s
MIN_LIMIT_S = 0.1
FIRST_SHARE = 0.15  # of the time limit: the cheapest-insertion tour and its descent; the rest is GLS


@dataclass(frozen=True)
class Tour:
    """Stops in visiting order (node numbers, start excluded) and how the solver ended."""

    order: list[int]
    status: str


def time_limit_s(stops: int, configured_s: float) -> float:
    """The solver's time: the configured limit, less for small problems (20 ms per stop, at least 0.1 s)."""
    return min(configured_s, max(MIN_LIMIT_S, SECONDS_PER_STOP_LIMIT * stops))


def penalties(weights: Sequence[float], budget_s: int) -> list[int]:
    """Whole-number penalties: the lightest positive weight is worth more than ``budget_s`` seconds of travel."""
    positive = [w for w in weights if w > 0]
    if not positive:
        return [0 for _ in weights]
    unit = (budget_s + 1) / min(positive)
    return [max(1, math.ceil(w * unit)) if w > 0 else 0 for w in weights]


def _order(routing: pywrapcp.RoutingModel, manager: pywrapcp.RoutingIndexManager,
           solution: pywrapcp.Assignment) -> list[int]:
    order, index = [], routing.Start(0)
    while not routing.IsEnd(index):
        node = manager.IndexToNode(index)
        if node != 0:
            order.append(node)
        index = solution.Value(routing.NextVar(index))
    return order


def objective(matrix: np.ndarray, penalty: Sequence[int], order: Sequence[int]) -> int:
    """The solver's objective for a tour: its arc seconds plus the penalties of the stops it leaves out."""
    path = [0, *order, 0]
    left_out = set(range(1, len(matrix))) - set(order)
    return int(sum(matrix[a][b] for a, b in itertools.pairwise(path)) + sum(penalty[n] for n in left_out))


def solve_tour(seconds: np.ndarray, weights: Sequence[float], must: Sequence[bool], *, budget_s: int,
               limit_s: float, hint: Sequence[int] | None = None) -> Tour | None:
    """The best tour found from node 0 within ``budget_s``; None when the must-visit stops cannot all fit.

    ``hint``: a tour known to fit (the greedy one); the search starts from whichever is better, the hint or
    the cheapest-insertion tour after a short descent, so the answer is never worse than the hint.
    """
    n = len(seconds)
    if n <= 1:
        return Tour([], "empty")
    unreachable = budget_s + 1  # any arc this long breaks the budget by itself
    matrix = np.where(np.isfinite(seconds), np.minimum(seconds, unreachable), unreachable).astype(np.int64)
    penalty = penalties(weights, budget_s)
    manager = pywrapcp.RoutingIndexManager(n, 1, 0)
    routing = pywrapcp.RoutingModel(manager)
    transit = routing.RegisterTransitMatrix(matrix.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(transit)
    routing.AddDimension(transit, 0, int(budget_s), True, "time")
    for node in range(1, n):
        if not must[node]:
            routing.AddDisjunction([manager.NodeToIndex(node)], penalty[node])
    first = pywrapcp.DefaultRoutingSearchParameters()
    first.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    first.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    first.time_limit.FromMilliseconds(max(1, round(limit_s * FIRST_SHARE * 1000)))
    routing.CloseModelWithParameters(first)
    started = routing.SolveWithParameters(first)
    if hint is not None and all(must[k] <= (k in hint) for k in range(1, n)):
        hinted = objective(matrix, penalty, hint)
        if started is None or hinted < started.ObjectiveValue():
            started = routing.ReadAssignmentFromRoutes([list(hint)], True) or started
    if started is None:
        return None
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    search.time_limit.FromMilliseconds(max(1, round(limit_s * (1 - FIRST_SHARE) * 1000)))
    solution = routing.SolveFromAssignmentWithParameters(started, search)
    if solution is None:
        return Tour(_order(routing, manager, started), "first solution")
    return Tour(_order(routing, manager, solution), _STATUS.get(routing.status(), "solved"))


_STATUS = {
    getattr(pywrapcp.RoutingModel, "ROUTING_SUCCESS", 1): "solved",
    getattr(pywrapcp.RoutingModel, "ROUTING_OPTIMAL", 7): "optimal",
}
