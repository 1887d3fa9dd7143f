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
import pandas as pd
import shapely

from mapserver.model import Incident, time_fields
from mapserver.store.incident_batch import IncidentBatch, iso_times

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
    """:func:`incident_id` of every incident of ``batch`` (ids as they stand ignored), as an object array."""
    n = len(batch)
    if n == 0:
        return np.empty(0, dtype=object)
    pieces: list[Any] = []  # per row: constant text, a column's values, constant text, … joined at the end
    constant = "{"  # text every row has next, not yet added
    for name, kind in sorted(content_fields(Incident)):  # json.dumps(sort_keys=True) orders keys so
        if kind == "geom":  # WKT and ISO times hold nothing JSON escapes: quoted as they are
            values = _quoted(shapely.to_wkt(batch.points(), rounding_precision=7))
        elif kind == "time":
            values = _quoted(iso_times(batch[name]))
        elif name == "extra":
            values = _json_objects(batch[name])
        elif name == "version":
            values = _json_texts(batch[name].astype(str).astype(object), raw=True)  # an int as str() writes it
        else:
            values = _json_texts(batch[name])
        constant += ("" if constant == "{" else ", ") + encode_basestring(name) + ": "  # json.dumps's separators
        if isinstance(values, str):  # the same in every row
            constant += values
        else:
            pieces += [itertools.repeat(constant, n), values.tolist()]
            constant = ""
    pieces.append(itertools.repeat(constant + "}", n))
    texts = ["".join(row) for row in zip(*pieces, strict=True)]
    return _uuid5_texts(texts)


def _json_texts(values: np.ndarray, *, raw: bool = False) -> np.ndarray | str:
    """Each str as JSON text (``raw``: as it is), None as ``null``; each distinct value encoded once; a single
    text when every row has the same."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)  # None → -1
    encoded = [*(u if raw else encode_basestring(u) for u in uniques.tolist()), "null"]
    if len(uniques) == 0 or (len(uniques) == 1 and (codes == 0).all()):
        return encoded[0]
    return np.array(encoded, dtype=object)[codes]  # code -1 picks the last: null


def _quoted(values: np.ndarray) -> np.ndarray | str:
    """Texts that need no JSON escapes (WKT, ISO 8601) quoted, None as ``null``; a single text when every row
    has the same."""
    texts = values.tolist()
    if texts.count(texts[0]) == len(texts):
        return "null" if texts[0] is None else f'"{texts[0]}"'
    return np.array(["null" if t is None else f'"{t}"' for t in texts], dtype=object)


def _json_objects(values: np.ndarray) -> np.ndarray | str:
    """Each dict as json.dumps writes it inside the content (sorted keys, non-ASCII kept), a dict shared by
    many rows (a default) written once; a single text when every row has the same."""
    seen: dict[int, str] = {}
    out = []
    for value in values.tolist():
        key = id(value)
        if key not in seen:
            seen[key] = "{}" if value == {} else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        out.append(seen[key])
    if len(set(seen.values())) == 1:
        return out[0]
    return np.array(out, dtype=object)


def _uuid5_texts(names: list[str]) -> np.ndarray:
    """``str(uuid.uuid5(INCIDENT_NAMESPACE, name))`` for each name: SHA-1s one by one, the rest vectorised."""
    namespace, sha1 = INCIDENT_NAMESPACE.bytes, hashlib.sha1
    digests = [sha1(namespace + name.encode("utf-8")).digest() for name in names]  # as uuid.uuid5 hashes
    raw = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(len(names), 20)[:, :16].copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x50  # version 5
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    digits = np.empty((len(names), 32), dtype=np.uint8)
    digits[:, 0::2], digits[:, 1::2] = _HEX[raw >> 4], _HEX[raw & 0x0F]
    text = np.insert(digits, _DASHES, ord("-"), axis=1)
    return np.frombuffer(text.tobytes(), dtype="S36").astype(str).astype(object)
