"""COPY's binary row format laid out for a whole part of a batch at once, column by column, with numpy.

A binary COPY row is an int16 field count, then per field an int32 length (-1 for NULL) and that many bytes. Each
column is first reduced to its *fields*: per row, the length to write and where its bytes lie in one buffer of the
column (a fixed-width array for times, integers and points; the distinct values, encoded once, for texts and JSON).
The rows' start offsets in the output follow from the lengths of all fields (one cumulative sum), and every column's
bytes are then scattered to their places with one fancy-indexed assignment: no Python loop over rows, and no bytes
object per field (a part of 5,000 incidents and 25 columns had been 125,000 of them, joined row by row).

Values and byte order are PostgreSQL's (network order): times as int64 microseconds since 2000-01-01 UTC, points as
little-endian EWKB with SRID 4326 (EWKB carries its own byte order), jsonb as version 1 then UTF-8 JSON text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mapserver.store.incident_batch import NAT, IncidentBatch, distinct_json, encoded_texts

PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 UTC, in microseconds since 1970-01-01
EWKB_POINT = bytes.fromhex("0101000020E6100000")  # little-endian Point with SRID 4326, before x and y


@dataclass
class Fields:
    """One column's fields for ``n`` rows: ``lengths`` (int32 as written: -1 for NULL) and the bytes of row ``r``,
    ``buffer[starts[r]:starts[r] + max(lengths[r], 0)]``."""

    lengths: np.ndarray
    starts: np.ndarray
    buffer: np.ndarray

    @classmethod
    def fixed(cls, values: np.ndarray, present: np.ndarray | None = None) -> Fields:
        """Fields of one width from an (n, width) uint8 array; rows not ``present`` are NULL."""
        n, width = values.shape
        lengths = np.full(n, width, dtype=np.int64)
        if present is not None:
            lengths[~present] = -1
        return cls(lengths=lengths, starts=np.arange(n, dtype=np.int64) * width, buffer=values.reshape(-1))

    @classmethod
    def distinct(cls, codes: np.ndarray, encoded: list[bytes]) -> Fields:
        """Fields that are ``encoded[codes[r]]`` (a code of -1 is NULL): each distinct value's bytes held once."""
        sizes = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        offsets = np.zeros(len(encoded), dtype=np.int64)
        np.cumsum(sizes[:-1], out=offsets[1:])
        null = codes < 0
        safe = np.where(null, 0, codes)
        lengths = sizes[safe] if len(encoded) else np.zeros(len(codes), dtype=np.int64)
        lengths[null] = -1
        starts = offsets[safe] if len(encoded) else np.zeros(len(codes), dtype=np.int64)
        return cls(lengths=lengths, starts=starts, buffer=np.frombuffer(b"".join(encoded), dtype=np.uint8))


def text_fields(values: np.ndarray) -> Fields:
    """Text (UTF-8) fields of an object array of str or None (:func:`~mapserver.store.incident_batch.encoded_texts`:
    each distinct value encoded once, or each row's in a column of mostly distinct values)."""
    return Fields.distinct(*encoded_texts(values, lambda text: str(text).encode("utf-8")))


def json_fields(values: np.ndarray) -> Fields:
    """jsonb fields (format version 1, then the JSON text) of an object array of dicts, each distinct dict once."""
    codes, texts = distinct_json(values)
    return Fields.distinct(codes, [b"\x01" + text.encode("utf-8") for text in texts])


def time_fields(values: np.ndarray) -> Fields:
    """timestamptz fields of int64 microseconds since 1970 (NAT for NULL)."""
    present = values != NAT
    shifted = (np.where(present, values, 0) - PG_EPOCH_US).astype(">i8")
    return Fields.fixed(shifted.view(np.uint8).reshape(len(values), 8), present)


def int4_fields(values: np.ndarray) -> Fields:
    """integer fields; a value beyond 32 bits raises (numpy would wrap it silently)."""
    values = np.asarray(values, dtype=np.int64)
    if len(values) and (values.min() < -2**31 or values.max() >= 2**31):
        raise ValueError(f"an integer column holds {values.max()!r}, beyond the 32 bits it is stored in")
    return Fields.fixed(values.astype(">i4").view(np.uint8).reshape(len(values), 4))


def point_fields(lon: np.ndarray, lat: np.ndarray) -> Fields:
    """geometry fields: each point as EWKB (SRID 4326) made from its coordinates' bytes."""
    n = len(lon)
    out = np.empty((n, len(EWKB_POINT) + 16), dtype=np.uint8)
    out[:, :len(EWKB_POINT)] = np.frombuffer(EWKB_POINT, dtype=np.uint8)
    out[:, len(EWKB_POINT):] = np.column_stack([lon, lat]).astype("<f8").view(np.uint8).reshape(n, 16)
    return Fields.fixed(out)


def column_fields(part: IncidentBatch, name: str, kind: str) -> Fields:
    """The fields of column ``name`` written as ``kind`` (see :data:`mapserver.store.postgis_bulk.BINARY_TYPES`)."""
    if kind == "geom":
        return point_fields(part.lon, part.lat)
    values: Any = part[name]
    if kind == "time":
        return time_fields(values)
    if kind == "int4":
        return int4_fields(values)
    if kind == "json":
        return json_fields(values)
    return text_fields(values)


def binary_rows(columns: list[Fields]) -> bytes:
    """COPY binary rows (no header or trailer) of the same ``n`` rows from each column's fields, in order."""
    n = len(columns[0].lengths) if columns else 0
    data = np.column_stack([np.maximum(c.lengths, 0) for c in columns])  # bytes of each field's value
    sizes = np.empty((n, 1 + len(columns)), dtype=np.int64)
    sizes[:, 0] = 2  # the row's field count
    sizes[:, 1:] = 4 + data  # each field's length, then its bytes
    starts = np.zeros(sizes.size, dtype=np.int64)
    np.cumsum(sizes.reshape(-1)[:-1], out=starts[1:])
    starts = starts.reshape(sizes.shape)
    out = np.empty(int(sizes.sum()), dtype=np.uint8)
    _scatter_fixed(out, starts[:, 0], np.full((n, 1), len(columns), dtype=">i2").view(np.uint8))
    for k, column in enumerate(columns):
        at = starts[:, 1 + k]
        _scatter_fixed(out, at, column.lengths.astype(">i4").reshape(n, 1).view(np.uint8))
        _scatter_ragged(out, at + 4, column.buffer, column.starts, data[:, k])
    return out.tobytes()


def _scatter_fixed(out: np.ndarray, at: np.ndarray, values: np.ndarray) -> None:
    """``values[r]`` (an (n, width) uint8 array) written at ``out[at[r]:]``."""
    out[at[:, None] + np.arange(values.shape[1])] = values


def _scatter_ragged(out: np.ndarray, at: np.ndarray, buffer: np.ndarray, starts: np.ndarray,
                    lengths: np.ndarray) -> None:
    """``buffer[starts[r]:starts[r] + lengths[r]]`` written at ``out[at[r]:]`` for every row ``r``."""
    total = int(lengths.sum())
    if total == 0:
        return
    first = np.zeros(len(lengths), dtype=np.int64)  # where each row's bytes begin among all rows' bytes
    np.cumsum(lengths[:-1], out=first[1:])
    within = np.arange(total, dtype=np.int64) - np.repeat(first, lengths)
    out[np.repeat(at, lengths) + within] = buffer[np.repeat(starts, lengths) + within]
