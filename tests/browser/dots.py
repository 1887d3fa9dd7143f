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
