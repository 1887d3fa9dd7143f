"""Counting what the wall painted: its point features and clusters are dots on canvas tiles (static/screen/dots.js),
each tile listing the dots it painted (``canvas.painted``: id, classes, longitude/latitude, pixel position). These
are JS expressions over those lists, for ``page.evaluate`` and the tests' polling helpers."""

from __future__ import annotations

from typing import Any

ANYWHERE = ".leaflet-map-pane"


def scope(layer: str | None) -> str:
    """The selector of a layer's pane (main.js marks each with its key), or of the whole map."""
    return f".leaflet-pane[data-layer='{layer}']" if layer else ANYWHERE


def painted_js(cls: str, layer: str | None = None) -> str:
    """A JS expression: how many dots with CSS-like class ``cls`` the canvas tiles of ``layer`` (any: None) painted."""
    return (f"[...document.querySelectorAll(\"{scope(layer)} canvas.ms-dots-tile\")].flatMap((c) => c.painted)"
            f".filter((d) => d.classes.split(' ').includes('{cls}')).length")


def painted(page: Any, cls: str, layer: str | None = None) -> int:
    """How many dots with class ``cls`` are painted (in ``layer``'s pane, or anywhere on the map)."""
    return page.evaluate(f"() => {painted_js(cls, layer)}")


def painted_dots(page: Any, layer: str | None = None) -> list[dict[str, Any]]:
    """Every dot painted (in ``layer``'s pane, or anywhere), with the tile that painted it."""
    return page.evaluate(f"() => [...document.querySelectorAll(\"{scope(layer)} canvas.ms-dots-tile\")]"
                         ".flatMap((c) => c.painted.map((d) => ({ ...d, tile: c.dataset.tile })))")


ALPHA_AT_DOT = """([layer, id, off]) => {
  const m = window[JSON.parse(document.getElementById('screen-config').textContent).map];
  const box = m.getContainer().getBoundingClientRect();
  for (const c of document.querySelectorAll(`.leaflet-pane[data-layer='${layer}'] canvas.ms-dots-tile`)) {
    const d = c.painted.find((p) => p.id === id);
    if (!d) continue;
    const at = m.latLngToContainerPoint([d.lat, d.lng]);
    const rect = c.getBoundingClientRect();
    const alpha = (dx) => {
      const x = Math.floor((box.left + at.x + dx - rect.left) * c.width / rect.width);
      const y = Math.floor((box.top + at.y - rect.top) * c.height / rect.height);
      if (x < 0 || y < 0 || x >= c.width || y >= c.height) return 0;
      return c.getContext('2d').getImageData(x, y, 1, 1).data[3];
    };
    return { centre: alpha(0), rim: alpha(d.r - 1), beside: alpha(d.r + off) };
  }
  return null;
}"""
"""JS (layer, id, off): the canvas pixels' opacity (0–255) where the map puts dot ``id`` — at its centre, on its
rim, and ``off`` pixels beyond its outline — read from the canvas that lists it, through the canvas's place on the
page: a dot listed as painted but drawn elsewhere, or not at all, reads 0 at its centre and rim."""


def alpha_at_dot(page: Any, layer: str, dot_id: str, off: int = 6) -> dict[str, int] | None:
    """The canvas opacity at dot ``dot_id`` of ``layer`` (:data:`ALPHA_AT_DOT`); None when no tile lists it."""
    return page.evaluate(ALPHA_AT_DOT, [layer, dot_id, off])
