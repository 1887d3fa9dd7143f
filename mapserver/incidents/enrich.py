"""Imported (historical) incidents made whole, as a report would be: taxonomy, grid chain, H3 cell, deadlines.

:func:`prepare_incidents` gives the ``prepare`` hook of
:func:`mapserver.importer.import_layer`; ``mapserver import incidents FILE``
passes it. It sees every record that passed the importer's checks, all at once
(a batch import holds hundreds of thousands), and per incident:

* **refuses** a category that is not configured (``incidents.categories``), an
  unknown severity or status, a description longer than
  ``incidents.description_max``, a point outside every grid beyond the snap
  distance, and a given ``grid_code`` the store does not hold: each is a
  finding, and nothing is written;
* **grid chain**: without a ``grid_code``, the finest base grid covering the
  point (:meth:`GridIndex.assign`, vectorised); a point no grid covers is
  snapped as a report is (``lookup.max_snap_m`` metres). A given ``grid_code``
  is kept. ``grid_l1`` … ``grid_l4`` always come from the store's grids;
* **h3_cell**: the point's cell at ``incidents.h3_resolution``, always
  recomputed, since the analyses count cells at that resolution;
* **warn_at, due_at** (UTC): from the deadline rules and the working calendar
  when the file gives none, exactly as :func:`deadlines` gives them for a
  report at ``reported_at`` (:mod:`mapserver.incidents.deadline_batch`); a
  ``warn_at`` so computed is never later than a ``due_at`` the file gives.

Findings are raised as one 422 :class:`Problem` whose ``errors`` carry
``record`` (the 1-based position in the list given), ``id``, ``field`` and
``reason``; the importer turns ``record`` into the file's row number.

The hook works on records (:meth:`IncidentPreparation.__call__`) or on an
:class:`~mapserver.store.incident_batch.IncidentBatch` of columns
(:meth:`IncidentPreparation.columns`, what the importer uses for a batch import);
both run the same column-wise code (:func:`enrichment`), so they give the same
values and the same findings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import h3
import numpy as np
import pandas as pd

from mapserver.errors import Problem
from mapserver.gridindex import GridIndex
from mapserver.incidents.deadline_batch import from_us, many_deadlines
from mapserver.incidents.lifecycle import STATUSES
from mapserver.incidents.settings import IncidentSettings
from mapserver.model import SEVERITIES, Incident
from mapserver.reassign import grid_chain
from mapserver.store import Store
from mapserver.store.incident_batch import NAT, IncidentBatch

Prepare = Callable[[list[Incident]], list[Incident]]
Finding = dict[str, Any]
Chain = tuple[str | None, ...]  # (grid_code, grid_l1, grid_l2, grid_l3, grid_l4)
CHAIN_FIELDS = ("grid_code", "grid_l1", "grid_l2", "grid_l3", "grid_l4")


class IncidentPreparation:
    """The ``prepare`` hook for importing incidents into a store, on records or on columns. The grid index is
    read from the store when the hook first runs and kept: the importer gives it an import's incidents in parts,
    the later ones while the store is busy writing the first (one hook per import)."""

    def __init__(self, store: Store, settings: IncidentSettings, *, max_snap_m: float = 50.0) -> None:
        self.store, self.settings, self.max_snap_m = store, settings, max_snap_m
        self._grid_index: GridIndex | None = None

    def __call__(self, records: list[Incident]) -> list[Incident]:
        if not records:
            return records
        return enrich_incidents(records, settings=self.settings, index=self._index())

    def columns(self, batch: IncidentBatch) -> IncidentBatch:
        """The batch with grid chain, H3 cell and deadlines filled in; a 422 Problem listing every refused row
        (``record``: the 1-based position in the batch)."""
        if not len(batch):
            return batch
        return batch.replaced(enrichment(batch, settings=self.settings, index=self._index()))

    def _index(self) -> GridIndex:
        if self._grid_index is None:
            self._grid_index = GridIndex.from_store(self.store, max_snap_m=self.max_snap_m)
        return self._grid_index


def prepare_incidents(store: Store, settings: IncidentSettings, *, max_snap_m: float = 50.0) -> IncidentPreparation:
    """The ``prepare`` hook for importing incidents into ``store`` (one per import); the grid index is read when
    it first runs."""
    return IncidentPreparation(store, settings, max_snap_m=max_snap_m)


def enrich_incidents(records: Sequence[Incident], *, settings: IncidentSettings, index: GridIndex) -> list[Incident]:
    """The records with grid chain, H3 cell and deadlines filled in; a 422 Problem listing every refused one."""
    changes = enrichment(IncidentBatch.from_records(records), settings=settings, index=index)
    values = {name: column.tolist() for name, column in changes.items() if name not in ("warn_at", "due_at")}
    values["warn_at"], values["due_at"] = from_us(changes["warn_at"]), from_us(changes["due_at"])
    return [_updated(record, {name: column[k] for name, column in values.items()})
            for k, record in enumerate(records)]


def enrichment(batch: IncidentBatch, *, settings: IncidentSettings, index: GridIndex) -> dict[str, np.ndarray]:
    """The columns the hook fills (grid chain, ``h3_cell``, ``warn_at``/``due_at`` in int64 microseconds); a 422
    Problem listing every refused incident."""
    findings = taxonomy_findings(batch, settings)
    chains, placing = grid_chains(batch, index)
    findings += placing
    if findings:
        findings.sort(key=lambda item: item["record"])
        raise Problem(422, f"{len(findings)} problem(s) in incidents; nothing was written", errors=findings)
    resolution, cell = settings.h3_resolution, h3.latlng_to_cell
    cells = np.empty(len(batch), dtype=object)
    cells[:] = [cell(lat, lon, resolution) for lon, lat in zip(batch.lon.tolist(), batch.lat.tolist(), strict=True)]
    warn, due = _deadlines(batch, settings)
    return {**chains, "h3_cell": cells, "warn_at": warn, "due_at": due}


def _finding(position: int, incident_id: Any, field: str, reason: str) -> Finding:
    return {"record": position, "id": incident_id, "field": field, "reason": reason}


def _outside(values: np.ndarray, allowed: Sequence[Any]) -> np.ndarray:
    """Which values are not among ``allowed`` (each distinct value looked up once)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)  # None → -1
    refused = np.array([u not in allowed for u in [*uniques.tolist(), None]], dtype=bool)  # the last for -1
    return refused[codes]


def taxonomy_findings(batch: IncidentBatch, settings: IncidentSettings) -> list[Finding]:
    """Categories, severities and statuses outside the taxonomy; descriptions over the configured length."""
    rules = (("category", tuple(settings.categories)), ("severity", SEVERITIES), ("status", STATUSES))
    refused = {field: _outside(batch[field], allowed) for field, allowed in rules}
    lengths = np.fromiter(map(len, batch["description"].tolist()), dtype=np.int64, count=len(batch))
    long = lengths > settings.description_max
    out = []
    ids = batch["id"]
    for k in np.flatnonzero(long | np.logical_or.reduce(list(refused.values()))).tolist():
        for field, allowed in rules:
            if refused[field][k]:
                value = batch[field][k]
                out.append(_finding(k + 1, ids[k], field, f"{value!r} is not one of {', '.join(allowed)}"))
        if long[k]:
            out.append(_finding(k + 1, ids[k], "description",
                                f"longer than {settings.description_max} characters ({int(lengths[k])})"))
    return out


def grid_chains(batch: IncidentBatch, index: GridIndex) -> tuple[dict[str, np.ndarray], list[Finding]]:
    """The columns grid_code, grid_l1 … grid_l4, and a finding for each incident that cannot be placed."""
    if len(index) == 0:
        raise Problem(422, "no grids are loaded, so incidents cannot be placed in one; import the grids first",
                      param="grid_code")
    lons, lats, ids = batch.lon, batch.lat, batch["id"]
    finest = np.array([code or "" for code in batch["grid_code"].tolist()], dtype=object)
    unplaced = finest == ""
    if unplaced.any():
        finest[unplaced] = index.assign(lons[unplaced], lats[unplaced])
    findings = []
    for k in np.flatnonzero(unplaced & (finest == "")).tolist():
        finest[k], reason = _snapped(index, float(lons[k]), float(lats[k]))
        if reason:
            findings.append(_finding(k + 1, ids[k], "geom", reason))
    codes, uniques = pd.factorize(finest, use_na_sentinel=False)
    unknown = np.array([index.grid(code) is None for code in uniques.tolist()], dtype=bool)
    for k in np.flatnonzero(~unplaced & unknown[codes]).tolist():
        findings.append(_finding(k + 1, ids[k], "grid_code",
                                 f"grid {finest[k]!r} is not in the store; import it first, or leave "
                                 "grid_code empty to place the incident by its point"))
    memo: dict[str, Chain] = {}
    chains = [grid_chain(index, code, memo) for code in uniques.tolist()]
    out = {}
    for level, name in enumerate(CHAIN_FIELDS):
        column = np.empty(len(uniques), dtype=object)
        column[:] = [chain[level] for chain in chains]
        out[name] = column[codes]
    return out, findings


def _snapped(index: GridIndex, lon: float, lat: float) -> tuple[str, str | None]:
    """The base grid a report at this point would get (snapping as a report does), or "" and why not."""
    try:
        found = index.lookup(lon, lat)
    except Problem as problem:
        return "", problem.detail
    if found is None:
        return "", "no base grid is loaded to place the incident in"
    return found.chain[-1].code, None


def _deadlines(batch: IncidentBatch, settings: IncidentSettings) -> tuple[np.ndarray, np.ndarray]:
    """(warn_at, due_at) per incident, int64 microseconds: the file's own, else the rules' (warn_at never after
    due_at)."""
    warn, due = batch["warn_at"].copy(), batch["due_at"].copy()
    missing = (warn == NAT) | (due == NAT)
    if not missing.any():
        return warn, due
    rule_warn, rule_due = many_deadlines(settings, batch["category"][missing], batch["severity"][missing],
                                         batch["reported_at"][missing])
    if missing.all() and (warn == NAT).all() and (due == NAT).all():  # the usual case: the file has none
        return rule_warn, rule_due
    due[missing] = np.where(due[missing] == NAT, rule_due, due[missing])
    warn[missing] = np.where(warn[missing] == NAT, np.minimum(rule_warn, due[missing]), warn[missing])
    return warn, due


def _updated(record: Incident, changes: dict[str, Any]) -> Incident:
    """``dataclasses.replace(record, **changes)`` without running ``__init__`` again.

    Why: replace runs ``__init__`` over Incident's 25 fields again, for every row of a batch import. Sound
    because Incident is a plain frozen dataclass (no ``__post_init__``, no slots); tests/test_incident_import.py
    checks it gives what replace gives.
    """
    out = object.__new__(Incident)
    out.__dict__.update(record.__dict__, **changes)
    return out
