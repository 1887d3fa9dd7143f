"""The patrol building blocks without a store: road graph in metres, one-way streets, pieces, snapping, legs
between stops, the OR-Tools tour against brute force, the greedy baseline, and fitting a tour to its budget."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point

from mapserver.gridindex.metric import geodesic_m
from mapserver.model import Road
from mapserver.patrol.greedy import greedy_tour
from mapserver.patrol.lattice import street_lattice
from mapserver.patrol.legs import shortest_legs
from mapserver.patrol.network import Frame, RoadNetwork
from mapserver.patrol.planner import fit_budget, timing
from mapserver.patrol.solver import penalties, solve_tour, time_limit_s

LON, LAT = 114.60, 33.60


def lattice_network(blocks: int = 4, oneway_every: int = 0) -> RoadNetwork:
    roads = street_lattice(west=LON, south=LAT, blocks_x=blocks, blocks_y=blocks, block_m=100.0,
                           oneway_every=oneway_every)
    return RoadNetwork.from_roads(roads, Frame(LON, LAT))


def road(code: str, coords: list[tuple[float, float]], oneway: bool = False) -> Road:
    return Road(code=code, name=code, road_class="residential", geom=LineString(coords), oneway=oneway)


def test_lengths_are_metres_and_agree_with_geodesic_distance():
    network = lattice_network(blocks=10)
    assert np.allclose(network.lengths, 100.0, rtol=2e-3)
    for k in (0, 57, network.road_count - 1):
        (x0, y0), (x1, y1) = network.geoms[k].coords
        assert network.lengths[k] == pytest.approx(geodesic_m(x0, y0, x1, y1), rel=1e-3)


def test_one_frame_measures_a_city_wide_layer_to_the_geodesic():
    # Roads up to 70 km from the layer's centre, the frame chosen by the network itself.
    corners = [(LON + dx, LAT + dy) for dx in (-0.75, 0.0, 0.75) for dy in (-0.6, 0.0, 0.6)]
    roads = [road(f"R{k}", [(x, y), (x + 0.004, y + 0.003)]) for k, (x, y) in enumerate(corners)]
    network = RoadNetwork.from_roads(roads)
    assert (network.frame.lon0, network.frame.lat0) == pytest.approx((LON + 0.002, LAT + 0.0015))
    for k, (x, y) in enumerate(corners):
        assert network.lengths[k] == pytest.approx(geodesic_m(x, y, x + 0.004, y + 0.003), rel=2e-4)
    lonlat = np.array(corners)
    assert network.frame.to_wgs84(network.frame.to_metric(lonlat)) == pytest.approx(lonlat, abs=1e-9)


def test_two_way_roads_are_two_edges_and_one_way_roads_one():
    two_way = lattice_network(blocks=3)
    assert two_way.node_count == 16 and two_way.edge_count == 2 * two_way.road_count == 48
    one_way = lattice_network(blocks=3, oneway_every=2)
    oneway_roads = int(one_way.oneway.sum())
    assert oneway_roads > 0
    assert one_way.edge_count == 2 * one_way.road_count - oneway_roads
    for k in np.flatnonzero(one_way.oneway):
        u, v = int(one_way.start_node[k]), int(one_way.end_node[k])
        assert one_way.graph.has_edge(u, v) and not one_way.graph.has_edge(v, u)


def test_disconnected_pieces_are_found_and_largest_first():
    roads = [*street_lattice(west=LON, south=LAT, blocks_x=2, blocks_y=2, block_m=100.0),
             road("ISLAND", [(LON + 0.01, LAT + 0.01), (LON + 0.011, LAT + 0.01)])]
    network = RoadNetwork.from_roads(roads, Frame(LON, LAT))
    pieces = network.pieces()
    assert pieces.count == 2 and pieces.sizes.tolist() == [9, 2]
    assert set(pieces.nodes(1).tolist()) == {int(network.start_node[-1]), int(network.end_node[-1])}
    inside = network.roads_within(0)
    assert inside.sum() == 12 and not inside[len(roads) - 1]


def test_a_one_way_dead_end_is_its_own_piece():
    roads = [road("A", [(LON, LAT), (LON + 0.001, LAT)]), road("B", [(LON + 0.001, LAT), (LON + 0.002, LAT)],
                                                                    oneway=True)]
    network = RoadNetwork.from_roads(roads, Frame(LON, LAT))
    assert network.pieces().sizes.tolist() == [2, 1]  # one can drive into B's end, never back out


def test_the_networkx_graph_and_its_pieces_agree_with_the_arrays():
    roads = [*street_lattice(west=LON, south=LAT, blocks_x=5, blocks_y=4, block_m=100.0, oneway_every=2),
             road("ISLAND", [(LON + 0.01, LAT + 0.01), (LON + 0.011, LAT + 0.01)]),
             road("DEAD-END", [(LON, LAT), (LON - 0.001, LAT)], oneway=True)]
    network = RoadNetwork.from_roads(roads, Frame(LON, LAT))
    frm, to, length, _ = network.directed_edges()
    graph = network.graph
    assert graph.number_of_nodes() == network.node_count and graph.number_of_edges() == network.edge_count
    edges = zip(frm.tolist(), to.tolist(), length.tolist(), strict=True)
    assert {(a, b): w for a, b, w in graph.edges(data="length")} == {(a, b): w for a, b, w in edges}
    pieces = network.pieces()
    expected = sorted(nx.strongly_connected_components(graph), key=lambda p: (-len(p), min(p)))
    assert [set(pieces.nodes(k).tolist()) for k in range(pieces.count)] == expected
    assert pieces.count > 2  # the island, and the one-way dead end's far junction on its own


def test_the_part_within_a_box_is_a_network_of_the_roads_meeting_it():
    network = lattice_network(blocks=6, oneway_every=3)
    west, south = LON + 150 / network.frame.scale[0], LAT + 150 / network.frame.scale[1]
    box = (west, south, west + 0.002, south + 0.002)
    part = network.within(box)
    meets = shapely.intersects(network.geoms, shapely.box(*box))
    assert 0 < part.road_count == int(meets.sum()) < network.road_count
    assert part.codes.tolist() == network.codes[meets].tolist()
    assert part.lengths == pytest.approx(network.lengths[meets])
    assert part.oneway.tolist() == network.oneway[meets].tolist() and part.frame == network.frame
    assert part.node_count == len(set(part.start_node.tolist()) | set(part.end_node.tolist()))
    assert network.within(shapely.total_bounds(network.geoms)) is network


def test_snap_finds_the_nearest_road_within_the_distance_only():
    network = lattice_network(blocks=2)
    mx, my = Frame(LON, LAT).scale
    snap = network.snap(LON + 30 / mx, LAT + 40 / my, within_m=50)  # 30 m east, 40 m north of the corner
    assert snap is not None and snap.offset_m == pytest.approx(30.0, abs=0.05)
    assert snap.at_m == pytest.approx(40.0, abs=0.05) and snap.lon == pytest.approx(LON, abs=1e-7)
    assert network.snap(LON - 80 / mx, LAT - 80 / my, within_m=50) is None
    nowhere = np.zeros(network.road_count, dtype=bool)
    assert network.snap(LON + 30 / mx, LAT + 40 / my, within_m=50, among=nowhere) is None


def test_legs_follow_one_way_streets():
    # A one-way street east, and a two-way detour north of it: going back west must take the detour.
    roads = [road("E", [(LON, LAT), (LON + 0.002, LAT)], oneway=True),
             road("N1", [(LON, LAT), (LON, LAT + 0.001)]),
             road("N2", [(LON, LAT + 0.001), (LON + 0.002, LAT + 0.001)]),
             road("N3", [(LON + 0.002, LAT + 0.001), (LON + 0.002, LAT)])]
    network = RoadNetwork.from_roads(roads, Frame(LON, LAT))
    mx, my = network.frame.scale
    west = network.snap(LON + 0.0005, LAT, within_m=5)
    east = network.snap(LON + 0.0015, LAT, within_m=5)
    legs = shortest_legs(network, [west, east], limit_m=1e6)
    along = 0.001 * mx
    assert legs.metres[0, 1] == pytest.approx(along, abs=2e-3)  # stops sit on the road to the millimetre
    around = 0.0005 * mx + 0.001 * my + 0.002 * mx + 0.001 * my + 0.0005 * mx
    assert legs.metres[1, 0] == pytest.approx(around, abs=2e-3)
    assert legs.path_metres(1, 0) == pytest.approx(legs.metres[1, 0], rel=1e-9)
    path = legs.path_coords(1, 0)
    assert path[0] == pytest.approx([LON + 0.0015, LAT], abs=1e-7)
    assert path[-1] == pytest.approx([LON + 0.0005, LAT], abs=1e-7)
    assert max(path[:, 1]) == pytest.approx(LAT + 0.001, abs=1e-9)  # went round by the northern road
    line = LineString(path)
    assert all(line.distance(Point(p)) < 1e-9 for p in path)
    assert shortest_legs(network, [west, east], limit_m=along / 2).metres[0, 1] == np.inf


def brute_force(seconds: np.ndarray, weights: list[float], budget_s: int) -> float:
    """The most weight any tour within the budget collects (every subset, every order)."""
    best = 0.0
    stops = range(1, len(seconds))
    for size in range(1, len(seconds)):
        for subset in itertools.combinations(stops, size):
            for order in itertools.permutations(subset):
                path = [0, *order, 0]
                if sum(seconds[a][b] for a, b in itertools.pairwise(path)) <= budget_s:
                    best = max(best, sum(weights[n] for n in subset))
                    break
    return best


def tour_seconds(seconds: np.ndarray, order: list[int]) -> float:
    path = [0, *order, 0]
    return float(sum(seconds[a][b] for a, b in itertools.pairwise(path)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_solver_collects_the_best_weight_within_the_budget(seed):
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 1000, (8, 2))
    points[0] = (500, 500)
    seconds = np.ceil(np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1)))
    weights = [0.0, *rng.uniform(1, 10, 7)]
    budget = 2200
    tour = solve_tour(seconds, weights, [False] * 8, budget_s=budget, limit_s=1.0)
    assert tour is not None and tour_seconds(seconds, tour.order) <= budget
    assert sum(weights[n] for n in tour.order) == pytest.approx(brute_force(seconds, weights, budget))
    baseline = greedy_tour(seconds, weights, [False] * 8, budget_s=budget)
    assert tour_seconds(seconds, baseline) <= budget
    hinted = solve_tour(seconds, weights, [False] * 8, budget_s=budget, limit_s=0.3, hint=baseline)
    assert tour_seconds(seconds, hinted.order) <= budget
    assert sum(weights[n] for n in hinted.order) >= sum(weights[n] for n in baseline)


def test_must_visit_stops_are_taken_even_when_they_weigh_nothing():
    seconds = np.array([[0, 100, 100, 900], [100, 0, 50, 900], [100, 50, 0, 900], [900, 900, 900, 0]], dtype=float)
    weights = [0.0, 5.0, 5.0, 0.0]
    tour = solve_tour(seconds, weights, [False, False, False, True], budget_s=2000, limit_s=0.2)
    assert 3 in tour.order and tour_seconds(seconds, tour.order) <= 2000
    assert solve_tour(seconds, weights, [False, False, False, True], budget_s=1000, limit_s=0.2) is None
    assert greedy_tour(seconds, weights, [False, False, False, True], budget_s=2000)[0] == 3


def test_unreachable_stops_are_never_chosen():
    seconds = np.array([[0, 10, np.inf], [10, 0, np.inf], [np.inf, np.inf, 0]])
    tour = solve_tour(seconds, [0.0, 1.0, 100.0], [False] * 3, budget_s=10**6, limit_s=0.1)
    assert tour.order == [1]
    assert greedy_tour(seconds, [0.0, 1.0, 100.0], [False] * 3, budget_s=10**6) == [1]


def test_penalties_put_the_lightest_stop_above_all_travel():
    assert penalties([0.0, 1.0, 2.5], 3600) == [0, 3601, 9003]
    assert time_limit_s(100, 2.0) == 2.0 and time_limit_s(5, 2.0) == pytest.approx(0.1)
    assert time_limit_s(1000, 2.0) == 2.0


def test_fit_budget_drops_the_lightest_stops_until_the_real_time_fits():
    network = lattice_network(blocks=6)
    mx, my = network.frame.scale
    spots = [(0, 0), (300, 0), (300, 300), (0, 300), (150, 600)]
    snaps = [network.snap(LON + x / mx, LAT + y / my, within_m=1) for x, y in spots]
    legs = shortest_legs(network, snaps, limit_m=1e6)
    speed = 1.0  # m/s
    full = timing(legs, [1, 2, 3, 4], speed_mps=speed, dwell_s=60)
    assert full.length_m == pytest.approx(300 + 300 + 300 + 300 + 300 + 300 + 300, rel=1e-3)
    assert full.duration_min == pytest.approx((full.length_m + 4 * 60) / 60, rel=1e-9)
    assert full.arrivals_min[0] == pytest.approx(300 / 60, rel=1e-3)
    weights = [0.0, 5.0, 5.0, 5.0, 1.0]
    order, measured = fit_budget(legs, [1, 2, 3, 4], weights, [False] * 5, budget_min=full.duration_min - 1,
                                 speed_mps=speed, dwell_s=60)
    assert order == [1, 2, 3] and measured.duration_min <= full.duration_min - 1
