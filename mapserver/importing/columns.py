"""Whole columns converted at once, to exactly what :func:`mapserver.importing.fields.convert` makes of each cell.

A column of text cells (a CSV's, or text properties of a GeoJSON) is reduced to
its distinct values first (:func:`pandas.factorize`); each distinct value is
converted once and the results are spread back. Few distinct values (categories,
severities, grid codes, statuses) go through :func:`~mapserver.importing.fields.convert`
itself, so aliases, blanks and messages are its own. Many distinct values of a
text, code or date-time field (descriptions, ids, report times) go through
short loops that repeat what ``convert`` does for a text cell (blank → None;
codes stripped; date-times read with :meth:`datetime.fromisoformat` after the same
clean-up, wall-clock times placed in ``timezone``). Any other column (numbers or
dates typed by the file's format, mixed cells) is converted cell by cell with
``convert``.

A cell ``convert`` would refuse is only *marked*: the import then checks its row
the per-row way, which words the reason. Date-times come back as int64
microseconds since 1970-01-01 UTC (:data:`~mapserver.store.incident_batch.NAT`
for none); everything else as an object array of Python values (None for none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from mapserver.importing.fields import ALIASES, convert
from mapserver.store.incident_batch import EPOCH, NAT, US

# Up to this many distinct values, each is converted by fields.convert itself; more go to the vectorised converters.
_EXACT_UNIQUES = 20_000
# datetime's range, in microseconds since the epoch: a time beyond it (after conversion to UTC) is refused by
# the per-row conversion (OverflowError), so it is marked for that.
_FIRST_US = (datetime(1, 1, 2, tzinfo=UTC) - EPOCH) // US
_LAST_US = (datetime(9999, 12, 31, tzinfo=UTC) - EPOCH) // US


@dataclass
class Converted:
    """A converted column: ``values`` (object array, or int64 microseconds for date-times), ``blank`` (the
    cell holds nothing: None / NAT) and ``bad`` (``convert`` would refuse the cell)."""

    values: np.ndarray
    blank: np.ndarray
    bad: np.ndarray


def convert_column(layer: str, name: str, kind: str, cells: np.ndarray, *, timezone: str = "UTC") -> Converted:
    """Every cell of one file column converted to the type of field ``name`` (kind as in
    :func:`~mapserver.importing.fields.field_kinds`)."""
    cells = np.asarray(cells)
    if cells.dtype == object and _all_text(cells):
        codes, uniques = pd.factorize(cells, use_na_sentinel=True)  # None → -1
        if len(uniques) <= _EXACT_UNIQUES or kind not in _FAST or (layer, name) in ALIASES:
            converted = _cell_by_cell(layer, name, kind, uniques, timezone)
        else:
            converted = _FAST[kind](uniques, timezone)
        return _spread(converted, codes, kind)
    return _cell_by_cell(layer, name, kind, cells, timezone)


def constant_column(kind: str, value: Any, n: int) -> np.ndarray:
    """A column of ``n`` copies of an already converted value (a ``--set`` value or a field's default)."""
    if kind == "time":
        return np.full(n, NAT if value is None else (value - EPOCH) // US, dtype=np.int64)
    out = np.empty(n, dtype=object)
    out[:] = [value] * n if isinstance(value, dict | list) else value
    return out


def _all_text(cells: np.ndarray) -> bool:
    """Every cell is text or nothing (None, NaN: blank to convert as to factorize)."""
    return pd.api.types.infer_dtype(cells, skipna=True) == "string"


def _spread(converted: Converted, codes: np.ndarray, kind: str) -> Converted:
    """Distinct values' conversions spread back over the cells (code -1: a None cell, blank)."""
    none = NAT if kind == "time" else None
    values = np.append(converted.values, np.array([none], dtype=converted.values.dtype))
    return Converted(values=values[codes], blank=np.append(converted.blank, True)[codes],
                     bad=np.append(converted.bad, False)[codes])


def _cell_by_cell(layer: str, name: str, kind: str, cells: np.ndarray, timezone: str) -> Converted:
    """fields.convert on every cell."""
    results = [convert(layer, name, kind, cell, timezone=timezone) for cell in cells.tolist()]
    bad = np.fromiter((problem is not None for _, problem in results), dtype=bool, count=len(results))
    if kind == "time":
        values = np.fromiter((NAT if v is None else (v - EPOCH) // US for v, _ in results), dtype=np.int64,
                             count=len(results))
        return Converted(values=values, blank=(values == NAT) & ~bad, bad=bad)
    values = np.empty(len(results), dtype=object)
    values[:] = [v for v, _ in results]
    blank = np.fromiter((v is None for v, _ in results), dtype=bool, count=len(results)) & ~bad
    return Converted(values=values, blank=blank, bad=bad)


def _texts(texts: np.ndarray, timezone: str) -> Converted:
    """Text cells as fields.convert gives them for a "str" field: blank → None, else the cell unchanged."""
    values = [v if v.strip() else None for v in texts.tolist()]
    return _objects(values)


def _codes(texts: np.ndarray, timezone: str) -> Converted:
    """Text cells as fields.convert gives them for a "code" field: surrounding blanks dropped, blank → None."""
    values = [v.strip() or None for v in texts.tolist()]
    return _objects(values)


def _objects(values: list[Any]) -> Converted:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    blank = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    return Converted(values=out, blank=blank, bad=np.zeros(len(values), dtype=bool))


def _times(texts: np.ndarray, timezone: str) -> Converted:
    """Date-time text as fields.convert reads it (``/`` taken as ``-``, ISO 8601 by
    :meth:`datetime.fromisoformat`, no offset → wall-clock time in ``timezone``), in UTC microseconds."""
    zone, parse = ZoneInfo(timezone), datetime.fromisoformat
    values, blank, bad = [], [], []
    for text in texts.tolist():
        cleaned = text.strip()
        if not cleaned:
            values.append(NAT)
            blank.append(True)
            bad.append(False)
            continue
        try:
            moment = parse(cleaned.replace("/", "-"))
        except ValueError:
            values.append(NAT)
            blank.append(False)
            bad.append(True)
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        us = (moment - EPOCH) // US  # the instant, as utc(moment) would give it
        values.append(us)
        blank.append(False)
        bad.append(not _FIRST_US <= us <= _LAST_US)
    return Converted(values=np.array(values, dtype=np.int64), blank=np.array(blank, dtype=bool),
                     bad=np.array(bad, dtype=bool))


_FAST = {"str": _texts, "code": _codes, "time": _times}
