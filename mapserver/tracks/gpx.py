"""A walked track uploaded as GPX 1.1, read with the standard library's expat and nothing more.

Only GPX 1.1 (root ``gpx`` in namespace ``http://www.topografix.com/GPX/1/1``, ``version="1.1"``) is read; any
other document is refused naming what it is. A document type declaration is refused outright, so no entity is
ever declared or expanded (no "billion laughs"), and no external entity or DTD is ever fetched. The track points
(``trk/trkseg/trkpt``: ``lat``/``lon`` attributes in WGS-84 degrees, ``time`` ISO 8601) come back as the items a
JSON batch holds (:mod:`mapserver.tracks.fixes`), to be checked one by one; GPX reports no accuracy in metres.
"""

from __future__ import annotations

from typing import Any
from xml.parsers import expat

from mapserver.errors import Problem
from mapserver.tracks.fixes import MAX_FIXES

GPX_11 = "http://www.topografix.com/GPX/1/1"
MAX_GPX_BYTES = 16 << 20
"""The largest GPX upload read (bytes)."""
_SEP = "\x1f"  # between a namespace and a local name in expat's element names


class _Refused(Exception):
    """What was wrong with the document."""


class _Reader:
    def __init__(self) -> None:
        self.points: list[dict[str, Any]] = []
        self._path: list[str] = []
        self._time: list[str] | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        ns, _, local = name.rpartition(_SEP)
        if not self._path:
            if local != "gpx":
                raise _Refused(f"the document is not GPX: its root element is <{local[:40]}>")
            if ns != GPX_11 or attrs.get("version") != "1.1":
                raise _Refused(f"only GPX 1.1 is read; this document is version {attrs.get('version', '?')[:10]!r} "
                               f"in namespace {ns[:80] or 'none'!r}")
        self._path.append(local if ns == GPX_11 else "")
        if self._path[-3:] == ["trk", "trkseg", "trkpt"] and len(self._path) == 4:
            if len(self.points) >= MAX_FIXES:
                raise _Refused(f"the track holds more than {MAX_FIXES} points: upload it in parts")
            self.points.append({"lon": attrs.get("lon"), "lat": attrs.get("lat"), "t": None})
        elif self._path[-4:] == ["trk", "trkseg", "trkpt", "time"] and len(self._path) == 5:
            self._time = []

    def end(self, name: str) -> None:
        if self._time is not None and self._path[-1] == "time":
            self.points[-1]["t"] = "".join(self._time).strip() or None
            self._time = None
        self._path.pop()

    def text(self, data: str) -> None:
        if self._time is not None:
            self._time.append(data)


def _refuse_dtd(*_: Any) -> None:
    raise _Refused("the document declares a document type (DTD); GPX needs none, and entities are not expanded")


def _refuse_entity(*_: Any) -> None:
    raise _Refused("the document refers to an external entity; none is ever fetched")


def track_points(data: bytes) -> list[dict[str, Any]]:
    """The track points of a GPX 1.1 document, in document order, as ``{lon, lat, t}`` items (text values); 422
    naming the problem for a document that is not GPX 1.1, is not well formed, or declares a DTD or entities;
    413 for one too large."""
    if len(data) > MAX_GPX_BYTES:
        raise Problem(413, f"the GPX document is {len(data):,} bytes; at most {MAX_GPX_BYTES:,} are read", param="gpx")
    reader = _Reader()
    parser = expat.ParserCreate(namespace_separator=_SEP)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_entity
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        raise Problem(422, str(exc), param="gpx") from None
    except expat.ExpatError as exc:
        raise Problem(422, f"the GPX document is not well-formed XML: {expat.errors.messages[exc.code]} at line "
                           f"{exc.lineno}", param="gpx") from None
    if not reader.points:
        raise Problem(422, "the GPX document holds no track points (trk/trkseg/trkpt)", param="gpx")
    return reader.points
