"""Importing administrative divisions (行政区划): rows of ``code``, ``name``, ``level`` and ``parent_code`` from a
CSV, GeoJSON, GeoPackage or Shapefile (any geometry is ignored: a division's area is that of its streets).

Every row is checked before anything is written, and every problem is reported as the other layers' imports do
(``{"row", "id", "field", "reason"}``, rows 1-based): a code missing, repeated or unprintable, a name missing, a
level not ``province``/``city``/``county``, a parent neither in the file nor in the store, a parent not of a
larger level (a county's parent is a city or a province, a city's a province), and parents that lead back to the
row itself (a cycle, through the file's rows and the store's as the import would leave them). A code already
stored takes the row's name, level and parent.

``street_divisions`` names the division of streets already stored (an upgraded store's, whose streets name none):
rows of ``code`` (a street grid's) and ``division_code`` (a stored division's, or empty for none), checked the same
way: an unknown street, a grid that is not a street, an unknown division or a street named twice is refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from mapserver.errors import Problem
from mapserver.importing import checks
from mapserver.importing.source import Source
from mapserver.jurisdiction import DIVISION_LEVELS
from mapserver.model import Division
from mapserver.store import Store

FIELDS = ("code", "name", "level", "parent_code")
"""The fields of a division row; ``parent_code`` may be empty (the top of the tree)."""


def read_divisions(source: Source, mapping: Mapping[str, str], values: Mapping[str, Any]
                   ) -> tuple[list[tuple[int, Division]], list[checks.Finding], list[str]]:
    """The rows of ``source`` as divisions, with their row numbers; the findings of the per-row checks; notes
    (columns not read). ``mapping`` names a field's column, ``values`` gives a field one value in every row."""
    unknown = sorted(set(mapping) - set(FIELDS)) + sorted(set(values) - set(FIELDS))
    if unknown:
        raise Problem(400, f"divisions have no field {', '.join(unknown)}; fields: {', '.join(FIELDS)}",
                      param="map")
    columns = {f: mapping.get(f, f) for f in FIELDS if f not in values}
    missing = [f"{f} (column {c!r})" for f, c in columns.items() if c not in source.columns and f != "parent_code"]
    if missing:
        raise Problem(400, f"{source.path.name} has no column for {', '.join(missing)}", param="map")
    notes = [f"column {c!r} was not read" for c in source.columns if c not in columns.values()]
    rows, findings = [], []
    for i in range(source.rows):
        number = i + 1
        cell = {f: division_text(values[f]) if f in values else division_text(_at(source.columns.get(c), i))
                for f, c in [*columns.items(), *((f, f) for f in values)]}
        code, name, level, parent = (cell.get(f) for f in FIELDS)
        problems = []
        if code is None or not code.isprintable():
            problems.append(("code", "a division needs a printable code (GB/T 2260, e.g. 411602)"))
        if name is None:
            problems.append(("name", "a division needs a name"))
        if level not in DIVISION_LEVELS:
            problems.append(("level", f"level must be one of {', '.join(DIVISION_LEVELS)}, got {level!r}"))
        if parent is not None and parent == code:
            problems.append(("parent_code", "a division cannot be its own parent"))
        findings += [checks.finding(number, code, f, reason) for f, reason in problems]
        if not problems:
            rows.append((number, Division(code=str(code), name=str(name), level=str(level), parent_code=parent)))
    return rows, findings, notes


def division_findings(store: Store, rows: list[tuple[int, Division]], codes_in_file: set[str]
                      ) -> list[checks.Finding]:
    """The checks across rows and the store: repeated codes, parents known and larger, no cycle."""
    out: list[checks.Finding] = []
    seen: dict[str, int] = {}
    for number, d in rows:
        if d.code in seen:
            out.append(checks.finding(number, d.code, "code", f"code {d.code!r} is also in row {seen[d.code]}"))
        seen.setdefault(d.code, number)
    stored = {d.code: d for d in store.divisions.all()}
    after = {**stored, **{d.code: d for _, d in rows}}  # what the store would hold
    for number, d in rows:
        if d.parent_code is None:
            continue
        parent = after.get(d.parent_code)
        if parent is None:
            if d.parent_code not in codes_in_file:  # a parent refused for its own reasons is reported there
                out.append(checks.finding(number, d.code, "parent_code",
                                          f"parent division {d.parent_code!r} is neither in this file nor in the "
                                          "store"))
            continue
        if DIVISION_LEVELS.index(parent.level) >= DIVISION_LEVELS.index(d.level):
            out.append(checks.finding(number, d.code, "parent_code",
                                      f"parent division {parent.code!r} is a {parent.level}; a {d.level}'s parent "
                                      "is a larger division"))
        if _in_cycle(d.code, after):
            out.append(checks.finding(number, d.code, "parent_code",
                                      f"parent {d.parent_code!r} leads back to {d.code!r}: the parents form a cycle"))
    return out


def _in_cycle(code: str, divisions: Mapping[str, Division]) -> bool:
    """Whether following parents from ``code`` comes back to it."""
    seen, at = set(), divisions[code].parent_code
    while at is not None and at in divisions and at not in seen:
        if at == code:
            return True
        seen.add(at)
        at = divisions[at].parent_code
    return False


def _at(column: np.ndarray | None, i: int) -> Any:
    return None if column is None else column[i]


def division_text(value: Any) -> str | None:
    """A cell as text: None for an empty or missing one; an integral number (a GeoJSON code 411602) as digits."""
    if value is None or value is np.ma.masked:
        return None
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
    text = str(value).strip()
    return text or None


STREET_FIELDS = ("code", "division_code")
"""The fields of a ``street_divisions`` row."""


def read_street_divisions(store: Store, source: Source, mapping: Mapping[str, str]
                          ) -> tuple[list[tuple[str, str | None]], list[checks.Finding]]:
    """(street code, division code or None) per row of ``source``, and every finding: the street must be a stored
    base grid of level 1, named once in the file; the division a stored one."""
    columns = {f: mapping.get(f, f) for f in STREET_FIELDS}
    missing = [f"{f} (column {c!r})" for f, c in columns.items() if c not in source.columns]
    if missing:
        raise Problem(400, f"{source.path.name} has no column for {', '.join(missing)}", param="map")
    codes, named = source.columns[columns["code"]], source.columns[columns["division_code"]]
    pairs = [(division_text(codes[i]), division_text(named[i])) for i in range(source.rows)]
    streets = {g.code: g for g in store.layers.query("grids", where={"level": 1, "kind": "base"})}
    divisions = {d.code for d in store.divisions.all()}
    findings, first, out = [], {}, []
    for number, (code, division) in enumerate(pairs, start=1):
        if code is None or code not in streets:
            findings.append(checks.finding(number, code, "code", f"no street grid (level 1) has the code {code!r}"))
        elif code in first:
            findings.append(checks.finding(number, code, "code", f"street {code!r} is also in row {first[code]}"))
        if division is not None and division not in divisions:
            findings.append(checks.finding(number, code, "division_code",
                                           f"division {division!r} is not in the store; import the divisions first"))
        if code is not None:
            first.setdefault(code, number)
        out.append((str(code), division))
    return out, findings
