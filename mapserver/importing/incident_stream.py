"""The good rows of an incident import made ready a part at a time while the store writes the parts before.

Each part of :data:`PART_ROWS` rows gets its content ids (rows read without an id,
:func:`~mapserver.importing.naming.content_ids`), is checked for an id it holds twice or
an earlier part held, and goes through the ``prepare`` hook's columns form; the store
writes it while the next part is made, so this process's work and the database's
overlap in part (what the socket holds). The first part is made before the write starts:
the hook may read the store then (the grid index), and not later. An id the store
holds already stops the write itself (its unique key).

Any problem stops the stream, and nothing is written. The import is then checked again
the exact way, over every row at once (:func:`exact_refusal`), so the refusal lists
what a whole-file pass lists, in the same order: duplicate ids (in the file, and in the
store) over every row first; if there are none, the hook's findings over every part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mapserver.errors import Problem
from mapserver.importing import checks
from mapserver.importing.naming import content_ids
from mapserver.store import Store
from mapserver.store.incident_batch import NAT, IncidentBatch

PART_ROWS = 20_000
"""Rows made ready at a time (the hook's grid chain, H3 cells and deadlines work per part as on all rows)."""

ColumnsHook = Callable[[IncidentBatch], IncidentBatch]


class _Stopped(Exception):
    """A part had a problem: the exact check words it."""


def write_incidents(store: Store, good: IncidentBatch, hook: ColumnsHook | None, file_name: str) -> int:
    """Write the rows that passed every per-row check (ids None where a content id is due), named, checked for
    duplicate ids and prepared a part at a time; a 422 :class:`Problem` listing every finding when any, or the
    store's 409 when an id appeared meanwhile. Returns how many were written."""
    fresh = np.fromiter((key is None for key in good["id"].tolist()), dtype=bool, count=len(good))
    try:
        return store.incidents.add_columns(_ready_parts(good, fresh, hook, file_name), rows=len(good),
                                           months=months_of(good["reported_at"]))
    except _Stopped:
        refusal = exact_refusal(store, good, fresh, hook, file_name)
        if refusal is None:  # a part stopped for a reason the exact check must find: never silently written
            raise RuntimeError("an incident import stopped without a finding") from None
        raise refusal from None
    except Problem as problem:
        if problem.status != 409:
            raise
        raise (exact_refusal(store, good, fresh, hook, file_name) or problem) from None


def months_of(reported_at: np.ndarray) -> set[tuple[int, int]]:
    """The UTC (year, month) of int64 microseconds since the epoch (NaT left out)."""
    values = np.asarray(reported_at, dtype=np.int64)
    months = np.unique(values[values != NAT].astype("datetime64[us]").astype("datetime64[M]").astype(np.int64))
    return {(int(m) // 12 + 1970, int(m) % 12 + 1) for m in months}


def _ready_parts(good: IncidentBatch, fresh: np.ndarray, hook: ColumnsHook | None,
                 file_name: str) -> Iterator[IncidentBatch]:
    starts = range(0, len(good), PART_ROWS)
    seen: set[Any] = set()

    def ready(start: int) -> IncidentBatch:
        part, new = good.take(slice(start, start + PART_ROWS)), fresh[start:start + PART_ROWS]
        if new.any():
            ids = part["id"].copy()
            ids[new] = content_ids(part.take(new))
            part = part.replaced({"id": ids})
        keys = part["id"].tolist()
        if not seen.isdisjoint(keys) or pd.Series(keys, dtype=object).duplicated().any():
            raise _Stopped
        seen.update(keys)
        if hook is None:
            return part
        try:
            return hook(part)
        except Problem:
            raise _Stopped from None

    first = ready(0)  # now, while the store is free

    def parts() -> Iterator[IncidentBatch]:
        yield first
        for start in starts[1:]:
            yield ready(start)

    return parts()


def exact_refusal(store: Store, good: IncidentBatch, fresh: np.ndarray, hook: ColumnsHook | None,
                  file_name: str) -> Problem | None:
    """The refusal a whole-file pass gives: duplicate ids over every row, else the hook's findings over every
    part; None when there is none."""
    ids = good["id"].copy()
    if fresh.any():
        ids[fresh] = content_ids(good.take(fresh))
    findings = duplicate_ids(store, good.rows.tolist(), ids.tolist())
    if findings:
        return checks.refusal(findings, file_name)
    if hook is None:
        return None
    named = good.replaced({"id": ids})
    parts = [named.take(slice(start, start + PART_ROWS)) for start in range(0, len(named), PART_ROWS)]
    return hook_refusal(hook, parts, file_name)


def hook_refusal(hook: ColumnsHook, parts: Sequence[IncidentBatch], file_name: str) -> Problem | None:
    """Every finding of the hook over every part, as one refusal by file row; a refusal of another kind (not by
    record) as the hook raised it; None when the hook accepts every part."""
    findings: list[dict[str, Any]] = []
    for part in parts:
        try:
            hook(part)
        except Problem as problem:
            by_row = checks.by_row(problem, part.rows.tolist(), file_name)
            if by_row is problem:
                return problem
            findings += by_row.errors or []
    return checks.refusal(sorted(findings, key=lambda item: item["row"]), file_name) if findings else None


def duplicate_ids(store: Store, rows: Sequence[int], ids: Sequence[Any]) -> list[dict[str, Any]]:
    """checks.duplicate_findings for these rows' ids (None: a refused row without one), worked out only when an id
    appears twice or is stored: the usual file has neither, and a vectorised look says so."""
    keyed = [(row, key) for row, key in zip(rows, ids, strict=True) if key not in (None, "")]
    keys = pd.Series([key for _, key in keyed], dtype=object)
    stored = store.layers.stored_keys("incidents", keys.tolist())
    if not stored and not keys.duplicated().any():
        return []
    return checks.duplicate_findings(store, "incidents", keyed, stored=stored)
