"""Coordinate reference systems of OGC API – Features Part 2: which are offered, and coordinates into and out of them.

The store keeps WGS-84 longitude/latitude (CRS84, ``storageCrs``). Offered for output (``crs``) and input
(``bbox-crs``, ``filter-crs``): CRS84; EPSG:4326 (WGS-84) and EPSG:4490 (CGCS2000), both latitude first as their
EPSG definitions order the axes; EPSG:4547 (CGCS2000 / 3-degree Gauss-Krüger CM 114E, metres, northing first); and
the EPSG codes a district lists in ``config.yaml`` (``ogc.crs``), each in its own axis order. CGCS2000 and WGS-84
differ by centimetres, below what PROJ can model without a national grid file: the transformation between them is
the identity, as in every GIS. GCJ-02 is not a CRS of any register and is not offered: ``mapserver export --crs
gcj02`` writes it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from mapserver.errors import Problem

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_PREFIX = "http://www.opengis.net/def/crs/EPSG/0/"
BUILT_IN_EPSG = (4326, 4490, 4547)


@dataclass(frozen=True)
class Frame:
    """One offered CRS: its URI, and how coordinates go between it and CRS84 (longitude, latitude degrees)."""

    uri: str
    crs: CRS
    swapped: bool  # the CRS's first axis is northing or latitude: positions are written (y, x)

    @functools.cached_property
    def _to(self) -> Transformer:
        return Transformer.from_crs(CRS.from_user_input("OGC:CRS84"), self.crs, always_xy=True)

    @functools.cached_property
    def _from(self) -> Transformer:
        return Transformer.from_crs(self.crs, CRS.from_user_input("OGC:CRS84"), always_xy=True)

    @property
    def is_crs84(self) -> bool:
        return self.uri == CRS84

    def from_crs84(self, geom: BaseGeometry) -> BaseGeometry:
        """A CRS84 geometry in this CRS, its positions in the CRS's axis order."""
        if self.is_crs84:
            return geom
        return shapely.transform(geom, self._forward)

    def to_crs84(self, geom: BaseGeometry) -> BaseGeometry:
        """A geometry given in this CRS (positions in its axis order) in CRS84."""
        if self.is_crs84:
            return geom
        out = shapely.transform(geom, self._backward)
        if not np.isfinite(shapely.get_coordinates(out)).all():
            raise Problem(400, f"coordinates outside the area of {self.uri}", param="bbox-crs")
        return out

    def _forward(self, coords: np.ndarray) -> np.ndarray:
        x, y = self._to.transform(coords[:, 0], coords[:, 1])
        return np.column_stack((y, x) if self.swapped else (x, y))

    def _backward(self, coords: np.ndarray) -> np.ndarray:
        first, second = coords[:, 0], coords[:, 1]
        east, north = (second, first) if self.swapped else (first, second)
        lon, lat = self._from.transform(east, north)
        return np.column_stack((lon, lat))


def epsg_uri(code: int) -> str:
    return f"{EPSG_PREFIX}{code}"


@functools.cache
def _frame(uri: str) -> Frame:
    crs = CRS.from_user_input("OGC:CRS84") if uri == CRS84 else CRS.from_epsg(int(uri.removeprefix(EPSG_PREFIX)))
    return Frame(uri, crs, crs.axis_info[0].direction in ("north", "south"))


def offered(extra_epsg: Iterable[int] = ()) -> list[str]:
    """The URIs of the CRSs offered: the built-in ones, then the configured ones (``ogc.crs``)."""
    uris = [CRS84, *(epsg_uri(code) for code in BUILT_IN_EPSG)]
    return uris + [epsg_uri(code) for code in extra_epsg if epsg_uri(code) not in uris]


def frame(uri: str | None, extra_epsg: Iterable[int] = (), *, param: str = "crs") -> Frame:
    """The offered CRS named by ``uri`` (None: CRS84), or a 400 problem listing those offered."""
    if uri is None:
        return _frame(CRS84)
    choices = offered(extra_epsg)
    # Part 2 names CRSs by URI; a safe CURIE such as [EPSG:4490] names the same one.
    wanted = uri.strip()
    if wanted.startswith("[") and wanted.endswith("]"):
        authority, _, code = wanted[1:-1].partition(":")
        wanted = CRS84 if (authority.upper(), code) == ("OGC", "CRS84") else f"{EPSG_PREFIX}{code}"
    if wanted not in choices:
        raise Problem(400, f"{param} {uri[:80]!r} is not offered; offered: {', '.join(choices)}", param=param,
                      members={"offered": choices})
    return _frame(wanted)


def content_crs(chosen: Frame) -> str:
    """The ``Content-Crs`` header's value."""
    return f"<{chosen.uri}>"


def bbox_area(values: Any, source: Frame) -> BaseGeometry:
    """A ``bbox`` given in ``source`` (4 numbers in its axis order) as a CRS84 polygon (densified, so a projected
    box keeps its shape)."""
    a, b, c, d = values
    if source.swapped:
        a, b, c, d = b, a, d, c  # (min lat, min lon, max lat, max lon) → (min lon, min lat, …)
    if a > c or b > d:
        raise Problem(400, "bbox must be lower corner then upper corner", param="bbox")
    box = shapely.box(a, b, c, d)
    if source.swapped:
        box = shapely.transform(box, lambda xy: xy[:, ::-1])  # back to the CRS's own order for to_crs84
    return source.to_crs84(shapely.segmentize(box, max(c - a, d - b) / 32 or 1.0))
