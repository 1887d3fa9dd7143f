"""Inline SVG maps of the district for the bulletin: street outlines, hot cells and blind spots.

Geometries arrive in WGS-84 degrees, are projected to a local azimuthal
equidistant plane (metres, centred on the district) and scaled to pixels with
y pointing down. Polygons are simplified to about half a pixel and coordinates
written with one decimal, so a district of a dozen streets stays a few tens of
kilobytes. Text from the data is escaped here.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

MARGIN_PX = 12
SIMPLIFY_PX = 0.5  # below what a screen or a printer shows
# Presentation attributes, not CSS classes: PDF renderers draw inline SVG without the page's style sheet.
PAINT = {
    "district": 'fill="#f5f7fa" stroke="#263238" stroke-width="2"',
    "street": 'fill="none" stroke="#78909c" stroke-width="0.8"',
    "hot-new": 'fill="#ff9800" fill-opacity="0.85" stroke="#e65100" stroke-width="0.6"',
    "hot-intensifying": 'fill="#d50000" fill-opacity="0.85" stroke="#8e0000" stroke-width="0.6"',
    "blind": 'fill="#0d47a1" stroke="#ffffff" stroke-width="1.5"',
}
LABEL = 'font-size="11" fill="#37474f" text-anchor="middle"'


@dataclass(frozen=True)
class Frame:
    """Where the map sits: WGS-84 → local metres → pixels."""

    forward: pyproj.Transformer
    scale: float  # pixels per metre
    left: float  # metres
    top: float  # metres
    width: int  # pixels
    height: int  # pixels

    @classmethod
    def fit(cls, area: BaseGeometry, width: int) -> Frame:
        """A frame ``width`` pixels wide that shows all of ``area`` (WGS-84) with a margin."""
        centre = area.centroid
        local = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m")
        forward = pyproj.Transformer.from_crs("EPSG:4326", local, always_xy=True)
        minx, miny, maxx, maxy = _metric(forward, area).bounds
        span_x, span_y = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
        scale = (width - 2 * MARGIN_PX) / span_x
        height = int(np.ceil(span_y * scale)) + 2 * MARGIN_PX
        return cls(forward, scale, minx - MARGIN_PX / scale, maxy + MARGIN_PX / scale, width, height)

    def pixels(self, geom: BaseGeometry) -> BaseGeometry:
        """The geometry in pixel coordinates."""
        return shapely.transform(_metric(self.forward, geom), self._to_pixels)

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        """One WGS-84 position in pixels."""
        x, y = self.forward.transform(lon, lat)
        (px, py), = self._to_pixels(np.array([[x, y]]))
        return float(px), float(py)

    def _to_pixels(self, xy: np.ndarray) -> np.ndarray:
        return np.column_stack([(xy[:, 0] - self.left) * self.scale, (self.top - xy[:, 1]) * self.scale])


def _metric(forward: pyproj.Transformer, geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.column_stack(forward.transform(xy[:, 0], xy[:, 1])))


def path_data(geom: BaseGeometry) -> str:
    """SVG path data of a (multi)polygon already in pixels, simplified; empty for anything else."""
    simple = shapely.simplify(geom, SIMPLIFY_PX, preserve_topology=True)
    parts = []
    for polygon in getattr(simple, "geoms", [simple]):
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            xy = np.asarray(ring.coords)[:-1]
            if len(xy) >= 3:
                parts.append("M" + " ".join(f"{x:.1f} {y:.1f}" for x, y in xy) + "Z")
    return "".join(parts)


@dataclass(frozen=True)
class Area:
    """A polygon to draw: geometry (WGS-84), its kind (a key of :data:`PAINT`) and an optional label (untrusted)."""

    geom: BaseGeometry
    css: str
    label: str = ""
    title: str = ""


@dataclass(frozen=True)
class Marker:
    """A numbered point to draw: position (WGS-84), its kind (a key of :data:`PAINT`) and its number in the table."""

    lon: float
    lat: float
    css: str
    number: int


def map_svg(frame: Frame, areas: Sequence[Area], markers: Iterable[Marker], *, title: str) -> str:
    """An ``<svg>`` element: areas in order (later on top), their labels, then the markers."""
    shapes, labels = [], []
    for area in areas:
        pixels = frame.pixels(area.geom)
        data = path_data(pixels)
        if not data:
            continue
        hint = f"<title>{html.escape(area.title)}</title>" if area.title else ""
        shapes.append(f'<path class="{area.css}" {PAINT[area.css]} d="{data}">{hint}</path>')
        if area.label:
            spot = pixels.representative_point()
            labels.append(f'<text class="label" {LABEL} x="{spot.x:.1f}" y="{spot.y:.1f}">'
                          f"{html.escape(area.label)}</text>")
    dots = []
    for marker in markers:
        x, y = frame.point(marker.lon, marker.lat)
        dots.append(f'<g class="{marker.css}"><circle {PAINT[marker.css]} cx="{x:.1f}" cy="{y:.1f}" r="7"/>'
                    f'<text fill="#ffffff" font-size="9" text-anchor="middle" x="{x:.1f}" y="{y + 3.5:.1f}">'
                    f"{marker.number}</text></g>")
    return (f'<svg class="map" viewBox="0 0 {frame.width} {frame.height}" '
            f'width="{frame.width}" height="{frame.height}" role="img" aria-label="{html.escape(title)}">'
            + "".join(shapes) + "".join(labels) + "".join(dots) + "</svg>")
