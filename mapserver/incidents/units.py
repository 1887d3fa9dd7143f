"""The units incidents are sent to (派单, 抢单, 分单, 联单) and whose jurisdiction they serve.

``incidents.units`` in config.yaml maps each unit's name to the codes of the grids it serves; a unit listed
with no grids serves the whole district (a district bureau such as 区住房和城乡建设局). A unit serves a
jurisdiction (:mod:`mapserver.jurisdiction`) when one of its grids is the jurisdiction's grid, lies above it (a
street office serves the street's communities) or inside it (a community's work station serves its street). With
no units configured, a unit is free text and anyone who may dispatch may name any unit.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence

from mapserver.errors import Problem
from mapserver.jurisdiction import Jurisdiction

Ancestors = Callable[[str], Sequence[str]]
"""A grid code → the codes of the grids above it (any order)."""
NEAR_NAMES = 5


def serves(grids: Sequence[str], within: Jurisdiction, ancestors: Ancestors) -> bool:
    """Whether a unit serving ``grids`` (empty: the whole district) serves the jurisdiction ``within``."""
    if not grids or within.whole:
        return True
    if within.code in grids:
        return True
    above = set(ancestors(str(within.code)))
    return any(code in above or within.covers_grid(code, ancestors(code)) for code in grids)


def near_names(unit: str, names: Sequence[str]) -> list[str]:
    """Configured names like ``unit``: those containing it or contained in it, then the closest by characters."""
    # Chinese unit names are short and share their suffixes (局, 办事处): a part of the name is the best hint.
    parts = [name for name in names if unit and (unit in name or name in unit)]
    close = difflib.get_close_matches(unit, names, n=NEAR_NAMES, cutoff=0.4)
    return list(dict.fromkeys([*parts, *close]))[:NEAR_NAMES]


def check_unit(unit: str, units: Mapping[str, Sequence[str]], within: Jurisdiction, ancestors: Ancestors) -> None:
    """Nothing when ``unit`` may be sent an incident by someone whose jurisdiction is ``within``; 422 for a unit
    not configured (naming the nearest names; ``reason`` ``unit_unknown``, ``near``), 403 for one that neither lies
    in nor serves the jurisdiction (``reason`` ``unit_out_of_reach``)."""
    if not units:
        return  # no units configured: free text
    grids = units.get(unit)
    if grids is None:
        near = near_names(unit, list(units))
        hint = f"did you mean {', '.join(near)}?" if near else f"{len(units)} units are configured (incidents.units)"
        raise Problem(422, f"'{unit}' is not a configured unit; {hint}", param="unit",
                      members={"reason": "unit_unknown", "unit": unit, "near": near})
    if not serves(grids, within, ancestors):
        raise Problem(403, f"the unit '{unit}' serves {', '.join(grids)}, neither within nor serving your "
                           f"jurisdiction {within.name} ({within.code})", param="unit",
                      members={"reason": "unit_out_of_reach", "unit": unit})
