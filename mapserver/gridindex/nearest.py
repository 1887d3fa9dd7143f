"""The base grids nearest to a point no base grid covers, ranked in that point's own metric frame.

Boxes are WGS-84 (EPSG:4326) lon/lat **degrees**; distances are **metres** in the
local equirectangular frame of the query point (:class:`.metric.LocalFrame`: fixed
metres per degree of longitude and of latitude at the point's latitude), the frame
in which the index ranks grids when it snaps.

How: the base grids' bounding boxes are packed, level by level, into groups of
about :data:`GROUP_SIZE` neighbours (sort-tile-recursive), each group with the
box around its members. A search measures the exact frame distance from the
point to every group box (one vectorised pass), opens groups nearest first, and
within a group measures the distance to the geometry only of members whose own
box is no farther than the best distance found so far (plus the tie margin); it
stops at the first group whose box is farther. A box is never farther than the
geometry inside it, so the answer is exactly what measuring every grid would
give, whatever the point: 20 m outside the district, 100 km away or at
(0°, 0°), where a degree-space nearest search (an R-tree's, or an STRtree's in
one fixed projection) would have to measure a band of grids ~20 % deep because
degrees of longitude and latitude differ in length there and by a different ratio
than at the city.

Grids are grouped by level because a street grid's box spans kilometres: among
building grids it would make every group it joins near everything.
Edits do not repack: added grids go to one extra group, removed slots stay in
their groups and are skipped (the caller's ``distance`` returns None for them),
and group boxes stay as large as they were, which keeps every bound valid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mapserver.gridindex.metric import LocalFrame

GROUP_SIZE = 48
"""Boxes per group: small enough that a group is cheap to open, large enough that there are few groups."""
_EMPTY_BOX = np.array([[math.inf, math.inf, -math.inf, -math.inf]])  # infinitely far from every point


def box_distances(bounds: np.ndarray, frame: LocalFrame) -> np.ndarray:
    """Frame distance in metres from the frame's centre to each box (rows of min lon, min lat, max lon, max lat)."""
    dx = np.maximum(np.maximum(bounds[:, 0] - frame.lon, frame.lon - bounds[:, 2]), 0.0) * frame.mx
    dy = np.maximum(np.maximum(bounds[:, 1] - frame.lat, frame.lat - bounds[:, 3]), 0.0) * frame.my
    return np.hypot(dx, dy)


def _pack(boxes: np.ndarray) -> list[np.ndarray]:
    """Sort-tile-recursive packing: row numbers of ``boxes`` in groups of ≤ GROUP_SIZE spatial neighbours."""
    n = len(boxes)
    if n == 0:
        return []
    strips = math.ceil(math.sqrt(math.ceil(n / GROUP_SIZE)))
    per_strip = math.ceil(n / strips)
    cx, cy = boxes[:, 0] + boxes[:, 2], boxes[:, 1] + boxes[:, 3]  # twice the centre: only the order matters
    by_x = np.argsort(cx, kind="stable")
    groups = []
    for start in range(0, n, per_strip):
        strip = by_x[start:start + per_strip]
        strip = strip[np.argsort(cy[strip], kind="stable")]
        groups.extend(strip[k:k + GROUP_SIZE] for k in range(0, len(strip), GROUP_SIZE))
    return groups


def _union(boxes: np.ndarray) -> np.ndarray:
    if len(boxes) == 0:
        return _EMPTY_BOX[0]
    return np.array([boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()])


@dataclass(frozen=True)
class BoxGroups:
    """Base grid slots grouped by level and place, with their boxes (degrees); immutable, edits make a new one."""

    bounds: np.ndarray  # (groups, 4): the box around each group's members
    members: tuple[np.ndarray, ...]  # slot numbers of each group (int64)
    member_bounds: tuple[np.ndarray, ...]  # (members, 4) boxes of each group
    edited: bool = False  # the last group holds the slots added by edits since the last build

    @classmethod
    def build(cls, slots: np.ndarray, levels: np.ndarray, boxes: np.ndarray) -> BoxGroups:
        """Groups over base grid ``slots`` with their ``levels`` and ``boxes`` (rows of 4, degrees)."""
        members, member_bounds = [], []
        for level in np.unique(levels).tolist():
            rows = np.flatnonzero(levels == level)
            for group in _pack(boxes[rows]):
                members.append(np.asarray(slots[rows[group]], dtype=np.int64))
                member_bounds.append(np.ascontiguousarray(boxes[rows[group]], dtype=np.float64))
        bounds = np.array([_union(b) for b in member_bounds]).reshape(-1, 4)
        return cls(bounds, tuple(members), tuple(member_bounds))

    def with_added(self, slots: list[int], boxes: np.ndarray) -> BoxGroups:
        """These groups plus new base grid slots (in the edits group)."""
        if not slots:
            return self
        new_slots, new_boxes = np.asarray(slots, dtype=np.int64), np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if self.edited:
            members = (*self.members[:-1], np.concatenate([self.members[-1], new_slots]))
            member_bounds = (*self.member_bounds[:-1], np.concatenate([self.member_bounds[-1], new_boxes]))
            bounds = self.bounds.copy()
            bounds[-1] = _union(member_bounds[-1])
        else:
            members, member_bounds = (*self.members, new_slots), (*self.member_bounds, new_boxes)
            bounds = np.concatenate([self.bounds, _union(new_boxes)[None, :]])
        return BoxGroups(bounds, members, member_bounds, edited=True)

    def nearest(self, frame: LocalFrame, measure: Callable[[np.ndarray], np.ndarray],
                tie_m: float) -> tuple[np.ndarray, np.ndarray]:
        """(slots, frame distances in metres) of every grid within ``tie_m`` of the nearest one; empty if none.

        ``measure(slots)`` gives the exact frame distance of each slot's grid, inf for a slot removed since the
        build. Three passes: an upper bound from the grid whose box is nearest in the nearest group; every group
        whose box is within it; their members whose boxes are within it, measured at once.
        """
        none = np.empty(0, dtype=np.int64), np.empty(0)
        if not self.members:
            return none
        group_lb = box_distances(self.bounds, frame)
        upper = self._upper_bound(frame, measure, group_lb)
        if upper == math.inf:
            return none
        reach = upper + tie_m
        chosen = np.flatnonzero(group_lb <= reach).tolist()
        slots = np.concatenate([self.members[g] for g in chosen])
        member_lb = box_distances(np.concatenate([self.member_bounds[g] for g in chosen]), frame)
        slots = slots[member_lb <= reach]  # holds the bounding grid itself: its box is no farther than it
        metres = measure(slots)
        near = metres <= metres.min() + tie_m
        return slots[near], metres[near]

    def _upper_bound(self, frame: LocalFrame, measure: Callable[[np.ndarray], np.ndarray],
                     group_lb: np.ndarray) -> float:
        """The distance of one live grid: the one whose box is nearest in the nearest group, as a rule."""
        g = int(np.argmin(group_lb))
        member_lb = box_distances(self.member_bounds[g], frame)
        k = int(np.argmin(member_lb))
        upper = float(measure(self.members[g][k:k + 1])[0])
        if upper < math.inf:
            return upper
        # That grid was removed since the build: walk on, nearest boxes first, until a live one turns up.
        for g in np.argsort(group_lb, kind="stable").tolist():
            member_lb = box_distances(self.member_bounds[g], frame)
            for k in np.argsort(member_lb, kind="stable").tolist():
                upper = float(measure(self.members[g][k:k + 1])[0])
                if upper < math.inf:
                    return upper
        return math.inf
