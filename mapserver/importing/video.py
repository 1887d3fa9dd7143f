"""A cameras file's stream and snapshot columns (视频流地址, 抓图地址): which columns hold them, and their checks.

They are not fields of a camera record (:class:`mapserver.model.Camera`): the import reads them beside it into
:class:`mapserver.model.CameraVideo` records, written in the same transaction. A column is found by the field's
name (``stream_url``, ``snapshot_url``, any case), by a Chinese heading, or named with ``--map stream_url=COLUMN``.
Each address is an http(s) URL (:func:`mapserver.video.addresses.url_problem`); a bad one refuses the whole file,
naming its row and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mapserver.importing.fields import is_blank
from mapserver.model import CameraVideo
from mapserver.video.addresses import VIDEO_FIELDS, clean_url, url_problem

HEADINGS: Mapping[str, tuple[str, ...]] = {
    "stream_url": ("stream_url", "hls_url", "视频流地址", "视频地址", "播放地址"),
    "snapshot_url": ("snapshot_url", "抓图地址", "快照地址", "截图地址"),
}
"""Headings a column holding each address may have, besides a ``--map`` naming it (compared ignoring case)."""


def split_mapping(mapping: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(the ``--map`` entries of the video fields, the others) from an import's mapping."""
    video = {k: v for k, v in mapping.items() if k in VIDEO_FIELDS}
    return video, {k: v for k, v in mapping.items() if k not in VIDEO_FIELDS}


def video_columns(columns: list[str], mapping: Mapping[str, str]) -> dict[str, str]:
    """Video field → the file column holding it (a field with no column is left out). ``mapping``: the video
    fields' ``--map`` entries, checked by the caller against the file's columns."""
    lowered = {c.lower(): c for c in columns}
    out = {}
    for name in VIDEO_FIELDS:
        if name in mapping:
            out[name] = mapping[name]
            continue
        found = next((lowered[h.lower()] for h in HEADINGS[name] if h.lower() in lowered), None)
        if found is not None:
            out[name] = found
    return out


def _text(value: Any) -> Any:
    if is_blank(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def row_video(code: str, columns: Mapping[str, np.ndarray], where: Mapping[str, str],
              index: int) -> tuple[CameraVideo | None, list[tuple[str, str]]]:
    """The camera's addresses in row ``index`` (None when it has none), and every (field, reason) against them."""
    values, problems = {}, []
    for name, column in where.items():
        value = _text(columns[column][index])
        if isinstance(value, str):
            value = value.strip()
        problem = url_problem(value)
        if problem:
            heading = "" if column == name else f" (column '{column}')"
            problems.append((name, f"{problem}{heading}"))
        else:
            values[name] = clean_url(value)
    if problems or not any(values.values()):
        return None, problems
    return CameraVideo(code=code, **values), problems
