"""COPY's binary rows laid out column by column (mapserver.store.copy_binary), read back field by field here."""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime

import numpy as np
import pytest

from mapserver.store.copy_binary import (
    PG_EPOCH_US,
    binary_rows,
    int4_fields,
    json_fields,
    point_fields,
    text_fields,
    time_fields,
)
from mapserver.store.incident_batch import NAT, objects, to_us


def read_rows(data: bytes, n: int) -> list[list[bytes | None]]:
    """The fields of ``n`` binary COPY rows (None for NULL), checking every length on the way."""
    rows, at = [], 0
    for _ in range(n):
        (count,), at = struct.unpack_from(">h", data, at), at + 2
        fields = []
        for _ in range(count):
            (size,), at = struct.unpack_from(">i", data, at), at + 4
            if size < 0:
                fields.append(None)
                continue
            fields.append(data[at:at + size])
            at += size
        rows.append(fields)
    assert at == len(data), "bytes left after the last row"
    return rows


def test_every_kind_of_field_is_written_where_a_reader_finds_it():
    texts = objects(["网格员", None, "a\tb\\c\n", "网格员", ""])
    extras = [{}, {"k": "值"}, {}, {"n": 1}, {}]
    shared = {}
    extras[2] = extras[4] = shared  # a default shared by rows is written once, read the same
    times = np.array([to_us(datetime(2026, 11, 20, 1, 30, tzinfo=UTC)), NAT, 0, to_us(datetime(2000, 1, 1,
                      tzinfo=UTC)), -1], dtype=np.int64)
    versions = np.array([1, 2, 3, 2_000_000_000, -5], dtype=np.int64)
    lon, lat = np.array([114.6, 0.0, -1.5, 180.0, 1e-9]), np.array([33.6, 0.0, 89.9, -90.0, 2.5])
    data = binary_rows([text_fields(texts), json_fields(objects(extras)), time_fields(times),
                        int4_fields(versions), point_fields(lon, lat)])
    rows = read_rows(data, 5)
    for row, text, extra, time, version, x, y in zip(rows, texts, extras, times, versions, lon, lat, strict=True):
        assert row[0] == (None if text is None else text.encode("utf-8"))
        assert row[1][:1] == b"\x01" and json.loads(row[1][1:]) == extra
        assert row[2] == (None if time == NAT else struct.pack(">q", int(time) - PG_EPOCH_US))
        assert row[3] == struct.pack(">i", int(version))
        assert row[4] == bytes.fromhex("0101000020E6100000") + struct.pack("<dd", x, y)


def test_a_column_of_nulls_and_a_column_of_one_value():
    nothing = objects([None] * 4)
    same = objects(["411602"] * 4)
    rows = read_rows(binary_rows([text_fields(nothing), text_fields(same),
                                  time_fields(np.full(4, NAT, dtype=np.int64))]), 4)
    assert rows == [[None, b"411602", None]] * 4


@pytest.mark.parametrize("kind", ["distinct", "repeated"])
def test_text_columns_read_back_the_same_whether_encoded_row_by_row_or_value_by_value(kind):
    # Mostly distinct (ids, descriptions: encoded row by row) or a few values repeated (codes: each encoded once).
    values = [f"事件{k}" if kind == "distinct" else ("411602", "网格员", "")[k % 3] for k in range(300)]
    values[5] = values[299] = None
    rows = read_rows(binary_rows([text_fields(objects(values)), int4_fields(np.arange(300))]), 300)
    assert [row[0] for row in rows] == [None if v is None else v.encode("utf-8") for v in values]
    assert [row[1] for row in rows] == [struct.pack(">i", k) for k in range(300)]


def test_an_integer_beyond_32_bits_is_refused_not_wrapped():
    with pytest.raises(ValueError, match="beyond the 32 bits"):
        int4_fields(np.array([1, 3_000_000_000], dtype=np.int64))
