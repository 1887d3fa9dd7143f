"""A batch of incidents written to PostGIS in one COPY, its data made column by column.

Each column of an :class:`~mapserver.store.incident_batch.IncidentBatch` is written
for a few thousand rows at once, and the rows are joined when the server asks for
them, so a large batch is never whole in memory and making the next piece overlaps,
in part, the server storing the last one. It is COPY's binary format when the
columns of ``incidents`` have the types this code knows (the server then parses
nothing, which the text format makes it do for every value): times as
int64 microseconds since 2000-01-01 UTC, points as EWKB with SRID 4326 made from
their coordinates' bytes, jsonb as version 1 text, each distinct text encoded once.
Otherwise (a column changed by hand) it is the text format: times as ISO 8601 UTC,
points as hex EWKB, texts escaped only when a piece holds a backslash, tab or line
break.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import psycopg2.extensions

from mapserver.store.copy_binary import EWKB_POINT, binary_rows, column_fields
from mapserver.store.incident_batch import TIME_FIELDS, IncidentBatch, iso_times, json_column

COPY_ROWS = 5000  # rows made into COPY data at a time
_EWKB_POINT = EWKB_POINT.hex().upper()  # little-endian Point with SRID 4326, before x and y
_NULL = "\\N"
_SPECIAL = ("\\", "\t", "\n", "\r")  # what COPY's text format escapes


# Binary COPY: the types of incidents' columns this code writes in binary (else it writes text).
BINARY_TYPES = {"timestamp with time zone": "time", "text": "text", "jsonb": "json", "geometry": "geom",
                "integer": "int4"}
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_BINARY_TRAILER = struct.pack(">h", -1)


class CopyText:
    """COPY input read by the server from an iterator of pieces (text, or bytes for the binary format), so a large
    batch is never whole in memory."""

    def __init__(self, pieces: Iterator[str] | Iterator[bytes]) -> None:
        self._pieces = pieces
        self._current: io.StringIO | io.BytesIO = io.StringIO()
        self.error: BaseException | None = None
        """What making a piece raised: psycopg2 reports it as a QueryCanceled, the caller raises this instead."""

    def read(self, size: int = -1) -> str | bytes:
        while not (data := self._current.read(size)):
            try:
                piece = next(self._pieces, None)
            except Exception as exc:
                self.error = exc
                raise
            if piece is None:
                return data
            self._current = io.BytesIO(piece) if isinstance(piece, bytes) else io.StringIO(piece)
        return data


class CountedBatches:
    """Batches passed through, counting their rows."""

    def __init__(self, batches: Iterator[IncidentBatch]) -> None:
        self._batches = batches
        self.rows = 0

    def __iter__(self) -> Iterator[IncidentBatch]:
        for batch in self._batches:
            self.rows += len(batch)
            yield batch


def copy_value(value: Any) -> str:
    """One text value in COPY's text format (``\\N`` for NULL, backslash escapes)."""
    if value is None:
        return _NULL
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _parts(batches: Iterable[IncidentBatch]) -> Iterator[IncidentBatch]:
    """The batches cut into parts of at most :data:`COPY_ROWS` rows."""
    for batch in batches:
        for start in range(0, len(batch), COPY_ROWS):
            yield batch.take(slice(start, start + COPY_ROWS))


def copy_pieces(batches: Iterable[IncidentBatch], columns: tuple[str, ...]) -> Iterator[str]:
    """COPY's text format for the batches in ``columns`` order, :data:`COPY_ROWS` rows per piece, made as it
    is read."""
    for part in _parts(batches):
        texts = [_column_text(part, name) for name in columns]
        yield "\n".join(map("\t".join, zip(*texts, strict=True))) + "\n"


def _column_text(part: IncidentBatch, name: str) -> list[str]:
    if name == "geom":
        xy = np.column_stack([part.lon, part.lat]).astype("<f8")
        digits = xy.tobytes().hex().upper()
        return [_EWKB_POINT + digits[k:k + 32] for k in range(0, len(digits), 32)]
    if name in TIME_FIELDS:  # ISO 8601 in UTC; PostgreSQL reads the offset
        return [_NULL if t is None else t for t in iso_times(part[name]).tolist()]
    if name == "version":
        return part[name].astype(str).tolist()
    if name == "extra":
        return _texts(json_column(part[name]))
    return _texts(part[name].tolist())


def _texts(values: list[str | None]) -> list[str]:
    """Texts in COPY's format: escaped one by one only when some text of the piece needs it."""
    if values.count(None) == len(values):  # a field the file does not fill
        return [_NULL] * len(values)
    texts = ["" if v is None else v for v in values]
    joined = " ".join(texts)
    if any(special in joined for special in _SPECIAL):
        return [copy_value(v) for v in values]
    return [_NULL if v is None else v for v in values]


# --- binary format ------------------------------------------------------------------------------------------


def binary_kinds(cur: psycopg2.extensions.cursor, columns: tuple[str, ...]) -> tuple[str, ...] | None:
    """How each of ``columns`` of incidents is written in binary, or None when one has a type this code does not
    write (then the text format serves)."""
    cur.execute("SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a "
                "WHERE a.attrelid = 'incidents'::regclass AND a.attnum > 0 AND NOT a.attisdropped")
    types = dict(cur.fetchall())
    kinds = tuple(BINARY_TYPES.get(types.get(name, ""), "") for name in columns)
    return kinds if all(kinds) else None


def binary_pieces(batches: Iterable[IncidentBatch], columns: tuple[str, ...],
                  kinds: tuple[str, ...]) -> Iterator[bytes]:
    """COPY's binary format for the batches, :data:`COPY_ROWS` rows per piece, made as it is read (each piece
    laid out column by column: :mod:`mapserver.store.copy_binary`)."""
    yield _BINARY_HEADER
    for part in _parts(batches):
        yield binary_rows([column_fields(part, name, kind) for name, kind in zip(columns, kinds, strict=True)])
    yield _BINARY_TRAILER
