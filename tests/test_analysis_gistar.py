"""Getis-Ord Gi*: against an independent per-unit computation of the formula, against esda's G_Local (star=True,
binary weights with the focal cell), FDR classes on a planted cluster, and queen contiguity on grids."""

from __future__ import annotations

import warnings

import h3
import numpy as np
import pytest
from shapely.geometry import box

from mapserver.analysis.cells import ring_matrix
from mapserver.analysis.gistar import bh_adjust, gi_star, is_significant, z_scores
from mapserver.analysis.hotspots import queen_matrix

CENTRE = h3.latlng_to_cell(33.62, 114.65, 9)


def disk(k: int) -> list[str]:
    return sorted(h3.grid_disk(CENTRE, k))


def planted(cells: list[str], seed: int = 3) -> np.ndarray:
    """Poisson(2) background; the cells within 2 rings of CENTRE get Poisson(12)."""
    rng = np.random.default_rng(seed)
    hot = set(h3.grid_disk(CENTRE, 2))
    return np.array([rng.poisson(12 if c in hot else 2) for c in cells], dtype=float)


def formula(y: np.ndarray, neighbours: list[list[int]]) -> np.ndarray:
    """Gi* written out unit by unit (Getis & Ord 1992, Ord & Getis 1995), binary weights incl. the unit."""
    n, mean = len(y), y.mean()
    s = np.sqrt((y ** 2).sum() / n - mean ** 2)
    out = []
    for js in neighbours:
        w = len(js)
        out.append((y[js].sum() - mean * w) / (s * np.sqrt((n * w - w * w) / (n - 1))))
    return np.array(out)


def neighbour_lists(cells: list[str]) -> list[list[int]]:
    index = {c: i for i, c in enumerate(cells)}
    return [sorted(index[o] for o in h3.grid_disk(c, 1) if o in index) for c in cells]


def test_z_equals_the_formula_unit_by_unit():
    cells = disk(6)
    y = planted(cells)
    assert np.allclose(z_scores(y, ring_matrix(cells)), formula(y, neighbour_lists(cells)), rtol=0, atol=1e-9)


def test_z_equals_esda_g_local_star():
    esda = pytest.importorskip("esda")
    from libpysal.weights import W

    cells = disk(30)  # 2,791 cells
    y = planted(cells)
    lists = neighbour_lists(cells)  # each list holds the cell itself: esda keeps that self-weight with star=True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = W({i: js for i, js in enumerate(lists)}, silence_warnings=True)
        reference = esda.G_Local(y, w, star=True, transform="B", permutations=0)
    assert len(cells) > 2000
    assert np.allclose(z_scores(y, ring_matrix(cells)), reference.Zs, rtol=0, atol=1e-6)
    # esda's p_norm is one-sided; ours is two-sided.
    assert np.allclose(gi_star(y, ring_matrix(cells)).p, 2 * reference.p_norm, rtol=0, atol=1e-9)


def test_the_planted_cluster_is_hot_and_the_background_is_not():
    cells = disk(20)
    y = planted(cells)
    result = gi_star(y, ring_matrix(cells))
    classes = dict(zip(cells, result.classes, strict=True))
    assert all(classes[c] == "hot_99" for c in h3.grid_disk(CENTRE, 1))
    far = [c for c in cells if h3.grid_distance(CENTRE, c) > 6]
    assert sum(classes[c].startswith("hot") for c in far) <= 0.01 * len(far)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_significance_without_the_class_strings_agrees_with_the_classes(seed):
    cells = disk(12)
    y = planted(cells, seed=seed)
    y[: len(y) // 3] = 0  # a cold stretch too
    result = gi_star(y, ring_matrix(cells))
    assert (is_significant(result) == (result.classes != "not_significant")).all()
    assert is_significant(result).any() and not is_significant(result).all()


def test_constant_counts_are_not_significant():
    cells = disk(3)
    result = gi_star(np.full(len(cells), 4.0), ring_matrix(cells))
    assert (result.z == 0).all() and set(result.classes) == {"not_significant"}


def test_benjamini_hochberg():
    p = np.array([0.01, 0.04, 0.03, 0.20])
    # sorted 0.01, 0.03, 0.04, 0.20 → ×4/rank 0.04, 0.06, 0.0533, 0.20 → running min from the top
    assert np.allclose(bh_adjust(p), [0.04, 0.05333333, 0.05333333, 0.20])


def test_queen_contiguity_on_a_three_by_three_block():
    boxes = [box(x, y, x + 1, y + 1) for y in range(3) for x in range(3)]
    w = queen_matrix(boxes).toarray()
    assert w.sum(axis=1).tolist() == [4, 6, 4, 6, 9, 6, 4, 6, 4]
    assert (w == w.T).all() and (np.diag(w) == 1).all()
