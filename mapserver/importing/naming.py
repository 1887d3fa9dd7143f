"""Content ids of incidents read without an id: a UUID5 of the incident's content, one at a time or a column.

The content is every field but the id, written as JSON (``json.dumps`` with
``ensure_ascii=False, sort_keys=True``): the point as WKT to 1e-7 degrees (about
1 cm), date-times in ISO 8601 (UTC), everything else as it is. Importing the
same file twice therefore gives the same ids, and the second import is refused
as a duplicate instead of doubling the events. :func:`content_ids` writes the
same JSON text for a whole :class:`~mapserver.store.incident_batch.IncidentBatch`
column by column, so it gives exactly the ids :func:`incident_id` gives.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import uuid
from dataclasses import fields
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) writes a string with
from typing import Any

import numpy as np
import shapely

from mapserver.model import Incident, time_fields
from mapserver.store.incident_batch import IncidentBatch, encoded_texts, iso_times

INCIDENT_NAMESPACE = uuid.UUID("6f1d3c52-8a8e-5d5e-9a43-2f4f0b6c1e90")
"""Namespace of generated incident ids (UUID5 of the incident's content)."""

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DASHES = (8, 12, 16, 20)  # positions of the dashes in the 32 hex digits of a UUID's text


def incident_id(record: Any, *, wkt: str | None = None) -> str:
    """A UUID5 of an incident's content (every field but the id; geometry to 1e-7 degrees, about 1 cm).

    ``wkt``: the geometry's WKT at that precision, when the caller wrote many at once.
    """
    content = {}
    for name, kind in content_fields(type(record)):
        value = getattr(record, name)
        if kind == "geom":
            value = wkt if wkt is not None else shapely.to_wkt(value, rounding_precision=7)
        elif kind == "time" and value is not None:
            value = value.isoformat()
        content[name] = value
    return str(uuid.uuid5(INCIDENT_NAMESPACE, json.dumps(content, ensure_ascii=False, sort_keys=True, default=str)))


@functools.cache
def content_fields(cls: type) -> tuple[tuple[str, str], ...]:
    """The fields an incident id is made from (every field but the id, in declaration order), each with
    "geom", "time" (a datetime field, written in ISO 8601) or "value" (written as it is)."""
    times = set(time_fields(cls))
    return tuple((item.name, "geom" if item.name == "geom" else "time" if item.name in times else "value")
                 for item in fields(cls) if item.name != "id")


def content_ids(batch: IncidentBatch) -> np.ndarray:
    """:func:`incident_id` of every incident of ``batch`` (ids as they stand ignored), as an object array.

    Each row's bytes are joined from pieces already in UTF-8: the namespace and the text every row shares once,
    each column's values encoded once (once per distinct value in a column of codes), so no row's text is built
    as a str and encoded again.
    """
    n = len(batch)
    if n == 0:
        return np.empty(0, dtype=object)
    pieces: list[Any] = []  # per row: constant bytes, a column's values, constant bytes, … joined at the end
    constant = INCIDENT_NAMESPACE.bytes + b"{"  # what every row has next, not yet added (uuid5 hashes this first)
    separator = b""
    for name, kind in sorted(content_fields(Incident)):  # json.dumps(sort_keys=True) orders keys so
        constant += separator + encode_basestring(name).encode("utf-8") + b": "  # json.dumps's separators
        separator = b", "
        if kind == "geom":  # WKT and ISO times hold nothing JSON escapes: quoted as they are
            values = _quoted(shapely.to_wkt(batch.points(), rounding_precision=7))
        elif kind == "time":
            values = _quoted(iso_times(batch[name]))
        elif name == "extra":
            values = _json_objects(batch[name])
        elif name == "version":
            values = _int_texts(batch[name])
        else:
            values = _json_texts(batch[name])
        if isinstance(values, bytes):  # the same in every row
            constant += values
            continue
        before, values, after = values
        pieces += [itertools.repeat(constant + before, n), values]
        constant = after
    pieces.append(itertools.repeat(constant + b"}", n))
    sha1 = hashlib.sha1
    return _uuid5_texts([sha1(b"".join(row)).digest() for row in zip(*pieces, strict=True)])


Column = bytes | tuple[bytes, list[bytes], bytes]
"""A column's JSON as UTF-8: the same bytes in every row, or (bytes before, each row's, bytes after)."""


def _json_texts(values: np.ndarray) -> Column:
    """Each str as JSON text, None as ``null`` (:func:`~mapserver.store.incident_batch.encoded_texts`: each
    distinct value encoded once, or each row's in a column of mostly distinct values)."""
    codes, encoded = encoded_texts(values, lambda text: encode_basestring(text).encode("utf-8"))
    encoded.append(b"null")  # code -1 picks it
    if (codes == codes[0]).all():
        return encoded[codes[0]]
    return b"", [encoded[code] for code in codes.tolist()], b""


def _int_texts(values: np.ndarray) -> Column:
    """Each int as str() writes it (as JSON does)."""
    uniques, codes = np.unique(np.asarray(values, dtype=np.int64), return_inverse=True)
    texts = [str(u).encode("ascii") for u in uniques.tolist()]
    return texts[0] if len(texts) == 1 else (b"", [texts[code] for code in codes.tolist()], b"")


def _quoted(values: np.ndarray) -> Column:
    """Texts that need no JSON escapes (WKT, ISO 8601: ASCII) quoted, None as ``null``."""
    texts = values.tolist()
    if texts.count(texts[0]) == len(texts):
        return b"null" if texts[0] is None else f'"{texts[0]}"'.encode("ascii")
    if None in texts:
        return b"", [b"null" if t is None else f'"{t}"'.encode("ascii") for t in texts], b""
    # Encoded in one go, the quotes left to the constant bytes around: ASCII text holds no NUL to part them.
    return b'"', "\0".join(texts).encode("ascii").split(b"\0"), b'"'


def _json_objects(values: np.ndarray) -> Column:
    """Each dict as json.dumps writes it inside the content (sorted keys, non-ASCII kept), a dict shared by
    many rows (a default) written once."""
    dicts = values.tolist()
    if dicts.count({}) == len(dicts):  # the usual file: no extra fields, every row's dict empty
        return b"{}"
    seen: dict[int, bytes] = {}
    out = []
    for value in dicts:
        key = id(value)
        if key not in seen:
            seen[key] = b"{}" if value == {} else json.dumps(value, ensure_ascii=False, sort_keys=True,
                                                            default=str).encode("utf-8")
        out.append(seen[key])
    if len(set(seen.values())) == 1:
        return out[0]
    return b"", out, b""


def _uuid5_texts(digests: list[bytes]) -> np.ndarray:
    """UUID5 text (``str(uuid.UUID(bytes=digest[:16], version=5))``) of each SHA-1 digest, vectorised."""
    n = len(digests)
    raw = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(n, 20)[:, :16].copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x50  # version 5
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    digits = np.empty((n, 32), dtype=np.uint8)
    digits[:, 0::2], digits[:, 1::2] = _HEX[raw >> 4], _HEX[raw & 0x0F]
    text = np.insert(digits, _DASHES, ord("-"), axis=1).tobytes().decode("ascii")
    out = np.empty(n, dtype=object)
    out[:] = [text[k:k + 36] for k in range(0, len(text), 36)]
    return out
