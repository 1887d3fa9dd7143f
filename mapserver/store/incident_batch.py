"""Incidents as columns: the form a batch import checks, enriches and writes them in, without a record per row.

A batch of ``n`` incidents holds one numpy array of length ``n`` per field of
:class:`~mapserver.model.Incident` (the point apart):

* ``lon``, ``lat``: the point, float64 WGS-84 (EPSG:4326) degrees;
* the date-time fields (:data:`TIME_FIELDS`): int64 **microseconds since
  1970-01-01 UTC**, :data:`NAT` for none;
* ``extra``: object array of dicts; ``version``: int64;
* every other field: object array of ``str``, or ``None`` for none;
* ``rows``: int64, the 1-based row of the import file each incident came from,
  so findings about an incident can name its row.

Values are those an :class:`~mapserver.model.Incident` built from the same row
would hold (:meth:`IncidentBatch.records` builds them; :meth:`from_records`
goes back), so the columnar and the record paths write the same rows.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import shapely

from mapserver.model import Incident, field_names, time_fields

NAT = np.iinfo(np.int64).min
"""The "no time" of an int64 time column (numpy's NaT)."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
TIME_FIELDS: tuple[str, ...] = tuple(time_fields(Incident))
COLUMNS: tuple[str, ...] = tuple(name for name in field_names(Incident) if name != "geom")
"""The columns of a batch besides the point, in the order of Incident's fields."""
TEXT_FIELDS: tuple[str, ...] = tuple(name for name in COLUMNS if name not in (*TIME_FIELDS, "extra", "version"))


def default(name: str) -> Any:
    """The value Incident gives field ``name`` when it is not set (a fresh dict for ``extra``)."""
    item = next(f for f in fields(Incident) if f.name == name)
    if item.default_factory is not MISSING:
        return item.default_factory()
    return None if item.default is MISSING else item.default


def to_us(moment: datetime | None) -> int:
    """An aware datetime as microseconds since the epoch (exact); :data:`NAT` for None."""
    return NAT if moment is None else (moment - EPOCH) // US


def from_us(value: int) -> datetime | None:
    """Microseconds since the epoch as an aware UTC datetime; None for :data:`NAT`."""
    return None if value == NAT else EPOCH + timedelta(microseconds=int(value))


def iso_times(values: np.ndarray) -> np.ndarray:
    """ISO 8601 text of int64 microseconds as ``datetime.isoformat`` writes a UTC time
    (``2026-11-20T01:30:00+00:00``, with ``.ffffff`` only when there are microseconds); None for NAT."""
    values = np.asarray(values, dtype=np.int64)
    out = np.full(len(values), None, dtype=object)
    present, whole = values != NAT, values % 1_000_000 == 0
    for wanted, unit in ((present & whole, "s"), (present & ~whole, "us")):
        if wanted.any():
            text = np.datetime_as_string(values[wanted].astype("datetime64[us]"), unit=unit).tolist()
            out[wanted] = [t + "+00:00" for t in text]
    return out


@dataclass
class IncidentBatch:
    """Incidents as columns (see the module's docstring for the types); every array has the same length."""

    lon: np.ndarray
    lat: np.ndarray
    columns: dict[str, np.ndarray]
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.lon)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    @classmethod
    def from_records(cls, records: Sequence[Incident], rows: Iterable[int] | None = None) -> IncidentBatch:
        """The batch of these records (points as lon/lat); ``rows`` defaults to 1, 2, …"""
        n = len(records)
        geoms = np.fromiter((r.geom for r in records), dtype=object, count=n)
        columns: dict[str, np.ndarray] = {}
        for name in COLUMNS:
            values = [getattr(r, name) for r in records]
            if name in TIME_FIELDS:
                columns[name] = np.fromiter((to_us(v) for v in values), dtype=np.int64, count=n)
            elif name == "version":
                columns[name] = np.fromiter(values, dtype=np.int64, count=n)
            else:
                columns[name] = objects(values)
        numbers = np.arange(1, n + 1, dtype=np.int64) if rows is None else np.fromiter(rows, np.int64, count=n)
        return cls(lon=shapely.get_x(geoms) if n else np.empty(0), lat=shapely.get_y(geoms) if n else np.empty(0),
                   columns=columns, rows=numbers)

    @classmethod
    def concat(cls, batches: Sequence[IncidentBatch]) -> IncidentBatch:
        """The batches one after the other."""
        return cls(lon=np.concatenate([b.lon for b in batches]), lat=np.concatenate([b.lat for b in batches]),
                   columns={name: np.concatenate([b.columns[name] for b in batches]) for name in COLUMNS},
                   rows=np.concatenate([b.rows for b in batches]))

    def take(self, index: np.ndarray) -> IncidentBatch:
        """The incidents at ``index`` (positions or a boolean mask), in that order."""
        return IncidentBatch(lon=self.lon[index], lat=self.lat[index],
                             columns={name: values[index] for name, values in self.columns.items()},
                             rows=self.rows[index])

    def replaced(self, changes: Mapping[str, np.ndarray]) -> IncidentBatch:
        """The same incidents with some columns replaced."""
        return IncidentBatch(lon=self.lon, lat=self.lat, columns={**self.columns, **changes}, rows=self.rows)

    def points(self) -> np.ndarray:
        """The points as a shapely array."""
        return shapely.points(self.lon, self.lat)

    def records(self) -> list[Incident]:
        """One :class:`Incident` per row (for code that takes records; a batch import writes columns)."""
        names = list(COLUMNS)
        values = [self._python_values(name) for name in names]
        points = self.points().tolist()
        out = []
        for k, point in enumerate(points):
            kwargs = {name: column[k] for name, column in zip(names, values, strict=True)}
            kwargs["extra"] = copy.deepcopy(kwargs["extra"])  # each record its own (rows may share one), nested too
            out.append(Incident(geom=point, **kwargs))
        return out

    def _python_values(self, name: str) -> list[Any]:
        values = self.columns[name]
        if name in TIME_FIELDS:
            return [from_us(v) for v in values.tolist()]
        return values.tolist()


def objects(values: Sequence[Any]) -> np.ndarray:
    """An object array of exactly these values (dicts and strings kept as they are, None as None)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values if not isinstance(values, np.ndarray) else values.tolist()
    return out


SAMPLE_ROWS = 64
"""Rows a text column is sampled on to tell codes (few values, many repeats) from free text or ids."""


def encoded_texts(values: np.ndarray, encode: Callable[[Any], bytes]) -> tuple[np.ndarray, list[bytes]]:
    """An object column of texts (None for NULL) as (codes, encoded): row ``r`` is ``encoded[codes[r]]``, or NULL
    where the code is -1. A column of codes (few values, many repeats) has each distinct value encoded once; one
    whose first :data:`SAMPLE_ROWS` values are mostly distinct (ids, descriptions) has each row's encoded, since
    hashing every value to find the distinct ones costs more (about 130 ns a row for 5,000 ids, against 26 ns to
    encode them)."""
    values = np.asarray(values, dtype=object)
    sample = values[:SAMPLE_ROWS].tolist()
    if len(set(sample)) * 4 > len(sample) * 3:
        texts = values.tolist()
        codes = np.arange(len(texts), dtype=np.int64)
        codes[np.equal(values, None)] = -1
        return codes, [b"" if text is None else encode(text) for text in texts]
    codes, uniques = pd.factorize(values, use_na_sentinel=True)  # None → -1
    return np.asarray(codes, dtype=np.int64), [encode(u) for u in uniques.tolist()]


def distinct_json(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """An object column of dicts (``extra``) as (codes, texts): row ``r`` is ``texts[codes[r]]``, the JSON the stores
    keep (sorted keys, non-ASCII kept). A dict shared by many rows (a default) is written once."""
    dicts = values.tolist()
    if dicts.count({}) == len(dicts):  # the usual batch: every row's dict empty
        return np.zeros(len(dicts), dtype=np.int64), ["{}"] if dicts else []
    seen: dict[int, int] = {}
    texts: list[str] = []
    codes = np.empty(len(values), dtype=np.int64)
    for row, value in enumerate(dicts):
        code = seen.get(id(value))
        if code is None:
            code = seen[id(value)] = len(texts)
            texts.append(json.dumps(value, ensure_ascii=False, sort_keys=True))
        codes[row] = code
    return codes, texts


def json_column(values: np.ndarray) -> list[str]:
    """An object column of dicts as the stores' JSON text, one per row (see :func:`distinct_json`)."""
    codes, texts = distinct_json(values)
    return [texts[code] for code in codes.tolist()]
